// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"cmp"
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Config configures a Server. The zero value is a working simulator with
// the default seed and keys, on the real clock, completing jobs at once.
type Config struct {
	// PublicKey and PrivateKey are the digest credentials; "" means the
	// Default keys.
	PublicKey, PrivateKey string
	// ClientID and ClientSecret are the service account accepted at the
	// token endpoint, besides the keys; "" means the Default ones.
	// TokenLifetime bounds each access token (0: DefaultTokenLifetime).
	ClientID, ClientSecret string
	TokenLifetime          time.Duration
	// TokenRateLimit, when positive, is how many token requests each
	// client (by IP and client ID) may make a minute; more answer 429 with
	// Atlas's text. Atlas allows 10.
	TokenRateLimit int
	// MaxLiveTokens, when positive, is how many live (neither expired nor
	// revoked) tokens the service account may hold; a request for more
	// answers 403. Atlas allows 100.
	MaxLiveTokens int
	// Seed is the starting state; nil means DefaultSeed().
	Seed *Seed
	// Now is the clock; nil means time.Now. Every time decision uses it.
	Now func() time.Time
	// QueuedFor is how long a new job stays QUEUED (0 skips the state).
	QueuedFor time.Duration
	// RunningFor is how long it then stays RUNNING (0 skips the state).
	RunningFor time.Duration
	// RestoreDuration is how long a restore job takes from its request to
	// COMPLETED (or FAILED): PENDING the first half, RUNNING the second. 0
	// finishes it at once, though the POST answer still says PENDING.
	// Atlas took about a minute (DefaultRestoreDuration) for a small one.
	RestoreDuration time.Duration
	// PublicBaseURL (scheme://host[:port]) is where snapshotUrl points;
	// "" means the scheme and host of the request that created the job.
	PublicBaseURL string
	// Logf, when set, gets one line per request. It never sees keys,
	// Authorization values or URL tokens: API paths keep their query with
	// only paging values (logTarget), download links none.
	Logf func(format string, args ...any)
	// Faults are the faults injected from the start; SetFaults changes them.
	Faults Faults
	// Sleep waits out Faults.Latency; nil means a real timer that ends
	// early when the request's context is done. Tests pass a recorder.
	Sleep func(ctx context.Context, d time.Duration) error
	// TenantSunset makes the tenant paths answer as after their sunset:
	// 410 VERSION_GONE on v2, 404 RESOURCE_NOT_FOUND on v1.0.
	TenantSunset bool
	// Gzip sends JSON answers gzipped when the request accepts gzip, as
	// Atlas does (gzip.go). Off by default in-process, where tests wrap the
	// simulator and read its raw answers; cmd/atlas-sim turns it on.
	Gzip bool
	// ArchiveSize, when positive, makes every snapshot's archive a
	// generated .tar.gz of exactly this many bytes on the wire, the same
	// for a snapshot id on every run and streamed, never held in memory
	// (bigarchive.go). 0 serves the small built archive.
	ArchiveSize int64
	// ArchiveDropAfter, when positive, cuts every download answer (200 or
	// 206) after this many bytes of its body by closing the connection, so
	// that clients must resume with Range.
	ArchiveDropAfter int64
	// DownloadRate, when positive, paces every download answer to at most
	// this many bytes a second (each answer on its own, as each connection
	// is its own flow), on the simulator's clock (Now and Sleep), so that a
	// download on loopback takes as long as on a link of that speed. The
	// reference gives no speed for download links: this is a knob of the
	// simulator, not a fact of Atlas.
	DownloadRate int64
}

// DefaultRestoreDuration is about how long Atlas took to restore a small
// Flex cluster; cmd/atlas-sim uses it unless told otherwise.
const DefaultRestoreDuration = time.Minute

// maxBodyBytes caps request bodies; Atlas bodies for these endpoints are tiny.
const maxBodyBytes = 1 << 20

// Server is the simulator, an http.Handler. It is safe for concurrent use.
type Server struct {
	now          func() time.Time
	queuedFor    time.Duration
	runningFor   time.Duration
	restoreFor   time.Duration
	publicBase   string
	logf         func(format string, args ...any)
	sleep        func(ctx context.Context, d time.Duration) error
	tenantSunset bool
	gzip         bool
	archives     *archiveCache // nil: the small built archive
	dropAfter    int64
	downloadRate int64 // Config.DownloadRate: bytes a second per download answer (0: unpaced)

	faults *faultState
	auth   *digestAuth
	oauth  *oauthState
	stats  *statsRecorder
	routes []route

	mu       sync.Mutex
	projects map[string]*projectState
	jobsByID map[string]*jobState
	jobSeq   uint64
	idRandom [5]byte // the middle of generated ObjectIds, like a process id
	idCount  uint32
}

// New builds a Server from cfg, validating the seed.
func New(cfg Config) (*Server, error) {
	if cfg.PublicKey == "" {
		cfg.PublicKey = DefaultPublicKey
	}
	if cfg.ClientID == "" {
		cfg.ClientID = DefaultClientID
	}
	if cfg.ClientSecret == "" {
		cfg.ClientSecret = DefaultClientSecret
	}
	if cfg.TokenLifetime == 0 {
		cfg.TokenLifetime = DefaultTokenLifetime
	}
	if cfg.TokenRateLimit < 0 || cfg.MaxLiveTokens < 0 {
		return nil, errors.New("atlassim: TokenRateLimit and MaxLiveTokens must not be negative")
	}
	if cfg.TokenLifetime < time.Second {
		return nil, errors.New("atlassim: TokenLifetime must be at least a second (expires_in counts whole seconds)")
	}
	if cfg.PrivateKey == "" {
		cfg.PrivateKey = DefaultPrivateKey
	}
	if cfg.Now == nil {
		cfg.Now = time.Now
	}
	if cfg.QueuedFor < 0 || cfg.RunningFor < 0 || cfg.RestoreDuration < 0 {
		return nil, errors.New("atlassim: QueuedFor, RunningFor and RestoreDuration must not be negative")
	}
	if err := cfg.Faults.Validate(); err != nil {
		return nil, err
	}
	if cfg.ArchiveSize < 0 || cfg.ArchiveDropAfter < 0 || cfg.DownloadRate < 0 {
		return nil, errors.New("atlassim: ArchiveSize, ArchiveDropAfter and DownloadRate must not be negative")
	}
	if least := MinArchiveSize(DefaultSnapshotID); cfg.ArchiveSize > 0 && cfg.ArchiveSize < least {
		return nil, fmt.Errorf("atlassim: ArchiveSize %d is below the smallest generated archive, %d bytes", cfg.ArchiveSize, least)
	}
	if cfg.Sleep == nil {
		cfg.Sleep = sleepTimer
	}
	base, err := checkPublicBaseURL(cfg.PublicBaseURL)
	if err != nil {
		return nil, err
	}
	seed := cfg.Seed
	if seed == nil {
		seed = DefaultSeed()
	}
	if err := validateSeed(seed); err != nil {
		return nil, fmt.Errorf("atlassim: invalid seed: %w", err)
	}

	s := &Server{
		now:          cfg.Now,
		queuedFor:    cfg.QueuedFor,
		runningFor:   cfg.RunningFor,
		restoreFor:   cfg.RestoreDuration,
		publicBase:   base,
		logf:         cfg.Logf,
		sleep:        cfg.Sleep,
		tenantSunset: cfg.TenantSunset,
		gzip:         cfg.Gzip,
		dropAfter:    cfg.ArchiveDropAfter,
		downloadRate: cfg.DownloadRate,
		faults:       &faultState{},
		auth:         newDigestAuth(cfg.PublicKey, cfg.PrivateKey),
		oauth:        newOAuthState(cfg),
		stats:        newStatsRecorder(),
		projects:     map[string]*projectState{},
		jobsByID:     map[string]*jobState{},
	}
	s.faults.set(cfg.Faults)
	if cfg.ArchiveSize > 0 {
		s.archives = &archiveCache{size: cfg.ArchiveSize}
	}
	var counter [3]byte
	if _, err := rand.Read(s.idRandom[:]); err != nil {
		return nil, fmt.Errorf("atlassim: reading random bytes: %w", err)
	}
	if _, err := rand.Read(counter[:]); err != nil {
		return nil, fmt.Errorf("atlassim: reading random bytes: %w", err)
	}
	s.idCount = uint32(counter[0])<<16 | uint32(counter[1])<<8 | uint32(counter[2])
	if err := s.load(seed); err != nil {
		return nil, err
	}
	s.routes = append(buildRoutes(s, tenantV1, tenantV2, flexV2), readRoutes()...)
	return s, nil
}

func checkPublicBaseURL(raw string) (string, error) {
	if raw == "" {
		return "", nil
	}
	u, err := url.Parse(raw)
	if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" ||
		(u.Path != "" && u.Path != "/") || u.RawQuery != "" || u.User != nil {
		return "", fmt.Errorf("atlassim: PublicBaseURL %q: want scheme://host[:port]", raw)
	}
	return u.Scheme + "://" + u.Host, nil
}

// route is one row of the route table: a method, a path template whose
// {placeholders} match one segment each, and its handler.
type route struct {
	method  string
	pattern string
	segs    []string
	auth    bool    // behind digest authentication
	fam     *family // the endpoint family of an API route
	handle  func(*call)
}

func newRoute(method, pattern string, auth bool, handle func(*call)) route {
	return route{method: method, pattern: pattern, segs: strings.Split(pattern, "/"), auth: auth, handle: handle}
}

// match returns the placeholder values when path fits the template.
func (rt *route) match(pathSegs []string) (map[string]string, bool) {
	if len(pathSegs) != len(rt.segs) {
		return nil, false
	}
	var params map[string]string
	for i, seg := range rt.segs {
		if strings.HasPrefix(seg, "{") && strings.HasSuffix(seg, "}") {
			if pathSegs[i] == "" {
				return nil, false
			}
			if params == nil {
				params = map[string]string{}
			}
			params[seg[1:len(seg)-1]] = pathSegs[i]
			continue
		}
		if seg != pathSegs[i] {
			return nil, false
		}
	}
	return params, true
}

// buildRoutes is the route table: each endpoint family adds its rows, plus
// the simulator's own download host.
func buildRoutes(s *Server, families ...*family) []route {
	var routes []route
	for _, f := range families {
		routes = append(routes, f.routes()...)
	}
	routes = append(routes, newRoute(http.MethodGet, downloadRoutePattern, false, s.serveDownload))
	routes = append(routes, newRoute(http.MethodHead, downloadRoutePattern, false, s.serveDownload))
	routes = append(routes, oauthRoutes(s)...)
	return routes
}

const (
	statsPath            = "/__sim/stats"
	apiPrefix            = "/api/"
	downloadRoutePattern = "/backup/restore/{jobId}/{file}"
	noRouteKey           = "(no route)"
)

// call is one request on its way through a handler.
type call struct {
	s        *Server
	w        http.ResponseWriter
	r        *http.Request
	params   map[string]string
	now      time.Time
	pretty   bool
	envelope bool
	// contentType is the media type of successful JSON answers; the v2
	// families set their versioned types here.
	contentType string

	// fault is the fault injected into this request, if any, and refusal
	// the download limit it met (counted apart, as it can be dropped too).
	fault   faultKind
	refusal faultKind
	// dropped is set when the answer was thrown away and the connection
	// closed; droppedStatus is the status the client would have seen.
	dropped       bool
	hijackedConn  net.Conn
	hijacked      bool
	droppedStatus int
}

// writeJSON answers 200 with v.
func (c *call) writeJSON(v any) {
	body := c.encodeBody(encodeJSON(v, c.pretty))
	c.w.Header().Set("Content-Type", c.contentType)
	c.w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	c.w.WriteHeader(http.StatusOK)
	_, _ = c.w.Write(body)
}

// writeObject answers 200 with one object, enveloped when asked.
func (c *call) writeObject(v any) {
	if c.envelope {
		c.writeJSON(struct {
			Status  int `json:"status"`
			Content any `json:"content"`
		}{http.StatusOK, v})
		return
	}
	c.writeJSON(v)
}

// writeList answers 200 with one page of items.
func writeList[T any](c *call, items []T, p pageParams) {
	page := listPage{
		Links:   pageLinks(c.requestURL(), p, len(items)),
		Results: pageOf(items, p),
	}
	if p.includeCount {
		n := len(items)
		page.TotalCount = &n
	}
	if c.envelope {
		st := http.StatusOK
		page.Status = &st
	}
	c.writeJSON(page)
}

// fail answers with an Atlas error body. Errors are never enveloped. Like
// Atlas, every error also names its errorCode in X-Error-Code.
func (c *call) fail(e *apiError) {
	body := c.encodeBody(encodeJSON(e, c.pretty))
	c.w.Header().Set("X-Error-Code", e.ErrorCode)
	c.w.Header().Set("Content-Type", "application/json")
	c.w.Header().Set("Content-Length", strconv.Itoa(len(body)))
	c.w.WriteHeader(e.Status)
	_, _ = c.w.Write(body)
}

// origin is scheme://host of the request, for absolute links.
func (c *call) origin() string {
	scheme := "http"
	if c.r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + c.r.Host
}

// requestURL is the absolute URL the client asked for.
func (c *call) requestURL() *url.URL {
	u, err := url.Parse(c.origin() + c.r.URL.RequestURI())
	if err != nil {
		return &url.URL{Scheme: "http", Host: c.r.Host, Path: c.r.URL.Path}
	}
	return u
}

// readBody reads a capped request body.
func (c *call) readBody() ([]byte, *apiError) {
	data, err := io.ReadAll(http.MaxBytesReader(c.w, c.r.Body, maxBodyBytes))
	if err != nil {
		var tooBig *http.MaxBytesError
		if errors.As(err, &tooBig) {
			return nil, newAPIError(http.StatusRequestEntityTooLarge, codeBodyTooLarge,
				fmt.Sprintf("The request body is larger than %d bytes.", maxBodyBytes))
		}
		return nil, newAPIError(http.StatusBadRequest, codeMalformedJSON, "The request body could not be read.")
	}
	return data, nil
}

// ServeHTTP routes a request: the stats page, then the route table. API
// routes sit behind digest authentication; the download route, like a
// presigned URL, does not. Every answer carries a Date from the clock.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.URL.Path == statsPath {
		w.Header().Set("Date", s.now().UTC().Format(http.TimeFormat))
		s.serveStats(w, r)
		return
	}
	if d := s.faults.get().Latency; d > 0 {
		if err := s.sleep(r.Context(), d); err != nil {
			// The client has gone: hang up without an answer.
			panic(http.ErrAbortHandler)
		}
	}
	start := s.now()
	w.Header().Set("Date", start.UTC().Format(http.TimeFormat))
	rw := &recordingWriter{ResponseWriter: w}
	c := &call{s: s, w: rw, r: r, now: start, contentType: "application/json"}
	key := s.dispatch(c)
	status := rw.finalStatus()
	if c.dropped {
		status = c.droppedStatus
	}
	s.stats.record(key, status, rw.challenged, c.fault, c.refusal)
	s.stats.recordQuery(key, loggedQuery(r))
	if s.logf != nil {
		outcome := strconv.Itoa(status)
		if c.dropped {
			outcome += ", connection dropped"
		}
		s.logf("%s %s -> %s (%s)", r.Method, logTarget(r), outcome, s.now().Sub(start).Round(time.Microsecond))
	}
	if c.hijackedConn != nil {
		_ = c.hijackedConn.Close()
	}
	if c.dropped && !c.hijacked {
		// No connection to take over (HTTP/2, a recorder): abort the
		// answer the way net/http offers.
		panic(http.ErrAbortHandler)
	}
}

// dispatch finds the route, authenticates, parses the global query
// parameters and runs the handler. It returns the stats key. Fault injection
// (rate limits, 5xx, dropped connections) sits between authentication and
// the handler, so that it applies to every family alike.
func (s *Server) dispatch(c *call) string {
	r, w := c.r, c.w
	pathSegs := strings.Split(r.URL.Path, "/")

	var matched *route
	var allowed []string
	for i := range s.routes {
		rt := &s.routes[i]
		params, ok := rt.match(pathSegs)
		if !ok {
			continue
		}
		if rt.method == r.Method {
			matched, c.params = rt, params
			break
		}
		allowed = append(allowed, rt.method)
	}

	switch {
	case matched != nil && matched.fam != nil:
		s.serveAPI(c, matched)
		return r.Method + " " + matched.pattern

	case matched != nil:
		matched.handle(c)
		return r.Method + " " + matched.pattern

	case len(allowed) > 0:
		key := r.Method + " " + s.firstPatternFor(pathSegs)
		if strings.HasPrefix(r.URL.Path, apiPrefix) && !isOAuthPath(r.URL.Path) && !s.authenticate(c) {
			return key
		}
		sort.Strings(allowed)
		w.Header().Set("Allow", strings.Join(allowed, ", "))
		_ = c.parseGlobalParams() // a bad pretty= does not hide the 405
		c.fail(newAPIError(http.StatusMethodNotAllowed, codeMethodNotAllowed,
			fmt.Sprintf("HTTP method %s is not supported on this resource; use %s.", r.Method, strings.Join(allowed, " or ")),
			r.Method))
		return key

	default:
		key := r.Method + " " + noRouteKey
		if strings.HasPrefix(r.URL.Path, apiPrefix) && !s.authenticate(c) {
			return key
		}
		_ = c.parseGlobalParams() // nor the 404
		c.fail(newAPIError(http.StatusNotFound, codeResourceNotFound,
			fmt.Sprintf("Cannot find resource %s.", r.URL.Path), r.URL.Path))
		return key
	}
}

// serveAPI runs an API route: authentication, the project's rate limit, the
// family's gate (sunset, version), injected faults, then the handler.
func (s *Server) serveAPI(c *call, rt *route) {
	h := c.w.Header()
	v, _ := rt.fam.versionFor(c.r.Header.Values("Accept"))
	v.setHeaders(h)
	project := c.params["groupId"]
	s.mu.Lock()
	limited := s.projects[project] != nil // unknown projects answer 404 unmetered
	s.mu.Unlock()
	if limited {
		if d, on := s.faults.peek(project, c.now); on {
			setRateHeaders(h, d)
		}
	}
	if !s.authenticate(c) {
		return
	}
	if limited {
		if d, on := s.faults.take(project, c.now); on {
			setRateHeaders(h, d)
			if d.limited {
				c.fault = faultRateLimited
				h.Set("Retry-After", retryAfterSeconds(d.retryAfter))
				c.fail(newAPIError(http.StatusTooManyRequests, rt.fam.rateLimitCode,
					fmt.Sprintf("Too many requests for group %s: the rate limit of %d requests is used up. Retry after the time in the Retry-After header.",
						project, d.limit), project))
				return
			}
		}
	}
	if e := rt.fam.gate(c); e != nil {
		c.fail(e)
		return
	}
	if e := c.parseGlobalParams(); e != nil {
		c.fail(e)
		return
	}
	f := s.faults.get()
	if s.failInjected(c, f) {
		return
	}
	if !s.faults.roll(f.DropRate) {
		rt.handle(c)
		return
	}
	// Do the work, throw the answer away, and hang up.
	c.fault, c.dropped = faultDropped, true
	answer := c.w
	discard := &discardWriter{header: http.Header{}}
	c.w = discard
	rt.handle(c)
	c.droppedStatus = cmp.Or(discard.status, http.StatusOK)
	conn, _, err := http.NewResponseController(answer).Hijack()
	if err == nil {
		// Closed by ServeHTTP once the request is counted, so a client
		// that sees the hang-up also sees it in the stats.
		c.hijacked, c.hijackedConn = true, conn
	}
}

func setRateHeaders(h http.Header, d rateDecision) {
	h.Set("RateLimit-Limit", strconv.Itoa(d.limit))
	h.Set("RateLimit-Remaining", strconv.Itoa(d.remaining))
}

// discardWriter takes an answer that is never sent.
type discardWriter struct {
	header http.Header
	status int
}

func (d *discardWriter) Header() http.Header { return d.header }

func (d *discardWriter) Write(b []byte) (int, error) {
	if d.status == 0 {
		d.status = http.StatusOK
	}
	return len(b), nil
}

func (d *discardWriter) WriteHeader(code int) {
	if d.status == 0 {
		d.status = code
	}
}

func (s *Server) firstPatternFor(pathSegs []string) string {
	for i := range s.routes {
		if _, ok := s.routes[i].match(pathSegs); ok {
			return s.routes[i].pattern
		}
	}
	return noRouteKey
}

// authenticate answers the 401 challenge itself when credentials are
// missing or wrong, and reports whether the request may proceed.
func (s *Server) authenticate(c *call) bool {
	if handled, ok := s.authenticateBearer(c); handled {
		return ok // a service account's token (oauth.go)
	}
	uri := c.r.RequestURI
	if uri == "" {
		uri = c.r.URL.RequestURI()
	}
	f := s.faults.get()
	outcome := s.auth.verify(c.r, uri, nonceRules{now: c.now, lifetime: f.NonceLifetime, strict: f.StrictNonceCount})
	if outcome == authOK {
		return true
	}
	detail := "You are not authorized for this resource."
	switch outcome {
	case authMissing:
		detail = "Authentication credentials are required: use HTTP Digest authentication with an API public key as user name and its private key as password, or a service account's Bearer token from POST " + tokenPath + "."
	case authStale:
		detail = "The digest nonce has expired; retry with the new nonce."
		c.fault = faultStaleNonce
	}
	c.unauthorized(detail, outcome == authStale)
	return false
}

// unauthorized answers 401 USER_UNAUTHORIZED with a digest challenge, in
// the documented content type. Every 401 of the API carries the challenge,
// whichever scheme was refused, so that a client can fall back to its key.
func (c *call) unauthorized(detail string, stale bool) {
	e := newAPIError(http.StatusUnauthorized, codeUserUnauthorized, detail)
	body := encodeJSON(e, false)
	h := c.w.Header()
	h.Set("WWW-Authenticate", c.s.auth.challenge(c.now, stale))
	h.Set("X-Error-Code", e.ErrorCode)
	h.Set("Content-Type", "application/json;charset=ISO-8859-1")
	h.Set("Content-Length", strconv.Itoa(len(body)))
	c.w.WriteHeader(http.StatusUnauthorized)
	_, _ = c.w.Write(body)
}

// parseGlobalParams reads the API-wide pretty and envelope parameters; a
// value that is not a boolean is an error (left unset).
func (c *call) parseGlobalParams() *apiError {
	q := c.r.URL.Query()
	for _, name := range []string{"pretty", "envelope"} {
		v, ok := q[name]
		if !ok {
			continue
		}
		b, err := strconv.ParseBool(v[0])
		if err != nil {
			return badQueryParam(name, v[0], "true or false")
		}
		if name == "pretty" {
			c.pretty = b
		} else {
			c.envelope = b
		}
	}
	return nil
}

// serveStats answers GET /__sim/stats without authentication. It is not
// counted in the stats it reports.
func (s *Server) serveStats(w http.ResponseWriter, r *http.Request) {
	c := &call{s: s, w: w, r: r, contentType: "application/json"}
	if r.Method != http.MethodGet {
		w.Header().Set("Allow", http.MethodGet)
		c.fail(newAPIError(http.StatusMethodNotAllowed, codeMethodNotAllowed,
			fmt.Sprintf("HTTP method %s is not supported on this resource; use GET.", r.Method), r.Method))
		return
	}
	c.pretty = r.URL.Query().Get("pretty") == "true"
	c.writeJSON(s.Stats())
}

// Stats returns the same counts as GET /__sim/stats.
func (s *Server) Stats() Stats {
	st := s.stats.snapshot()
	st.LiveTokens, st.RevokedTokens = s.oauth.counts(s.now())
	return st
}

// SPDX-License-Identifier: MPL-2.0

// Command atlas-sim serves the Atlas API simulator (internal/atlassim) on a
// loopback address, for people and scripts.
//
// After it listens it prints one machine-readable line,
//
//	ATLAS_SIM_BASE_URL=http://127.0.0.1:8080
//
// so that `-addr 127.0.0.1:0` can be used and the port read back.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	err := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
	stop()
	switch {
	case errors.Is(err, flag.ErrHelp):
		os.Exit(0)
	case errors.Is(err, errUsage):
		os.Exit(2)
	case err != nil:
		fmt.Fprintln(os.Stderr, err)
		os.Exit(1)
	}
}

// errUsage is a bad command line; flag has already explained it.
var errUsage = errors.New("atlas-sim: usage error")

const maxRequestBody = 1 << 20

// run parses args, starts the simulator and serves until ctx ends.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("atlas-sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "listen address (host:port); port 0 picks a free port")
	seedFile := fs.String("seed", "", "seed `file` (JSON); empty means the built-in default seed")
	publicKey := fs.String("public-key", atlassim.DefaultPublicKey, "API public key (digest user name)")
	privateKey := fs.String("private-key", atlassim.DefaultPrivateKey, "API private key (digest password)")
	clientID := fs.String("client-id", atlassim.DefaultClientID, "service account client ID, accepted at POST /api/oauth/token beside the API key")
	clientSecret := fs.String("client-secret", atlassim.DefaultClientSecret, "service account client secret")
	tokenLifetime := fs.Duration("token-lifetime", atlassim.DefaultTokenLifetime, "lifetime of each access token (expires_in; Atlas documents one hour)")
	queuedFor := fs.Duration("queued-for", 0, "how long a new download job stays QUEUED")
	runningFor := fs.Duration("running-for", 0, "how long a download job then stays RUNNING")
	allowNonLoopback := fs.Bool("allow-non-loopback", false, "allow listening on a non-loopback address")
	quiet := fs.Bool("quiet", false, "do not log requests to stderr")
	maxConns := fs.Int("max-conns", 256, "most connections served at once; more wait to be accepted")
	tenantSunset := fs.Bool("tenant-sunset", false, "answer tenant paths as after their 2026-01-22 sunset (v2: 410 VERSION_GONE, v1.0: 404)")
	gzipAnswers := fs.Bool("gzip", true, "send JSON answers of 256 bytes or more gzipped when the client accepts gzip, as Atlas does")
	archiveSize := sizeFlag(fs, "archive-size", "make each snapshot's archive a generated .tar.gz of exactly `SIZE` bytes on the wire (256MiB, 1GiB, 1000000; 0: the small built archive)")
	dropAfter := sizeFlag(fs, "archive-drop-after", "close every download connection after `BYTES` bytes of its body (0: never), so that clients resume with Range")
	downloadRate := sizeFlag(fs, "download-rate", "pace every download answer to at most `BYTES` a second, as a link of that speed would (250MiB; 0: as fast as the connection goes)")
	faults := faultFlags(fs)
	behaviour := behaviourFlags(fs)
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage: atlas-sim [flags]\n\nServes a simulated Atlas Administration API: tenant backup endpoints (v1.0 and v2) and Flex backup endpoints (v2).\n\nFlags:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return err
		}
		return errUsage
	}
	if fs.NArg() > 0 {
		fmt.Fprintf(stderr, "atlas-sim: unexpected arguments: %s\n", strings.Join(fs.Args(), " "))
		fs.Usage()
		return errUsage
	}
	if *queuedFor < 0 || *runningFor < 0 {
		return errors.New("atlas-sim: -queued-for and -running-for must not be negative")
	}
	if *publicKey == "" || *privateKey == "" {
		return errors.New("atlas-sim: -public-key and -private-key must not be empty")
	}
	if *clientID == "" || *clientSecret == "" {
		return errors.New("atlas-sim: -client-id and -client-secret must not be empty")
	}
	if *tokenLifetime < time.Second {
		return errors.New("atlas-sim: -token-lifetime must be at least 1s")
	}
	faultCfg, err := faults()
	if err != nil {
		return err
	}

	loopback, err := isLoopbackAddr(*addr)
	if err != nil {
		return fmt.Errorf("atlas-sim: -addr %q: %w", *addr, err)
	}
	if !loopback {
		if !*allowNonLoopback {
			return fmt.Errorf("atlas-sim: refusing to listen on non-loopback address %q: the simulator accepts well-known keys; pass -allow-non-loopback to do it anyway", *addr)
		}
		fmt.Fprintf(stderr, "atlas-sim: WARNING: listening on non-loopback address %q; anyone who can reach it can use the simulator keys\n", *addr)
	}

	var seed *atlassim.Seed
	if *seedFile != "" {
		seed, err = atlassim.LoadSeedFile(*seedFile)
		if err != nil {
			// LoadSeedFile errors start with the file name.
			return fmt.Errorf("atlas-sim: seed %w", err)
		}
	} else {
		seed = atlassim.DefaultSeed()
	}

	cfg := atlassim.Config{
		PublicKey:    *publicKey,
		PrivateKey:   *privateKey,
		Seed:         seed,
		QueuedFor:    *queuedFor,
		RunningFor:   *runningFor,
		Faults:       faultCfg,
		TenantSunset: *tenantSunset,
	}
	cfg.ClientID, cfg.ClientSecret, cfg.TokenLifetime = *clientID, *clientSecret, *tokenLifetime
	cfg.Gzip = *gzipAnswers
	cfg.ArchiveSize, cfg.ArchiveDropAfter, cfg.DownloadRate = *archiveSize, *dropAfter, *downloadRate
	if err := behaviour(&cfg); err != nil {
		return err
	}
	if !*quiet {
		logger := log.New(stderr, "atlas-sim: ", log.LstdFlags)
		cfg.Logf = logger.Printf
	}
	sim, err := atlassim.New(cfg)
	if err != nil {
		return fmt.Errorf("atlas-sim: %w", err)
	}

	if *maxConns < 1 {
		return fmt.Errorf("atlas-sim: -max-conns must be at least 1")
	}
	ln, err := (&net.ListenConfig{}).Listen(ctx, "tcp", *addr)
	if err != nil {
		return fmt.Errorf("atlas-sim: %w", err)
	}
	ln = limitListener(ln, *maxConns)
	srv := &http.Server{
		Handler:           limitBody(sim),
		ReadHeaderTimeout: 10 * time.Second,
		ReadTimeout:       30 * time.Second,
		WriteTimeout:      2 * time.Minute,
		IdleTimeout:       2 * time.Minute,
		MaxHeaderBytes:    64 << 10,
		ErrorLog:          log.New(stderr, "atlas-sim: http: ", log.LstdFlags),
	}

	baseURL := "http://" + ln.Addr().String()
	fmt.Fprintf(stdout, "ATLAS_SIM_BASE_URL=%s\n", baseURL)
	where := "loopback"
	if !loopback {
		where = "a NON-loopback address"
	}
	projectIDs := make([]string, 0, len(seed.Projects))
	for _, p := range seed.Projects {
		projectIDs = append(projectIDs, p.ID)
	}
	secretShown := "as given by -client-secret"
	if *clientSecret == atlassim.DefaultClientSecret {
		secretShown = fmt.Sprintf("%q", *clientSecret) // the well-known simulator secret
	}
	fmt.Fprintf(stdout, "atlas-sim listening on %s at %s; public key %q, simulator private key %q; project ids: %s; service account client ID %q, secret %s, tokens last %s\n",
		where, baseURL, *publicKey, *privateKey, strings.Join(projectIDs, ", "), *clientID, secretShown, *tokenLifetime)

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	select {
	case err := <-serveErr:
		return fmt.Errorf("atlas-sim: %w", err)
	case <-ctx.Done():
	}
	shutdownCtx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	if err := srv.Shutdown(shutdownCtx); err != nil {
		return fmt.Errorf("atlas-sim: shutting down: %w", err)
	}
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("atlas-sim: %w", err)
	}
	return nil
}

// faultFlags defines the fault-injection flags on fs and returns a function
// that reads them, once parsed, into atlassim.Faults.
func faultFlags(fs *flag.FlagSet) func() (atlassim.Faults, error) {
	capacity := fs.Int("rate-limit", 0, "token-bucket capacity per project (0: no rate limit); an empty bucket answers 429")
	refill := fs.Int("rate-limit-refill", 0, "tokens added per -rate-limit-period (0: the capacity)")
	period := fs.Duration("rate-limit-period", time.Minute, "refill period of the rate limit")
	errorRate := fs.Float64("error-rate", 0, "share (0 to 1) of API requests answered with -error-status, not acted on")
	errorStatus := fs.Int("error-status", 503, "status of injected errors (5xx)")
	errorRetryAfter := fs.Duration("error-retry-after", 0, "Retry-After sent with injected 503s (0: none)")
	latency := fs.Duration("latency", 0, "added wait before every request is handled")
	dropRate := fs.Float64("drop-rate", 0, "share (0 to 1) of API requests processed, then answered by closing the connection")
	nonceLifetime := fs.Duration("nonce-lifetime", 0, "digest nonces older than this answer 401 with stale=true (0: never)")
	strictNC := fs.Bool("strict-nonce-count", false, "require each nonce count to exceed the previous ones for that nonce")
	failRate := fs.Float64("fail-job-rate", 0, "share (0 to 1) of new download jobs that end FAILED")
	failSnapshots := fs.String("fail-snapshots", "", "comma-separated snapshot `ids` whose new download jobs end FAILED")
	seed := fs.Uint64("rand-seed", 0, "seed of the random source behind the shares above")
	downloadLimit := fs.Int("download-limit", 0, "most unfinished download jobs per project; more answer 400 TOO_MANY_SNAPSHOT_DOWNLOADS (0: no limit)")
	onePerSnapshot := fs.Bool("one-download-per-snapshot", false, "answer 400 CANNOT_DOWNLOAD_SNAPSHOT_CONCURRENTLY while the snapshot has an unfinished download job")
	downloadFaults := fs.Bool("download-faults", false, "let -error-rate and -drop-rate reach download links too (a dropped download sends half its body, then closes)")
	return func() (atlassim.Faults, error) {
		f := atlassim.Faults{
			RateLimitCapacity: *capacity,
			RateLimitRefill:   *refill,
			RateLimitPeriod:   *period,
			ErrorRate:         *errorRate,
			ErrorStatus:       *errorStatus,
			ErrorRetryAfter:   *errorRetryAfter,
			Latency:           *latency,
			DropRate:          *dropRate,
			NonceLifetime:     *nonceLifetime,
			StrictNonceCount:  *strictNC,
			FailJobRate:       *failRate,
			RandSeed:          *seed,

			DownloadLimit:          *downloadLimit,
			OneDownloadPerSnapshot: *onePerSnapshot,
			DownloadFaults:         *downloadFaults,
		}
		for _, id := range strings.Split(*failSnapshots, ",") {
			if id = strings.TrimSpace(id); id != "" {
				f.FailSnapshotIDs = append(f.FailSnapshotIDs, id)
			}
		}
		if *period <= 0 {
			return f, errors.New("atlas-sim: -rate-limit-period must be positive")
		}
		if err := f.Validate(); err != nil {
			return f, fmt.Errorf("atlas-sim: %w", err)
		}
		return f, nil
	}
}

// behaviourFlags defines the flags of how the simulated Atlas behaves
// beyond faults and returns a function that sets them, once parsed, in a
// Config.
func behaviourFlags(fs *flag.FlagSet) func(*atlassim.Config) error {
	restoreFor := fs.Duration("restore-duration", atlassim.DefaultRestoreDuration,
		"how long a restore job takes from PENDING through RUNNING to COMPLETED (Atlas took about a minute)")
	tokenRate := fs.Int("token-rate-limit", 0, "token requests each client may make a minute; more answer 429 (Atlas: 10; 0: no limit)")
	maxLive := fs.Int("max-live-tokens", 0, "live access tokens the service account may hold; more answer 403 (Atlas: 100; 0: no limit)")
	return func(cfg *atlassim.Config) error {
		if *restoreFor < 0 {
			return errors.New("atlas-sim: -restore-duration must not be negative")
		}
		if *tokenRate < 0 || *maxLive < 0 {
			return errors.New("atlas-sim: -token-rate-limit and -max-live-tokens must not be negative")
		}
		cfg.RestoreDuration, cfg.TokenRateLimit, cfg.MaxLiveTokens = *restoreFor, *tokenRate, *maxLive
		return nil
	}
}

// sizeFlag defines a flag holding a size in bytes, written as
// atlassim.ParseSize reads it (a whole number, optionally with a unit such
// as MiB or GiB); it must not be negative.
func sizeFlag(fs *flag.FlagSet, name, usage string) *int64 {
	v := new(int64)
	fs.Func(name, usage, func(s string) error {
		n, err := atlassim.ParseSize(s)
		if err != nil {
			return err
		}
		*v = n
		return nil
	})
	return v
}

// limitBody caps request bodies before the simulator reads them.
func limitBody(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r.Body = http.MaxBytesReader(w, r.Body, maxRequestBody)
		h.ServeHTTP(w, r)
	})
}

// isLoopbackAddr reports whether host:port names only loopback interfaces.
// An empty host means every interface, so it is not loopback.
func isLoopbackAddr(addr string) (bool, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false, err
	}
	if strings.EqualFold(host, "localhost") {
		return true, nil
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback(), nil
}

// SPDX-License-Identifier: MPL-2.0

package atlas

// Lost answers, top to bottom.
//
// Atlas's download and restore calls are not idempotent and carry no
// request id. A POST
// whose answer is lost (a dropped connection, a 5xx after Atlas acted, a
// stall, an interrupt) may or may not have made a job, and the only way to
// know is to look. So RequestDownload and RequestRestore:
//
//  1. sends each POST under a shared lock of its snapshot, and claims the
//     job in the answer before letting go;
//  2. records an attempt whose failure leaves open whether Atlas acted as
//     lost, with its span on this machine's clock;
//  3. looks, under the exclusive lock, through the cluster's restore jobs
//     for jobs of the request (its snapshot, kind and target) that nobody on this machine has claimed and
//     whose restoreScheduledDate lies in the window of one of its lost
//     attempts (on Atlas's clock, learnt from Date headers);
//  4. claims one when every such job can be explained by a lost attempt on
//     this machine, and none when there are more: then a request from
//     elsewhere made one of them, and nothing tells which, so the caller
//     gets the candidates to import rather than a job that may be shared.
//
// The locks and the record of claims and lost attempts live in a LockDir,
// shared by every provider process of the user on this machine, so that
// aliases, modules and parallel applies never take one job twice. Across
// machines nothing in Atlas's API tells two requests apart: a job that
// another machine asked for inside our window, when ours made none, is
// the one edge left (see DESIGN.md).

import (
	"bufio"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"os"
	"slices"
	"sync"
	"time"
)

// recoveryGrace is how long a search for a lost job may outlive the
// caller's context, on top of one attempt's wait for a first byte
// (Client.grace, which tests shorten): Terraform waits for the provider
// after an interrupt, and a job found then is saved instead of orphaned.
// The search first waits for the snapshot's lock, which a POST still in
// flight elsewhere holds for up to that first-byte wait.
const recoveryGrace = 30 * time.Second

// Record retention: a lost attempt explains a job listed at most this late,
// and a claim matters only while a job can still fall in a lost window.
const (
	lostRetention  = time.Hour
	claimRetention = 24 * time.Hour
	// compactAt is the number of lines past which a search rewrites the
	// record with only what is retained.
	compactAt = 2000
)

// RequestDownload asks Atlas for a download link to a snapshot. The answer
// is the new download job. After an ambiguous failure the call looks for
// the job it may have made before sending again, so one call never makes
// two jobs and no job is taken by two calls on this machine.
//
// Errors: *NotSentError when ctx ended before anything was sent;
// *UnconfirmedJobError when Atlas may hold a job the search could not
// settle. When Atlas refuses because download limits are reached
// (IsDownloadLimit) it has done nothing, and the call waits and asks again
// until ctx ends; then it returns Atlas's last refusal.
func (c *Client) RequestDownload(ctx context.Context, cl Cluster, snapshotID string) (*RestoreJob, error) {
	if err := cl.check(snapshotID); err != nil {
		return nil, err
	}
	return c.requestJob(ctx, cl, jobRequest{delivery: deliveryDownload, snapshotID: snapshotID}, request{
		method:    http.MethodPost,
		path:      cl.path("download"),
		body:      map[string]string{"snapshotId": snapshotID},
		mediaType: cl.Family.mediaType,
	})
}

// requestJob sends req, which asks for the job want describes, and
// recovers its lost answers (RequestDownload, RequestRestore).
func (c *Client) requestJob(ctx context.Context, cl Cluster, want jobRequest, req request) (*RestoreJob, error) {
	if err := ctx.Err(); err != nil {
		return nil, &NotSentError{Err: err}
	}
	rec, err := c.record(cl, want)
	if err != nil {
		return nil, err
	}
	deadline, bounded := c.deadline(ctx)
	call := &lostCall{id: newCallID(), cl: cl, want: want}
	attempt, limited := 1, 0
	for {
		// 1. What was sent.
		job, tried, err := c.post(ctx, rec, call, req)
		if err == nil {
			return job, nil
		}
		// 2. What may have happened.
		v := c.classify(req, err)
		limit := IsDownloadLimit(err)
		// 3. Where to look: after every lost answer, and after "one
		// download at a time" once one was lost (our own job, listed late).
		if v == checkFirst || (limit && len(call.lost) > 0) {
			job, serr := c.search(ctx, rec, call, tried)
			switch {
			case serr != nil:
				return nil, call.unconfirmed(c, err, serr)
			case job != nil:
				c.log(ctx, "atlas request had succeeded before its answer was lost", map[string]any{
					"method": req.method, "path": req.path, "attempt": attempt, "job_id": job.ID,
				})
				return job, nil
			case ctx.Err() != nil:
				// The search found nothing yet, and no time is left to ask
				// again or to look later.
				return nil, call.unconfirmed(c, err, ErrNotListed)
			}
		}
		var delay time.Duration
		switch {
		case ctx.Err() != nil:
			return nil, err
		case limit:
			// The limits clear as other downloads finish, which takes
			// minutes: wait on the retry curve, without its attempt limit.
			limited++
			delay = c.retry.delay(limited, retryAfter(err), c.jitter())
		case v == giveUp || attempt >= c.retry.MaxAttempts:
			return nil, err
		default:
			delay = c.retry.delay(attempt, retryAfter(err), c.jitter())
			attempt++
		}
		if bounded && c.now().Add(delay).After(deadline) {
			return nil, err
		}
		if limit {
			var ae *Error
			errors.As(err, &ae)
			c.log(ctx, "waiting for atlas download limits", map[string]any{
				"method": req.method, "path": req.path, "attempt": limited,
				"error_code": ae.ErrorCode, "delay": delay.String(),
			})
		} else {
			c.log(ctx, "retrying atlas request", map[string]any{
				"method": req.method, "path": req.path, "attempt": attempt - 1,
				"error": errorSummary(err), "delay": delay.String(),
			})
		}
		if c.sleep(ctx, delay) != nil {
			return nil, err
		}
	}
}

// post sends one POST under the snapshot's shared lock. The job in
// its answer is claimed, and an ambiguous failure recorded as lost, before
// the lock is let go: a search, which holds the lock alone, never sees a
// job of ours that is neither.
func (c *Client) post(ctx context.Context, rec *snapshotRecord, call *lostCall, req request) (*RestoreJob, span, error) {
	if err := rec.rlock(ctx); err != nil {
		return nil, span{}, &NotSentError{Err: err}
	}
	defer rec.runlock()
	sent := c.now()
	resp, err := c.once(ctx, req, mustJSON(req.body))
	tried := span{sent: sent, ended: c.now()}
	if err != nil {
		if c.classify(req, err) == checkFirst {
			call.lost = append(call.lost, tried)
			if rerr := rec.add(entry{Call: call.id, Sent: tried.sent, Ended: tried.ended, At: c.now()}); rerr != nil {
				c.log(ctx, "could not record a lost attempt", map[string]any{"error": rerr.Error()})
			}
		}
		return nil, tried, err
	}
	job, err := decodeAnswer(req, resp, decodeRestoreJob)
	if err != nil {
		// An answer, but not a job: Atlas may have made one all the same.
		call.lost = append(call.lost, tried)
		_ = rec.add(entry{Call: call.id, Sent: tried.sent, Ended: tried.ended, At: c.now()})
		return nil, tried, err
	}
	if err := rec.add(entry{Job: job.ID, At: c.now()}); err != nil {
		c.log(ctx, "could not record a claimed job", map[string]any{"error": err.Error()})
	}
	return job, tried, nil
}

// search looks for the job one of call's lost attempts made, and claims it
// (see the top of this file). It runs even after ctx has ended, for up to
// recoveryGrace, so that an interrupted apply keeps what it made.
func (c *Client) search(ctx context.Context, rec *snapshotRecord, call *lostCall, failed span) (*RestoreJob, error) {
	ctx, cancel := withGrace(ctx, c.grace)
	defer cancel()
	if err := rec.lock(ctx); err != nil {
		return nil, err
	}
	defer rec.unlock()
	book, err := rec.read(c.now())
	if err != nil {
		return nil, err
	}
	jobs, err := c.AllRestoreJobs(ctx, call.cl)
	if err != nil {
		return nil, err
	}
	var found []*RestoreJob
	for i := range jobs {
		j := &jobs[i]
		if !call.want.matches(j) || book.claimed[j.ID] {
			continue
		}
		if at, err := time.Parse(time.RFC3339, j.RestoreScheduledDate); err == nil && c.inWindows(at, call.lost) {
			found = append(found, j)
		}
	}
	if len(found) == 0 {
		return nil, nil
	}
	// 4. What to claim. Every lost attempt on this machine can account for
	// one job; more candidates than attempts that could own them means a
	// request from elsewhere made one, and any choice may be theirs.
	others := book.lostExcept(call.id)
	owners := 0
	for _, sps := range append([][]span{call.lost}, others...) {
		for _, sp := range sps {
			if slices.ContainsFunc(found, func(j *RestoreJob) bool { return c.inWindows(scheduled(j), []span{sp}) }) {
				owners++
			}
		}
	}
	if len(found) > owners {
		ids := make([]string, len(found))
		for i, j := range found {
			ids[i] = j.ID
		}
		return nil, &AmbiguousJobsError{JobIDs: ids}
	}
	lo, _, known := c.skew.get()
	if !known {
		lo = 0
	}
	near := failed.sent.Add(lo)
	var best *RestoreJob
	var bestRank candidateRank
	for _, j := range found {
		at := scheduled(j)
		rank := candidateRank{dist: secondDistance(near, at), at: at, id: j.ID}
		for _, o := range others {
			if c.inWindows(at, o) {
				rank.shared++
			}
		}
		if best == nil || rank.before(bestRank) {
			best, bestRank = j, rank
		}
	}
	if err := rec.add(entry{Job: best.ID, At: c.now()}, entry{Call: call.id, Found: true, At: c.now()}); err != nil {
		return nil, err
	}
	call.lost = nil
	return best, nil
}

func scheduled(j *RestoreJob) time.Time {
	at, _ := time.Parse(time.RFC3339, j.RestoreScheduledDate)
	return at
}

// candidateRank orders the jobs a search may take: fewest other lost calls
// that could own it, then nearest the failed attempt, then oldest, then by
// id so that the choice does not depend on the list's order.
type candidateRank struct {
	shared int
	dist   time.Duration
	at     time.Time
	id     string
}

func (r candidateRank) before(o candidateRank) bool {
	switch {
	case r.shared != o.shared:
		return r.shared < o.shared
	case r.dist != o.dist:
		return r.dist < o.dist
	case !r.at.Equal(o.at):
		return r.at.Before(o.at)
	}
	return r.id < o.id
}

// secondDistance is how far t lies from the second that starts at sec.
func secondDistance(t, sec time.Time) time.Duration {
	switch {
	case t.Before(sec):
		return sec.Sub(t)
	case t.Before(sec.Add(time.Second)):
		return 0
	}
	return t.Sub(sec.Add(time.Second))
}

// withGrace is a context that ends grace after ctx does (real time: an
// interrupt is the world's, not the client's clock).
func withGrace(ctx context.Context, grace time.Duration) (context.Context, context.CancelFunc) {
	d, cancel := context.WithCancel(context.WithoutCancel(ctx))
	stop := context.AfterFunc(ctx, func() { time.AfterFunc(grace, cancel) })
	return d, func() { stop(); cancel() }
}

// ---- Atlas's clock ----------------------------------------------------

// span is one attempt on the local clock: from just before it was handed
// to the transport until its failure or answer came back.
type span struct{ sent, ended time.Time }

// clockSkew is what the Date headers say about the server clock minus ours:
// it lies in [lo, hi). Date has whole seconds and is stamped somewhere
// between our sending and our receiving, which bounds it on both sides.
type clockSkew struct {
	mu     sync.Mutex
	known  bool
	lo, hi time.Duration
}

// unknownSkew is the uncertainty assumed before any Date has been seen
// (a transport that strips it): clocks kept by NTP agree to well within it.
const unknownSkew = 2 * time.Second

func (s *clockSkew) get() (lo, hi time.Duration, known bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if !s.known {
		return 0, 0, false
	}
	return s.lo, s.hi, true
}

// learn records a Date header of an answer to a request sent at sent and
// answered at received (both on our clock).
func (s *clockSkew) learn(date string, sent, received time.Time) {
	if date == "" {
		return
	}
	t, err := http.ParseTime(date)
	if err != nil {
		return
	}
	s.mu.Lock()
	s.known, s.lo, s.hi = true, t.Sub(received), t.Add(time.Second).Sub(sent)
	s.mu.Unlock()
}

// serverWindow is where, on the server clock, Atlas can have stamped a
// request made during sp: restoreScheduledDate lies in [from, to).
//
// This relies on restoreScheduledDate being the time Atlas received the
// request, to the second. The reference is silent; the simulator makes the
// same assumption; simulator_contract_test.go breaks if either side changes.
func (c *Client) serverWindow(sp span) (from, to time.Time) {
	lo, hi, known := c.skew.get()
	if !known {
		lo, hi = -unknownSkew, unknownSkew
	}
	return sp.sent.Add(lo).UTC().Truncate(time.Second), sp.ended.Add(hi).UTC()
}

// inWindows reports whether a restoreScheduledDate lies in the window of
// any of the attempts.
func (c *Client) inWindows(at time.Time, attempts []span) bool {
	for _, sp := range attempts {
		if from, to := c.serverWindow(sp); !at.Before(from) && at.Before(to) {
			return true
		}
	}
	return false
}

// earliest is the server time before which none of the attempts can have
// been stamped by Atlas (the zero time for none).
func (c *Client) earliest(lost []span) time.Time {
	var at time.Time
	for _, sp := range lost {
		if from, _ := c.serverWindow(sp); at.IsZero() || from.Before(at) {
			at = from
		}
	}
	return at
}

// skewTransport learns the server clock from every answer on the wire,
// digest challenges and retried attempts included.
type skewTransport struct {
	base http.RoundTripper
	c    *Client
}

func (t *skewTransport) RoundTrip(req *http.Request) (*http.Response, error) {
	sent := t.c.now()
	resp, err := t.base.RoundTrip(req)
	if err == nil {
		t.c.skew.learn(resp.Header.Get("Date"), sent, t.c.now())
	}
	return resp, err
}

func (t *skewTransport) CloseIdleConnections() {
	type closer interface{ CloseIdleConnections() }
	if c, ok := t.base.(closer); ok {
		c.CloseIdleConnections()
	}
}

// ---- The record -------------------------------------------------------

// lostCall is one requestJob call and its lost attempts not yet
// accounted for.
type lostCall struct {
	id   string
	cl   Cluster
	want jobRequest
	lost []span
}

// Delivery types of restore jobs.
const (
	deliveryDownload = "DOWNLOAD"
	deliveryRestore  = "RESTORE"
)

// jobRequest is what a request asks for: a download of a snapshot, or a
// restore of it onto a target cluster. It keys the record, and a listed
// job is the request's only when it matches all of it.
type jobRequest struct {
	delivery      string
	snapshotID    string
	targetName    string // restores only
	targetProject string // restores only
}

func (w jobRequest) key() string {
	return w.delivery + "|" + w.snapshotID + "|" + w.targetProject + "|" + w.targetName
}

// matches reports whether a listed job can be one the request made. A job
// without a deliveryType is taken for a download, as Atlas's older answers
// are.
func (w jobRequest) matches(j *RestoreJob) bool {
	delivery := j.DeliveryType
	if delivery == "" {
		delivery = deliveryDownload
	}
	if j.SnapshotID != w.snapshotID || delivery != w.delivery {
		return false
	}
	return w.delivery != deliveryRestore ||
		(j.TargetDeploymentItemName == w.targetName && j.TargetProjectID == w.targetProject)
}

func newCallID() string {
	var b [8]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// ErrNotListed is an UnconfirmedJobError's RecoveryErr when the
// search ran to the end of the call (an interrupt, the deadline) and found
// no job of the request listed yet.
var ErrNotListed = errors.New("atlas: no job of the request was listed before the call ended")

func (call *lostCall) unconfirmed(c *Client, err, searchErr error) error {
	var amb *AmbiguousJobsError
	errors.As(searchErr, &amb)
	ue := &UnconfirmedJobError{
		Cluster: call.cl, SnapshotID: call.want.snapshotID, Since: c.earliest(call.lost),
		Restore: call.want.delivery == deliveryRestore, TargetName: call.want.targetName, TargetProjectID: call.want.targetProject,
		Err: err, RecoveryErr: searchErr,
	}
	if amb != nil {
		ue.Candidates = amb.JobIDs
	}
	return ue
}

// entry is one line of a snapshot's record: a claimed job, a lost attempt
// of a call, or a call that found its job.
type entry struct {
	Job   string    `json:"job,omitempty"`
	Call  string    `json:"call,omitempty"`
	Sent  time.Time `json:"sent,omitzero"`
	Ended time.Time `json:"ended,omitzero"`
	Found bool      `json:"found,omitempty"`
	At    time.Time `json:"at"`
}

// book is what a record says now.
type book struct {
	claimed map[string]bool
	lost    map[string][]span // by call, for calls that have not found their job
	kept    []entry           // what compaction keeps
}

func (b *book) lostExcept(call string) [][]span {
	var out [][]span
	for id, sps := range b.lost {
		if id != call && len(sps) > 0 {
			out = append(out, sps)
		}
	}
	return out
}

func readBook(entries []entry, now time.Time) *book {
	b := &book{claimed: map[string]bool{}, lost: map[string][]span{}}
	found := map[string]bool{}
	for _, e := range entries {
		switch {
		case e.Job != "" && now.Sub(e.At) < claimRetention:
			b.claimed[e.Job] = true
			b.kept = append(b.kept, e)
		case e.Found:
			found[e.Call] = true
		}
	}
	for _, e := range entries {
		if e.Call != "" && !e.Found && !found[e.Call] && now.Sub(e.At) < lostRetention {
			b.lost[e.Call] = append(b.lost[e.Call], span{sent: e.Sent, ended: e.Ended})
			b.kept = append(b.kept, e)
		}
	}
	return b
}

// snapshotRecord coordinates the requests of one kind for one snapshot
// (and target): this process's
// goroutines through mu, other processes through the lock file, and the
// record of claims and lost attempts in a file beside it (or in memory,
// for a client without a lock directory).
type snapshotRecord struct {
	mu sync.RWMutex

	fmu     sync.Mutex // guards readers and the lock file's mode
	readers int
	lockF   *fileLock // nil without a lock directory
	path    string    // the record file; "" without a lock directory
	mem     []entry   // the record, without a lock directory; guarded by fmu
}

// records holds one snapshotRecord per lock directory and snapshot for the
// whole process, so that every client of the process (provider aliases,
// one per configuration) shares it.
var records = struct {
	sync.Mutex
	m map[string]*snapshotRecord
}{m: map[string]*snapshotRecord{}}

// record is the coordination of requests like want for cl's snapshot at
// this client's Atlas. A download's key is what it was before restores
// shared the record, so that processes of either version agree on it.
func (c *Client) record(cl Cluster, want jobRequest) (*snapshotRecord, error) {
	key := c.base.Host + "|" + cl.Family.prefix + "|" + cl.Family.clusters + "|" + cl.ProjectID + "|" + cl.Name + "|" + want.snapshotID
	if want.delivery != deliveryDownload {
		key += "|" + want.key()
	}
	dir := ""
	if c.lockDir != nil {
		dir = c.lockDir.path
	}
	records.Lock()
	defer records.Unlock()
	if r, ok := records.m[dir+"\x00"+key]; ok {
		return r, nil
	}
	r := &snapshotRecord{}
	if c.lockDir != nil {
		lf, err := c.lockDir.lockFile(key)
		if err != nil {
			return nil, err
		}
		r.lockF, r.path = lf, c.lockDir.file(key, ".jobs")
	}
	records.m[dir+"\x00"+key] = r
	return r, nil
}

// rlock is held by each POST; lock by a search, alone.
func (r *snapshotRecord) rlock(ctx context.Context) error {
	r.mu.RLock()
	r.fmu.Lock()
	defer r.fmu.Unlock()
	if r.readers == 0 && r.lockF != nil {
		if err := r.lockF.lock(ctx, false); err != nil {
			r.mu.RUnlock()
			return err
		}
	}
	r.readers++
	return nil
}

func (r *snapshotRecord) runlock() {
	r.fmu.Lock()
	r.readers--
	if r.readers == 0 && r.lockF != nil {
		r.lockF.unlock()
	}
	r.fmu.Unlock()
	r.mu.RUnlock()
}

func (r *snapshotRecord) lock(ctx context.Context) error {
	r.mu.Lock()
	if r.lockF != nil {
		if err := r.lockF.lock(ctx, true); err != nil {
			r.mu.Unlock()
			return err
		}
	}
	return nil
}

func (r *snapshotRecord) unlock() {
	if r.lockF != nil {
		r.lockF.unlock()
	}
	r.mu.Unlock()
}

// add appends entries; the caller holds a lock. Appends of one short line
// are atomic on local file systems, so readers sharing the lock may add
// at once.
func (r *snapshotRecord) add(es ...entry) error {
	var buf []byte
	for _, e := range es {
		b, err := json.Marshal(e)
		if err != nil {
			return err
		}
		buf = append(append(buf, b...), '\n')
	}
	if r.path == "" {
		r.fmu.Lock()
		r.mem = append(r.mem, es...)
		r.fmu.Unlock()
		return nil
	}
	f, err := openNoFollow(r.path, os.O_WRONLY|os.O_APPEND)
	if err != nil {
		return err
	}
	_, err = f.Write(buf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// read returns what the record says at now, and compacts a long record;
// the caller holds the exclusive lock.
func (r *snapshotRecord) read(now time.Time) (*book, error) {
	if r.path == "" {
		r.fmu.Lock()
		defer r.fmu.Unlock()
		return readBook(r.mem, now), nil
	}
	f, err := openNoFollow(r.path, os.O_RDONLY)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	var entries []entry
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var e entry
		if json.Unmarshal(sc.Bytes(), &e) == nil { // a torn line from a crash is skipped
			entries = append(entries, e)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("atlas: reading %s: %w", r.path, err)
	}
	b := readBook(entries, now)
	if len(entries) > compactAt {
		if err := r.rewrite(b.kept); err != nil {
			return nil, err
		}
	}
	return b, nil
}

func (r *snapshotRecord) rewrite(es []entry) error {
	tmp := r.path + ".new"
	_ = os.Remove(tmp)
	f, err := openNoFollow(tmp, os.O_WRONLY|os.O_TRUNC)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	for _, e := range es {
		b, _ := json.Marshal(e)
		w.Write(append(b, '\n'))
	}
	err = errors.Join(w.Flush(), f.Close())
	if err == nil {
		err = os.Rename(tmp, r.path)
	}
	return err
}

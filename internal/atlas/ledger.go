// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"encoding/json"
	"sync"
)

// downloadLedger keeps one client's download requests apart. Atlas's
// download call carries no request id, so after an answer is lost the only
// way to find the job it made is to look for a new job of the same
// snapshot. Two things make that safe when many downloads of one snapshot
// run at once: every job id this client has been given is claimed, and the
// search runs alone (a write lock) while the requests themselves share a
// read lock, so no job can be made by this client and be unclaimed while
// the search looks.
//
// The search looks only where the call's own lost attempts can have
// landed, so two calls whose answers were both lost must not swap jobs
// carelessly: if the first to look took the second's job, its own might lie
// outside the second's window and be orphaned while the second asks again.
// So the ledger also keeps the lost attempts of every call still looking,
// and a search prefers a job that no other such call could own.
type downloadLedger struct {
	mu      sync.Mutex
	locks   map[string]*snapshotLock
	claimed map[string]bool
}

// snapshotLock is the lock for downloads of one snapshot of one cluster,
// with the calls on it that have lost attempts not yet accounted for.
type snapshotLock struct {
	sync.RWMutex
	pending map[*downloadCall]bool // guarded by downloadLedger.mu
}

// downloadCall is one RequestDownload call's lost attempts: those whose
// failure leaves open whether Atlas made a job.
type downloadCall struct {
	lost []span // guarded by downloadLedger.mu
}

// lock is the lock for downloads of one snapshot of one cluster.
func (l *downloadLedger) lock(cl Cluster, snapshotID string) *snapshotLock {
	key := cl.Family.prefix + "|" + cl.Family.clusters + "|" + cl.ProjectID + "|" + cl.Name + "|" + snapshotID
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.locks == nil {
		l.locks = map[string]*snapshotLock{}
	}
	lk, ok := l.locks[key]
	if !ok {
		lk = &snapshotLock{pending: map[*downloadCall]bool{}}
		l.locks[key] = lk
	}
	return lk
}

// addLost records a lost attempt of call. The caller holds lk's read lock,
// so that no search can run between the loss and its record.
func (l *downloadLedger) addLost(lk *snapshotLock, call *downloadCall, sp span) {
	l.mu.Lock()
	defer l.mu.Unlock()
	call.lost = append(call.lost, sp)
	lk.pending[call] = true
}

// settle forgets call's lost attempts: its search found its job, or the
// call is over.
func (l *downloadLedger) settle(lk *snapshotLock, call *downloadCall) {
	l.mu.Lock()
	defer l.mu.Unlock()
	call.lost = nil
	delete(lk.pending, call)
}

// lostOf returns call's lost attempts and those of the other pending calls.
func (l *downloadLedger) lostOf(lk *snapshotLock, call *downloadCall) (own []span, others [][]span) {
	l.mu.Lock()
	defer l.mu.Unlock()
	own = append(own, call.lost...)
	for c := range lk.pending {
		if c != call && len(c.lost) > 0 {
			others = append(others, append([]span(nil), c.lost...))
		}
	}
	return own, others
}

// claim records that a job belongs to a request of this client.
func (l *downloadLedger) claim(id string) {
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.claimed == nil {
		l.claimed = map[string]bool{}
	}
	if id != "" {
		l.claimed[id] = true
	}
}

func (l *downloadLedger) isClaimed(id string) bool {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.claimed[id]
}

// claimAnswer claims the job in a download answer's body, if it has one.
func (l *downloadLedger) claimAnswer(resp *response) {
	if resp == nil {
		return
	}
	var v struct {
		ID string `json:"id"`
	}
	if json.Unmarshal(resp.body, &v) == nil {
		l.claim(v.ID)
	}
}

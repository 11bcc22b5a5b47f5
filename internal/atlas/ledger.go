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
type downloadLedger struct {
	mu      sync.Mutex
	locks   map[string]*sync.RWMutex
	claimed map[string]bool
}

// lock is the lock for downloads of one snapshot of one cluster.
func (l *downloadLedger) lock(cl Cluster, snapshotID string) *sync.RWMutex {
	key := cl.Family.prefix + "|" + cl.Family.clusters + "|" + cl.ProjectID + "|" + cl.Name + "|" + snapshotID
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.locks == nil {
		l.locks = map[string]*sync.RWMutex{}
	}
	lk, ok := l.locks[key]
	if !ok {
		lk = &sync.RWMutex{}
		l.locks[key] = lk
	}
	return lk
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

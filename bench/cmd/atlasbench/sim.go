// SPDX-License-Identifier: MPL-2.0

package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"strings"
	"time"
)

// Keys and the service account the simulator is started with; the
// provider reads the same ones from the environment.
const (
	simPublicKey    = "benchpubkey"
	simPrivateKey   = "bench-private-key-0000"
	simClientID     = "mdb_sa_id_bench000000000000000000"
	simClientSecret = "mdb_sa_sk_bench-0000-0000-0000-000000000000"
)

// simStats is the part of GET /__sim/stats the benchmark reads.
type simStats struct {
	TotalRequests    int64                       `json:"totalRequests"`
	DigestChallenges int64                       `json:"digestChallenges"`
	TokenRequests    int64                       `json:"tokenRequests"` // POST /api/oauth/token, in TotalRequests too
	Routes           map[string]map[string]int64 `json:"routes"`
	Downloads        simDownloads                `json:"downloads"`
}

// simDownloads is what download links sent: body bytes, requests with a
// Range header, and answers cut by -archive-drop-after.
type simDownloads struct {
	Bytes          int64 `json:"bytes"`
	RangedRequests int64 `json:"rangedRequests"`
	Cut            int64 `json:"cut"`
}

// minus is s - earlier, route by route.
func (s simStats) minus(earlier simStats) simStats {
	out := simStats{
		TotalRequests:    s.TotalRequests - earlier.TotalRequests,
		DigestChallenges: s.DigestChallenges - earlier.DigestChallenges,
		TokenRequests:    s.TokenRequests - earlier.TokenRequests,
		Routes:           map[string]map[string]int64{},
		Downloads: simDownloads{
			Bytes:          s.Downloads.Bytes - earlier.Downloads.Bytes,
			RangedRequests: s.Downloads.RangedRequests - earlier.Downloads.RangedRequests,
			Cut:            s.Downloads.Cut - earlier.Downloads.Cut,
		},
	}
	for route, byStatus := range s.Routes {
		for code, n := range byStatus {
			d := n - earlier.Routes[route][code]
			if d == 0 || strings.Contains(route, "/__sim/") {
				continue
			}
			if out.Routes[route] == nil {
				out.Routes[route] = map[string]int64{}
			}
			out.Routes[route][code] = d
		}
	}
	return out
}

// apiCalls is the requests that were neither token requests nor answered
// with a digest challenge.
func (s simStats) apiCalls() int64 { return s.TotalRequests - s.TokenRequests - s.DigestChallenges }

// perAPICall is the requests other than token requests per API call: 1.00
// when no API call needed a second request (a digest challenge).
func (s simStats) perAPICall() float64 { return ratio(s.TotalRequests-s.TokenRequests, s.apiCalls()) }

// sim is a running atlas-sim, optionally behind a latency proxy.
type sim struct {
	cmd     *exec.Cmd
	simURL  string // the simulator itself (stats are read here)
	baseURL string // what the provider talks to
	proxy   *http.Server
	stderr  *os.File
	done    chan struct{} // closed when the process has exited
}

// startSim starts the simulator on a free loopback port. latency > 0 adds
// that much to every request, with the simulator's own -latency flag when
// it has one (useFlag) and otherwise with a proxy in this process. extra
// are more simulator flags (-archive-size, ...).
func startSim(ctx context.Context, bin, logPath string, latency time.Duration, useFlag bool, extra ...string) (*sim, error) {
	args := []string{"-addr", "127.0.0.1:0", "-public-key", simPublicKey, "-private-key", simPrivateKey,
		"-client-id", simClientID, "-client-secret", simClientSecret, "-quiet"}
	args = append(args, extra...)
	if latency > 0 && useFlag {
		args = append(args, "-latency", latency.String())
	}
	errFile, err := os.Create(logPath)
	if err != nil {
		return nil, err
	}
	cmd := exec.CommandContext(ctx, bin, args...)
	cmd.Stderr = errFile
	out, err := cmd.StdoutPipe()
	if err != nil {
		_ = errFile.Close()
		return nil, err
	}
	if err := cmd.Start(); err != nil {
		_ = errFile.Close()
		return nil, err
	}
	s := &sim{cmd: cmd, stderr: errFile, done: make(chan struct{})}
	lines := make(chan string, 1)
	go func() {
		sc := bufio.NewScanner(out)
		first := true
		for sc.Scan() {
			if first {
				lines <- sc.Text()
				first = false
			}
		}
		if first {
			close(lines)
		}
		_, _ = io.Copy(io.Discard, out)
	}()
	go func() {
		_ = cmd.Wait() // an interrupted simulator exits non-zero; that is how it is stopped
		close(s.done)
	}()
	select {
	case line, ok := <-lines:
		base, found := strings.CutPrefix(line, "ATLAS_SIM_BASE_URL=")
		if !ok || !found {
			s.stop()
			return nil, fmt.Errorf("atlas-sim did not print ATLAS_SIM_BASE_URL first (see %s)", logPath)
		}
		s.simURL, s.baseURL = base, base
	case <-time.After(10 * time.Second):
		s.stop()
		return nil, errors.New("atlas-sim did not start within 10s")
	}
	if latency > 0 && !useFlag {
		if err := s.startProxy(latency); err != nil {
			s.stop()
			return nil, err
		}
	}
	return s, nil
}

// startProxy puts a reverse proxy that waits latency before forwarding each
// request in front of the simulator.
func (s *sim) startProxy(latency time.Duration) error {
	target, err := url.Parse(s.simURL)
	if err != nil {
		return err
	}
	rp := httputil.NewSingleHostReverseProxy(target)
	rp.Transport = &http.Transport{MaxIdleConns: 256, MaxIdleConnsPerHost: 256, IdleConnTimeout: time.Minute}
	rp.ErrorLog = nil
	var lc net.ListenConfig
	ln, err := lc.Listen(context.Background(), "tcp", "127.0.0.1:0")
	if err != nil {
		return err
	}
	s.proxy = &http.Server{
		ReadHeaderTimeout: 10 * time.Second,
		Handler: http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			t := time.NewTimer(latency)
			select {
			case <-t.C:
			case <-r.Context().Done():
				t.Stop()
				return
			}
			rp.ServeHTTP(w, r)
		}),
	}
	go func() { _ = s.proxy.Serve(ln) }()
	s.baseURL = "http://" + ln.Addr().String()
	return nil
}

func (s *sim) stats(ctx context.Context) (simStats, error) {
	var st simStats
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, s.simURL+"/__sim/stats", nil)
	if err != nil {
		return st, err
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("GET /__sim/stats: %s", resp.Status)
	}
	return st, json.NewDecoder(resp.Body).Decode(&st)
}

func (s *sim) stop() {
	if s.proxy != nil {
		_ = s.proxy.Close()
	}
	if s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(os.Interrupt)
		select {
		case <-s.done:
		case <-time.After(5 * time.Second):
			_ = s.cmd.Process.Kill()
			<-s.done
		}
	}
	_ = s.stderr.Close()
}

// simHasLatencyFlag reports whether atlas-sim -h lists a -latency flag.
func simHasLatencyFlag(ctx context.Context, bin string) bool {
	out, _ := exec.CommandContext(ctx, bin, "-h").CombinedOutput()
	return strings.Contains(string(out), "-latency")
}

// SPDX-License-Identifier: MPL-2.0

package main

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/atlas-community/terraform-provider-atlas/internal/atlassim"
)

// lineWriter collects output and hands over each complete line.
type lineWriter struct {
	mu    sync.Mutex
	buf   bytes.Buffer
	lines chan string
}

func newLineWriter() *lineWriter { return &lineWriter{lines: make(chan string, 64)} }

// program is the program started by run on a free loopback port, its
// banner read.
type program struct {
	baseURL string
	banner  string // the second line of its standard output
	cancel  context.CancelFunc
	done    chan error
	stopped bool
}

// startProgram runs the program with -addr 127.0.0.1:0 -quiet and args,
// its standard error discarded, and reads its first two lines. It is
// stopped when the test ends, if stop did not stop it.
func startProgram(t *testing.T, args ...string) *program {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stdout := newLineWriter()
	p := &program{cancel: cancel, done: make(chan error, 1)}
	go func() {
		p.done <- run(ctx, append([]string{"-addr", "127.0.0.1:0", "-quiet"}, args...), stdout, io.Discard)
	}()
	t.Cleanup(func() {
		if !p.stopped {
			cancel()
			if err := <-p.done; err != nil {
				t.Errorf("run: %v", err)
			}
		}
	})
	p.baseURL = strings.TrimPrefix(stdout.next(t), "ATLAS_SIM_BASE_URL=")
	p.banner = stdout.next(t)
	return p
}

// stop ends the program and fails the test unless it ends cleanly.
func (p *program) stop(t *testing.T) {
	t.Helper()
	p.cancel()
	p.stopped = true
	if err := <-p.done; err != nil {
		t.Fatalf("run: %v", err)
	}
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	for {
		line, err := w.buf.ReadString('\n')
		if err != nil {
			// Put back the incomplete tail.
			rest := []byte(line)
			w.buf.Reset()
			w.buf.Write(rest)
			return len(p), nil
		}
		select {
		case w.lines <- strings.TrimSuffix(line, "\n"):
		default:
		}
	}
}

func (w *lineWriter) next(t *testing.T) string {
	t.Helper()
	select {
	case l := <-w.lines:
		return l
	case <-time.After(10 * time.Second): // a deadline, not a wait: the line normally comes at once
		t.Fatal("no output line from run")
		return ""
	}
}

func TestRunServesOnLoopback(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	stdout := newLineWriter()
	var stderr bytes.Buffer
	var stderrMu sync.Mutex
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-quiet", "-queued-for", "1m"}, stdout, &lockedWriter{w: &stderr, mu: &stderrMu})
	}()

	first := stdout.next(t)
	base, ok := strings.CutPrefix(first, "ATLAS_SIM_BASE_URL=http://127.0.0.1:")
	if !ok || base == "" || base == "0" {
		t.Fatalf("first line %q, want ATLAS_SIM_BASE_URL=http://127.0.0.1:<port>", first)
	}
	baseURL := strings.TrimPrefix(first, "ATLAS_SIM_BASE_URL=")
	human := stdout.next(t)
	for _, want := range []string{"loopback", atlassim.DefaultPublicKey, atlassim.DefaultPrivateKey, "private key", atlassim.DefaultProjectID, atlassim.DefaultSecondProjectID} {
		if !strings.Contains(human, want) {
			t.Errorf("second line %q lacks %q", human, want)
		}
	}

	resp, err := http.Get(baseURL + "/api/atlas/v1.0/groups/" + atlassim.DefaultProjectID + "/clusters/Cluster0/backup/tenant/snapshots")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || !strings.HasPrefix(resp.Header.Get("WWW-Authenticate"), "Digest ") {
		t.Errorf("unauthenticated request: %d %q", resp.StatusCode, resp.Header.Get("WWW-Authenticate"))
	}
	resp, err = http.Get(baseURL + "/__sim/stats")
	if err != nil {
		t.Fatal(err)
	}
	var st atlassim.Stats
	err = json.NewDecoder(resp.Body).Decode(&st)
	resp.Body.Close()
	if err != nil || st.TotalRequests != 1 || st.DigestChallenges != 1 {
		t.Errorf("stats %+v, %v", st, err)
	}

	cancel()
	if err := <-done; err != nil {
		t.Fatalf("run: %v", err)
	}
	select {
	case l := <-stdout.lines:
		t.Errorf("unexpected extra stdout line %q", l)
	default:
	}
}

type lockedWriter struct {
	w  io.Writer
	mu *sync.Mutex
}

func (l *lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

func TestRunRejects(t *testing.T) {
	dir := t.TempDir()
	badSeed := filepath.Join(dir, "seed.json")
	if err := os.WriteFile(badSeed, []byte(`{"projects":[{"id":"ABC"}]}`), 0o600); err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name string
		args []string
		want string // error text; "" for a usage error
	}{
		{"all interfaces", []string{"-addr", "0.0.0.0:0"}, `atlas-sim: refusing to listen on non-loopback address "0.0.0.0:0"`},
		{"empty host", []string{"-addr", ":0"}, "refusing to listen on non-loopback"},
		{"a host name", []string{"-addr", "example.test:0"}, "refusing to listen on non-loopback"},
		{"no port", []string{"-addr", "127.0.0.1"}, `atlas-sim: -addr "127.0.0.1"`},
		{"bad seed", []string{"-addr", "127.0.0.1:0", "-seed", badSeed},
			"atlas-sim: seed " + badSeed + `: projects[0].id: "ABC" is not 24 lowercase hex digits`},
		{"missing seed", []string{"-addr", "127.0.0.1:0", "-seed", filepath.Join(dir, "none.json")},
			"atlas-sim: seed " + filepath.Join(dir, "none.json") + ": no such file or directory"},
		{"negative duration", []string{"-queued-for", "-1s"}, "must not be negative"},
		{"negative restore duration", []string{"-addr", "127.0.0.1:0", "-restore-duration", "-1s"}, "-restore-duration must not be negative"},
		{"bad fault", []string{"-addr", "127.0.0.1:0", "-drop-rate", "2"}, "DropRate 2"},
		{"archive size unit", []string{"-archive-size", "1PB"}, ""},
		{"archive size negative", []string{"-archive-size", "-5"}, ""},
		{"archive drop not a size", []string{"-archive-drop-after", "lots"}, ""},
		{"download rate not a size", []string{"-download-rate", "fast"}, ""},
		{"archive too small", []string{"-addr", "127.0.0.1:0", "-archive-size", "100"}, "ArchiveSize 100 is below the smallest generated archive"},
		{"unknown flag", []string{"-nope"}, ""},
		{"stray argument", []string{"serve"}, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			err := run(context.Background(), tc.args, &stdout, &stderr)
			switch {
			case err == nil:
				t.Fatal("run succeeded")
			case tc.want == "" && !errors.Is(err, errUsage):
				t.Errorf("error %v, want a usage error", err)
			case tc.want != "" && !strings.Contains(err.Error(), tc.want):
				t.Errorf("error %q\ndoes not contain %q", err, tc.want)
			}
			if stdout.Len() != 0 {
				t.Errorf("stdout %q, want nothing", stdout.String())
			}
		})
	}
}

func TestIsLoopbackAddr(t *testing.T) {
	for addr, want := range map[string]bool{
		"127.0.0.1:8080": true, "127.1.2.3:0": true, "[::1]:0": true, "localhost:0": true,
		"0.0.0.0:0": false, ":8080": false, "[::]:0": false, "10.0.0.1:80": false, "example.test:80": false,
	} {
		got, err := isLoopbackAddr(addr)
		if err != nil || got != want {
			t.Errorf("isLoopbackAddr(%q) = %v, %v; want %v", addr, got, err, want)
		}
	}
}

func TestLimitBody(t *testing.T) {
	var readErr error
	h := limitBody(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, readErr = io.ReadAll(r.Body)
	}))
	req, _ := http.NewRequest(http.MethodPost, "http://127.0.0.1/x", strings.NewReader(strings.Repeat("a", maxRequestBody+1)))
	h.ServeHTTP(httptest.NewRecorder(), req)
	var tooBig *http.MaxBytesError
	if !errors.As(readErr, &tooBig) {
		t.Errorf("reading an oversized body: %v, want *http.MaxBytesError", readErr)
	}
}

func TestFaultFlags(t *testing.T) {
	cases := []struct {
		name string
		args []string
		want atlassim.Faults
		err  string
	}{
		{name: "none", args: nil, want: atlassim.Faults{RateLimitPeriod: time.Minute, ErrorStatus: 503}},
		{name: "all", args: []string{
			"-rate-limit", "100", "-rate-limit-refill", "10", "-rate-limit-period", "10s",
			"-error-rate", "0.1", "-error-status", "500", "-error-retry-after", "3s", "-latency", "20ms",
			"-drop-rate", "0.05", "-nonce-lifetime", "60s", "-strict-nonce-count", "-fail-job-rate", "0.2",
			"-fail-snapshots", "6568a1b2c3d4e5f6000000a1, 6568a1b2c3d4e5f6000000f1", "-rand-seed", "42",
			"-download-limit", "3", "-one-download-per-snapshot", "-download-faults",
		}, want: atlassim.Faults{
			RateLimitCapacity: 100, RateLimitRefill: 10, RateLimitPeriod: 10 * time.Second,
			ErrorRate: 0.1, ErrorStatus: 500, ErrorRetryAfter: 3 * time.Second, Latency: 20 * time.Millisecond,
			DropRate: 0.05, NonceLifetime: time.Minute, StrictNonceCount: true, FailJobRate: 0.2,
			FailSnapshotIDs: []string{"6568a1b2c3d4e5f6000000a1", "6568a1b2c3d4e5f6000000f1"}, RandSeed: 42,
			DownloadLimit: 3, OneDownloadPerSnapshot: true, DownloadFaults: true,
		}},
		{name: "share above 1", args: []string{"-error-rate", "1.5"}, err: "ErrorRate 1.5"},
		{name: "not a 5xx", args: []string{"-error-status", "404"}, err: "ErrorStatus 404"},
		{name: "bad snapshot id", args: []string{"-fail-snapshots", "abc"}, err: `"abc" is not 24 lowercase hex digits`},
		{name: "zero period", args: []string{"-rate-limit-period", "0s"}, err: "-rate-limit-period must be positive"},
		{name: "negative download limit", args: []string{"-download-limit", "-1"}, err: "DownloadLimit -1 must not be negative"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			fs := flag.NewFlagSet("test", flag.ContinueOnError)
			read := faultFlags(fs)
			if err := fs.Parse(tc.args); err != nil {
				t.Fatal(err)
			}
			got, err := read()
			switch {
			case tc.err != "":
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Errorf("error %v, want %q", err, tc.err)
				}
			case err != nil:
				t.Fatal(err)
			case !reflect.DeepEqual(got, tc.want):
				t.Errorf("faults %+v\nwant %+v", got, tc.want)
			}
		})
	}
}

// TestRunInjectsFaults starts the program with a fault flag and sees it act.
func TestRunInjectsFaults(t *testing.T) {
	prog := startProgram(t, "-rate-limit", "1")
	// Without credentials the answer is a challenge that shows the bucket.
	resp, err := http.Get(prog.baseURL + "/api/atlas/v1.0/groups/" + atlassim.DefaultProjectID + "/clusters/Cluster0/backup/tenant/snapshots")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized || resp.Header.Get("RateLimit-Limit") != "1" || resp.Header.Get("Date") == "" {
		t.Errorf("status %d, RateLimit-Limit %q, Date %q", resp.StatusCode, resp.Header.Get("RateLimit-Limit"), resp.Header.Get("Date"))
	}
	prog.stop(t)
}

func TestSizeFlag(t *testing.T) {
	cases := []struct {
		args []string
		want int64
		err  string
	}{
		{nil, 0, ""},
		{[]string{"-n", "256MiB"}, 256 << 20, ""},
		{[]string{"-n", "1GiB"}, 1 << 30, ""},
		{[]string{"-n", "4096"}, 4096, ""},
		{[]string{"-n", "1PB"}, 0, "unknown unit"},
		{[]string{"-n", "-1"}, 0, "want a whole number"},
	}
	for _, tc := range cases {
		fs := flag.NewFlagSet("test", flag.ContinueOnError)
		fs.SetOutput(io.Discard)
		v := sizeFlag(fs, "n", "a size")
		err := fs.Parse(tc.args)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("%v: error %v, want %q", tc.args, err, tc.err)
			}
		case err != nil || *v != tc.want:
			t.Errorf("%v: %d, %v; want %d", tc.args, *v, err, tc.want)
		}
	}
}

// TestRunArchiveFlags starts the program with -archive-size and
// -archive-drop-after and downloads the archive in pieces.
func TestRunArchiveFlags(t *testing.T) {
	cases := []struct {
		name      string
		args      []string
		size      int64 // 0: the small built archive
		dropAfter int
	}{
		{"generated, cut", []string{"-archive-size", "1MiB", "-archive-drop-after", "300000"}, 1 << 20, 300000},
		{"generated in plain bytes", []string{"-archive-size", "70000"}, 70000, 0},
		{"built, cut", []string{"-archive-drop-after", "100B"}, 0, 100},
		{"defaults", nil, 0, 0},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			prog := startProgram(t, tc.args...)
			link := downloadLink(t, prog.baseURL)
			var got []byte
			requests := 0
			for ; requests < 100; requests++ {
				req, _ := http.NewRequest(http.MethodGet, link, nil)
				if len(got) > 0 {
					req.Header.Set("Range", "bytes="+strconv.Itoa(len(got))+"-")
				}
				resp, err := http.DefaultClient.Do(req)
				if err != nil {
					t.Fatal(err)
				}
				body, err := io.ReadAll(resp.Body)
				resp.Body.Close()
				if resp.Header.Get("Accept-Ranges") != "bytes" || resp.Header.Get("ETag") == "" {
					t.Errorf("Accept-Ranges %q, ETag %q", resp.Header.Get("Accept-Ranges"), resp.Header.Get("ETag"))
				}
				got = append(got, body...)
				if err == nil {
					break
				}
				if !errors.Is(err, io.ErrUnexpectedEOF) || tc.dropAfter == 0 || len(body) != tc.dropAfter {
					t.Fatalf("request %d: %d bytes, %v", requests, len(body), err)
				}
			}
			if tc.size > 0 && int64(len(got)) != tc.size {
				t.Errorf("archive of %d bytes, want %d", len(got), tc.size)
			}
			if tc.size > 0 {
				a, err := atlassim.NewArchive(atlassim.DefaultSnapshotID, tc.size)
				if err != nil {
					t.Fatal(err)
				}
				want := make([]byte, a.Size())
				if _, err := a.ReadAt(want, 0); err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, want) {
					t.Error("downloaded bytes are not the generated archive")
				}
			}
			zr, err := gzip.NewReader(bytes.NewReader(got))
			if err == nil {
				_, err = io.Copy(io.Discard, zr)
			}
			if err != nil {
				t.Errorf("the downloaded archive is not a whole gzip stream: %v", err)
			}
			wantRequests := 1
			if tc.dropAfter > 0 {
				wantRequests = (len(got) + tc.dropAfter - 1) / tc.dropAfter
			}
			if requests+1 != wantRequests {
				t.Errorf("%d requests, want %d", requests+1, wantRequests)
			}
			prog.stop(t)
		})
	}
}

// downloadLink requests a download of the default snapshot with the
// default service account and returns its link.
func downloadLink(t *testing.T, baseURL string) string {
	t.Helper()
	req, _ := http.NewRequest(http.MethodPost, baseURL+"/api/oauth/token", strings.NewReader("grant_type=client_credentials"))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.SetBasicAuth(atlassim.DefaultClientID, atlassim.DefaultClientSecret)
	var tok struct {
		AccessToken string `json:"access_token"`
	}
	postJSON(t, req, &tok)
	req, _ = http.NewRequest(http.MethodPost, baseURL+"/api/atlas/v1.0/groups/"+atlassim.DefaultProjectID+"/clusters/Cluster0/backup/tenant/download",
		strings.NewReader(`{"snapshotId":"`+atlassim.DefaultSnapshotID+`"}`))
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+tok.AccessToken)
	var job struct {
		SnapshotURL string `json:"snapshotUrl"`
	}
	postJSON(t, req, &job)
	if job.SnapshotURL == "" {
		t.Fatal("the download job has no snapshotUrl")
	}
	return job.SnapshotURL
}

func postJSON(t *testing.T, req *http.Request, into any) {
	t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: status %d", req.Method, req.URL.Path, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(into); err != nil {
		t.Fatal(err)
	}
}

// TestRunDownloadRateFlag: -download-rate reaches the simulator, whose
// answer cannot arrive sooner than the rate allows (a lower bound only:
// a slow machine never fails it).
func TestRunDownloadRateFlag(t *testing.T) {
	prog := startProgram(t, "-archive-size", "1MiB", "-download-rate", "4MiB")
	link := downloadLink(t, prog.baseURL)
	start := time.Now()
	resp, err := http.Get(link) //nolint:noctx // a test on loopback
	if err != nil {
		t.Fatal(err)
	}
	body, err := io.ReadAll(resp.Body)
	resp.Body.Close()
	elapsed := time.Since(start)
	if err != nil || len(body) != 1<<20 {
		t.Fatalf("%d bytes, %v", len(body), err)
	}
	// 1MiB at 4MiB/s: the last 64KiB chunk is due after 15/64 s.
	if least := 15 * time.Second / 64; elapsed < least {
		t.Fatalf("the paced answer came in %v, sooner than %v", elapsed, least)
	}
	prog.stop(t)
}

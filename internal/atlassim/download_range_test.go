// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"net/http"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"
)

// newDownload creates a download job for snapshotID through the tenant
// v1.0 API and returns its link.
func newDownload(t *testing.T, env *simEnv, snapshotID string) (link string, job map[string]any) {
	t.Helper()
	job = env.client().getJSON(http.MethodPost, tenantBase+"/download", downloadBody(snapshotID), http.StatusOK)
	link, _ = job["snapshotUrl"].(string)
	if link == "" {
		t.Fatalf("job %v has no snapshotUrl", job)
	}
	return link, job
}

// getRange GETs link with hdr (name/value pairs) and reads what arrives,
// reporting a cut-short body as cut.
func getRange(t *testing.T, env *simEnv, method, link string, hdr ...string) (resp *http.Response, body []byte, cut bool) {
	t.Helper()
	req, err := http.NewRequest(method, link, nil)
	if err != nil {
		t.Fatal(err)
	}
	for i := 0; i+1 < len(hdr); i += 2 {
		req.Header.Set(hdr[i], hdr[i+1])
	}
	resp, err = env.srv.Client().Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, link, err)
	}
	defer resp.Body.Close()
	body, err = io.ReadAll(resp.Body)
	switch {
	case errors.Is(err, io.ErrUnexpectedEOF):
		cut = true
	case err != nil:
		t.Fatalf("reading %s: %v", link, err)
	}
	return resp, body, cut
}

// archiveOf is the whole archive behind link, read once without Range.
func archiveOf(t *testing.T, env *simEnv, link string) []byte {
	t.Helper()
	resp, body, cut := getRange(t, env, http.MethodGet, link)
	if resp.StatusCode != http.StatusOK || cut {
		t.Fatalf("whole archive: status %d, cut %v", resp.StatusCode, cut)
	}
	return body
}

func TestDownloadRange(t *testing.T) {
	for _, archiveSize := range []int64{0, 1 << 20} {
		t.Run(fmt.Sprintf("ArchiveSize=%d", archiveSize), func(t *testing.T) {
			env := newSimEnv(t, Config{ArchiveSize: archiveSize})
			link, _ := newDownload(t, env, DefaultSnapshotID)
			whole := archiveOf(t, env, link)
			size := int64(len(whole))
			if archiveSize > 0 && size != archiveSize {
				t.Fatalf("archive is %d bytes, want ArchiveSize %d", size, archiveSize)
			}
			first, _, _ := getRange(t, env, http.MethodHead, link)
			etag, lastMod := first.Header.Get("ETag"), first.Header.Get("Last-Modified")
			s := strconv.FormatInt(size, 10)
			cases := []struct {
				name         string
				hdr          []string
				status       int
				start, end   int64 // of the body, end exclusive
				contentRange string
			}{
				{"no range", nil, 200, 0, size, ""},
				{"first bytes", []string{"Range", "bytes=0-99"}, 206, 0, 100, "bytes 0-99/" + s},
				{"middle", []string{"Range", "bytes=100-199"}, 206, 100, 200, "bytes 100-199/" + s},
				{"one byte", []string{"Range", "bytes=7-7"}, 206, 7, 8, "bytes 7-7/" + s},
				{"open end", []string{"Range", "bytes=" + strconv.FormatInt(size-10, 10) + "-"}, 206, size - 10, size, fmt.Sprintf("bytes %d-%d/%d", size-10, size-1, size)},
				{"end past the size", []string{"Range", "bytes=5-" + strconv.FormatInt(size+1000, 10)}, 206, 5, size, fmt.Sprintf("bytes 5-%d/%d", size-1, size)},
				{"suffix", []string{"Range", "bytes=-8"}, 206, size - 8, size, fmt.Sprintf("bytes %d-%d/%d", size-8, size-1, size)},
				{"suffix longer than the archive", []string{"Range", "bytes=-" + strconv.FormatInt(size+5, 10)}, 206, 0, size, fmt.Sprintf("bytes 0-%d/%d", size-1, size)},
				{"start at the size", []string{"Range", "bytes=" + s + "-"}, 416, 0, 0, "bytes */" + s},
				{"start past the size", []string{"Range", "bytes=" + s + "0-" + s + "9"}, 416, 0, 0, "bytes */" + s},
				{"empty suffix", []string{"Range", "bytes=-0"}, 416, 0, 0, "bytes */" + s},
				{"several ranges: ignored", []string{"Range", "bytes=0-1,5-6"}, 200, 0, size, ""},
				{"reversed: ignored", []string{"Range", "bytes=9-3"}, 200, 0, size, ""},
				{"other unit: ignored", []string{"Range", "items=0-3"}, 200, 0, size, ""},
				{"not a number: ignored", []string{"Range", "bytes=+1-3"}, 200, 0, size, ""},
				{"If-Range with the ETag", []string{"Range", "bytes=10-19", "If-Range", etag}, 206, 10, 20, "bytes 10-19/" + s},
				{"If-Range with the date", []string{"Range", "bytes=10-19", "If-Range", lastMod}, 206, 10, 20, "bytes 10-19/" + s},
				{"If-Range with another ETag", []string{"Range", "bytes=10-19", "If-Range", `"other"`}, 200, 0, size, ""},
				{"If-Range with a weak ETag", []string{"Range", "bytes=10-19", "If-Range", "W/" + etag}, 200, 0, size, ""},
				{"If-Range with another date", []string{"Range", "bytes=10-19", "If-Range", "Mon, 02 Jan 2006 15:04:05 GMT"}, 200, 0, size, ""},
			}
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					resp, body, cut := getRange(t, env, http.MethodGet, link, tc.hdr...)
					if resp.StatusCode != tc.status || cut {
						t.Fatalf("status %d (cut %v), want %d; body %.200q", resp.StatusCode, cut, tc.status, body)
					}
					if got := resp.Header.Get("Content-Range"); got != tc.contentRange {
						t.Errorf("Content-Range %q, want %q", got, tc.contentRange)
					}
					if got := resp.Header.Get("Accept-Ranges"); got != "bytes" {
						t.Errorf("Accept-Ranges %q", got)
					}
					if got := resp.Header.Get("Content-Length"); got != strconv.Itoa(len(body)) {
						t.Errorf("Content-Length %q, body %d bytes", got, len(body))
					}
					if tc.status == http.StatusRequestedRangeNotSatisfiable {
						apiErrorBody(t, resp, body, tc.status, codeRangeNotSatisfiable)
						return
					}
					if resp.Header.Get("ETag") != etag || resp.Header.Get("Last-Modified") != lastMod {
						t.Errorf("ETag %q, Last-Modified %q; want %q, %q", resp.Header.Get("ETag"), resp.Header.Get("Last-Modified"), etag, lastMod)
					}
					if !bytes.Equal(body, whole[tc.start:tc.end]) {
						t.Errorf("body is not bytes [%d, %d) of the archive", tc.start, tc.end)
					}
				})
			}
			st := env.idleStats().Downloads
			if st.RangedRequests != int64(len(cases)-1) {
				t.Errorf("rangedRequests %d, want %d", st.RangedRequests, len(cases)-1)
			}
		})
	}
}

func TestDownloadValidators(t *testing.T) {
	const size = 1 << 20
	cases := []struct {
		name        string
		archiveSize int64
		sameAcross  bool // the same snapshot's ETag on another job
	}{
		{"built archive", 0, false}, // the job id is inside it
		{"generated archive", size, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newSimEnv(t, Config{ArchiveSize: tc.archiveSize, QueuedFor: time.Minute})
			c := env.client()
			job := c.getJSON(http.MethodPost, tenantBase+"/download", downloadBody(DefaultSnapshotID), http.StatusOK)
			env.clock.Advance(time.Minute) // COMPLETED now, at testStart + 1m
			job = c.getJSON(http.MethodGet, tenantBase+"/restores/"+job["id"].(string), "", http.StatusOK)
			link, _ := job["snapshotUrl"].(string)
			r1, b1, _ := getRange(t, env, http.MethodGet, link)
			env.clock.Advance(time.Hour)
			r2, b2, _ := getRange(t, env, http.MethodGet, link)
			etag := r1.Header.Get("ETag")
			if !strings.HasPrefix(etag, `"`) || !strings.HasSuffix(etag, `"`) || len(etag) < 10 {
				t.Errorf("ETag %q is not a strong entity tag", etag)
			}
			if r2.Header.Get("ETag") != etag || !bytes.Equal(b1, b2) {
				t.Errorf("ETag %q then %q (same bytes: %v)", etag, r2.Header.Get("ETag"), bytes.Equal(b1, b2))
			}
			if lm, want := r1.Header.Get("Last-Modified"), testStart.Add(time.Minute).Format(http.TimeFormat); lm != want || r2.Header.Get("Last-Modified") != want {
				t.Errorf("Last-Modified %q, %q; want the job's finish time %q", lm, r2.Header.Get("Last-Modified"), want)
			}
			head, hb, _ := getRange(t, env, http.MethodHead, link)
			if head.StatusCode != 200 || len(hb) != 0 || head.Header.Get("ETag") != etag || head.ContentLength != int64(len(b1)) {
				t.Errorf("HEAD: %d, %d body bytes, ETag %q, length %d", head.StatusCode, len(hb), head.Header.Get("ETag"), head.ContentLength)
			}
			other := completedLink(t, env, DefaultSnapshotID)
			if got := archiveHeader(t, env, other, "ETag"); (got == etag) != tc.sameAcross {
				t.Errorf("another job's ETag %q vs %q: want same %v", got, etag, tc.sameAcross)
			}
			older := completedLink(t, env, DefaultOlderSnapshotID)
			if got := archiveHeader(t, env, older, "ETag"); got == etag {
				t.Errorf("another snapshot's archive has the same ETag %q", got)
			}
		})
	}
}

// completedLink requests a download of snapshotID, lets it complete on the
// fake clock and returns its link.
func completedLink(t *testing.T, env *simEnv, snapshotID string) string {
	t.Helper()
	c := env.client()
	job := c.getJSON(http.MethodPost, tenantBase+"/download", downloadBody(snapshotID), http.StatusOK)
	env.clock.Advance(time.Minute)
	job = c.getJSON(http.MethodGet, tenantBase+"/restores/"+job["id"].(string), "", http.StatusOK)
	link, _ := job["snapshotUrl"].(string)
	if link == "" {
		t.Fatalf("job %v has no snapshotUrl a minute on", job)
	}
	return link
}

func archiveHeader(t *testing.T, env *simEnv, link, name string) string {
	t.Helper()
	resp, _, _ := getRange(t, env, http.MethodHead, link)
	return resp.Header.Get(name)
}

func TestDownloadResumesAfterDrops(t *testing.T) {
	cases := []struct {
		name        string
		archiveSize int64
		dropAfter   int64
	}{
		{"generated, uneven cuts", 1 << 20, 100_000},
		{"generated, one block", 300_000, 65535},
		{"built archive", 0, 100},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			plain := newSimEnv(t, Config{ArchiveSize: tc.archiveSize})
			env := newSimEnv(t, Config{ArchiveSize: tc.archiveSize, ArchiveDropAfter: tc.dropAfter})
			link, _ := newDownload(t, env, DefaultSnapshotID)
			var got []byte
			requests, cuts := 0, 0
			for requests < 1000 {
				var hdr []string
				if len(got) > 0 {
					hdr = []string{"Range", fmt.Sprintf("bytes=%d-", len(got))}
				}
				resp, body, cut := getRange(t, env, http.MethodGet, link, hdr...)
				requests++
				if want := map[bool]int{false: 200, true: 206}[len(got) > 0]; resp.StatusCode != want {
					t.Fatalf("request %d: status %d, want %d", requests, resp.StatusCode, want)
				}
				if int64(len(body)) > tc.dropAfter {
					t.Fatalf("request %d: %d bytes, more than ArchiveDropAfter %d", requests, len(body), tc.dropAfter)
				}
				got = append(got, body...)
				if !cut {
					break
				}
				cuts++
			}
			size := int64(len(got))
			wantRequests := int((size + tc.dropAfter - 1) / tc.dropAfter)
			if requests != wantRequests || cuts != requests-1 {
				t.Errorf("%d requests, %d cut; want %d, %d", requests, cuts, wantRequests, wantRequests-1)
			}
			if tc.archiveSize > 0 {
				a, err := NewArchive(DefaultSnapshotID, tc.archiveSize)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(got, readGenerated(t, a, 1<<16)) {
					t.Fatal("the reassembled archive is not the generated one")
				}
			} else if _, names := readArchive(t, got); len(names) == 0 {
				t.Fatal("the reassembled archive is empty")
			}
			plainLink, _ := newDownload(t, plain, DefaultSnapshotID)
			if tc.archiveSize > 0 && !bytes.Equal(got, archiveOf(t, plain, plainLink)) {
				t.Error("the reassembled archive differs from an uncut download")
			}
			st := env.idleStats()
			if st.Downloads.Bytes != size || st.Downloads.Cut != int64(cuts) || st.Downloads.RangedRequests != int64(requests-1) {
				t.Errorf("stats downloads %+v; want %d bytes, %d cut, %d ranged", st.Downloads, size, cuts, requests-1)
			}
		})
	}
}

func TestDownloadFaults(t *testing.T) {
	const size = 1 << 20
	cases := []struct {
		name       string
		faults     Faults
		status     int
		bodyBytes  int
		cut        bool
		injected   int64
		dropped    int64
		retryAfter string
	}{
		{"off: errors stay on API paths", Faults{ErrorRate: 1, DropRate: 1}, 200, size, false, 0, 0, ""},
		{"5xx", Faults{DownloadFaults: true, ErrorRate: 1, ErrorRetryAfter: 3 * time.Second}, 503, -1, false, 1, 0, "3"},
		{"500", Faults{DownloadFaults: true, ErrorRate: 1, ErrorStatus: 500}, 500, -1, false, 1, 0, ""},
		{"dropped", Faults{DownloadFaults: true, DropRate: 1}, 200, size / 2, true, 0, 1, ""},
		{"none drawn", Faults{DownloadFaults: true}, 200, size, false, 0, 0, ""},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			env := newSimEnv(t, Config{ArchiveSize: size})
			link, _ := newDownload(t, env, DefaultSnapshotID)
			if err := env.sim.SetFaults(tc.faults); err != nil {
				t.Fatal(err)
			}
			resp, body, cut := getRange(t, env, http.MethodGet, link)
			if resp.StatusCode != tc.status || cut != tc.cut {
				t.Fatalf("status %d, cut %v; want %d, %v", resp.StatusCode, cut, tc.status, tc.cut)
			}
			if tc.bodyBytes >= 0 && len(body) != tc.bodyBytes {
				t.Errorf("%d body bytes, want %d", len(body), tc.bodyBytes)
			}
			if tc.bodyBytes < 0 {
				apiErrorBody(t, resp, body, tc.status, map[int]string{503: codeServiceUnavailable, 500: codeUnexpectedError}[tc.status])
			}
			if got := resp.Header.Get("Retry-After"); got != tc.retryAfter {
				t.Errorf("Retry-After %q, want %q", got, tc.retryAfter)
			}
			f := env.idleStats().Faults
			if f.Injected5xx != tc.injected || f.Dropped != tc.dropped {
				t.Errorf("faults %+v; want %d injected, %d dropped", f, tc.injected, tc.dropped)
			}
		})
	}
}

func TestDownloadExpiredLinkWithRange(t *testing.T) {
	env := newSimEnv(t, Config{ArchiveSize: 1 << 20, ArchiveDropAfter: 1000})
	link, _ := newDownload(t, env, DefaultSnapshotID)
	resp, _, _ := getRange(t, env, http.MethodGet, link, "Range", "bytes=0-9")
	if resp.StatusCode != http.StatusPartialContent {
		t.Fatalf("status %d, want 206", resp.StatusCode)
	}
	env.clock.Advance(4 * time.Hour)
	resp, body, cut := getRange(t, env, http.MethodGet, link, "Range", "bytes=10-")
	if cut {
		t.Error("the 410 answer was cut")
	}
	apiErrorBody(t, resp, body, http.StatusGone, codeDownloadExpired)
}

// discardResponse is a ResponseWriter that throws the body away and
// samples the heap every sampleEvery bytes.
type discardResponse struct {
	header      http.Header
	status      int
	written     int64
	sampleEvery int64
	nextSample  int64
	peakHeap    uint64
}

func (d *discardResponse) Header() http.Header { return d.header }
func (d *discardResponse) WriteHeader(code int) {
	if d.status == 0 {
		d.status = code
	}
}

func (d *discardResponse) Write(p []byte) (int, error) {
	d.written += int64(len(p))
	if d.written >= d.nextSample {
		d.nextSample += d.sampleEvery
		var ms runtime.MemStats
		runtime.ReadMemStats(&ms)
		d.peakHeap = max(d.peakHeap, ms.HeapInuse)
	}
	return len(p), nil
}

func TestDownloadMemoryStaysFlat(t *testing.T) {
	if testing.Short() {
		t.Skip("streams 256 MiB")
	}
	const size = 256 << 20
	const bound = 16 << 20
	env := newSimEnv(t, Config{ArchiveSize: size})
	link, _ := newDownload(t, env, DefaultSnapshotID)
	req, err := http.NewRequest(http.MethodGet, link, nil)
	if err != nil {
		t.Fatal(err)
	}
	runtime.GC()
	var before runtime.MemStats
	runtime.ReadMemStats(&before)
	w := &discardResponse{header: http.Header{}, sampleEvery: 8 << 20}
	env.sim.ServeHTTP(w, req)
	var after runtime.MemStats
	runtime.ReadMemStats(&after)
	if w.status != http.StatusOK || w.written != size {
		t.Fatalf("status %d, %d bytes; want 200, %d", w.status, w.written, size)
	}
	grew := int64(max(w.peakHeap, after.HeapInuse)) - int64(before.HeapInuse)
	allocated := after.TotalAlloc - before.TotalAlloc
	t.Logf("heap in use %d MiB before, peak %.1f MiB while streaming (+%.1f MiB); %.1f MiB allocated in all",
		before.HeapInuse>>20, float64(w.peakHeap)/(1<<20), float64(grew)/(1<<20), float64(allocated)/(1<<20))
	if grew > bound {
		t.Errorf("heap in use grew by %d bytes while streaming %d, want under %d", grew, size, bound)
	}
	if allocated > bound {
		t.Errorf("%d bytes allocated while streaming %d, want under %d", allocated, size, bound)
	}
	if got := env.idleStats().Downloads.Bytes; got != size {
		t.Errorf("stats downloads.bytes %d, want %d", got, size)
	}
}

// TestDownloadRatePacesEachAnswer: with DownloadRate every answer is held
// to the rate from its own start, on the simulator's clock, and its bytes
// are unchanged.
func TestDownloadRatePacesEachAnswer(t *testing.T) {
	const size, rate = 1 << 20, 256 << 10
	clock := newFakeClock()
	env := newSimEnv(t, Config{Now: clock.Now, Sleep: clock.Sleep, ArchiveSize: size, DownloadRate: rate})
	link, _ := newDownload(t, env, DefaultSnapshotID)
	slept := func() time.Duration {
		var d time.Duration
		for _, s := range clock.Sleeps() {
			d += s
		}
		return d
	}

	before := slept()
	resp, body, cut := getRange(t, env, http.MethodGet, link)
	if resp.StatusCode != http.StatusOK || cut || len(body) != size {
		t.Fatalf("status %d, %d bytes, cut %v", resp.StatusCode, len(body), cut)
	}
	a, err := NewArchive(DefaultSnapshotID, size)
	if err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(body, readGenerated(t, a, 1<<16)) {
		t.Fatal("a paced answer is not the generated archive")
	}
	// The last 64KiB chunk may go once the bytes before it are due.
	if got, want := slept()-before, time.Duration(size-downloadChunk)*time.Second/rate; got != want {
		t.Fatalf("the whole archive waited %v on the clock, want %v", got, want)
	}

	before = slept()
	resp, body, _ = getRange(t, env, http.MethodGet, link, "Range", "bytes=524288-")
	if resp.StatusCode != http.StatusPartialContent || len(body) != size/2 {
		t.Fatalf("range: status %d, %d bytes", resp.StatusCode, len(body))
	}
	if got, want := slept()-before, time.Duration(size/2-downloadChunk)*time.Second/rate; got != want {
		t.Fatalf("the second half waited %v, want %v: each answer is paced from its own start", got, want)
	}

	unpaced := newFakeClock()
	plain := newSimEnv(t, Config{Now: unpaced.Now, Sleep: unpaced.Sleep, ArchiveSize: size})
	link, _ = newDownload(t, plain, DefaultSnapshotID)
	if _, body, _ := getRange(t, plain, http.MethodGet, link); len(body) != size || len(unpaced.Sleeps()) != 0 {
		t.Fatalf("without DownloadRate: %d bytes, sleeps %v", len(body), unpaced.Sleeps())
	}
}

func TestDownloadRateMustNotBeNegative(t *testing.T) {
	if _, err := New(Config{DownloadRate: -1}); err == nil || !strings.Contains(err.Error(), "DownloadRate must not be negative") {
		t.Fatalf("err = %v", err)
	}
}

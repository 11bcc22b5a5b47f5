// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"encoding/json"
	"errors"
	"io"
	"math/rand/v2"
	"strings"
	"testing"
)

// readGenerated reads all of a through ReadAt in chunks of the given size.
func readGenerated(t *testing.T, a *Archive, chunk int) []byte {
	t.Helper()
	out := make([]byte, 0, a.Size())
	buf := make([]byte, chunk)
	for off := int64(0); ; {
		n, err := a.ReadAt(buf, off)
		out = append(out, buf[:n]...)
		off += int64(n)
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			t.Fatalf("ReadAt(%d): %v", off, err)
		}
	}
	if int64(len(out)) != a.Size() {
		t.Fatalf("read %d bytes, Size() %d", len(out), a.Size())
	}
	return out
}

func TestArchiveDeterministic(t *testing.T) {
	const size = 1 << 20
	cases := []struct {
		name  string
		id    string
		size  int64
		chunk int
	}{
		{"default snapshot, odd chunks", DefaultSnapshotID, size, 7777},
		{"default snapshot, one read", DefaultSnapshotID, size, size},
		{"older snapshot", DefaultOlderSnapshotID, size, 65540},
		{"flex snapshot, another size", DefaultFlexSnapshotID, size + 12345, 4096},
	}
	seen := map[string]string{}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			a, err := NewArchive(tc.id, tc.size)
			if err != nil {
				t.Fatal(err)
			}
			b, err := NewArchive(tc.id, tc.size)
			if err != nil {
				t.Fatal(err)
			}
			first, second := readGenerated(t, a, tc.chunk), readGenerated(t, b, 1<<16)
			if !bytes.Equal(first, second) {
				t.Fatal("two archives of the same snapshot and size differ")
			}
			// Any offset is computed on its own, without what comes before.
			rnd := rand.New(rand.NewPCG(1, 2))
			for range 200 {
				off := rnd.Int64N(tc.size)
				n := min(int64(1+rnd.IntN(70000)), tc.size-off)
				got := make([]byte, n)
				if k, err := b.ReadAt(got, off); int64(k) != n || (err != nil && !errors.Is(err, io.EOF)) {
					t.Fatalf("ReadAt(%d, %d): %d, %v", off, n, k, err)
				}
				if !bytes.Equal(got, first[off:off+n]) {
					t.Fatalf("ReadAt(%d, %d) differs from the sequential read", off, n)
				}
			}
			key := string(first[len(first)-8:]) // CRC-32 and ISIZE
			if other, dup := seen[key]; dup && other != tc.id {
				t.Errorf("snapshots %s and %s have the same archive trailer", other, tc.id)
			}
			seen[key] = tc.id
		})
	}
	x, _ := NewArchive(DefaultSnapshotID, size)
	y, _ := NewArchive(DefaultOlderSnapshotID, size)
	bx, by := readGenerated(t, x, 1<<16), readGenerated(t, y, 1<<16)
	if mid := len(bx) / 2; bytes.Equal(bx[mid:mid+4096], by[mid:mid+4096]) {
		t.Error("two snapshots' archives have the same payload")
	}
	if x.ETag() == y.ETag() {
		t.Errorf("two snapshots share ETag %s", x.ETag())
	}
}

func TestArchiveIsValidTarGz(t *testing.T) {
	least := MinArchiveSize(DefaultSnapshotID)
	sizes := []int64{
		least, least + 1, least + 511, least + 512, least + 517, 3*65535 + 100,
		1 << 20, 1<<20 + 1, 1<<20 + 65535, 2<<20 - 3,
	}
	for _, size := range sizes {
		a, err := NewArchive(DefaultSnapshotID, size)
		if err != nil {
			t.Fatalf("NewArchive(%d): %v", size, err)
		}
		data := readGenerated(t, a, 1<<16)
		rd := bytes.NewReader(data)
		zr, err := gzip.NewReader(rd)
		if err != nil {
			t.Fatalf("size %d: gzip header: %v", size, err)
		}
		zr.Multistream(false)
		tr := tar.NewReader(zr)
		var names []string
		var info map[string]any
		for {
			hdr, err := tr.Next()
			if errors.Is(err, io.EOF) {
				break
			}
			if err != nil {
				t.Fatalf("size %d: tar: %v", size, err)
			}
			names = append(names, hdr.Name)
			body, err := io.ReadAll(tr)
			if err != nil {
				t.Fatalf("size %d: reading %s: %v", size, hdr.Name, err)
			}
			switch hdr.Name {
			case "restore-info.json":
				if err := json.Unmarshal(body, &info); err != nil {
					t.Fatalf("size %d: restore-info.json: %v", size, err)
				}
			case a.PayloadName():
				want := make([]byte, len(body))
				a.payloadAt(want, 0)
				if !bytes.Equal(body, want) || int64(len(body)) != a.payload {
					t.Errorf("size %d: payload of %d bytes is not the generated one", size, len(body))
				}
			}
		}
		// Reading to the end checks the CRC-32 and length in the trailer.
		if rest, err := io.ReadAll(zr); err != nil || len(rest) != 0 {
			t.Fatalf("size %d: end of gzip stream: %d bytes, %v", size, len(rest), err)
		}
		if rd.Len() != 0 {
			t.Errorf("size %d: %d bytes after the gzip member", size, rd.Len())
		}
		if strings.Join(names, ",") != "restore-info.json,"+a.PayloadName() {
			t.Errorf("size %d: entries %v", size, names)
		}
		if info["snapshotId"] != DefaultSnapshotID || info["payloadBytes"] != float64(a.payload) {
			t.Errorf("size %d: restore-info.json %v", size, info)
		}
	}
	if _, err := NewArchive(DefaultSnapshotID, least-1); err == nil {
		t.Errorf("NewArchive(%d) succeeded below the smallest size", least-1)
	}
}

func TestParseSize(t *testing.T) {
	cases := []struct {
		in   string
		want int64
		err  string
	}{
		{in: "1048576", want: 1 << 20},
		{in: "256MiB", want: 256 << 20},
		{in: "1GiB", want: 1 << 30},
		{in: "1gib", want: 1 << 30},
		{in: "2 KiB", want: 2048},
		{in: "10B", want: 10},
		{in: "3MB", want: 3_000_000},
		{in: "1TiB", want: 1 << 40},
		{in: "", err: "want a whole number"},
		{in: "MiB", err: "want a whole number"},
		{in: "1.5GiB", err: "unknown unit"},
		{in: "-1", err: "want a whole number"},
		{in: "12XB", err: "unknown unit"},
		{in: "99999999999TiB", err: "too large"},
	}
	for _, tc := range cases {
		got, err := ParseSize(tc.in)
		switch {
		case tc.err != "":
			if err == nil || !strings.Contains(err.Error(), tc.err) {
				t.Errorf("ParseSize(%q) = %d, %v; want an error with %q", tc.in, got, err, tc.err)
			}
		case err != nil || got != tc.want:
			t.Errorf("ParseSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
	}
}

func TestNewChecksArchiveSettings(t *testing.T) {
	least := MinArchiveSize(DefaultSnapshotID)
	cases := []struct {
		name string
		cfg  Config
		err  string
	}{
		{"negative size", Config{ArchiveSize: -1}, "must not be negative"},
		{"negative drop", Config{ArchiveDropAfter: -1}, "must not be negative"},
		{"too small", Config{ArchiveSize: least - 1}, "below the smallest generated archive"},
		{"smallest", Config{ArchiveSize: least}, ""},
		{"default", Config{}, ""},
	}
	for _, tc := range cases {
		_, err := New(tc.cfg)
		if (tc.err == "") != (err == nil) || (err != nil && !strings.Contains(err.Error(), tc.err)) {
			t.Errorf("%s: New: %v, want %q", tc.name, err, tc.err)
		}
	}
}

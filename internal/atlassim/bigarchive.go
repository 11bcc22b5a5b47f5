// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"archive/tar"
	"bytes"
	"crypto/sha256"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"strconv"
	"strings"
	"sync"
	"time"
)

// Archive is a generated snapshot archive of an exact size (Config.ArchiveSize):
// a valid .tar.gz whose bytes depend only on the snapshot id and the size,
// computed at any offset without generating what comes before, so it is
// streamed from fixed buffers and never held in memory.
//
// Layout. The gzip member (RFC 1952) has a header with an FEXTRA field
// (one "AS" subfield of zero bytes) whose length takes up the slack, so the
// whole stream is exactly Size bytes; its deflate data (RFC 1951) is stored
// (uncompressed) blocks of up to 65535 bytes, each behind a 5-byte block
// header; the trailer is the CRC-32 and length of the tar. The tar holds
// restore-info.json and snapshot-<id>.bin, pseudo-random bytes (splitmix64
// of the word index, seeded from the snapshot id).
type Archive struct {
	snapshotID string
	size       int64 // the whole .tar.gz, on the wire
	seed       uint64

	gzHeader []byte // header with FEXTRA
	prefix   []byte // tar: restore-info.json, then the payload's header
	payload  int64  // bytes of snapshot-<id>.bin
	tarLen   int64  // prefix + payload + padding + end-of-archive blocks

	crcOnce sync.Once
	crc     uint32
}

const (
	storedBlockMax    = 65535 // the most a stored deflate block holds
	storedBlockHeader = 5     // BFINAL/BTYPE byte, LEN, NLEN
	gzipTrailerLen    = 8     // CRC-32, ISIZE
	gzipBaseHeader    = 10
	gzipExtraMin      = 2 + 4 // XLEN, then one subfield's SI1 SI2 LEN
	gzipExtraMax      = 65535
	tarEndLen         = 2 * 512
)

// archiveModTime is the time stamp inside generated archives: fixed, so the
// bytes depend on the snapshot id and size alone.
var archiveModTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// NewArchive lays out the generated archive of snapshotID that is size bytes
// long on the wire. It does no work proportional to size: the CRC-32 of the
// tar is computed (once, streaming) when the last 8 bytes are first read.
func NewArchive(snapshotID string, size int64) (*Archive, error) {
	if least := MinArchiveSize(snapshotID); size < least {
		return nil, fmt.Errorf("archive size %d is below the smallest generated archive, %d bytes", size, least)
	}
	sum := sha256.Sum256([]byte("atlas-sim archive " + snapshotID))
	a := &Archive{snapshotID: snapshotID, size: size, seed: binary.LittleEndian.Uint64(sum[:8])}
	// The largest payload whose archive, with an empty FEXTRA subfield,
	// is not bigger than size; the FEXTRA field takes the rest (under
	// 65535 bytes, as one more payload byte adds at most a few tar blocks).
	lo, hi := int64(0), size
	for lo < hi {
		mid := lo + (hi-lo+1)/2
		if a.wireLen(mid, 0) <= size {
			lo = mid
		} else {
			hi = mid - 1
		}
	}
	a.setPayload(lo)
	slack := size - a.wireLen(lo, 0)
	if slack < 0 || slack > gzipExtraMax-gzipExtraMin {
		return nil, fmt.Errorf("archive size %d cannot be laid out (slack %d)", size, slack)
	}
	a.gzHeader = gzipHeader(int(slack))
	if got := a.wireLen(lo, slack); got != size {
		return nil, fmt.Errorf("archive layout is %d bytes, want %d", got, size)
	}
	return a, nil
}

// MinArchiveSize is the smallest size NewArchive accepts for snapshotID.
func MinArchiveSize(snapshotID string) int64 {
	a := &Archive{snapshotID: snapshotID}
	return a.wireLen(0, 0)
}

// wireLen is the size of the .tar.gz with a payload of p bytes and slack
// bytes of FEXTRA subfield data.
func (a *Archive) wireLen(p, slack int64) int64 {
	a.setPayload(p)
	blocks := (a.tarLen + storedBlockMax - 1) / storedBlockMax
	return gzipBaseHeader + gzipExtraMin + slack + blocks*storedBlockHeader + a.tarLen + gzipTrailerLen
}

func (a *Archive) setPayload(p int64) {
	a.payload = p
	a.prefix = tarPrefix(a.snapshotID, p)
	a.tarLen = int64(len(a.prefix)) + p + tarPad(p) + tarEndLen
}

func tarPad(n int64) int64 { return (512 - n%512) % 512 }

// PayloadName is the name of the pseudo-random file inside the archive.
func (a *Archive) PayloadName() string { return payloadName(a.snapshotID) }

func payloadName(snapshotID string) string { return "snapshot-" + snapshotID + ".bin" }

// tarPrefix is the tar up to the payload's data: restore-info.json and the
// payload's header.
func tarPrefix(snapshotID string, payload int64) []byte {
	info := encodeJSON(map[string]any{
		"snapshotId":   snapshotID,
		"payloadFile":  payloadName(snapshotID),
		"payloadBytes": payload,
		"generatedBy":  "atlas-sim",
	}, true)
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	must := func(err error) {
		if err != nil {
			panic("atlassim: writing a tar header to memory: " + err.Error())
		}
	}
	must(tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: "restore-info.json", Mode: 0o644, Size: int64(len(info)), ModTime: archiveModTime}))
	_, err := tw.Write(info)
	must(err)
	// WriteHeader pads the entry before and writes the new header at once;
	// the payload's data is never given to tw.
	must(tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: payloadName(snapshotID), Mode: 0o644, Size: payload, ModTime: archiveModTime}))
	return buf.Bytes()
}

// gzipHeader is a gzip member header (no name, no time stamp, OS unknown)
// with an FEXTRA field holding one "AS" subfield of slack zero bytes.
func gzipHeader(slack int) []byte {
	h := []byte{0x1f, 0x8b, 8, 0x04 /* FEXTRA */, 0, 0, 0, 0, 0 /* XFL */, 255 /* OS unknown */}
	h = binary.LittleEndian.AppendUint16(h, uint16(4+slack))
	h = append(h, 'A', 'S')
	h = binary.LittleEndian.AppendUint16(h, uint16(slack))
	return append(h, make([]byte, slack)...)
}

// Size is the length of the archive in bytes.
func (a *Archive) Size() int64 { return a.size }

// SnapshotID is the snapshot the archive was generated for.
func (a *Archive) SnapshotID() string { return a.snapshotID }

// ETag is a strong entity tag for the archive: its bytes depend on the
// snapshot id and size alone.
func (a *Archive) ETag() string {
	sum := sha256.Sum256([]byte("atlas-sim/" + a.snapshotID + "/" + strconv.FormatInt(a.size, 10)))
	return fmt.Sprintf(`"sim-%x"`, sum[:12])
}

// CRC32 is the IEEE CRC-32 of the tar (the gzip trailer's), computed by
// streaming the tar once on first use.
func (a *Archive) CRC32() uint32 {
	a.crcOnce.Do(func() {
		h := crc32.NewIEEE()
		buf := make([]byte, 256<<10)
		for off := int64(0); off < a.tarLen; {
			n := int(min(int64(len(buf)), a.tarLen-off))
			a.tarReadAt(buf[:n], off)
			_, _ = h.Write(buf[:n]) // a hash.Hash never fails
			off += int64(n)
		}
		a.crc = h.Sum32()
	})
	return a.crc
}

// ReadAt implements io.ReaderAt over the archive's bytes.
func (a *Archive) ReadAt(p []byte, off int64) (int, error) {
	if off < 0 {
		return 0, errors.New("atlassim: Archive.ReadAt: negative offset")
	}
	if off >= a.size {
		return 0, io.EOF
	}
	n := 0
	for len(p) > 0 && off < a.size {
		k := a.readSome(p, off)
		p, off, n = p[k:], off+int64(k), n+k
	}
	if len(p) > 0 {
		return n, io.EOF
	}
	return n, nil
}

// readSome fills a prefix of p from one region of the stream (header,
// a block header, block data, trailer) and returns how much it filled.
func (a *Archive) readSome(p []byte, off int64) int {
	hdr := int64(len(a.gzHeader))
	trailerAt := a.size - gzipTrailerLen
	switch {
	case off < hdr:
		return copy(p, a.gzHeader[off:])
	case off >= trailerAt:
		var t [gzipTrailerLen]byte
		binary.LittleEndian.PutUint32(t[:4], a.CRC32())
		binary.LittleEndian.PutUint32(t[4:], uint32(a.tarLen)) // ISIZE: the length mod 2^32
		return copy(p, t[off-trailerAt:])
	}
	rel := off - hdr
	const stride = storedBlockHeader + storedBlockMax
	block, within := rel/stride, rel%stride
	tarStart := block * storedBlockMax
	blockLen := min(int64(storedBlockMax), a.tarLen-tarStart)
	if within < storedBlockHeader {
		var h [storedBlockHeader]byte
		if tarStart+blockLen == a.tarLen {
			h[0] = 1 // BFINAL, BTYPE 00 (stored)
		}
		binary.LittleEndian.PutUint16(h[1:], uint16(blockLen))
		binary.LittleEndian.PutUint16(h[3:], ^uint16(blockLen))
		return copy(p, h[within:])
	}
	dataOff := within - storedBlockHeader
	n := int(min(int64(len(p)), blockLen-dataOff))
	a.tarReadAt(p[:n], tarStart+dataOff)
	return n
}

// tarReadAt fills p with the tar's bytes from off; p must not run past the
// end of the tar.
func (a *Archive) tarReadAt(p []byte, off int64) {
	for len(p) > 0 {
		var n int
		payloadEnd := int64(len(a.prefix)) + a.payload
		switch {
		case off < int64(len(a.prefix)):
			n = copy(p, a.prefix[off:])
		case off < payloadEnd:
			n = int(min(int64(len(p)), payloadEnd-off))
			a.payloadAt(p[:n], off-int64(len(a.prefix)))
		default: // padding and the end-of-archive blocks
			n = len(p)
			clear(p)
		}
		p, off = p[n:], off+int64(n)
	}
}

// payloadAt fills p with the payload's bytes from off: little-endian
// words, word i being splitmix64 of seed + i.
func (a *Archive) payloadAt(p []byte, off int64) {
	var w [8]byte
	if r := off % 8; r != 0 {
		binary.LittleEndian.PutUint64(w[:], splitmix64(a.seed, uint64(off/8)))
		n := copy(p, w[r:])
		p, off = p[n:], off+int64(n)
	}
	i := uint64(off / 8)
	for len(p) >= 8 {
		binary.LittleEndian.PutUint64(p, splitmix64(a.seed, i))
		p, i = p[8:], i+1
	}
	if len(p) > 0 {
		binary.LittleEndian.PutUint64(w[:], splitmix64(a.seed, i))
		copy(p, w[:])
	}
}

func splitmix64(seed, i uint64) uint64 {
	z := seed + (i+1)*0x9e3779b97f4a7c15
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9
	z = (z ^ (z >> 27)) * 0x94d049bb133111eb
	return z ^ (z >> 31)
}

// archiveCache keeps one Archive per snapshot, so each CRC-32 is computed
// once per server.
type archiveCache struct {
	size int64
	mu   sync.Mutex
	m    map[string]*Archive
}

func (c *archiveCache) get(snapshotID string) (*Archive, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if a := c.m[snapshotID]; a != nil {
		return a, nil
	}
	a, err := NewArchive(snapshotID, c.size)
	if err != nil {
		return nil, err
	}
	if c.m == nil {
		c.m = map[string]*Archive{}
	}
	c.m[snapshotID] = a
	return a, nil
}

// ParseSize reads a size in bytes: a whole number, optionally followed by
// B, KiB, MiB, GiB or TiB (powers of 1024) or kB, MB, GB or TB (powers of
// 1000), case-insensitively, as in "256MiB", "1GiB" or "1048576".
func ParseSize(s string) (int64, error) {
	t := strings.TrimSpace(s)
	i := 0
	for i < len(t) && t[i] >= '0' && t[i] <= '9' {
		i++
	}
	num, unit := t[:i], strings.ToLower(strings.TrimSpace(t[i:]))
	if num == "" {
		return 0, fmt.Errorf("size %q: want a whole number of bytes, optionally with a unit such as MiB", s)
	}
	mult := map[string]int64{
		"": 1, "b": 1,
		"kib": 1 << 10, "mib": 1 << 20, "gib": 1 << 30, "tib": 1 << 40,
		"kb": 1e3, "mb": 1e6, "gb": 1e9, "tb": 1e12,
	}[unit]
	if mult == 0 {
		return 0, fmt.Errorf("size %q: unknown unit %q (want B, KiB, MiB, GiB, TiB, kB, MB, GB or TB)", s, t[i:])
	}
	n, err := strconv.ParseInt(num, 10, 64)
	if err != nil || n > (1<<63-1)/mult {
		return 0, fmt.Errorf("size %q is too large", s)
	}
	return n * mult, nil
}

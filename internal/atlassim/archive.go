// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"archive/tar"
	"bytes"
	"compress/gzip"
	"crypto/md5"
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"
)

// archiveFacts is what a download archive is built from; the same facts
// always give the same bytes.
type archiveFacts struct {
	projectID, clusterName, snapshotID, jobID, mongoDBVersion string
	snapshotTime                                              time.Time
}

// serveDownload is GET /backup/restore/{jobId}/{file}?token=...&expires=...,
// the simulator's stand-in for a presigned storage URL: no digest
// authentication, the token in the query string is the credential.
func (s *Server) serveDownload(c *call) {
	jobID, file := c.params["jobId"], c.params["file"]
	q := c.r.URL.Query()

	f := s.faults.get()
	downloadFaults := f.DownloadFaults
	if downloadFaults && s.failInjected(c, f) {
		return
	}
	dropFault := downloadFaults && s.faults.roll(f.DropRate)

	var facts archiveFacts
	var finished time.Time
	e := func() *apiError {
		s.mu.Lock()
		defer s.mu.Unlock()
		j := s.jobsByID[jobID]
		if j == nil || file != j.fileName() || j.deliveryType != deliveryDownload {
			return newAPIError(http.StatusNotFound, codeResourceNotFound,
				fmt.Sprintf("Cannot find resource %s.", c.r.URL.Path))
		}
		if !j.tokenMatches(q.Get("token"), q.Get("expires")) {
			return newAPIError(http.StatusForbidden, codeInvalidDownloadToken,
				"The download token is missing or does not match this file.")
		}
		if !c.now.Before(j.expires) {
			return newAPIError(http.StatusGone, codeDownloadExpired,
				fmt.Sprintf("This download link expired at %s; request a new download.", formatTime(j.expires)))
		}
		status, done := j.state(c.now)
		if status != StatusCompleted {
			return newAPIError(http.StatusNotFound, codeResourceNotFound,
				fmt.Sprintf("The archive for restore job %s is not available: the job is %s.", j.id, status))
		}
		finished = done
		facts = archiveFacts{
			projectID:      j.projectID,
			clusterName:    j.clusterName,
			snapshotID:     j.snapshotID,
			jobID:          j.id,
			mongoDBVersion: j.mongoDBVersion,
			snapshotTime:   j.snapshotFinished,
		}
		return nil
	}()
	if e != nil && dropFault {
		// Hang up without an answer, as a dropped API request does.
		c.fault, c.dropped, c.droppedStatus = faultDropped, true, e.Status
		return
	}
	if e != nil {
		c.fail(e)
		return
	}
	m := downloadMeta{fileName: file, lastModified: finished, dropFault: dropFault}
	var body archiveBody
	if s.archives != nil {
		// A generated archive of Config.ArchiveSize bytes (bigarchive.go).
		a, err := s.archives.get(facts.snapshotID)
		if err != nil {
			c.fail(newAPIError(http.StatusInternalServerError, codeUnexpectedError, "Unexpected error."))
			return
		}
		body, m.etag = a, a.ETag()
	} else {
		data, err := buildArchive(facts)
		if err != nil {
			c.fail(newAPIError(http.StatusInternalServerError, codeUnexpectedError, "Unexpected error."))
			return
		}
		sum := sha256.Sum256(data)
		body, m.etag = bytes.NewReader(data), fmt.Sprintf(`"%x"`, sum[:16])
	}
	s.sendArchive(c, body, m)
}

// Names inside the archive, laid out like mongodump output.
const (
	archiveDB         = "sample_sim"
	archiveCollection = "items"
	archiveDocs       = 3
)

// buildArchive writes a gzip-compressed tar with a restore-info.json and a
// small mongodump-like dump/ directory holding real BSON.
func buildArchive(f archiveFacts) ([]byte, error) {
	modTime := f.snapshotTime
	if modTime.IsZero() {
		modTime = time.Unix(0, 0)
	}
	info := encodeJSON(map[string]any{
		"projectId":      f.projectID,
		"clusterName":    f.clusterName,
		"snapshotId":     f.snapshotID,
		"restoreJobId":   f.jobID,
		"mongoDBVersion": f.mongoDBVersion,
		"snapshotTime":   formatTime(f.snapshotTime),
		"generatedBy":    "atlas-sim",
	}, true)
	metadata := encodeJSON(map[string]any{
		"collectionName": archiveCollection,
		"type":           "collection",
		"options":        map[string]any{},
		"indexes": []any{
			map[string]any{"v": 2, "key": map[string]any{"_id": 1}, "name": "_id_"},
		},
	}, false)

	var docs []byte
	for i := range archiveDocs {
		docs = append(docs, sampleDocument(f, i, modTime)...)
	}

	var buf bytes.Buffer
	gz, err := gzip.NewWriterLevel(&buf, gzip.BestCompression)
	if err != nil {
		return nil, err
	}
	tw := tar.NewWriter(gz)
	dirs := []string{"dump/", "dump/" + archiveDB + "/"}
	for _, d := range dirs {
		if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: d, Mode: 0o755, ModTime: modTime}); err != nil {
			return nil, err
		}
	}
	files := []struct {
		name string
		data []byte
	}{
		{"restore-info.json", info},
		{"dump/" + archiveDB + "/" + archiveCollection + ".metadata.json", metadata},
		{"dump/" + archiveDB + "/" + archiveCollection + ".bson", docs},
	}
	for _, file := range files {
		hdr := &tar.Header{Typeflag: tar.TypeReg, Name: file.name, Mode: 0o644, Size: int64(len(file.data)), ModTime: modTime}
		if err := tw.WriteHeader(hdr); err != nil {
			return nil, err
		}
		if _, err := tw.Write(file.data); err != nil {
			return nil, err
		}
	}
	if err := tw.Close(); err != nil {
		return nil, err
	}
	if err := gz.Close(); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// sampleDocument is document i of the sample collection, as BSON:
// {_id: ObjectId, name: string, qty: int32, price: double, inStock: bool,
// snapshotId: string, updatedAt: date}.
func sampleDocument(f archiveFacts, i int, at time.Time) []byte {
	sum := md5.Sum([]byte(f.jobID + ":" + strconv.Itoa(i)))
	var oid [12]byte
	copy(oid[:], sum[:12])
	var d bsonDoc
	d.objectID("_id", oid)
	d.str("name", fmt.Sprintf("item-%d", i+1))
	d.int32("qty", int32(10*(i+1)))
	d.double("price", 1.25*float64(i+1))
	d.boolean("inStock", i%2 == 0)
	d.str("snapshotId", f.snapshotID)
	d.datetime("updatedAt", at)
	return d.bytes()
}

// bsonDoc builds one BSON document (bsonspec.org): an int32 length, the
// elements (type byte, C-string name, value), and a 0x00 terminator.
type bsonDoc struct{ body []byte }

func (d *bsonDoc) head(kind byte, name string) {
	d.body = append(d.body, kind)
	d.body = append(d.body, name...)
	d.body = append(d.body, 0)
}

func (d *bsonDoc) double(name string, v float64) {
	d.head(0x01, name)
	d.body = binary.LittleEndian.AppendUint64(d.body, math.Float64bits(v))
}

func (d *bsonDoc) str(name, v string) {
	d.head(0x02, name)
	d.body = binary.LittleEndian.AppendUint32(d.body, uint32(len(v)+1))
	d.body = append(d.body, v...)
	d.body = append(d.body, 0)
}

func (d *bsonDoc) objectID(name string, v [12]byte) {
	d.head(0x07, name)
	d.body = append(d.body, v[:]...)
}

func (d *bsonDoc) boolean(name string, v bool) {
	d.head(0x08, name)
	if v {
		d.body = append(d.body, 1)
	} else {
		d.body = append(d.body, 0)
	}
}

func (d *bsonDoc) datetime(name string, t time.Time) {
	d.head(0x09, name)
	d.body = binary.LittleEndian.AppendUint64(d.body, uint64(t.UnixMilli()))
}

func (d *bsonDoc) int32(name string, v int32) {
	d.head(0x10, name)
	d.body = binary.LittleEndian.AppendUint32(d.body, uint32(v))
}

func (d *bsonDoc) bytes() []byte {
	out := binary.LittleEndian.AppendUint32(nil, uint32(len(d.body)+5))
	out = append(out, d.body...)
	return append(out, 0)
}

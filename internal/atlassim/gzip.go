// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"bytes"
	"compress/gzip"
	"strconv"
	"strings"
)

// gzipMinBytes is the smallest JSON answer sent gzipped, when the client
// accepts it: below it the gzip header and trailer would outweigh the
// saving. Atlas compresses its JSON answers the same way on request.
const gzipMinBytes = 256

// encodeBody returns the body to send for a JSON answer, gzipped (with
// Content-Encoding set) when Config.Gzip is on, the request accepts gzip
// and the body is worth it. Either way the answer varies by Accept-Encoding. Download links serve
// .tar.gz archives as they are and never come here.
func (c *call) encodeBody(body []byte) []byte {
	h := c.w.Header()
	h.Add("Vary", "Accept-Encoding")
	if !c.s.gzip || len(body) < gzipMinBytes || !acceptsGzip(c.r.Header.Values("Accept-Encoding")) {
		return body
	}
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, _ = zw.Write(body) // writes to memory do not fail
	_ = zw.Close()
	h.Set("Content-Encoding", "gzip")
	return buf.Bytes()
}

// acceptsGzip reads Accept-Encoding values: gzip (or x-gzip, or *) with a
// quality above zero.
func acceptsGzip(values []string) bool {
	for _, v := range values {
		for _, part := range strings.Split(v, ",") {
			coding, params, _ := strings.Cut(part, ";")
			switch strings.ToLower(strings.TrimSpace(coding)) {
			case "gzip", "x-gzip", "*":
			default:
				continue
			}
			q := 1.0
			for _, p := range strings.Split(params, ";") {
				if k, val, ok := strings.Cut(strings.TrimSpace(p), "="); ok && strings.EqualFold(k, "q") {
					if f, err := strconv.ParseFloat(strings.TrimSpace(val), 64); err == nil {
						q = f
					}
				}
			}
			if q > 0 {
				return true
			}
		}
	}
	return false
}

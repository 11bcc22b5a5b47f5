// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
)

// The decoders below turn a 2xx body into a checked object. The client
// uses them for every answer, and the fuzz targets call them directly.

// notJSONError is a 2xx body that is not the expected JSON.
type notJSONError struct {
	err  error
	body []byte
}

func (e *notJSONError) Error() string {
	return fmt.Sprintf("a body that is not the expected JSON (%s): %s", sanitise(e.err.Error(), 120), Excerpt(e.body))
}

// decodeChecked decodes body into a T and runs check on it.
func decodeChecked[T any](body []byte, check func(*T) error) (*T, error) {
	var v T
	if err := decodeJSON(body, &v); err != nil {
		return nil, &notJSONError{err: err, body: body}
	}
	if err := check(&v); err != nil {
		return nil, err
	}
	return &v, nil
}

// decodeRestoreJob decodes one restore or download job.
func decodeRestoreJob(body []byte) (*RestoreJob, error) {
	return decodeChecked(body, (*RestoreJob).check)
}

// decodeSnapshot decodes one snapshot.
func decodeSnapshot(body []byte) (*Snapshot, error) {
	return decodeChecked(body, (*Snapshot).check)
}

// decodeRestoreJobPage decodes a page of restore jobs, checking each.
func decodeRestoreJobPage(body []byte) (*Page[RestoreJob], error) {
	return decodeChecked(body, func(p *Page[RestoreJob]) error {
		for i := range p.Results {
			if err := p.Results[i].check(); err != nil {
				return err
			}
		}
		return nil
	})
}

// decodeSnapshotPage decodes a page of snapshots, checking each.
func decodeSnapshotPage(body []byte) (*Page[Snapshot], error) {
	return decodeChecked(body, func(p *Page[Snapshot]) error {
		for i := range p.Results {
			if err := p.Results[i].check(); err != nil {
				return err
			}
		}
		return nil
	})
}

// fetch runs req and decodes its 2xx answer with decode.
func fetch[T any](ctx context.Context, c *Client, req request, decode func([]byte) (*T, error)) (*T, error) {
	resp, err := c.send(ctx, req)
	if err != nil {
		return nil, err
	}
	return decodeAnswer(req, resp, decode)
}

// decodeAnswer decodes a 2xx answer, or says why it is not one of req's.
func decodeAnswer[T any](req request, resp *response, decode func([]byte) (*T, error)) (*T, error) {
	v, err := decode(resp.body)
	if err == nil {
		return v, nil
	}
	var nj *notJSONError
	if errors.As(err, &nj) {
		return nil, fmt.Errorf("atlas: %s %s: HTTP %d with %w", req.method, req.path, resp.status, err)
	}
	return nil, invalidAnswer(req.method, req.path, err)
}

// decodeJSON decodes body, which must hold one JSON value and nothing more.
func decodeJSON(body []byte, out any) error {
	dec := json.NewDecoder(bytes.NewReader(body))
	if err := dec.Decode(out); err != nil {
		return err
	}
	if dec.More() {
		return errors.New("trailing data after the JSON value")
	}
	return nil
}

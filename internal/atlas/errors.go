// SPDX-License-Identifier: MPL-2.0

package atlas

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"strings"
	"time"
	"unicode"
	"unicode/utf8"
)

// Error is a failed Atlas API call: the HTTP status and, when Atlas sent its
// usual error body, the errorCode, detail and reason from it.
type Error struct {
	// Method and Path name the call (the path has no query string).
	Method string
	Path   string

	StatusCode int
	ErrorCode  string
	Detail     string
	Reason     string
	Parameters []any

	// RetryAfter is the server's Retry-After hint, zero when absent.
	RetryAfter time.Duration
}

func (e *Error) Error() string {
	var b strings.Builder
	fmt.Fprintf(&b, "atlas: %s %s: HTTP %d", e.Method, e.Path, e.StatusCode)
	if e.ErrorCode != "" {
		fmt.Fprintf(&b, " %s", e.ErrorCode)
	}
	if e.Detail != "" {
		fmt.Fprintf(&b, ": %s", e.Detail)
	} else if e.Reason != "" {
		fmt.Fprintf(&b, ": %s", e.Reason)
	}
	return b.String()
}

// jobNotFoundCodes are the errorCodes with which Atlas says that a restore
// (download) job does not exist: the tenant, Flex and generic spellings.
var jobNotFoundCodes = []string{"TENANT_RESTORE_NOT_FOUND", "FLEX_BACKUP_RESTORE_NOT_FOUND", "RESTORE_JOB_NOT_FOUND"}

// IsJobNotFound reports whether err is Atlas saying that the addressed
// restore job is gone. It is false for a 404 about the project or cluster,
// for a retired endpoint, and for a 404 from something that is not Atlas
// (a proxy, a wrong host), which carry other codes or none.
func IsJobNotFound(err error) bool {
	var ae *Error
	return errors.As(err, &ae) && ae.StatusCode == http.StatusNotFound && HasErrorCode(err, jobNotFoundCodes...)
}

// IsRetired reports whether err is Atlas saying that the endpoint itself is
// gone rather than what it addresses: 410 Gone or VERSION_GONE for a
// removed API version, or a 404 whose detail speaks of the endpoint's
// sunset. The reference documents the first two only; the third is how we
// assume the v1.0 tenant paths answer after 2026-01-22 (the simulator's
// TenantSunset answers so).
func IsRetired(err error) bool {
	var ae *Error
	if !errors.As(err, &ae) {
		return false
	}
	return ae.StatusCode == http.StatusGone || ae.ErrorCode == "VERSION_GONE" ||
		(ae.StatusCode == http.StatusNotFound && strings.Contains(strings.ToLower(ae.Detail), "sunset"))
}

// HasErrorCode reports whether err is an Atlas error carrying one of codes.
func HasErrorCode(err error, codes ...string) bool {
	var ae *Error
	if !errors.As(err, &ae) {
		return false
	}
	for _, c := range codes {
		if ae.ErrorCode == c {
			return true
		}
	}
	return false
}

// downloadLimitCodes are the errorCodes with which Atlas refuses a download
// request because download limits are reached.
var downloadLimitCodes = []string{"TOO_MANY_SNAPSHOT_DOWNLOADS", "CANNOT_DOWNLOAD_SNAPSHOT_CONCURRENTLY"}

// IsDownloadLimit reports whether err is Atlas refusing a download request
// because download limits are reached: too many downloads in the project,
// or one of the same snapshot still under way. Atlas did nothing.
func IsDownloadLimit(err error) bool {
	return HasErrorCode(err, downloadLimitCodes...)
}

// UnconfirmedJobError is a download or restore request that failed in a
// way that leaves open whether Atlas acted on it (its answer was lost, or
// Atlas answered with a server error), after which the client could not
// find out: looking through the cluster's restore jobs failed, or ctx ended
// first. Atlas may hold a job for the snapshot that no caller knows of.
//
// The fields are stable; the provider builds its advice from them.
type UnconfirmedJobError struct {
	// Cluster and SnapshotID are what the job was requested for.
	Cluster    Cluster
	SnapshotID string
	// Restore is set for a restore request (RequestRestore) onto the
	// cluster TargetName of project TargetProjectID.
	Restore                     bool
	TargetName, TargetProjectID string
	// Since is the server time (UTC, whole seconds) before which Atlas
	// cannot have scheduled a job for this request: a job it made has a
	// restoreScheduledDate at or after Since.
	Since time.Time
	// Err is the request's own failure.
	Err error
	// RecoveryErr is why looking for the job did not settle it: the list's
	// error, ctx's, an *AmbiguousJobsError, or ErrNotListed.
	RecoveryErr error
	// Candidates are the unclaimed jobs of the snapshot that the request
	// may have made, when the search found more than it could attribute.
	Candidates []string
}

func (e *UnconfirmedJobError) Error() string {
	what := "download"
	if e.Restore {
		what = fmt.Sprintf("restore (onto %s in project %s)", e.TargetName, e.TargetProjectID)
	}
	return fmt.Sprintf("atlas: Atlas may have created a %s job for snapshot %s of %s cluster %s in project %s "+
		"(scheduled at or after %s) that the client could not confirm: the request failed (%v), and the search for the job did not settle it (%v)",
		what, e.SnapshotID, e.Cluster.familyName(), e.Cluster.Name, e.Cluster.ProjectID, e.Since.UTC().Format(time.RFC3339),
		errorText(e.Err), errorText(e.RecoveryErr))
}

// Unwrap is the request's failure, so errors.As finds its *Error.
func (e *UnconfirmedJobError) Unwrap() error { return e.Err }

// AmbiguousJobsError is a search for a lost job that found more unclaimed
// jobs in the request's window than requests on this machine can have
// made: one was requested from elsewhere, and nothing tells which.
type AmbiguousJobsError struct{ JobIDs []string }

func (e *AmbiguousJobsError) Error() string {
	return fmt.Sprintf("%d unclaimed jobs of the snapshot fall in the request's window (%s), more than this machine's lost requests can have made",
		len(e.JobIDs), strings.Join(e.JobIDs, ", "))
}

// NotSentError is a call that ended (its context was cancelled or its
// deadline passed) before its request was sent: Atlas was asked nothing.
type NotSentError struct{ Err error }

func (e *NotSentError) Error() string { return "atlas: the request was not sent: " + e.Err.Error() }
func (e *NotSentError) Unwrap() error { return e.Err }

// NoAnswerError is an attempt that got no byte of an answer from BaseURL
// in Waited.
type NoAnswerError struct {
	BaseURL string
	Waited  time.Duration
}

func (e *NoAnswerError) Error() string {
	return fmt.Sprintf("no answer within %s", e.Waited)
}

// errorText is err's message without the package prefix; the client's
// errors carry no URL (see transportError), so nothing secret is in it.
func errorText(err error) string {
	if err == nil {
		return "no error"
	}
	return strings.TrimPrefix(err.Error(), "atlas: ")
}

// apiErrorBody is Atlas's ApiError schema.
type apiErrorBody struct {
	Detail     string `json:"detail"`
	Error      *int   `json:"error"`
	ErrorCode  string `json:"errorCode"`
	Parameters []any  `json:"parameters"`
	Reason     string `json:"reason"`
}

// decodeError builds an *Error from a non-2xx answer. A body that is not an
// Atlas error is kept as a short, sanitised excerpt in Detail.
func decodeError(method, path string, status int, body []byte) *Error {
	e := &Error{Method: method, Path: path, StatusCode: status, Reason: http.StatusText(status)}
	var ab apiErrorBody
	if err := json.Unmarshal(body, &ab); err == nil && (ab.ErrorCode != "" || ab.Error != nil || ab.Detail != "") {
		e.ErrorCode = ab.ErrorCode
		e.Detail = sanitise(ab.Detail, 500)
		if ab.Reason != "" {
			e.Reason = sanitise(ab.Reason, 200)
		}
		e.Parameters = ab.Parameters
		return e
	}
	if len(strings.TrimSpace(string(body))) > 0 {
		e.Detail = "unexpected response body: " + Excerpt(body)
	}
	return e
}

// urlQuery matches a URL's query string, also with JSON-escaped slashes.
var urlQuery = regexp.MustCompile(`(?i)(https?:(?:\\?/){2}[^\s"'<>?]*)\?[^\s"'<>]*`)

// secretParam matches a credential-like parameter outside a whole URL.
// No word boundary is required before the name: sessiontoken= and
// x-goog-signature= are secrets too (the fuzzer found 0token=0 slipping by).
var secretParam = regexp.MustCompile(`(?i)([a-z0-9_.-]*(?:token|signature|credential|sig|secret))=[^&\s"'<>\\]+`)

// Excerpt returns at most 80 characters of b, with control characters
// replaced and the query string of any URL removed, so a presigned link
// can never travel in an error message.
func Excerpt(b []byte) string {
	const limit = 80
	s := sanitise(string(b), limit)
	return fmt.Sprintf("%q", s)
}

func sanitise(s string, limit int) string {
	s = urlQuery.ReplaceAllString(s, "$1?[redacted]")
	s = secretParam.ReplaceAllString(s, "$1=[redacted]")
	return printable(s, limit)
}

// printable replaces invalid UTF-8 and control characters and cuts s to
// limit characters.
func printable(s string, limit int) string {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	s = strings.Map(func(r rune) rune {
		if unicode.IsControl(r) {
			return ' '
		}
		return r
	}, s)
	if utf8.RuneCountInString(s) > limit {
		r := []rune(s)
		s = string(r[:limit]) + "…"
	}
	return s
}

// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"bytes"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
)

// apiError is the Atlas ApiError body. Atlas always sends error and
// errorCode; the simulator also always sends detail, parameters and reason.
type apiError struct {
	Detail     string `json:"detail"`
	Status     int    `json:"error"`
	ErrorCode  string `json:"errorCode"`
	Parameters []any  `json:"parameters"`
	Reason     string `json:"reason"`
}

func newAPIError(status int, code, detail string, params ...any) *apiError {
	if params == nil {
		params = []any{}
	}
	return &apiError{
		Detail:     detail,
		Status:     status,
		ErrorCode:  code,
		Parameters: params,
		Reason:     http.StatusText(status),
	}
}

// Error codes the simulator answers with. Those marked "simulator" are not
// in the reference; the rest are.
const (
	codeGroupNotFound          = "GROUP_NOT_FOUND"
	codeInvalidGroupID         = "INVALID_GROUP_ID"
	codeClusterNotFound        = "CLUSTER_NOT_FOUND"
	codeTenantSnapshotNotFound = "TENANT_SNAPSHOT_NOT_FOUND"
	codeInvalidSnapshotID      = "INVALID_SNAPSHOT_ID"
	codeTenantRestoreNotFound  = "TENANT_RESTORE_NOT_FOUND"
	codeIncompleteSnapshot     = "CANNOT_DOWNLOAD_INCOMPLETE_SNAPSHOT"
	codeTooManyDownloads       = "TOO_MANY_SNAPSHOT_DOWNLOADS"
	codeConcurrentDownload     = "CANNOT_DOWNLOAD_SNAPSHOT_CONCURRENTLY"
	codeMalformedJSON          = "MALFORMED_JSON"
	codeInvalidJSON            = "INVALID_JSON"
	codeValidationError        = "VALIDATION_ERROR"
	codeInvalidAttribute       = "INVALID_ATTRIBUTE"
	codeUserUnauthorized       = "USER_UNAUTHORIZED"
	codeResourceNotFound       = "RESOURCE_NOT_FOUND"
	codeRateLimited            = "RATE_LIMITED"
	codeRateLimitedTokenBucket = "RATE_LIMITED_TOKEN_BUCKET"
	codeUnexpectedError        = "UNEXPECTED_ERROR"
	codeSnapshotNotFound       = "SNAPSHOT_NOT_FOUND"
	codeVersionGone            = "VERSION_GONE"
	codeFlexInClusterAPI       = "CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API"
	codeNonFlexInFlexAPI       = "CANNOT_USE_NON_FLEX_CLUSTER_IN_FLEX_API"
	codeServiceUnavailable     = "SERVICE_UNAVAILABLE"                // simulator
	codeInvalidVersion         = "INVALID_VERSION"                    // simulator, 406
	codeFlexClusterNotFound    = "FLEX_CLUSTER_NOT_FOUND"             // simulator
	codeFlexRestoreJobNotFound = "FLEX_BACKUP_RESTORE_NOT_FOUND"      // simulator
	codeInvalidQueryParameter  = "INVALID_QUERY_PARAMETER"            // simulator
	codeMethodNotAllowed       = "METHOD_NOT_ALLOWED"                 // simulator
	codeBodyTooLarge           = "REQUEST_BODY_TOO_LARGE"             // simulator
	codeMissingAttribute       = "MISSING_ATTRIBUTE"                  // recorded from Atlas (restores)
	codeIncompleteRestore      = "CANNOT_RESTORE_INCOMPLETE_SNAPSHOT" // simulator
	codeGroupNameNotFound      = "GROUP_NAME_NOT_FOUND"               // simulator
	codeBackupConfigNotFound   = "BACKUP_CONFIG_NOT_FOUND"            // simulator; MongoDB's provider knows it
	codeInvalidDownloadToken   = "INVALID_DOWNLOAD_TOKEN"             // simulator, download host
	codeDownloadExpired        = "DOWNLOAD_URL_EXPIRED"               // simulator, download host
)

type link struct {
	Rel  string `json:"rel"`
	Href string `json:"href"`
}

func selfLinks(href string) []link { return []link{{Rel: "self", Href: href}} }

// encodeJSON renders v the way Atlas does: no HTML escaping (URLs keep their
// '&'), indented when the caller asked for pretty output.
func encodeJSON(v any, pretty bool) []byte {
	var buf bytes.Buffer
	enc := json.NewEncoder(&buf)
	enc.SetEscapeHTML(false)
	if pretty {
		enc.SetIndent("", "  ")
	}
	if err := enc.Encode(v); err != nil {
		// Only simulator-built values get here; a failure is a simulator bug.
		panic(fmt.Sprintf("atlassim: encoding response: %v", err))
	}
	return buf.Bytes()
}

// pageParams are the pagination query parameters of a list request. The
// zero value stands for an unpaged list: every item, one page.
type pageParams struct {
	num, perPage int
	includeCount bool
}

// writeListPage answers a list: one page when p is paging, else every item
// with its count and a self link to the URL as asked (an unpaged list
// ignores paging parameters, so no next or previous link is made).
func writeListPage[T any](c *call, items []T, p pageParams) {
	if p.perPage > 0 {
		writeList(c, items, p)
		return
	}
	n := len(items)
	page := listPage{Links: selfLinks(c.requestURL().String()), Results: items, TotalCount: &n}
	if items == nil {
		page.Results = []T{}
	}
	if c.envelope {
		st := http.StatusOK
		page.Status = &st
	}
	c.writeJSON(page)
}

const (
	defaultItemsPerPage = 100
	maxItemsPerPage     = 500
)

func parsePage(q url.Values) (pageParams, *apiError) {
	p := pageParams{num: 1, perPage: defaultItemsPerPage, includeCount: true}
	if v, ok := q["pageNum"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 {
			return p, badQueryParam("pageNum", v[0], "a positive integer")
		}
		p.num = n
	}
	if v, ok := q["itemsPerPage"]; ok {
		n, err := strconv.Atoi(v[0])
		if err != nil || n < 1 || n > maxItemsPerPage {
			return p, badQueryParam("itemsPerPage", v[0], fmt.Sprintf("an integer from 1 to %d", maxItemsPerPage))
		}
		p.perPage = n
	}
	if v, ok := q["includeCount"]; ok {
		b, err := strconv.ParseBool(v[0])
		if err != nil {
			return p, badQueryParam("includeCount", v[0], "true or false")
		}
		p.includeCount = b
	}
	return p, nil
}

func badQueryParam(name, value, want string) *apiError {
	return newAPIError(http.StatusBadRequest, codeInvalidQueryParameter,
		fmt.Sprintf("Invalid query parameter %s: %q; want %s.", name, value, want), name, value)
}

// pageOf returns the slice of items on page p.
func pageOf[T any](items []T, p pageParams) []T {
	start := (p.num - 1) * p.perPage
	if p.num-1 > len(items)/p.perPage || start >= len(items) {
		return []T{}
	}
	end := min(start+p.perPage, len(items))
	return items[start:end]
}

// listPage is the Atlas paginated list body.
type listPage struct {
	Links      []link `json:"links"`
	Results    any    `json:"results"`
	TotalCount *int   `json:"totalCount,omitempty"`
	Status     *int   `json:"status,omitempty"` // envelope=true only
}

// pageLinks builds self, next and previous links for a list at requestURL
// (absolute, query included).
func pageLinks(requestURL *url.URL, p pageParams, total int) []link {
	at := func(n int) string {
		u := *requestURL
		q := u.Query()
		q.Set("pageNum", strconv.Itoa(n))
		q.Set("itemsPerPage", strconv.Itoa(p.perPage))
		u.RawQuery = q.Encode()
		return u.String()
	}
	links := []link{{Rel: "self", Href: at(p.num)}}
	if total > 0 && p.num <= (total-1)/p.perPage { // num*perPage < total, without overflow
		links = append(links, link{Rel: "next", Href: at(p.num + 1)})
	}
	if p.num > 1 {
		links = append(links, link{Rel: "previous", Href: at(p.num - 1)})
	}
	return links
}

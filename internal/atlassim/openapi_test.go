// SPDX-License-Identifier: MPL-2.0

package atlassim

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/getkin/kin-openapi/openapi3"
	"github.com/getkin/kin-openapi/openapi3filter"
	"github.com/getkin/kin-openapi/routers"
	"github.com/getkin/kin-openapi/routers/gorillamux"
)

// The simulator's answers are checked against servedSpec, the committed cut
// of the published OpenAPI description (scripts/openapi-served regenerates
// it). specEnv, when set, names another description to check against
// instead, such as atlas-openapi-tenant-flex.yaml from shared/reference.
const (
	servedSpec = "testdata/openapi-served.json"
	specEnv    = "ATLAS_OPENAPI_SPEC"
)

// specPath is the description the tests validate against.
func specPath() string {
	if p := os.Getenv(specEnv); p != "" {
		return p
	}
	return servedSpec
}

// exchange is one API request and the answer the simulator gave.
type exchange struct {
	method    string
	target    string // request URI
	reqHeader http.Header
	status    int
	header    http.Header
	body      []byte
}

// recorded holds every API exchange of the package's tests; TestMain
// validates them once the tests have passed.
var recorded struct {
	sync.Mutex
	list []exchange
}

// recordExchanges wraps the simulator so that every API answer it gives in
// a test is kept for validation. Dropped connections give no answer.
func recordExchanges(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if !strings.HasPrefix(r.URL.Path, "/api/atlas/") {
			h.ServeHTTP(w, r)
			return
		}
		tw := &teeWriter{ResponseWriter: w}
		h.ServeHTTP(tw, r)
		if tw.hijacked {
			return
		}
		header, body := w.Header().Clone(), tw.body.Bytes()
		if header.Get("Content-Encoding") == "gzip" {
			// Validate what the client reads, as its transport would.
			zr, err := gzip.NewReader(bytes.NewReader(body))
			if err == nil {
				body, err = io.ReadAll(zr)
			}
			if err != nil {
				body = []byte("(gzip answer that does not decode: " + err.Error() + ")")
			}
			header.Del("Content-Encoding")
		}
		recorded.Lock()
		defer recorded.Unlock()
		recorded.list = append(recorded.list, exchange{
			method: r.Method, target: r.URL.RequestURI(), reqHeader: r.Header.Clone(),
			status: cmpOr(tw.status, http.StatusOK), header: header, body: body,
		})
	})
}

func cmpOr(a, b int) int {
	if a != 0 {
		return a
	}
	return b
}

// teeWriter passes an answer through and keeps a copy.
type teeWriter struct {
	http.ResponseWriter
	status   int
	body     bytes.Buffer
	hijacked bool
}

func (w *teeWriter) WriteHeader(code int) {
	if w.status == 0 {
		w.status = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *teeWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	w.body.Write(b)
	return w.ResponseWriter.Write(b)
}

func (w *teeWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

func (w *teeWriter) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	w.hijacked = true
	return http.NewResponseController(w.ResponseWriter).Hijack()
}

func TestMain(m *testing.M) {
	code := m.Run()
	if code == 0 {
		recorded.Lock()
		list := recorded.list
		recorded.Unlock()
		v, why := loadSpecValidator()
		if v == nil {
			fmt.Fprintf(os.Stderr, "atlassim: %s; the %d recorded API answers could not be validated against the OpenAPI description\n", why, len(list))
			code = 1
		} else {
			problems, checked := v.validateAll(list, false)
			if len(problems) > 0 {
				fmt.Fprintf(os.Stderr, "atlassim: %d of %d recorded API answers disagree with %s:\n  %s\n",
					len(problems), checked, specPath(), strings.Join(problems, "\n  "))
				code = 1
			} else if testing.Verbose() {
				fmt.Printf("atlassim: %d recorded API answers agree with the OpenAPI description\n", checked)
			}
		}
	}
	os.Exit(code)
}

// specValidator checks exchanges against the OpenAPI description.
type specValidator struct {
	doc    *openapi3.T
	router routers.Router
}

var specOnce struct {
	sync.Once
	v   *specValidator
	why string
}

// loadSpecValidator loads the description (specPath); it returns nil and
// the reason when it cannot.
func loadSpecValidator() (*specValidator, string) {
	specOnce.Do(func() {
		path := specPath()
		if _, err := os.Stat(path); err != nil {
			specOnce.why = fmt.Sprintf("the OpenAPI description %s cannot be read (%v); regenerate it with scripts/openapi-served, or set %s", path, err, specEnv)
			return
		}
		loader := openapi3.NewLoader()
		doc, err := loader.LoadFromFile(path)
		if err != nil {
			specOnce.why = fmt.Sprintf("loading %s: %v", path, err)
			return
		}
		if err := doc.Validate(context.Background()); err != nil {
			specOnce.why = fmt.Sprintf("%s is not a valid OpenAPI description: %v", path, err)
			return
		}
		router, err := gorillamux.NewRouter(doc)
		if err != nil {
			specOnce.why = fmt.Sprintf("routing %s: %v", path, err)
			return
		}
		specOnce.v = &specValidator{doc: doc, router: router}
	})
	return specOnce.v, specOnce.why
}

// requireSpec fails the test when the description cannot be loaded: the
// committed one is always there, so validation never silently stops.
func requireSpec(t *testing.T) *specValidator {
	t.Helper()
	v, why := loadSpecValidator()
	if v == nil {
		t.Fatal(why)
	}
	return v
}

// undocumentedStatuses are answers the description lists for no operation
// but that Atlas gives (405 for a wrong method, 406 for a missing version,
// 410 for a removed one, 503 when overloaded).
var undocumentedStatuses = map[int]bool{405: true, 406: true, 410: true, 503: true}

// undocumentedFor are statuses one operation answers that the description
// does not list for it: 400 for bad paging values on listClusters and
// listGroupTeams (whose parameters the description bounds), and 400
// CANNOT_USE_FLEX_CLUSTER_IN_CLUSTER_API for a Flex cluster's name on
// getCluster, as on the tenant backup paths.
var undocumentedFor = map[string]map[int]bool{
	"listClusters":   {http.StatusBadRequest: true},
	"listGroupTeams": {http.StatusBadRequest: true},
	"getCluster":     {http.StatusBadRequest: true},
}

// check validates one exchange. v1.0 backup and project answers are checked
// against the v2 operation of the same path, as
// application/vnd.atlas.2023-01-01+json; v1.0 cluster answers have the
// legacy shape, which the description does not hold, and are not checked.
// It returns the operation id ("" when the path is not in the description)
// and a problem ("" when none). strict also fails undocumented statuses
// other than undocumentedStatuses.
func (v *specValidator) check(x exchange, strict bool) (string, string) {
	target, header := x.target, x.header.Clone()
	if rest, ok := strings.CutPrefix(target, "/api/atlas/v1.0/"); ok {
		if strings.Contains(rest, "/clusters") && !strings.Contains(rest, "/backup/tenant/") {
			return "", ""
		}
		target = "/api/atlas/v2/" + rest
		if x.status < 300 && header.Get("Content-Type") == "application/json" {
			header.Set("Content-Type", mediaTypeTenantV2)
		}
	}
	req, err := http.NewRequest(x.method, "https://cloud.mongodb.com"+target, nil)
	if err != nil {
		return "", fmt.Sprintf("%s %s: %v", x.method, x.target, err)
	}
	if req.URL.Query().Get("envelope") == "true" {
		return "", "" // an enveloped answer has the envelope's shape, not the schema's
	}
	req.Header = x.reqHeader.Clone()
	route, params, err := v.router.FindRoute(req)
	if err != nil {
		return "", "" // not an operation of the description (or not this method)
	}
	input := &openapi3filter.ResponseValidationInput{
		RequestValidationInput: &openapi3filter.RequestValidationInput{Request: req, PathParams: params, Route: route},
		Status:                 x.status,
		Header:                 header,
		Body:                   io.NopCloser(bytes.NewReader(x.body)),
		Options: &openapi3filter.Options{
			MultiError:            true,
			IncludeResponseStatus: strict && !undocumentedStatuses[x.status] && !undocumentedFor[route.Operation.OperationID][x.status],
		},
	}
	if err := openapi3filter.ValidateResponse(context.Background(), input); err != nil {
		return route.Operation.OperationID, fmt.Sprintf("%s %s -> %d (%s): %v; body %s",
			x.method, x.target, x.status, route.Operation.OperationID, oneLine(err), bytes.TrimSpace(x.body))
	}
	return route.Operation.OperationID, ""
}

func (v *specValidator) validateAll(list []exchange, strict bool) (problems []string, checked int) {
	seen := map[string]bool{}
	for _, x := range list {
		op, problem := v.check(x, strict)
		if op != "" {
			checked++
		}
		if problem != "" && !seen[problem] {
			seen[problem] = true
			problems = append(problems, problem)
		}
	}
	return problems, checked
}

func oneLine(err error) string {
	var me openapi3.MultiError
	if errors.As(err, &me) {
		var parts []string
		for _, e := range me {
			parts = append(parts, oneLine(e))
		}
		return strings.Join(parts, " | ")
	}
	return strings.Join(strings.Fields(err.Error()), " ")
}

// unservedOperations are operations of the description the simulator does
// not serve: none at present.
var unservedOperations = map[string]bool{}

// TestOpenAPIConformance drives every tenant v2 and Flex operation, with
// good and bad requests, and validates each answer strictly.
func TestOpenAPIConformance(t *testing.T) {
	v := requireSpec(t)
	env := newSimEnv(t, Config{})
	tenant := env.client("Accept", mediaTypeTenantV2, "Content-Type", mediaTypeTenantV2)
	flex := env.client("Accept", mediaTypeFlex, "Content-Type", mediaTypeFlex)
	group := env.client("Accept", mediaTypeTenantV2)
	clusters := env.client("Accept", mediaTypeClusters)
	users := env.client("Accept", usersV2.mediaType)
	project := "/api/atlas/v2/groups/" + DefaultProjectID
	tBase := "/api/atlas/v2/groups/" + DefaultProjectID + "/clusters/" + DefaultClusterName + "/backup/tenant"
	fBase := "/api/atlas/v2/groups/" + DefaultProjectID + "/flexClusters/" + DefaultFlexClusterName + "/backup"
	const unknownID = "0123456789abcdef01234567"

	tJob := tenant.getJSON(http.MethodPost, tBase+"/download", downloadBody(DefaultSnapshotID), http.StatusOK)
	fJob := flex.getJSON(http.MethodPost, fBase+"/download", downloadBody(DefaultFlexSnapshotID), http.StatusOK)

	recorded.Lock()
	start := len(recorded.list)
	recorded.Unlock()

	requests := []struct {
		c            *digestClient
		method, uri  string
		body         string
		unauthorized bool
	}{
		{c: tenant, method: "POST", uri: tBase + "/download", body: downloadBody(DefaultOlderSnapshotID)},
		{c: tenant, method: "POST", uri: tBase + "/download", body: downloadBody(DefaultRunningSnapshotID)},
		{c: tenant, method: "POST", uri: tBase + "/download", body: `{"snapshotId":1}`},
		{c: tenant, method: "POST", uri: tBase + "/download", body: downloadBody(unknownID)},
		{c: tenant, method: "POST", uri: tBase + "/restore", body: downloadBody(DefaultSnapshotID)},
		{c: tenant, method: "POST", uri: tBase + "/restore", body: restoreBody(DefaultSnapshotID, DefaultSecondClusterName, DefaultProjectID)},
		{c: tenant, method: "POST", uri: tBase + "/restore", body: restoreBody(DefaultSnapshotID, "Nope", DefaultProjectID)},
		{c: tenant, method: "GET", uri: tBase + "/snapshots"},
		{c: tenant, method: "GET", uri: tBase + "/snapshots?itemsPerPage=1&pageNum=2&includeCount=false"},
		{c: tenant, method: "GET", uri: tBase + "/snapshots?itemsPerPage=0"},
		{c: tenant, method: "GET", uri: tBase + "/snapshots/" + DefaultSnapshotID + "?pretty=true"},
		{c: tenant, method: "GET", uri: tBase + "/snapshots/" + DefaultRunningSnapshotID},
		{c: tenant, method: "GET", uri: tBase + "/snapshots/" + unknownID},
		{c: tenant, method: "GET", uri: tBase + "/restores"},
		{c: tenant, method: "GET", uri: tBase + "/restores/" + tJob["id"].(string)},
		{c: tenant, method: "GET", uri: tBase + "/restores/" + unknownID},
		{c: tenant, method: "GET", uri: "/api/atlas/v2/groups/" + unknownID + "/clusters/Cluster0/backup/tenant/restores"},
		{c: tenant, method: "GET", uri: "/api/atlas/v2/groups/" + DefaultProjectID + "/clusters/" + DefaultFlexClusterName + "/backup/tenant/snapshots"},
		{c: tenant, method: "GET", uri: tBase + "/snapshots", unauthorized: true},
		{c: flex, method: "POST", uri: fBase + "/download", body: downloadBody(DefaultFlexOlderSnapshotID)},
		{c: flex, method: "POST", uri: fBase + "/download", body: downloadBody(DefaultFlexRunningSnapshotID)},
		{c: flex, method: "POST", uri: fBase + "/download", body: `{}`},
		{c: flex, method: "POST", uri: fBase + "/download", body: downloadBody(DefaultSnapshotID)},
		{c: flex, method: "POST", uri: fBase + "/restoreJobs", body: downloadBody(DefaultFlexSnapshotID)},
		{c: flex, method: "POST", uri: fBase + "/restoreJobs", body: restoreBody(DefaultFlexSnapshotID, DefaultFlexClusterName, DefaultProjectID)},
		{c: flex, method: "POST", uri: fBase + "/restoreJobs", body: restoreBody(DefaultFlexRunningSnapshotID, DefaultFlexClusterName, DefaultProjectID)},
		{c: flex, method: "GET", uri: project + "/flexClusters/" + DefaultFlexClusterName},
		{c: flex, method: "GET", uri: fBase + "/snapshots"},
		{c: flex, method: "GET", uri: fBase + "/snapshots?itemsPerPage=2"},
		{c: flex, method: "GET", uri: fBase + "/snapshots?pageNum=x"},
		{c: flex, method: "GET", uri: fBase + "/snapshots/" + DefaultFlexSnapshotID},
		{c: flex, method: "GET", uri: fBase + "/snapshots/" + unknownID},
		{c: flex, method: "GET", uri: fBase + "/restoreJobs"},
		{c: flex, method: "GET", uri: fBase + "/restoreJobs/" + fJob["id"].(string)},
		{c: flex, method: "GET", uri: fBase + "/restoreJobs/" + unknownID},
		{c: flex, method: "GET", uri: "/api/atlas/v2/groups/" + DefaultProjectID + "/flexClusters/Nope/backup/snapshots"},
		{c: flex, method: "GET", uri: "/api/atlas/v2/groups/" + DefaultProjectID + "/flexClusters/" + DefaultClusterName + "/backup/restoreJobs"},
		{c: flex, method: "GET", uri: fBase + "/restoreJobs", unauthorized: true},
		{c: group, method: "GET", uri: project},
		{c: group, method: "GET", uri: project + "?envelope=false&pretty=true"},
		{c: group, method: "GET", uri: "/api/atlas/v2/groups/" + unknownID},
		{c: group, method: "GET", uri: "/api/atlas/v2/groups/nothex"},
		{c: clusters, method: "GET", uri: project + "/clusters"},
		{c: clusters, method: "GET", uri: project + "/clusters?itemsPerPage=1&pageNum=2&includeCount=false"},
		{c: clusters, method: "GET", uri: project + "/clusters?itemsPerPage=0"},
		{c: clusters, method: "GET", uri: "/api/atlas/v2/groups/" + unknownID + "/clusters"},
		{c: clusters, method: "GET", uri: project + "/clusters/" + DefaultClusterName},
		{c: clusters, method: "GET", uri: project + "/clusters/Nope"},
		{c: clusters, method: "GET", uri: project + "/clusters/" + DefaultFlexClusterName},
		{c: flex, method: "GET", uri: project + "/flexClusters"},
		{c: flex, method: "GET", uri: project + "/flexClusters?itemsPerPage=1"},
		{c: flex, method: "GET", uri: "/api/atlas/v2/groups/" + unknownID + "/flexClusters"},
		{c: flex, method: "GET", uri: project + "/flexClusters/" + DefaultFlexClusterName},
		{c: flex, method: "GET", uri: project + "/flexClusters/Nope"},
		{c: flex, method: "GET", uri: project + "/flexClusters/" + DefaultClusterName},
		{c: group, method: "GET", uri: "/api/atlas/v2/groups/byName/Project-" + DefaultProjectID},
		{c: group, method: "GET", uri: "/api/atlas/v2/groups/byName/Nope"},
		{c: group, method: "GET", uri: project + "/teams"},
		{c: group, method: "GET", uri: "/api/atlas/v2/groups/" + unknownID + "/teams"},
		{c: group, method: "GET", uri: project + "/limits"},
		{c: group, method: "GET", uri: "/api/atlas/v2/groups/" + unknownID + "/limits"},
		{c: group, method: "GET", uri: project + "/settings"},
		{c: group, method: "GET", uri: "/api/atlas/v2/groups/" + unknownID + "/settings"},
		{c: group, method: "GET", uri: project + "/ipAddresses"},
		{c: group, method: "GET", uri: "/api/atlas/v2/groups/" + unknownID + "/ipAddresses"},
		{c: group, method: "GET", uri: project + "/managedSlowMs"},
		{c: group, method: "GET", uri: "/api/atlas/v2/groups/" + unknownID + "/managedSlowMs"},
		{c: users, method: "GET", uri: project + "/users?pageNum=1&itemsPerPage=100"},
		{c: users, method: "GET", uri: "/api/atlas/v2/groups/" + unknownID + "/users"},
		{c: clusters, method: "GET", uri: project + "/clusters/" + DefaultClusterName + "/processArgs"},
		{c: group, method: "GET", uri: project + "/clusters/" + DefaultClusterName + "/processArgs"},
		{c: clusters, method: "GET", uri: project + "/clusters/Nope/processArgs"},
		{c: clusters, method: "GET", uri: project + "/clusters/" + DefaultFlexClusterName + "/processArgs"},
	}
	for _, rq := range requests {
		if rq.unauthorized {
			send(t, env.srv.Client(), rq.method, env.srv.URL+rq.uri, rq.body, "", rq.c.hdr...)
		} else {
			rq.c.do(rq.method, rq.uri, rq.body)
		}
	}
	// Faults the description documents: 429 and 500.
	for _, f := range []Faults{{RateLimitCapacity: 1}, {ErrorRate: 1, ErrorStatus: 500}} {
		if err := env.sim.SetFaults(f); err != nil {
			t.Fatal(err)
		}
		tenant.do(http.MethodGet, tBase+"/snapshots", "")
		tenant.do(http.MethodGet, tBase+"/snapshots", "")
		flex.do(http.MethodGet, fBase+"/snapshots", "")
		flex.do(http.MethodGet, fBase+"/snapshots", "")
	}
	// The download limits' 400s, while the first jobs are pinned RUNNING.
	for _, pin := range []struct{ cluster, id string }{{DefaultClusterName, tJob["id"].(string)}, {DefaultFlexClusterName, fJob["id"].(string)}} {
		if err := env.sim.SetJobStatus(DefaultProjectID, pin.cluster, pin.id, StatusRunning); err != nil {
			t.Fatal(err)
		}
	}
	for _, f := range []struct {
		faults Faults
		code   string
	}{{Faults{OneDownloadPerSnapshot: true}, codeConcurrentDownload}, {Faults{DownloadLimit: 1}, codeTooManyDownloads}} {
		if err := env.sim.SetFaults(f.faults); err != nil {
			t.Fatal(err)
		}
		resp, data := tenant.do(http.MethodPost, tBase+"/download", downloadBody(DefaultSnapshotID))
		apiErrorBody(t, resp, data, http.StatusBadRequest, f.code)
		resp, data = flex.do(http.MethodPost, fBase+"/download", downloadBody(DefaultFlexSnapshotID))
		apiErrorBody(t, resp, data, http.StatusBadRequest, f.code)
	}

	recorded.Lock()
	list := append([]exchange(nil), recorded.list[start:]...)
	recorded.Unlock()

	answered := map[string]map[int]bool{} // operation id -> statuses seen
	for _, x := range list {
		op, problem := v.check(x, true)
		if problem != "" {
			t.Error(problem)
		}
		if op != "" {
			if answered[op] == nil {
				answered[op] = map[int]bool{}
			}
			answered[op][x.status] = true
		}
	}
	var missing []string
	for path, item := range v.doc.Paths.Map() {
		for method, op := range item.Operations() {
			statuses := answered[op.OperationID]
			switch {
			case unservedOperations[op.OperationID]:
			case !statuses[http.StatusOK]:
				missing = append(missing, fmt.Sprintf("%s %s (%s): no 200 answer", method, path, op.OperationID))
			case !statuses[http.StatusNotFound] && !statuses[http.StatusBadRequest] && !statuses[http.StatusConflict]:
				missing = append(missing, fmt.Sprintf("%s %s (%s): no error answer", method, path, op.OperationID))
			}
		}
	}
	for _, status := range []int{http.StatusUnauthorized, http.StatusTooManyRequests, http.StatusInternalServerError} {
		some := false
		for _, statuses := range answered {
			some = some || statuses[status]
		}
		if !some {
			missing = append(missing, fmt.Sprintf("no operation answered %d", status))
		}
	}
	sort.Strings(missing)
	for _, m := range missing {
		t.Error("not exercised: " + m)
	}
}

// TestSpecValidatorCatchesDisagreement makes sure the checks above can fail:
// answers that break the description are reported.
func TestSpecValidatorCatchesDisagreement(t *testing.T) {
	v := requireSpec(t)
	tJobs := "/api/atlas/v2/groups/" + DefaultProjectID + "/clusters/Cluster0/backup/tenant/restores"
	fJob := "/api/atlas/v2/groups/" + DefaultProjectID + "/flexClusters/Flex0/backup/restoreJobs/" + DefaultSnapshotID
	jsonHeader := func(ct string) http.Header { return http.Header{"Content-Type": {ct}} }
	cases := []struct {
		name, target, ct string
		status           int
		body             string
		bad              bool
	}{
		{"good list", tJobs, mediaTypeTenantV2, 200, `{"links":[],"results":[],"totalCount":0}`, false},
		{"good v1.0 list", strings.Replace(tJobs, "/v2/", "/v1.0/", 1), "application/json", 200, `{"links":[],"results":[]}`, false},
		{"status not in the enum", tJobs, mediaTypeTenantV2, 200,
			`{"results":[{"id":"` + DefaultSnapshotID + `","snapshotId":"` + DefaultSnapshotID + `","targetDeploymentItemName":"C","status":"DONE"}]}`, true},
		{"required field missing", tJobs, mediaTypeTenantV2, 200, `{"results":[{"id":"` + DefaultSnapshotID + `"}]}`, true},
		{"count not an integer", tJobs, mediaTypeTenantV2, 200, `{"results":[],"totalCount":"7"}`, true},
		{"wrong media type", tJobs, "text/plain", 200, `{}`, true},
		{"flex job with a bad id", fJob, mediaTypeFlex, 200, `{"id":"XYZ"}`, true},
		{"error without errorCode", tJobs, "application/json", 404, `{"error":404,"detail":"x"}`, true},
		{"undocumented status, strict", tJobs, "application/json", 418, `{}`, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			x := exchange{method: http.MethodGet, target: tc.target, reqHeader: http.Header{}, status: tc.status,
				header: jsonHeader(tc.ct), body: []byte(tc.body)}
			op, problem := v.check(x, true)
			if op == "" {
				t.Fatalf("%s matched no operation", tc.target)
			}
			if (problem != "") != tc.bad {
				t.Errorf("problem %q, want a problem: %v", problem, tc.bad)
			}
		})
	}
}

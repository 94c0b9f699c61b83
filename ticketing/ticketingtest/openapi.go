package ticketingtest

import (
	"bufio"
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"regexp"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/go-chi/chi/v5"
	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	"github.com/pb33f/libopenapi-validator/config"
	liberrors "github.com/pb33f/libopenapi-validator/errors"
	"github.com/pb33f/libopenapi-validator/schema_validation"
	"github.com/pb33f/libopenapi-validator/strict"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"

	"turno/docs"
)

// StatsEnv names a file to which each test that validated responses appends one line per response:
// "<test> <operationId> <status>". `TURNO_OPENAPI_STATS=/tmp/s go test ./...` tells how many responses the
// suite validated and which operations it never exercised.
const StatsEnv = "TURNO_OPENAPI_STATS"

// ValidateResponses wraps h, a Turno server's handler, so that every response to a request that matches an
// operation of the API document (docs.OpenAPI) is validated against it with libopenapi-validator: the
// status must be documented, the content type and body must match the response's schema (in strict mode:
// a property the schema does not declare is an error too), declared headers must match, and an error's
// code must be one the operation lists in x-error-codes (or x-common-error-codes). For a 2xx response the
// request is validated too, since the server accepted it: a request the document forbids, answered 2xx,
// means the document is wrong. A mismatch fails tb with the operation, the status and the validator's
// message. Requests the document does not describe (pages, static files, methods a path lacks) pass
// unchecked, and so do requests h does not route (when h is a chi router: a part the test did not mount)
// and a connection taken over for a WebSocket. Benchmarks are not validated.
func ValidateResponses(tb testing.TB, h http.Handler) http.Handler {
	if _, bench := tb.(*testing.B); bench {
		return h
	}
	api, err := loadAPI()
	if err != nil {
		tb.Fatalf("openapi: %v", err)
	}
	st := &stats{}
	tb.Cleanup(func() { st.flush(tb) })
	routes, _ := h.(chi.Routes)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		op := api.match(r.Method, r.URL.Path)
		if op == nil || (routes != nil && !routes.Match(chi.NewRouteContext(), r.Method, r.URL.Path)) {
			h.ServeHTTP(w, r)
			return
		}
		var body []byte
		if r.Body != nil && r.Body != http.NoBody {
			body, _ = io.ReadAll(r.Body)
			_ = r.Body.Close()
			r.Body = io.NopCloser(bytes.NewReader(body))
		}
		rec := &recorder{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		if rec.hijacked {
			st.add(op.id, http.StatusSwitchingProtocols)
			return
		}
		status := rec.status
		if status == 0 {
			status = http.StatusOK
		}
		if status == 499 && r.Context().Err() != nil {
			return // the client went away mid-request: no answer was read, none is documented
		}
		st.add(op.id, status)
		for _, msg := range api.check(op, r, body, status, w.Header(), rec.body.Bytes()) {
			tb.Errorf("openapi: %s (%s %s) answered %d: %s", op.id, op.method, op.path, status, msg)
		}
	})
}

// ValidateMessage checks a message of a WebSocket stream against the document's schema of that name
// (components/schemas: OfficeSnapshot, TicketSnapshot, Event, QueueChanged, Heartbeat), in strict mode
// like responses, and fails tb when it does not match.
func ValidateMessage(tb testing.TB, schema string, msg []byte) {
	tb.Helper()
	api, err := loadAPI()
	if err != nil {
		tb.Fatalf("openapi: %v", err)
	}
	api.mu.Lock() // the model builds schemas as they are first asked for
	defer api.mu.Unlock()
	proxy := api.model.Components.Schemas.GetOrZero(schema)
	if proxy == nil {
		tb.Fatalf("openapi: no schema %q in the document", schema)
	}
	s := proxy.Schema()
	var problems []string
	if _, errs := schema_validation.NewSchemaValidator().ValidateSchemaBytesWithVersion(s, msg, 3.1); len(errs) > 0 {
		problems = describe(errs)
	}
	var data any
	if json.Unmarshal(msg, &data) == nil {
		opts := config.NewValidationOptions(config.WithStrictMode())
		res := strict.NewValidator(opts, 3.1).Validate(strict.Input{Schema: s, Data: data, Direction: strict.DirectionResponse,
			Options: opts, BasePath: "$", Version: 3.1})
		for _, u := range res.UndeclaredValues {
			problems = append(problems, fmt.Sprintf("%s is not declared in the schema", u.Path))
		}
	}
	for _, p := range problems {
		tb.Errorf("openapi: message %s does not match %s: %s", msg, schema, p)
	}
}

// api is the document as the validator and the matcher need it, built once per test binary.
type api struct {
	// mu makes validations take turns: libopenapi renders a schema inline while validating against it and
	// writes to the shared model as it does (DynamicValue.MarshalYAMLInlineWithContext), so two at once race.
	mu     sync.Mutex
	v      validator.Validator // responses, in strict mode
	req    validator.Validator // requests: browsers send headers and cookies the document need not name
	model  *v3.Document
	ops    []*operation
	common map[string]map[string][]string // x-common-error-codes: group → status → codes
}

// operation is one documented operation.
type operation struct {
	id, method, path string
	pattern          *regexp.Regexp
	literal          int  // characters of the path outside parameters: the more, the more specific
	hasBody          bool // it takes a JSON body
	codes            map[string][]string
	item             *v3.PathItem
}

var loadAPI = sync.OnceValues(func() (*api, error) {
	doc, err := libopenapi.NewDocument(docs.OpenAPI())
	if err != nil {
		return nil, err
	}
	m, err := doc.BuildV3Model()
	if err != nil {
		return nil, err
	}
	a := &api{model: &m.Model}
	a.v = validator.NewValidatorFromV3Model(a.model,
		config.WithoutSecurityValidation(), // who may call what is the server's to decide, and its tests'
		config.WithStrictMode(),
		config.WithStrictIgnoredHeadersExtra("x-content-type-options", "referrer-policy", "x-frame-options",
			"content-security-policy", "strict-transport-security", "set-cookie", "retry-after",
			"x-ratelimit-limit", "x-ratelimit-remaining", "x-ratelimit-reset", "idempotency-key",
			"sec-fetch-site", "sec-fetch-mode", "sec-fetch-dest", "x-forwarded-host"))
	a.req = validator.NewValidatorFromV3Model(a.model, config.WithoutSecurityValidation())
	var raw struct {
		Common map[string]map[string][]string                `json:"x-common-error-codes"`
		Paths  map[string]map[string]jsonOperationExtensions `json:"paths"`
	}
	if err := json.Unmarshal(docs.OpenAPI(), &raw); err != nil {
		return nil, err
	}
	a.common = raw.Common
	for path, item := range m.Model.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			o := &operation{id: op.OperationId, method: strings.ToUpper(method), path: path, item: item,
				hasBody: op.RequestBody != nil, codes: raw.Paths[path][method].Codes}
			o.pattern, o.literal = pathPattern(path)
			a.ops = append(a.ops, o)
		}
	}
	return a, nil
})

// jsonOperationExtensions reads what the validator leaves out of an operation; a path item's parameters
// (an array) decode into it as nothing.
type jsonOperationExtensions struct {
	Codes map[string][]string `json:"x-error-codes"`
}

func (j *jsonOperationExtensions) UnmarshalJSON(b []byte) error {
	if len(b) > 0 && b[0] != '{' {
		return nil
	}
	var v struct {
		Codes map[string][]string `json:"x-error-codes"`
	}
	if err := json.Unmarshal(b, &v); err != nil {
		return err
	}
	j.Codes = v.Codes
	return nil
}

var templateParam = regexp.MustCompile(`\{[^{}/]+\}`)

// pathPattern compiles an OpenAPI path into a regular expression: a parameter matches one segment or
// part of one (/t/{code}.pdf).
func pathPattern(path string) (*regexp.Regexp, int) {
	var b strings.Builder
	b.WriteString("^")
	last, literal := 0, 0
	for _, loc := range templateParam.FindAllStringIndex(path, -1) {
		b.WriteString(regexp.QuoteMeta(path[last:loc[0]]))
		literal += loc[0] - last
		b.WriteString(`[^/]+`)
		last = loc[1]
	}
	b.WriteString(regexp.QuoteMeta(path[last:]))
	literal += len(path) - last
	b.WriteString("$")
	return regexp.MustCompile(b.String()), literal
}

// match returns the most specific operation of method whose path matches, or nil.
func (a *api) match(method, path string) *operation {
	var best *operation
	for _, o := range a.ops {
		if o.method == method && o.pattern.MatchString(path) && (best == nil || o.literal > best.literal) {
			best = o
		}
	}
	return best
}

// check validates one exchange and returns what is wrong with it.
func (a *api) check(op *operation, r *http.Request, reqBody []byte, status int, header http.Header, body []byte) []string {
	a.mu.Lock()
	defer a.mu.Unlock()
	var out []string
	req := r.Clone(r.Context())
	req.Body = io.NopCloser(bytes.NewReader(reqBody))
	res := &http.Response{StatusCode: status, Header: header.Clone(), Body: io.NopCloser(bytes.NewReader(body)), Request: req}
	if _, errs := a.v.GetResponseBodyValidator().ValidateResponseBodyWithPathItem(req, res, op.item, op.path); len(errs) > 0 {
		out = append(out, describe(errs)...)
	}
	if status >= 200 && status < 300 {
		req.Body = io.NopCloser(bytes.NewReader(reqBody))
		if _, errs := a.req.ValidateHttpRequestSyncWithPathItem(req, op.item, op.path); len(errs) > 0 {
			for _, m := range describe(errs) {
				out = append(out, "the request the server accepted does not match the document: "+m)
			}
		}
	}
	if status >= 400 && strings.HasPrefix(header.Get("Content-Type"), "application/json") {
		var e struct {
			Error struct {
				Code string `json:"code"`
			} `json:"error"`
		}
		if json.Unmarshal(body, &e) == nil && e.Error.Code != "" && !a.listed(op, status, e.Error.Code) {
			out = append(out, fmt.Sprintf("error code %q is not in the operation's x-error-codes[%d] (nor x-common-error-codes)", e.Error.Code, status))
		}
	}
	return out
}

// elementIndex is an index in a field name, preferences[2].day, which x-error-codes writes [i].
var elementIndex = regexp.MustCompile(`\[[0-9]+\]`)

// listed reports whether the document lists code for op's status.
func (a *api) listed(op *operation, status int, code string) bool {
	s := fmt.Sprint(status)
	code = elementIndex.ReplaceAllString(code, "[i]")
	lists := [][]string{op.codes[s], a.common["all"][s]}
	if op.hasBody {
		lists = append(lists, a.common["body"][s])
		if status == http.StatusUnprocessableEntity && strings.HasPrefix(code, "invalid_") {
			return true // a value of the wrong type in any field of the body: invalid_<field>
		}
	}
	if op.method != http.MethodGet {
		lists = append(lists, a.common["write"][s])
	}
	for _, l := range lists {
		if slices.Contains(l, code) {
			return true
		}
	}
	return false
}

// describe renders the validator's errors, one line each, with the schema failures in them.
func describe(errs []*liberrors.ValidationError) []string {
	var out []string
	for _, e := range errs {
		msg := e.Message
		if e.Reason != "" && e.Reason != e.Message {
			msg += ": " + e.Reason
		}
		for _, f := range e.SchemaValidationErrors {
			where := f.FieldPath
			if where == "" {
				where = f.KeywordLocation
			}
			msg += fmt.Sprintf("; %s at %s", f.Reason, where)
		}
		out = append(out, msg)
	}
	return out
}

// recorder passes a response through and keeps a copy of its status and body. It lets a WebSocket
// upgrade take the connection over.
type recorder struct {
	http.ResponseWriter
	status   int
	body     bytes.Buffer
	hijacked bool
}

func (r *recorder) WriteHeader(status int) {
	if r.status == 0 {
		r.status = status
	}
	r.ResponseWriter.WriteHeader(status)
}

func (r *recorder) Write(b []byte) (int, error) {
	if r.status == 0 {
		r.status = http.StatusOK
	}
	r.body.Write(b)
	return r.ResponseWriter.Write(b)
}

// Hijack hands the connection to a WebSocket upgrade.
func (r *recorder) Hijack() (net.Conn, *bufio.ReadWriter, error) {
	conn, rw, err := http.NewResponseController(r.ResponseWriter).Hijack()
	if err == nil {
		r.hijacked = true
	}
	return conn, rw, err
}

// Flush passes flushes through.
func (r *recorder) Flush() { _ = http.NewResponseController(r.ResponseWriter).Flush() }

// Unwrap lets http.ResponseController reach the underlying writer.
func (r *recorder) Unwrap() http.ResponseWriter { return r.ResponseWriter }

// stats counts one test's validated responses for StatsEnv.
type stats struct {
	mu    sync.Mutex
	lines []string
}

func (s *stats) add(id string, status int) {
	s.mu.Lock()
	s.lines = append(s.lines, fmt.Sprintf("%s %d", id, status))
	s.mu.Unlock()
}

func (s *stats) flush(tb testing.TB) {
	path := os.Getenv(StatsEnv)
	if path == "" {
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	sort.Strings(s.lines)
	var b strings.Builder
	for _, l := range s.lines {
		fmt.Fprintf(&b, "%s %s\n", strings.ReplaceAll(tb.Name(), " ", "_"), l)
	}
	f, err := os.OpenFile(path, os.O_CREATE|os.O_APPEND|os.O_WRONLY, 0o644)
	if err != nil {
		tb.Logf("openapi stats: %v", err)
		return
	}
	defer f.Close()
	if _, err := f.WriteString(b.String()); err != nil {
		tb.Logf("openapi stats: %v", err)
	}
}

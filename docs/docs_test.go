package docs_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"

	"github.com/pb33f/libopenapi"
	validator "github.com/pb33f/libopenapi-validator"
	v3 "github.com/pb33f/libopenapi/datamodel/high/v3"

	"turno/docs"
)

// model parses the served JSON document with libopenapi as an OpenAPI 3.1 model.
func model(t *testing.T, doc []byte) (libopenapi.Document, *v3.Document) {
	t.Helper()
	d, err := libopenapi.NewDocument(doc)
	if err != nil {
		t.Fatalf("libopenapi cannot read the document: %v", err)
	}
	if v := d.GetVersion(); v != "3.1.0" {
		t.Fatalf("openapi version %q, want 3.1.0", v)
	}
	m, err := d.BuildV3Model()
	if err != nil {
		t.Fatalf("build the OpenAPI 3.1 model: %v", err)
	}
	return d, &m.Model
}

// The document is valid OpenAPI 3.1 by the specification's own schema, and libopenapi resolves every
// reference in it.
func TestDocumentIsValidOpenAPI31(t *testing.T) {
	d, m := model(t, docs.OpenAPI())
	v, errs := validator.NewValidator(d)
	if len(errs) > 0 {
		t.Fatalf("validator: %v", errs)
	}
	if ok, verrs := v.ValidateDocument(); !ok {
		for _, e := range verrs {
			t.Errorf("%s: %s (%s)", e.Message, e.Reason, e.HowToFix)
			for _, se := range e.SchemaValidationErrors {
				t.Errorf("  %s at %s (%s)", se.Reason, se.FieldPath, se.KeywordLocation)
			}
		}
	}
	if idx := d.GetRolodex(); idx != nil {
		for _, e := range idx.GetCaughtErrors() {
			t.Errorf("reference: %v", e)
		}
	}
	if m.Paths == nil || m.Paths.PathItems.Len() == 0 {
		t.Fatal("no paths")
	}
}

// Every operation has an operationId (unique), a tag, a summary and a 2xx (or the WebSocket's 101)
// response; every operation under /api/v1/offices/{office} answers 404 unknown_office; every error code
// listed belongs to a documented status.
func TestEveryOperationIsComplete(t *testing.T) {
	_, m := model(t, docs.OpenAPI())
	var raw struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(docs.OpenAPI(), &raw); err != nil {
		t.Fatal(err)
	}
	ids := map[string]string{}
	n := 0
	for path, item := range m.Paths.PathItems.FromOldest() {
		for method, op := range item.GetOperations().FromOldest() {
			n++
			where := strings.ToUpper(method) + " " + path
			if op.OperationId == "" {
				t.Errorf("%s: no operationId", where)
			} else if other, dup := ids[op.OperationId]; dup {
				t.Errorf("%s: operationId %q is also %s's", where, op.OperationId, other)
			}
			ids[op.OperationId] = where
			if len(op.Tags) == 0 || op.Summary == "" {
				t.Errorf("%s: no tag or no summary", where)
			}
			success := false
			codes := map[string]bool{}
			for code := range op.Responses.Codes.KeysFromOldest() {
				codes[code] = true
				success = success || strings.HasPrefix(code, "2") || (code == "101" && strings.HasPrefix(path, "/ws/"))
			}
			if !success {
				t.Errorf("%s: no 2xx response", where)
			}
			var ext struct {
				Codes map[string][]string `json:"x-error-codes"`
			}
			if err := json.Unmarshal(raw.Paths[path][method], &ext); err != nil {
				t.Fatalf("%s: %v", where, err)
			}
			for status := range ext.Codes {
				if !codes[status] {
					t.Errorf("%s: x-error-codes lists %s, which is not one of its responses", where, status)
				}
			}
			if strings.HasPrefix(path, "/api/v1/offices/{office}") {
				if !codes["404"] || !slices.Contains(ext.Codes["404"], "unknown_office") {
					t.Errorf("%s: no 404 unknown_office", where)
				}
			}
		}
	}
	if got := len(docs.Operations()); got != n {
		t.Errorf("Operations() lists %d operations, the model has %d", got, n)
	}
}

func TestOperations(t *testing.T) {
	ops := docs.Operations()
	find := func(method, path string) *docs.Operation {
		for i := range ops {
			if ops[i].Method == method && ops[i].Path == path {
				return &ops[i]
			}
		}
		return nil
	}
	for _, c := range []struct{ method, path, id, route string }{
		{"POST", "/api/v1/offices/{office}/tickets", "issueTicket", "/api/v1/offices/{office}/tickets"},
		{"GET", "/healthz", "health", "/healthz"},
		{"GET", "/t/{code}.pdf", "ticketPDF", "/t/{code}"},
		{"GET", "/t/{code}.png", "ticketQR", "/t/{code}"},
		{"GET", "/api/v1/rosters/{id}", "getRoster", "/api/v1/rosters/{id}"},
		{"GET", "/api/v1/rosters/{id}.pdf", "getRosterPDF", "/api/v1/rosters/{id}.pdf"},
		{"GET", "/ical/staff/{token}.ics", "getCalendarFeed", "/ical/staff/{token}"},
		{"GET", "/ws/offices/{office}/events", "officeEvents", "/ws/offices/{office}/events"},
	} {
		op := find(c.method, c.path)
		if op == nil {
			t.Errorf("%s %s is not listed", c.method, c.path)
			continue
		}
		if op.ID != c.id || op.Route != c.route || len(op.Tags) == 0 {
			t.Errorf("%s %s = %+v, want id %s, route %s", c.method, c.path, *op, c.id, c.route)
		}
	}
	seen := map[string]bool{}
	for _, op := range ops {
		k := op.Method + " " + op.Path
		if seen[k] {
			t.Errorf("%s listed twice", k)
		}
		seen[k] = true
		if !slices.Contains([]string{"GET", "POST", "PUT", "PATCH", "DELETE"}, op.Method) {
			t.Errorf("%s: method %q", k, op.Method)
		}
	}
}

func TestPathFromChi(t *testing.T) {
	for in, want := range map[string]string{
		"/api/v1/rosters/{id:[0-9]+}":             "/api/v1/rosters/{id}",
		"/api/v1/rosters/{id:[0-9]+}.pdf":         "/api/v1/rosters/{id}.pdf",
		"/api/v1/offices/{office}/desks/{number}": "/api/v1/offices/{office}/desks/{number}",
		"/x/{a:[a-z]{2,3}}/{b}":                   "/x/{a}/{b}",
		"/static/*":                               "/static/{*}",
		"/healthz":                                "/healthz",
	} {
		if got := docs.PathFromChi(in); got != want {
			t.Errorf("PathFromChi(%q) = %q, want %q", in, got, want)
		}
	}
}

// OpenAPIWith adds fields to each operation, leaves the document valid and OpenAPI unchanged.
func TestOpenAPIWith(t *testing.T) {
	before := string(docs.OpenAPI())
	calls := 0
	doc := docs.OpenAPIWith(func(method, path string) map[string]any {
		calls++
		if method == http.MethodPost && path == "/api/v1/offices/{office}/tickets" {
			return map[string]any{"x-principals": []string{"kiosk", "operator"}}
		}
		return nil
	})
	if calls != len(docs.Operations()) {
		t.Errorf("ext called %d times for %d operations", calls, len(docs.Operations()))
	}
	if string(docs.OpenAPI()) != before {
		t.Error("OpenAPIWith changed OpenAPI()")
	}
	var v struct {
		Paths map[string]map[string]json.RawMessage `json:"paths"`
	}
	if err := json.Unmarshal(doc, &v); err != nil {
		t.Fatal(err)
	}
	op := func(path, method string) map[string]any {
		var o map[string]any
		if err := json.Unmarshal(v.Paths[path][method], &o); err != nil {
			t.Fatalf("%s %s: %v", method, path, err)
		}
		return o
	}
	if got := fmt.Sprint(op("/api/v1/offices/{office}/tickets", "post")["x-principals"]); got != "[kiosk operator]" {
		t.Errorf("x-principals = %s", got)
	}
	if _, ok := op("/api/v1/offices/{office}/queue", "get")["x-principals"]; ok {
		t.Error("x-principals added where ext returned nil")
	}
	model(t, doc)
}

// The JSON keeps the YAML's order, so the served document reads like the kept one.
func TestOpenAPIKeepsOrder(t *testing.T) {
	doc := string(docs.OpenAPI())
	if !strings.HasPrefix(doc, "{\n  \"openapi\": \"3.1.0\",") {
		t.Errorf("the document does not start with its openapi field: %.60s", doc)
	}
	if strings.Index(doc, `"/healthz"`) > strings.Index(doc, `"/api/v1/login"`) {
		t.Error("paths are not in the YAML's order")
	}
}

package docs_test

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"turno/docs"
)

func get(t *testing.T, h http.Handler, url string) (int, http.Header, string) {
	t.Helper()
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", url, nil))
	b, _ := io.ReadAll(rec.Result().Body)
	return rec.Code, rec.Result().Header, string(b)
}

// The page shows every operation with its method, path, summary and error codes, the schemas, and its
// texts in Italian by default and in English on request.
func TestAPIDocsPage(t *testing.T) {
	status, h, body := get(t, http.HandlerFunc(docs.APIDocs), "/api/docs")
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /api/docs: %d %s", status, h.Get("Content-Type"))
	}
	for _, op := range docs.Operations() {
		if !strings.Contains(body, `id="op-`+strings.ToLower(op.ID)+`"`) {
			t.Errorf("the page lacks %s (%s %s)", op.ID, op.Method, op.Path)
		}
	}
	for _, want := range []string{
		`<html lang="it"`, "API di Turno", "Risposte", `href="/api/v1/openapi.json"`,
		"<code>/api/v1/offices/{office}/tickets</code>", "Issue a ticket", "<code>office_closed</code>",
		`id="schema-Ticket"`, `href="#schema-Ticket"`, "<code>Idempotency-Key</code>",
		"<code>invalid_path</code>",                        // x-common-error-codes
		`<a href="#schema-OfficeSnapshot">`,                // a WebSocket's messages
		"<code>Authorization: Bearer &lt;token&gt;</code>", // descriptions: code spans, escaped
	} {
		if !strings.Contains(body, want) {
			t.Errorf("the page lacks %q", want)
		}
	}
	if strings.Contains(body, "apidocs.") {
		i := strings.Index(body, "apidocs.")
		t.Errorf("an untranslated key: %q", body[i:min(len(body), i+40)])
	}
	if strings.Contains(body, "<script") || strings.Contains(body, "style=") || strings.Contains(body, "https://") {
		t.Error("the page has a script, an inline style or an outside link")
	}
	_, _, en := get(t, http.HandlerFunc(docs.APIDocs), "/api/docs?lang=en")
	if !strings.Contains(en, `<html lang="en"`) || !strings.Contains(en, "Responses") || strings.Contains(en, "Risposte") {
		t.Error("?lang=en does not show the page in English")
	}
}

// A page made from OpenAPIWith's document shows the fields the hook adds.
func TestAPIDocsPageShowsPrincipals(t *testing.T) {
	doc := docs.OpenAPIWith(func(method, path string) map[string]any {
		if method == "GET" && path == "/api/v1/offices/{office}/desks" {
			return map[string]any{"x-principals": []string{"display of the office", "operator"}}
		}
		return nil
	})
	p, err := docs.NewAPIDocsPage(doc)
	if err != nil {
		t.Fatal(err)
	}
	_, _, body := get(t, p, "/api/docs?lang=en")
	if !strings.Contains(body, `Who may call it:</strong> [&#34;display of the office&#34;,&#34;operator&#34;]`) &&
		!strings.Contains(body, "display of the office") {
		t.Error("the page does not show x-principals")
	}
}

func TestServeJSON(t *testing.T) {
	status, h, body := get(t, docs.ServeJSON(docs.OpenAPI()), "/api/v1/openapi.json")
	if status != 200 || !strings.HasPrefix(h.Get("Content-Type"), "application/json") || body != string(docs.OpenAPI()) {
		t.Errorf("%d %s", status, h.Get("Content-Type"))
	}
}

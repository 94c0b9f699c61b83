package web

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"unicode/utf8"
)

// decodeTarget is a request body with the kinds of fields handlers decode.
type decodeTarget struct {
	Service string            `json:"service"`
	Count   int               `json:"count"`
	Small   int32             `json:"small"`
	Names   map[string]string `json:"names"`
	List    []string          `json:"list"`
	Nested  *struct {
		Note string `json:"note"`
	} `json:"nested"`
	Flag bool `json:"flag"`
}

func request(body string) *http.Request {
	r := httptest.NewRequest("POST", "/x", strings.NewReader(body))
	r.Header.Set("Content-Type", "application/json")
	return r
}

// noNUL reports whether every string of a decoded target is storable text.
func noNUL(v *decodeTarget) bool {
	all := append([]string{v.Service}, v.List...)
	for k, x := range v.Names {
		all = append(all, k, x)
	}
	if v.Nested != nil {
		all = append(all, v.Nested.Note)
	}
	for _, s := range all {
		if bad(s) {
			return false
		}
	}
	return true
}

func TestDecodeRefusesWhatTheDatabaseCannotStore(t *testing.T) {
	t.Parallel()
	cases := []struct {
		body, code, field string
		status            int
	}{
		{`{"service":"a\u0000b"}`, "invalid_service", "service", 422},
		{`{"names":{"it":"x\u0000"}}`, "invalid_names", "names", 422},
		{`{"names":{"\u0000":"x"}}`, "invalid_names", "names", 422},
		{`{"list":["ok","\u0000"]}`, "invalid_list", "list", 422},
		{`{"nested":{"note":"\u0000"}}`, "invalid_nested", "nested", 422},
		{`{"count":1e40}`, "invalid_count", "count", 422},
		{`{"small":3000000000}`, "invalid_small", "small", 422},
		{`{"service":`, "malformed_json", "", 400},
		{`{"service":"a"} {}`, "malformed_json", "", 400},
		{`{"other":1}`, "malformed_json", "", 400},
	}
	for _, c := range cases {
		var v decodeTarget
		err := Decode(request(c.body), &v, false)
		var e *Error
		if !errors.As(err, &e) || e.Status != c.status || e.Code != c.code || e.Field != c.field {
			t.Errorf("%s: %v; want %d %s naming %q", c.body, err, c.status, c.code, c.field)
		}
	}
	// Invalid UTF-8 inside a JSON string is replaced, not stored.
	var v decodeTarget
	if err := Decode(request("{\"service\":\"a\xffb\"}"), &v, false); err != nil || !utf8.ValidString(v.Service) {
		t.Errorf("invalid UTF-8: %v, %q", err, v.Service)
	}
	// A body over MaxBody is a 413 when read.
	rec := httptest.NewRecorder()
	big := httptest.NewRequest("POST", "/x", strings.NewReader(`{"service":"`+strings.Repeat("a", MaxBody)+`"}`))
	big.Header.Set("Content-Type", "application/json")
	checkInput(Endpoint(func(r *http.Request) (int, any, error) {
		var v decodeTarget
		return OK(v, Decode(r, &v, false))
	})).ServeHTTP(rec, big)
	if rec.Code != http.StatusRequestEntityTooLarge || !strings.Contains(rec.Body.String(), "body_too_large") {
		t.Errorf("oversized body: %d %s", rec.Code, rec.Body)
	}
}

func TestCheckInputRefusesBadPathsQueriesAndForms(t *testing.T) {
	t.Parallel()
	ok := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) })
	h := checkInput(ok)
	for _, c := range []struct {
		method, target, form, code string
	}{
		{"GET", "/api/v1/tickets/%00abc", "", "invalid_path"},
		{"GET", "/api/v1/tickets/%ff%fe", "", "invalid_path"},
		{"GET", "/api/v1/offices/demo/exceptions?from=%00", "", "invalid_query"},
		{"GET", "/x?%ff=1", "", "invalid_query"},
		{"POST", "/login", "username=a%00b&password=x", "invalid_form"},
		{"POST", "/login", "username=%ff&password=x", "invalid_form"},
	} {
		r := httptest.NewRequest(c.method, c.target, strings.NewReader(c.form))
		if c.form != "" {
			r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, r)
		if rec.Code != http.StatusBadRequest || !strings.Contains(rec.Body.String(), c.code) {
			t.Errorf("%s %s %q: %d %s; want 400 %s", c.method, c.target, c.form, rec.Code, rec.Body, c.code)
		}
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest("GET", "/api/v1/tickets/abc?since=3", nil))
	if rec.Code != http.StatusNoContent {
		t.Errorf("a clean request was refused: %d", rec.Code)
	}
}

// FuzzDecode: whatever the body, Decode returns nil or a 4xx *Error, and what it accepts is storable.
func FuzzDecode(f *testing.F) {
	for _, s := range []string{`{"service":"cie","names":{"it":"Carta"},"list":["a"],"nested":{"note":"n"},"count":3}`,
		`{"service":"\u0000"}`, `{"count":99999999999999999999}`, `{"small":-2147483649}`, `[]`, `null`, `{"names":null}`,
		"{\"service\":\"\xff\"}", `{"list":[1,2]}`, ``} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, body string) {
		var v decodeTarget
		err := Decode(request(body), &v, true)
		if err != nil {
			var e *Error
			if !errors.As(err, &e) || e.Status < 400 || e.Status >= 500 {
				t.Fatalf("Decode(%q) = %v, want a 4xx *Error", body, err)
			}
			return
		}
		if !noNUL(&v) {
			t.Fatalf("Decode(%q) accepted a text with a NUL byte: %+v", body, v)
		}
	})
}

// FuzzCheckInput: whatever the path, query and form, the edge answers 400 or lets through only storable
// text.
func FuzzCheckInput(f *testing.F) {
	for _, s := range [][2]string{{"/t/abc", "lang=it"}, {"/x%00", ""}, {"/y", "a=%ff"}, {"/z", "username=op1&password=x"}} {
		f.Add(s[0], s[1])
	}
	f.Fuzz(func(t *testing.T, path, form string) {
		u := "http://turno.test/" + strings.TrimPrefix(path, "/")
		r, err := http.NewRequest("POST", u, strings.NewReader(form))
		if err != nil {
			return // not a URL a client could send
		}
		r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
		rec := httptest.NewRecorder()
		var seen *http.Request
		checkInput(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { seen = r })).ServeHTTP(rec, r)
		if seen == nil {
			if rec.Code != http.StatusBadRequest && rec.Code != http.StatusRequestEntityTooLarge {
				t.Fatalf("refused with %d", rec.Code)
			}
			return
		}
		if bad(seen.URL.Path) {
			t.Fatalf("path %q let through", seen.URL.Path)
		}
		for k, vs := range seen.PostForm {
			if bad(k) || anyBad(vs) {
				t.Fatalf("form %q=%q let through", k, vs)
			}
		}
	})
}

// TestFreeText checks the tidying of free texts: CRLF to LF, trimmed ends, characters (not bytes) counted,
// and control characters and bidirectional overrides flagged while a new line is not.
func TestFreeText(t *testing.T) {
	for _, c := range []struct {
		in, text string
		chars    int
		controls bool
	}{
		{"  Porta la DSU\r\ne il documento  ", "Porta la DSU\ne il documento", 27, false},
		{"città", "città", 5, false},
		{"a\tb", "a\tb", 3, true},
		{"abc\u202edef", "abc\u202edef", 7, true},
		{"x\u2067y", "x\u2067y", 3, true},
		{"", "", 0, false},
	} {
		text, chars, controls := FreeText(c.in)
		if text != c.text || chars != c.chars || controls != c.controls {
			t.Errorf("FreeText(%q) = %q, %d, %v; want %q, %d, %v", c.in, text, chars, controls, c.text, c.chars, c.controls)
		}
	}
}

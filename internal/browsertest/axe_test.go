package browsertest_test

import (
	"net/http"
	"net/http/httptest"
	"slices"
	"testing"

	"github.com/chromedp/chromedp"

	"turno/internal/browsertest"
)

// TestAxe injects axe-core into pages under a strict Content-Security-Policy and checks that it finds the
// violations a broken page has and none on a clean one.
func TestAxe(t *testing.T) {
	pages := map[string]string{
		"/broken": `<!doctype html><html><head><title>Broken</title><link rel="stylesheet" href="/style.css"></head><body><main>
			<img src="/x.png"><p class="faint">Testo poco leggibile</p><input type="text"></main></body></html>`,
		"/clean": `<!doctype html><html lang="it"><head><title>Pulita</title></head><body><main><h1>Turno</h1>
			<img src="/x.png" alt="Logo"><label for="q">Cerca</label><input id="q" type="text"></main></body></html>`,
		"/style.css": `.faint { color: #bbb; background: #fff; }`,
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Security-Policy", "default-src 'self'; script-src 'self'; style-src 'self'")
		body, ok := pages[r.URL.Path]
		if !ok {
			http.NotFound(w, r)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		if r.URL.Path == "/style.css" {
			w.Header().Set("Content-Type", "text/css")
		}
		_, _ = w.Write([]byte(body))
	}))
	t.Cleanup(srv.Close)
	ctx := browsertest.New(t, 800, 600)

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/broken")); err != nil {
		t.Fatal(err)
	}
	vs, err := browsertest.AxeCheck(ctx)
	if err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, v := range vs {
		ids = append(ids, v.ID)
		if len(v.Targets) == 0 || v.Impact == "" || v.Help == "" {
			t.Errorf("violation without targets, impact or help: %+v", v)
		}
	}
	for _, want := range []string{"html-has-lang", "image-alt", "color-contrast", "label"} {
		if !slices.Contains(ids, want) {
			t.Errorf("broken page: violations %v lack %s", ids, want)
		}
	}

	if err := chromedp.Do(ctx, chromedp.Navigate(srv.URL+"/clean")); err != nil {
		t.Fatal(err)
	}
	if vs := browsertest.Axe(t, ctx); len(vs) != 0 {
		t.Errorf("clean page: %v", vs)
	}
}

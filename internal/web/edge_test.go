package web_test

import (
	"bytes"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/fstest"

	"turno/internal/web"
)

// strictPolicy is the pages' Content-Security-Policy when no origin may frame the display.
const strictPolicy = "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
	"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"

func noAuth(next http.Handler) http.Handler { return next }

// edgeServer serves a page at /page and /display/demo, JSON at /json, the base URL at /base, a 500 at
// /fail and a panic at /panic, on the shared middleware stack of site.
func edgeServer(t *testing.T, site web.Site, tls bool) *httptest.Server {
	t.Helper()
	page := web.NewPage(fstest.MapFS{"p.html": {Data: []byte(`{{define "content"}}<p>page</p>{{end}}`)}}, "p.html")
	r := web.NewSiteRouter(noAuth, site)
	render := func(w http.ResponseWriter, r *http.Request) { page.Render(w, r, &web.View{Lang: "it"}) }
	r.Get("/page", render)
	r.Get("/display/{office}", render)
	r.Get("/json", func(w http.ResponseWriter, r *http.Request) { web.JSON(w, http.StatusOK, map[string]bool{"ok": true}) })
	r.Get("/base", func(w http.ResponseWriter, r *http.Request) { _, _ = io.WriteString(w, web.BaseURL(r)) })
	r.Get("/https", func(w http.ResponseWriter, r *http.Request) {
		http.SetCookie(w, &http.Cookie{Name: "c", Value: "v", Secure: web.IsHTTPS(r)})
		_, _ = io.WriteString(w, map[bool]string{true: "https", false: "http"}[web.IsHTTPS(r)])
	})
	r.Get("/panic", func(http.ResponseWriter, *http.Request) { panic("boom") })
	srv := httptest.NewUnstartedServer(r)
	if tls {
		srv.StartTLS()
	} else {
		srv.Start()
	}
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, c *http.Client, url string, header ...string) *http.Response {
	t.Helper()
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	for i := 0; i+1 < len(header); i += 2 {
		if header[i] == "Host" {
			req.Host = header[i+1]
		} else {
			req.Header.Add(header[i], header[i+1])
		}
	}
	res, err := c.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	_, _ = io.Copy(io.Discard, res.Body)
	res.Body.Close()
	return res
}

// Every response carries nosniff, Referrer-Policy and X-Frame-Options (JSON, static files, 404s, panics);
// pages carry the strict Content-Security-Policy; nothing carries HSTS over plain http.
func TestEdgeHeaders(t *testing.T) {
	t.Parallel()
	srv := edgeServer(t, web.Site{}, false)
	for _, path := range []string{"/page", "/display/demo", "/json", "/static/turno.css", "/nothing-here", "/panic"} {
		res := get(t, srv.Client(), srv.URL+path)
		for k, want := range map[string]string{"X-Content-Type-Options": "nosniff", "Referrer-Policy": "same-origin", "X-Frame-Options": "DENY"} {
			if got := res.Header.Get(k); got != want {
				t.Errorf("%s (%d): %s = %q, want %q", path, res.StatusCode, k, got, want)
			}
		}
		if h := res.Header.Get("Strict-Transport-Security"); h != "" {
			t.Errorf("%s: HSTS %q over plain http", path, h)
		}
		isPage := path == "/page" || path == "/display/demo"
		if csp := res.Header.Get("Content-Security-Policy"); isPage && csp != strictPolicy {
			t.Errorf("%s: Content-Security-Policy %q, want %q", path, csp, strictPolicy)
		}
	}
}

// TURNO_FRAME_ANCESTORS lets the listed origins frame the hall display, and nothing else.
func TestFrameAncestors(t *testing.T) {
	t.Parallel()
	srv := edgeServer(t, web.Site{FrameAncestors: []string{"https://www.comune.example.it", "https://intranet.example.it:8443"}}, false)
	res := get(t, srv.Client(), srv.URL+"/display/demo")
	want := strings.Replace(strictPolicy, "frame-ancestors 'none'", "frame-ancestors https://www.comune.example.it https://intranet.example.it:8443", 1)
	if csp := res.Header.Get("Content-Security-Policy"); csp != want {
		t.Errorf("display: Content-Security-Policy %q, want %q", csp, want)
	}
	if xfo := res.Header.Get("X-Frame-Options"); xfo != "" {
		t.Errorf("display: X-Frame-Options %q would forbid the allowed origins", xfo)
	}
	res = get(t, srv.Client(), srv.URL+"/page")
	if csp := res.Header.Get("Content-Security-Policy"); csp != strictPolicy || res.Header.Get("X-Frame-Options") != "DENY" {
		t.Errorf("another page: Content-Security-Policy %q, X-Frame-Options %q: want no framing", csp, res.Header.Get("X-Frame-Options"))
	}
}

// A request is HTTPS over TLS, through a trusted proxy that says so, or when the base URL is https; then
// it gets HSTS and Secure cookies. A client that is not a trusted proxy cannot claim https.
func TestIsHTTPS(t *testing.T) {
	t.Parallel()
	check := func(name string, srv *httptest.Server, want bool, header ...string) {
		t.Helper()
		res := get(t, srv.Client(), srv.URL+"/https", header...)
		hsts := res.Header.Get("Strict-Transport-Security")
		secure := len(res.Cookies()) == 1 && res.Cookies()[0].Secure
		if want && (hsts != "max-age=31536000" || !secure) {
			t.Errorf("%s: HSTS %q, Secure cookie %v; want HSTS and a Secure cookie", name, hsts, secure)
		}
		if !want && (hsts != "" || secure) {
			t.Errorf("%s: HSTS %q, Secure cookie %v; want neither", name, hsts, secure)
		}
	}
	check("TLS", edgeServer(t, web.Site{}, true), true)
	plain := edgeServer(t, web.Site{}, false)
	check("plain http", plain, false)
	check("X-Forwarded-Proto from a client", plain, false, "X-Forwarded-Proto", "https")
	proxied := edgeServer(t, web.Site{TrustedProxies: []string{"127.0.0.1/32", "::1/128"}}, false)
	check("trusted proxy, https", proxied, true, "X-Forwarded-Proto", "https")
	check("trusted proxy, http", proxied, false, "X-Forwarded-Proto", "http")
	check("trusted proxy appending to a client's claim", proxied, false, "X-Forwarded-Proto", "https, http")
	check("trusted proxy, nothing forwarded", proxied, false)
	other := edgeServer(t, web.Site{TrustedProxies: []string{"10.0.0.0/8"}}, false)
	check("X-Forwarded-Proto from an untrusted peer", other, false, "X-Forwarded-Proto", "https")
	check("https base URL", edgeServer(t, web.Site{BaseURL: "https://turno.example.org"}, false), true)
	check("http base URL", edgeServer(t, web.Site{BaseURL: "http://localhost:8080"}, false), false)
}

// Links come from the base URL, never from the Host header the client sent.
func TestBaseURL(t *testing.T) {
	t.Parallel()
	for _, tc := range []struct{ base, want string }{
		{"https://turno.example.org/", "https://turno.example.org"},
		{"", web.DefaultBaseURL},
	} {
		srv := edgeServer(t, web.Site{BaseURL: tc.base}, false)
		req, _ := http.NewRequest(http.MethodGet, srv.URL+"/base", nil)
		req.Host = "evil.example"
		req.Header.Set("X-Forwarded-Host", "evil.example")
		res, err := srv.Client().Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if string(body) != tc.want {
			t.Errorf("base %q: BaseURL = %q, want %q", tc.base, body, tc.want)
		}
	}
}

func TestRedactPath(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"/t/abcdefghjkmnpqrs":                       "/t/•••",
		"/t/abcdefghjkmnpqrs.pdf":                   "/t/•••.pdf",
		"/t/abcdefghjkmnpqrs.png?paper=58":          "/t/•••.png?paper=58",
		"/api/v1/tickets/abcdefghjkmnpqrs":          "/api/v1/tickets/•••",
		"/api/v1/tickets/abcdefghjkmnpqrs/cancel":   "/api/v1/tickets/•••/cancel",
		"/api/v1/tickets/abcdefghjkmnpqrs/feedback": "/api/v1/tickets/•••/feedback",
		"/ws/tickets/abcdefghjkmnpqrs/events":       "/ws/tickets/•••/events",
		"/ical/staff/0123456789abcdef.ics":          "/ical/staff/•••.ics",
		"/api/v1/bookings/BK7Q2M":                   "/api/v1/bookings/•••",
		"/api/v1/bookings/BK7Q2M/check-in":          "/api/v1/bookings/•••/check-in",
		"/b/BK7Q2M":                                 "/b/•••",
		"/b/BK7Q2M/cancel":                          "/b/•••/cancel",
		"/book/demo":                                "/book/demo",
		"//T/abcdefghjkmnpqrs":                      "/T/•••",
		"/kiosk/demo?device=kiosk-token":            "/kiosk/demo?device=•••",
		"/display/demo?lang=it&DEVICE=x&since=4":    "/display/demo?lang=it&DEVICE=•••&since=4",
		"/x?token=a&access_token=b&key":             "/x?token=•••&access_token=•••&key",
		"/api/v1/offices/demo/tickets":              "/api/v1/offices/demo/tickets",
		"/api/v1/offices/demo/bookings":             "/api/v1/offices/demo/bookings",
		"/t/":                                       "/t/",
		"/manage/staff/12":                          "/manage/staff/12",
	} {
		if got := web.RedactPath(in); got != want {
			t.Errorf("RedactPath(%q) = %q, want %q", in, got, want)
		}
	}
}

// The request log at debug level names the routes but none of the secrets in their paths.
func TestRequestLogRedacts(t *testing.T) {
	var buf bytes.Buffer
	old := slog.Default()
	slog.SetDefault(slog.New(slog.NewTextHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug})))
	t.Cleanup(func() { slog.SetDefault(old) })
	r := web.NewRouter(noAuth)
	ok := func(w http.ResponseWriter, r *http.Request) { w.WriteHeader(http.StatusNoContent) }
	for _, p := range []string{"/t/{code}", "/api/v1/tickets/{code}", "/api/v1/tickets/{code}/cancel", "/ws/tickets/{code}/events",
		"/ical/staff/{token}", "/api/v1/bookings/{code}", "/b/{code}", "/kiosk/{office}"} {
		r.Get(p, ok)
	}
	srv := httptest.NewServer(r)
	defer srv.Close()
	for _, p := range []string{"/t/SECRETCODE1", "/t/SECRETCODE2.pdf", "/t/SECRETCODE3.png", "/api/v1/tickets/SECRETCODE4",
		"/api/v1/tickets/SECRETCODE5/cancel", "/ws/tickets/SECRETCODE6/events", "/ical/staff/SECRETTOKEN7.ics",
		"/api/v1/bookings/SECRETCODE8", "/b/SECRETCODE10", "/kiosk/demo?device=SECRETDEVICE9"} {
		get(t, srv.Client(), srv.URL+p)
	}
	log := buf.String()
	if strings.Contains(log, "SECRET") {
		t.Errorf("the request log has a secret:\n%s", log)
	}
	for _, want := range []string{"path=/t/•••.pdf", "path=/ical/staff/•••.ics", "path=/ws/tickets/•••/events", "path=/kiosk/demo"} {
		if !strings.Contains(log, want) {
			t.Errorf("the request log lacks %s:\n%s", want, log)
		}
	}
}

package web

import (
	"log/slog"
	"net"
	"net/http"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/chi/v5/middleware"
)

// NewRouter is NewSiteRouter for a site of which only the trusted proxies are known: no base URL (links
// point to DefaultBaseURL) and no origin may frame the hall display.
func NewRouter(authenticate func(http.Handler) http.Handler, trustedProxies ...string) chi.Router {
	return NewSiteRouter(authenticate, Site{TrustedProxies: trustedProxies})
}

// NewSiteRouter returns a router with the middleware every Turno server runs, in order: the headers of
// every response (nosniff, Referrer-Policy, X-Frame-Options, HSTS over https; see Site), the client's
// address (ClientIP), panic recovery, request log (secrets redacted, see RedactPath), the check of the
// request's input, refusal of cross-origin writes (net/http.CrossOriginProtection: a browser's
// cross-site POST is rejected, same-origin pages and non-browser API clients pass), the language cookie,
// and authenticate, which puts the caller in the request context. It also serves /static/.
//
// site.TrustedProxies are the CIDRs of the reverse proxies in front of Turno (TURNO_TRUSTED_PROXIES):
// only a request arriving from one of them has its X-Forwarded-For read for the client's address and its
// X-Forwarded-Proto for https. With none, the address is the TCP peer's and forwarded headers are
// ignored, so a client cannot choose its own.
func NewSiteRouter(authenticate func(http.Handler) http.Handler, site Site) chi.Router {
	r := chi.NewRouter()
	clientIP := middleware.ClientIPFromRemoteAddr
	if len(site.TrustedProxies) > 0 {
		clientIP = middleware.ClientIPFromXFF(site.TrustedProxies...)
	}
	r.Use(newEdge(site).headers)
	r.Use(clientIP, middleware.Recoverer, requestLog, checkInput)
	r.Use(http.NewCrossOriginProtection().Handler)
	r.Use(langCookie, authenticate)
	r.Get("/static/*", Static().ServeHTTP)
	return r
}

// langCookie remembers a language picked with ?lang= on any page.
func langCookie(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if l := r.URL.Query().Get("lang"); l != "" && HasLang(l) && r.Method == http.MethodGet {
			http.SetCookie(w, &http.Cookie{Name: "turno_lang", Value: l, Path: "/", MaxAge: 365 * 24 * 3600,
				SameSite: http.SameSiteLaxMode, Secure: IsHTTPS(r)})
		}
		next.ServeHTTP(w, r)
	})
}

// requestLog logs every request but those for static files and health checks at debug level, with its
// path redacted (RedactPath): the paths of tickets and calendar feeds carry their secrets.
func requestLog(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		start := time.Now()
		ww := middleware.NewWrapResponseWriter(w, r.ProtoMajor)
		next.ServeHTTP(ww, r)
		if strings.HasPrefix(r.URL.Path, "/static/") || r.URL.Path == "/healthz" {
			return
		}
		slog.Debug("request", "method", r.Method, "path", RedactPath(r.URL.Path), "status", ww.Status(), "duration", time.Since(start))
	})
}

// ClientIP is the address of the request's client as NewRouter's middleware found it: the TCP peer's, or
// the one a trusted proxy forwarded. When a trusted proxy forwarded nothing usable it is the proxy's.
func ClientIP(r *http.Request) string {
	if ip := middleware.GetClientIP(r.Context()); ip != "" {
		return ip
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		return r.RemoteAddr
	}
	return host
}

package web

import (
	"context"
	"net"
	"net/http"
	"net/netip"
	"strings"
)

// Site is what the router's edge needs to know about the installation, from its settings.
type Site struct {
	// BaseURL is the public address of the installation (TURNO_BASE_URL, e.g. "https://turno.example.org"),
	// the only source of the links Turno hands out: QR codes, printed tickets, calendar feeds. When it is
	// https, every response carries HSTS and every cookie is Secure, whatever the request came through.
	BaseURL string
	// TrustedProxies are the CIDRs of the reverse proxies in front of Turno (TURNO_TRUSTED_PROXIES): only
	// from them are X-Forwarded-For (the client's address) and X-Forwarded-Proto (https) believed.
	TrustedProxies []string
	// FrameAncestors are the origins that may show the hall display (/display/…) in a frame
	// (TURNO_FRAME_ANCESTORS), e.g. the office's own web site. No other page may be framed by anyone.
	FrameAncestors []string
}

// edge is a Site prepared for the middleware.
type edge struct {
	base      string // without a trailing slash; empty when not configured
	baseHTTPS bool
	proxies   []netip.Prefix
	display   string // the frame-ancestors source list of the hall display; empty: 'none'
}

func newEdge(s Site) *edge {
	e := &edge{base: strings.TrimRight(s.BaseURL, "/")}
	e.baseHTTPS = strings.HasPrefix(strings.ToLower(e.base), "https://")
	for _, c := range s.TrustedProxies {
		if p, err := netip.ParsePrefix(c); err == nil {
			e.proxies = append(e.proxies, p.Masked())
		} else if a, err := netip.ParseAddr(c); err == nil {
			e.proxies = append(e.proxies, netip.PrefixFrom(a, a.BitLen()))
		}
	}
	var origins []string
	for _, o := range s.FrameAncestors {
		// Settings are checked when read (config); here a stray space or semicolon still cannot add a
		// directive to the policy.
		if o = strings.TrimSpace(o); o != "" && !strings.ContainsAny(o, " \t;,'\"") {
			origins = append(origins, o)
		}
	}
	e.display = strings.Join(origins, " ")
	return e
}

// requestEdge is what the edge middleware leaves in a request's context.
type requestEdge struct {
	*edge
	https bool
}

type edgeKey struct{}

func edgeOf(r *http.Request) *requestEdge {
	e, _ := r.Context().Value(edgeKey{}).(*requestEdge)
	return e
}

// fromTrustedProxy reports whether the request's TCP peer is one of the trusted proxies.
func (e *edge) fromTrustedProxy(r *http.Request) bool {
	if len(e.proxies) == 0 {
		return false
	}
	host, _, err := net.SplitHostPort(r.RemoteAddr)
	if err != nil {
		host = r.RemoteAddr
	}
	a, err := netip.ParseAddr(host)
	if err != nil {
		return false
	}
	a = a.Unmap()
	for _, p := range e.proxies {
		if p.Contains(a) {
			return true
		}
	}
	return false
}

// forwardedHTTPS reports whether a trusted proxy says the client reached it over https. Every value of
// X-Forwarded-Proto must say so: a proxy that appends to a client's header leaves "https, http".
func (e *edge) forwardedHTTPS(r *http.Request) bool {
	values := r.Header.Values("X-Forwarded-Proto")
	if len(values) == 0 || !e.fromTrustedProxy(r) {
		return false
	}
	for _, v := range values {
		for p := range strings.SplitSeq(v, ",") {
			if !strings.EqualFold(strings.TrimSpace(p), "https") {
				return false
			}
		}
	}
	return true
}

// isDisplayPath reports whether path is the hall display's, the one page an office may frame.
func isDisplayPath(path string) bool { return strings.HasPrefix(path, "/display/") }

// headers sets the headers every response carries and leaves the edge in the request's context:
// X-Content-Type-Options, Referrer-Policy, X-Frame-Options (for browsers without CSP frame-ancestors;
// left out of the hall display when some origins may frame it), and HSTS when the request is HTTPS.
// Pages add their Content-Security-Policy when they render (Page.Render).
func (e *edge) headers(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		re := &requestEdge{edge: e, https: r.TLS != nil || e.baseHTTPS || e.forwardedHTTPS(r)}
		h := w.Header()
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "same-origin")
		if e.display == "" || !isDisplayPath(r.URL.Path) {
			h.Set("X-Frame-Options", "DENY")
		}
		if re.https {
			h.Set("Strict-Transport-Security", "max-age=31536000")
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), edgeKey{}, re)))
	})
}

// IsHTTPS reports whether the client talks to Turno over https: the request came over TLS, or through a
// trusted proxy whose X-Forwarded-Proto says https, or the installation's base URL is https (then the
// browser only ever reaches it over https). Cookies set for the request are Secure when it is true.
func IsHTTPS(r *http.Request) bool {
	if r.TLS != nil {
		return true
	}
	e := edgeOf(r)
	return e != nil && e.https
}

// DefaultBaseURL is the base URL of links when none is configured: a router built without a Site (tests,
// tools). turno serve always has one, TURNO_BASE_URL or http://localhost:PORT.
const DefaultBaseURL = "http://localhost"

// BaseURL returns the public base URL of the installation, without a trailing slash, for links handed
// out in answers (a calendar feed, a ticket's phone page). It comes from the router's Site, never from
// the request's Host header, which the client chooses; without one it is DefaultBaseURL.
func BaseURL(r *http.Request) string {
	if e := edgeOf(r); e != nil && e.base != "" {
		return e.base
	}
	return DefaultBaseURL
}

// pagePolicy is the Content-Security-Policy of a page: scripts, styles, images and connections (fetch and
// WebSockets, which 'self' covers as ws: and wss:) from Turno itself only, no inline script or style, no
// plugins, no <base>, forms posting only to Turno, and no framing except of the hall display by the
// origins the site allows.
func pagePolicy(r *http.Request) string {
	ancestors := "'none'"
	if e := edgeOf(r); e != nil && e.display != "" && isDisplayPath(r.URL.Path) {
		ancestors = e.display
	}
	return "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self'; connect-src 'self'; " +
		"object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors " + ancestors
}

// AllowSameOriginFraming lets Turno's own pages show the response in a frame (the kiosk prints a ticket's
// PDF from a hidden frame); every other response refuses any frame.
func AllowSameOriginFraming(w http.ResponseWriter) {
	w.Header().Set("X-Frame-Options", "SAMEORIGIN")
}

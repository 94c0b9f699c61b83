package web

import (
	"net/url"
	"path"
	"strings"
)

// Redacted stands for a secret left out of a log line.
const Redacted = "•••"

// secretPaths are the paths whose next segment is a secret: a ticket's public code (which lets its holder
// follow and cancel it), a booking's code (the citizen's booking page /b/{code} too), a staff member's
// calendar feed token.
var secretPaths = []string{"/t/", "/api/v1/tickets/", "/ws/tickets/", "/api/v1/bookings/", "/b/", "/ical/staff/"}

// secretParams are the query parameters whose value is a secret (a device's pairing link carries its
// token in ?device=).
var secretParams = []string{"device", "token", "access_token", "code", "key", "secret", "password", "session"}

// RedactPath returns a request path, with or without its query, fit for a log at any level: the ticket
// code, booking code or feed token in it and the values of secret query parameters are replaced by
// Redacted, as in /t/•••.pdf, /ical/staff/•••.ics and /kiosk/demo?device=•••. Every log line that prints a
// request's path or URL goes through it.
func RedactPath(p string) string {
	p, query, hasQuery := strings.Cut(p, "?")
	p = redactSegments(p)
	if hasQuery {
		p += "?" + redactQuery(query)
	}
	return p
}

// redactSegments replaces the secret segment of a secret path, keeping a file extension (.pdf, .png,
// .ics). The path is matched cleaned and without regard to case, so //t/CODE is redacted too.
func redactSegments(p string) string {
	clean := path.Clean("/" + p)
	lower := strings.ToLower(clean)
	for _, prefix := range secretPaths {
		if !strings.HasPrefix(lower, prefix) || len(lower) == len(prefix) {
			continue
		}
		secret, rest, _ := strings.Cut(clean[len(prefix):], "/")
		ext := ""
		if i := strings.LastIndexByte(secret, '.'); i >= 0 && len(secret)-i <= 5 {
			ext = secret[i:]
		}
		out := clean[:len(prefix)] + Redacted + ext
		if rest != "" {
			out += "/" + rest
		}
		return out
	}
	return p
}

// redactQuery replaces the values of secret parameters in a raw query.
func redactQuery(query string) string {
	parts := strings.Split(query, "&")
	for i, part := range parts {
		k, _, ok := strings.Cut(part, "=")
		name, err := url.QueryUnescape(k)
		if err != nil {
			name = k
		}
		name = strings.ToLower(strings.TrimSpace(name))
		for _, s := range secretParams {
			if name == s {
				if ok {
					parts[i] = k + "=" + Redacted
				}
				break
			}
		}
	}
	return strings.Join(parts, "&")
}

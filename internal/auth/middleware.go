package auth

import (
	"context"
	"net/http"
	"net/url"
	"strings"
	"time"

	"turno/internal/web"
)

// Cookie names: staff sessions and device tokens (a kiosk or display page sets its kind's cookie once from
// its link, see DeviceCookieOf).
const (
	SessionCookie = "turno_session"
	// DeviceCookie is the one device cookie of installs from before per-kind cookies: still read, no longer
	// set.
	DeviceCookie = "turno_device"
	// DeviceHeader tells which kind of device a page's API call acts for ("kiosk", "display" or
	// "feedback"), when several kinds are paired in the same browser profile.
	DeviceHeader = "Turno-Device"
)

// DeviceCookieOf returns the cookie that keeps a device of kind paired ("turno_device_kiosk"): one per
// kind, so a kiosk and a hall screen paired in one browser profile do not replace each other's token.
func DeviceCookieOf(kind DeviceKind) string { return DeviceCookie + "_" + string(kind) }

// deviceKinds are the kinds with a cookie, in the order a request that says nothing about its kind tries
// them.
var deviceKinds = []DeviceKind{Kiosk, Display, Feedback}

// requestKind returns the kind of device r acts for, or "" when it does not say: the Turno-Device header
// (the kiosk page's API calls), the page itself (/kiosk/…, /display/…), the page that made the call (its
// Referer, which Referrer-Policy same-origin sends to Turno only), or the event stream (/ws/…), which only
// hall screens follow (browsers send no Referer with a WebSocket handshake) unless it says ?kind=feedback
// (the feedback tablet's page follows the stream too).
func requestKind(r *http.Request) DeviceKind {
	if k := DeviceKind(r.Header.Get(DeviceHeader)); k == Kiosk || k == Display || k == Feedback {
		return k
	}
	if k := pathKind(r.URL.Path); k != "" {
		return k
	}
	// Only the path counts: which of the caller's own cookies to use is all a Referer can choose here.
	if ref, err := url.Parse(r.Referer()); err == nil {
		if k := pathKind(ref.Path); k != "" {
			return k
		}
	}
	if strings.HasPrefix(r.URL.Path, "/ws/") {
		// Like the header, the query only chooses among the caller's own cookies.
		if r.URL.Query().Get("kind") == string(Feedback) {
			return Feedback
		}
		return Display
	}
	return ""
}

func pathKind(path string) DeviceKind {
	switch {
	case strings.HasPrefix(path, "/kiosk/"):
		return Kiosk
	case strings.HasPrefix(path, "/display/"):
		return Display
	case strings.HasPrefix(path, "/feedback/"):
		return Feedback
	}
	return ""
}

// deviceToken returns the device token r carries in a cookie: the cookie of the kind r acts for, else
// (a request that does not say) the first kind's cookie it has, else the old shared cookie.
func deviceToken(r *http.Request) (string, bool) {
	kinds := deviceKinds
	if k := requestKind(r); k != "" {
		kinds = []DeviceKind{k}
	}
	for _, k := range kinds {
		if c, err := r.Cookie(DeviceCookieOf(k)); err == nil && c.Value != "" {
			return c.Value, true
		}
	}
	if c, err := r.Cookie(DeviceCookie); err == nil && c.Value != "" {
		return c.Value, true
	}
	return "", false
}

type ctxKey struct{}

// FromContext returns the request's principal; both fields are nil for an anonymous caller.
func FromContext(ctx context.Context) Principal {
	p, _ := ctx.Value(ctxKey{}).(Principal)
	return p
}

// WithPrincipal returns ctx carrying p.
func WithPrincipal(ctx context.Context, p Principal) context.Context {
	return context.WithValue(ctx, ctxKey{}, p)
}

// Authenticate resolves the caller from "Authorization: Bearer <token>" (a session or a device token), the
// session cookie, or a device cookie (the one of the kind of device the request acts for, see requestKind),
// and puts it in the request context. An unknown bearer token is refused with 401; unknown cookies are
// ignored (the caller is anonymous).
func (s *Store) Authenticate(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var p Principal
		ctx := r.Context()
		if h := r.Header.Get("Authorization"); h != "" {
			token, ok := strings.CutPrefix(h, "Bearer ")
			if !ok {
				web.WriteError(w, r, web.Unauthorized("use Authorization: Bearer <token>"))
				return
			}
			var err error
			if p, err = s.resolve(ctx, strings.TrimSpace(token)); err != nil {
				web.WriteError(w, r, err)
				return
			}
			if p.User == nil && p.Device == nil {
				web.WriteError(w, r, web.Unauthorized("unknown or expired token"))
				return
			}
		} else {
			if c, err := r.Cookie(SessionCookie); err == nil {
				u, err := s.UserByToken(ctx, c.Value)
				if err != nil {
					web.WriteError(w, r, err)
					return
				}
				if u != nil {
					p.User, p.Session = u, HashToken(c.Value)
				}
			}
			if token, ok := deviceToken(r); ok && p.User == nil {
				d, err := s.DeviceByToken(ctx, token)
				if err != nil {
					web.WriteError(w, r, err)
					return
				}
				p.Device = d
			}
		}
		next.ServeHTTP(w, r.WithContext(WithPrincipal(ctx, p)))
	})
}

func (s *Store) resolve(ctx context.Context, token string) (Principal, error) {
	u, err := s.UserByToken(ctx, token)
	if err != nil || u != nil {
		return Principal{User: u, Session: HashToken(token)}, err
	}
	d, err := s.DeviceByToken(ctx, token)
	return Principal{Device: d}, err
}

// RequireRole refuses callers that are not users with one of roles (401 when anonymous, 403 otherwise).
func RequireRole(roles ...Role) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			p := FromContext(r.Context())
			if p.User == nil && p.Device == nil {
				web.WriteError(w, r, web.Unauthorized("sign in first"))
				return
			}
			if p.User == nil || !hasRole(p.User.Role, roles) {
				web.WriteError(w, r, web.Forbidden("forbidden", "this needs the role %s", joinRoles(roles)))
				return
			}
			next.ServeHTTP(w, r)
		})
	}
}

func hasRole(r Role, roles []Role) bool {
	for _, x := range roles {
		if r == x {
			return true
		}
	}
	return false
}

func joinRoles(roles []Role) web.OneOf {
	s := make(web.OneOf, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return s
}

// CanManage reports whether u may manage office officeID: an administrator of every office, or an
// administrator or a manager of that office. A user without an office (from before all_offices) manages
// nothing.
func CanManage(u *User, officeID int64) bool {
	if u == nil || officeID == 0 {
		return false
	}
	switch u.Role {
	case Admin:
		return u.AllOffices || u.OfficeID == officeID
	case Manager:
		return u.OfficeID == officeID
	}
	return false
}

// WorksIn reports whether u belongs to office officeID: it is the user's office, or the user is an
// administrator of every office.
func WorksIn(u *User, officeID int64) bool {
	if u == nil || officeID == 0 {
		return false
	}
	return u.OfficeID == officeID || (u.Role == Admin && u.AllOffices)
}

// SetCookie sets an HttpOnly, SameSite=Lax cookie for the whole site.
func SetCookie(w http.ResponseWriter, r *http.Request, name, value string, ttl time.Duration) {
	c := &http.Cookie{Name: name, Value: value, Path: "/", HttpOnly: true, SameSite: http.SameSiteLaxMode, Secure: web.IsHTTPS(r)}
	if ttl > 0 {
		c.MaxAge = int(ttl.Seconds())
	} else {
		c.MaxAge = -1
	}
	http.SetCookie(w, c)
}

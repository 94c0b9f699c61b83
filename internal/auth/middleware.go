package auth

import (
	"context"
	"net/http"
	"strings"
	"time"

	"turno/internal/web"
)

// Cookie names: staff sessions and device tokens (a kiosk or display page sets it once from its link).
const (
	SessionCookie = "turno_session"
	DeviceCookie  = "turno_device"
)

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
// session cookie, or the device cookie, and puts it in the request context. An unknown bearer token is
// refused with 401; unknown cookies are ignored (the caller is anonymous).
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
			if c, err := r.Cookie(DeviceCookie); err == nil && p.User == nil {
				d, err := s.DeviceByToken(ctx, c.Value)
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

func joinRoles(roles []Role) string {
	s := make([]string, len(roles))
	for i, r := range roles {
		s[i] = string(r)
	}
	return strings.Join(s, " or ")
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

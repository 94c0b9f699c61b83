package auth

import (
	"embed"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/go-chi/httprate"

	"turno/internal/web"
)

//go:embed templates/*.html
var templates embed.FS

var loginPage = web.NewPage(templates, "templates/login.html")

// Routes mounts sign-in and sign-out: the JSON API (/api/v1/login, /api/v1/logout, /api/v1/me) and the
// login page (/login). Login is rate-limited per client address and per (normalised) username, the same
// way for the JSON and the form sign-in.
func (s *Store) Routes(r chi.Router) {
	l := &loginLimits{perUser: httprate.NewRateLimiter(10, time.Minute)}
	limited := r.With(httprate.LimitBy(20, time.Minute, clientKey))
	limited.Post("/api/v1/login", l.api(s))
	limited.Post("/login", l.form(s))
	r.Get("/login", s.showLogin)
	r.Post("/api/v1/logout", s.logout)
	r.Post("/logout", s.logout)
	r.Get("/api/v1/me", s.me)
}

// clientKey rate-limits by the client's address (web.ClientIP: forwarded only by trusted proxies).
func clientKey(r *http.Request) (string, error) { return "ip:" + web.ClientIP(r), nil }

// NormalizeUsername is how usernames are compared: trimmed and lower case.
func NormalizeUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

// loginLimits counts sign-in attempts per username, whichever way they come.
type loginLimits struct{ perUser *httprate.RateLimiter }

// tooMany reports (and answers) a username over its limit.
func (l *loginLimits) tooMany(w http.ResponseWriter, r *http.Request, username string) bool {
	return l.perUser.RespondOnLimit(w, r, "user:"+username)
}

func (l *loginLimits) api(s *Store) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		var body struct {
			Username string `json:"username"`
			Password string `json:"password"`
		}
		if err := web.Decode(r, &body, false); err != nil {
			web.WriteError(w, r, err)
			return
		}
		if body.Username == "" || body.Password == "" {
			web.WriteError(w, r, web.Invalid("missing_credentials", "username and password are required"))
			return
		}
		username := NormalizeUsername(body.Username)
		if l.tooMany(w, r, username) {
			return
		}
		token, u, err := s.Login(r.Context(), username, body.Password)
		if err != nil {
			web.WriteError(w, r, err)
			return
		}
		SetCookie(w, r, SessionCookie, token, SessionTTL)
		web.JSON(w, http.StatusOK, map[string]any{"token": token, "user": u})
	}
}

func (l *loginLimits) form(s *Store) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		next := safeNext(r.PostFormValue("next"))
		username := NormalizeUsername(r.PostFormValue("username"))
		if l.tooMany(w, r, username) {
			return
		}
		token, _, err := s.Login(r.Context(), username, r.PostFormValue("password"))
		if err != nil {
			loginPage.Render(w, r, &web.View{Title: "login", Body: "login", Status: http.StatusUnauthorized,
				Data: map[string]any{"Next": next, "Failed": true, "Username": r.PostFormValue("username")}})
			return
		}
		SetCookie(w, r, SessionCookie, token, SessionTTL)
		http.Redirect(w, r, next, http.StatusSeeOther)
	}
}

func (s *Store) showLogin(w http.ResponseWriter, r *http.Request) {
	loginPage.Render(w, r, &web.View{Title: "login", Body: "login", Data: map[string]any{"Next": safeNext(r.URL.Query().Get("next"))}})
}

// safeNext keeps redirects after login on this site.
func safeNext(next string) string {
	u, err := url.Parse(next)
	if next == "" || err != nil || u.IsAbs() || u.Host != "" || !strings.HasPrefix(u.Path, "/") || strings.HasPrefix(next, "//") {
		return "/desk"
	}
	return next
}

func (s *Store) logout(w http.ResponseWriter, r *http.Request) {
	token := ""
	if h, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok {
		token = h
	} else if c, err := r.Cookie(SessionCookie); err == nil {
		token = c.Value
	}
	if token != "" {
		if err := s.Logout(r.Context(), token); err != nil {
			web.WriteError(w, r, err)
			return
		}
	}
	SetCookie(w, r, SessionCookie, "", 0)
	if strings.HasPrefix(r.URL.Path, "/api/") {
		w.WriteHeader(http.StatusNoContent)
		return
	}
	http.Redirect(w, r, "/login", http.StatusSeeOther)
}

func (s *Store) me(w http.ResponseWriter, r *http.Request) {
	p := FromContext(r.Context())
	switch {
	case p.User != nil:
		web.JSON(w, http.StatusOK, map[string]any{"kind": "user", "user": p.User, "role": p.User.Role})
	case p.Device != nil:
		web.JSON(w, http.StatusOK, map[string]any{"kind": "device", "device": p.Device, "role": p.Device.Kind})
	default:
		web.WriteError(w, r, web.Unauthorized("sign in first"))
	}
}

// RequirePage sends anonymous visitors of a staff page to the login page.
func RequirePage(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if FromContext(r.Context()).User == nil {
			http.Redirect(w, r, "/login?next="+url.QueryEscape(r.URL.RequestURI()), http.StatusSeeOther)
			return
		}
		next.ServeHTTP(w, r)
	})
}

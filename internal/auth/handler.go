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
// login page (/login). Login is rate-limited per address and per username.
func (s *Store) Routes(r chi.Router) {
	limited := r.With(
		httprate.LimitByIP(20, time.Minute),
		httprate.Limit(10, time.Minute, httprate.WithKeyFuncs(usernameKey)),
	)
	limited.Post("/api/v1/login", s.apiLogin)
	limited.Post("/login", s.formLogin)
	r.Get("/login", s.showLogin)
	r.Post("/api/v1/logout", s.logout)
	r.Post("/logout", s.logout)
	r.Get("/api/v1/me", s.me)
}

// usernameKey rate-limits by the username of a login attempt, read without consuming the JSON body.
func usernameKey(r *http.Request) (string, error) {
	if strings.HasPrefix(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded") {
		return "user:" + r.PostFormValue("username"), nil
	}
	return "ip-user:" + r.RemoteAddr, nil
}

func (s *Store) apiLogin(w http.ResponseWriter, r *http.Request) {
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
	token, u, err := s.Login(r.Context(), strings.ToLower(strings.TrimSpace(body.Username)), body.Password)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	SetCookie(w, r, SessionCookie, token, SessionTTL)
	web.JSON(w, http.StatusOK, map[string]any{"token": token, "user": u})
}

func (s *Store) showLogin(w http.ResponseWriter, r *http.Request) {
	loginPage.Render(w, r, &web.View{Title: "login", Body: "login", Data: map[string]any{"Next": safeNext(r.URL.Query().Get("next"))}})
}

func (s *Store) formLogin(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.PostFormValue("next"))
	token, _, err := s.Login(r.Context(), strings.ToLower(strings.TrimSpace(r.PostFormValue("username"))), r.PostFormValue("password"))
	if err != nil {
		loginPage.Render(w, r, &web.View{Title: "login", Body: "login", Status: http.StatusUnauthorized,
			Data: map[string]any{"Next": next, "Failed": true, "Username": r.PostFormValue("username")}})
		return
	}
	SetCookie(w, r, SessionCookie, token, SessionTTL)
	http.Redirect(w, r, next, http.StatusSeeOther)
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

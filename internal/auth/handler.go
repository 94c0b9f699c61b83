package auth

import (
	"embed"
	"errors"
	"net/http"
	"net/url"
	"strconv"
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
// login page (/login). Both sign-ins go through the same limits (LoginFrom), kept in the database per
// normalised username and per client address (web.ClientIP), so that every node shares them; an in-memory
// cap of 60 attempts a minute per address and node stands before them against floods.
func (s *Store) Routes(r chi.Router) {
	limited := r.With(httprate.LimitBy(60, time.Minute, clientKey,
		httprate.WithLimitHandler(func(w http.ResponseWriter, r *http.Request) {
			web.WriteError(w, r, &web.Error{Status: http.StatusTooManyRequests, Code: "too_many_requests",
				Message: "too many sign-in attempts from this address; wait a minute"})
		})))
	limited.Post("/api/v1/login", s.apiLogin)
	limited.Post("/login", s.formLogin)
	r.Get("/login", s.showLogin)
	r.Post("/api/v1/logout", s.logout)
	r.Post("/logout", s.logout)
	r.Get("/api/v1/me", s.me)
}

// clientKey rate-limits by the client's address (web.ClientIP: forwarded only by trusted proxies).
func clientKey(r *http.Request) (string, error) { return "ip:" + web.ClientIP(r), nil }

// NormalizeUsername is how usernames are compared: trimmed and lower case.
func NormalizeUsername(s string) string { return strings.ToLower(strings.TrimSpace(s)) }

func (s *Store) apiLogin(w http.ResponseWriter, r *http.Request) {
	var body struct {
		Username string `json:"username"`
		Password string `json:"password"`
	}
	if err := web.Decode(r, &body, false); err != nil {
		web.WriteError(w, r, err)
		return
	}
	if strings.TrimSpace(body.Username) == "" || body.Password == "" {
		web.WriteError(w, r, web.Invalid("missing_credentials", "username and password are required"))
		return
	}
	token, u, err := s.LoginFrom(r.Context(), body.Username, body.Password, web.ClientIP(r))
	var le *LimitError
	if errors.As(err, &le) {
		w.Header().Set("Retry-After", strconv.Itoa(le.RetryAfter()))
		web.WriteError(w, r, le.web(web.RequestLang(r, web.StaffLangs)))
		return
	}
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	SetCookie(w, r, SessionCookie, token, SessionTTL)
	web.JSON(w, http.StatusOK, map[string]any{"token": token, "user": u})
}

func (s *Store) formLogin(w http.ResponseWriter, r *http.Request) {
	next := safeNext(r.PostFormValue("next"))
	token, _, err := s.LoginFrom(r.Context(), r.PostFormValue("username"), r.PostFormValue("password"), web.ClientIP(r))
	if err != nil {
		data := map[string]any{"Next": next, "Username": r.PostFormValue("username")}
		v := &web.View{Title: "login", Body: "login", Status: http.StatusUnauthorized, Data: data}
		var le *LimitError
		switch {
		case errors.As(err, &le):
			v.Lang = web.RequestLang(r, web.StaffLangs)
			v.Status, data["Message"] = http.StatusTooManyRequests, le.web(v.Lang).Message
			w.Header().Set("Retry-After", strconv.Itoa(le.RetryAfter()))
		case errors.Is(err, ErrBadCredentials):
			data["Failed"] = true
		default:
			web.WriteError(w, r, err)
			return
		}
		loginPage.Render(w, r, v)
		return
	}
	SetCookie(w, r, SessionCookie, token, SessionTTL)
	http.Redirect(w, r, next, http.StatusSeeOther)
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

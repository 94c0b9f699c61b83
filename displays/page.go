package displays

import (
	"embed"
	"net/http"
	"time"

	"turno/internal/auth"
	"turno/internal/web"
	"turno/ticketing"
)

//go:embed templates/*.html
var templates embed.FS

var displayPage = web.NewPage(templates, "templates/display.html")

// pairingTTL is how long a screen stays paired after opening its link once: the longest a browser keeps a
// cookie.
const pairingTTL = 400 * 24 * time.Hour

// pageConfig is what display.js starts from.
type pageConfig struct {
	Office     string                 `json:"office"`
	OfficeName string                 `json:"office_name"`
	TimeZone   string                 `json:"time_zone"`
	Lang       string                 `json:"lang"`   // the screen's, from its settings: text, clock and voice
	Layout     Layout                 `json:"layout"` // Settings.Layout or the default
	Settings   Settings               `json:"settings"`
	Services   map[string]pageService `json:"services"`
	I18n       map[string]string      `json:"i18n"`
	// Kind is who shows the page, "device" (a paired screen) or "user" (staff signed in): when its right
	// ends, a screen goes back to the pairing page and a user to the sign-in page.
	Kind string `json:"kind"`
}

type pageService struct {
	Names    map[string]string `json:"names"`
	Audience string            `json:"audience"`
}

type pageView struct {
	Office  *ticketing.Office
	Title   string
	Config  *pageConfig
	Problem string // i18n key of why the screen cannot show the office
}

// displayPage serves /display/{office}, whose office InOffice has resolved. Opened once with ?device=TOKEN
// it pairs the screen: the token goes into a long-lived cookie and the page reloads without it, so the
// token does not stay in the address bar.
func (s *Server) displayPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	// Until the screen is known, its pages speak the language of whoever is setting it up.
	o := ticketing.OfficeOf(r)
	view := &web.View{Lang: web.RequestLang(r, web.StaffLangs), Title: o.Name, Body: "display"}
	problem := func(status int, key string) {
		view.Status, view.Data = status, &pageView{Office: o, Title: o.Name, Problem: key}
		displayPage.Render(w, r, view)
	}
	q := r.URL.Query()
	if token := q.Get("device"); token != "" {
		d, err := s.Auth.DeviceByToken(ctx, token)
		if err != nil {
			web.WriteError(w, r, err)
			return
		}
		if d == nil || d.Kind != auth.Display || d.OfficeID != o.ID {
			problem(http.StatusForbidden, "display.bad_token")
			return
		}
		auth.SetCookie(w, r, auth.DeviceCookieOf(auth.Display), token, pairingTTL)
		q.Del("device")
		u := *r.URL
		u.RawQuery = q.Encode()
		http.Redirect(w, r, u.RequestURI(), http.StatusSeeOther)
		return
	}
	p := auth.FromContext(ctx)
	if err := mayFollow(p, o.ID); err != nil {
		if p.User == nil && p.Device == nil {
			for _, name := range []string{auth.DeviceCookieOf(auth.Display), auth.DeviceCookie} {
				if _, err := r.Cookie(name); err == nil {
					// The screen was paired with a token that no longer works (revoked): forget it.
					auth.SetCookie(w, r, name, "", 0)
				}
			}
			problem(http.StatusUnauthorized, "display.not_paired")
		} else {
			problem(http.StatusForbidden, "display.forbidden")
		}
		return
	}
	set := deviceSettings(p.Device)
	if err := set.override(q); err != nil {
		web.WriteError(w, r, err)
		return
	}
	services, err := s.checkSettings(ctx, o.ID, &set)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	// The screen speaks its own language (the hall's, set by the manager), not its browser's.
	lang := set.screenLang(o)
	layout := set.Layout
	if layout == "" {
		layout = LayoutCallsQueue
	}
	view.Lang, view.Langs = lang, Langs
	cfg := &pageConfig{Office: o.Slug, OfficeName: o.Name, TimeZone: o.TimeZone, Lang: lang, Layout: layout, Settings: set,
		Services: map[string]pageService{}, I18n: web.Catalogue(lang, "display."), Kind: "device"}
	if p.User != nil {
		cfg.Kind = "user"
	}
	for _, sv := range services {
		cfg.Services[sv.Code] = pageService{Names: sv.Names, Audience: sv.Audience}
	}
	title := set.Title
	if title == "" {
		title = o.Name
	}
	view.Title, view.Data = title, &pageView{Office: o, Title: title, Config: cfg}
	displayPage.Render(w, r, view)
}

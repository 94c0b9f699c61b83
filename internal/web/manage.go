package web

import (
	"encoding/json"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"net/url"
)

// ManageSection is a link of the manager's navigation bar.
type ManageSection struct {
	Key    string // translated as manage.nav.<Key>
	Href   string
	Active bool
	// AllOffices shows the section only to administrators of every office (Manage.Offices is set for
	// them alone): pages about the whole installation, such as the network comparison.
	AllOffices bool
}

// manageSections are the /manage sections in the order of the navigation bar. Each part serves its own
// sections' pages (see docs/architecture.md); the bar only links them.
var manageSections = []ManageSection{
	{Key: "home", Href: "/manage"},
	{Key: "live", Href: "/manage/live"},
	{Key: "stats", Href: "/manage/stats"},
	{Key: "catalogue", Href: "/manage/catalogue"},
	{Key: "staff", Href: "/manage/staff"},
	{Key: "hours", Href: "/manage/hours"},
	{Key: "devices", Href: "/manage/devices"},
	{Key: "users", Href: "/manage/users"},
	{Key: "settings", Href: "/manage/settings"},
	{Key: "templates", Href: "/manage/templates"},
	{Key: "absences", Href: "/manage/absences"},
	{Key: "demand", Href: "/manage/demand"},
	{Key: "rosters", Href: "/manage/rosters"},
	{Key: "appointments", Href: "/manage/appointments"},
	{Key: "notifications", Href: "/manage/notifications"},
	{Key: "feedback", Href: "/manage/feedback"},
	{Key: "accounting", Href: "/manage/accounting"},
	{Key: "network", Href: "/manage/network", AllOffices: true},
}

// OfficeLink is an office in the administrator's office switcher.
type OfficeLink struct{ Slug, Name string }

// Manage is what every /manage page receives as View.Data: the office being managed, the navigation and
// the page's own data.
type Manage struct {
	Office  any          // the managed office (its Name and Location are used by templates)
	Slug    string       // the managed office's slug
	Offices []OfficeLink // for administrators: the offices they can switch to
	Section string       // the active section's key
	API     string       // /api/v1/offices/{slug}
	Query   string       // "?office=slug" for administrators, so links keep the office
	Lang    string
	Page    any
}

// Nav returns the navigation bar with the active section marked and the office query kept.
func (m *Manage) Nav() []ManageSection {
	out := make([]ManageSection, 0, len(manageSections))
	for _, s := range manageSections {
		if s.AllOffices && m.Offices == nil {
			continue
		}
		s.Active = s.Key == m.Section
		s.Href = m.Q(s.Href)
		out = append(out, s)
	}
	return out
}

// Q appends the office query to a path.
func (m *Manage) Q(path string) string { return path + m.Query }

// Link returns path with the office query and one more parameter.
func (m *Manage) Link(path, key string, value any) string {
	q := url.Values{}
	if m.Query != "" {
		q.Set("office", m.Slug)
	}
	q.Set(key, fmt.Sprint(value))
	return path + "?" + q.Encode()
}

// JSON marshals x for a data- attribute (edit buttons fill forms from it).
func (m *Manage) JSON(x any) string {
	b, _ := json.Marshal(x)
	return string(b)
}

// ManagePage parses the layout, the /manage shell and a page's files, which define "page-title", "page"
// and optionally "page-head" (a page's own script, served beside its template).
func ManagePage(pageFS fs.FS, files ...string) *Page {
	p := NewPage(templateFiles, "templates/manage.html")
	template.Must(p.t.ParseFS(pageFS, files...))
	return p
}

var manageErrorPage = NewPage(templateFiles, "templates/manage.html", "templates/manage_error.html")

// RenderManage renders a /manage page, or the shell's error page when err is not nil: a *Error with its
// status and message, anything else logged and shown as a 500.
func RenderManage(w http.ResponseWriter, r *http.Request, p *Page, user string, m *Manage, err error) {
	lang := RequestLang(r, StaffLangs)
	if m == nil {
		m = &Manage{}
	}
	m.Lang = lang
	v := &View{Lang: lang, Title: "manage", Body: "manage", User: user, Data: m}
	if err == nil {
		p.Render(w, r, v)
		return
	}
	var e *Error
	if !errors.As(err, &e) {
		slog.ErrorContext(r.Context(), "manage page failed", "method", r.Method, "path", RedactPath(r.URL.Path), "err", err)
		e = &Error{Status: http.StatusInternalServerError, Code: "internal", Message: Translate(lang, "error.internal")}
	}
	m.Page, v.Status = e.In(lang), e.Status
	manageErrorPage.Render(w, r, v)
}

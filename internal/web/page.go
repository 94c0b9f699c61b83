package web

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
)

//go:embed templates/*.html
var templateFiles embed.FS

//go:embed static
var staticFiles embed.FS

// Static serves the shared assets (styles, scripts, sounds) under /static/.
func Static() http.Handler {
	sub, _ := fs.Sub(staticFiles, "static")
	return http.StripPrefix("/static/", http.FileServer(http.FS(sub)))
}

// Page is a page template: the shared layout plus one page's own templates, which define "title",
// "head" (optional) and "content".
type Page struct{ t *template.Template }

// NewPage parses the layout and the named files of pageFS. It panics on a template error, which is a
// programming error caught by any test that renders the page.
func NewPage(pageFS fs.FS, files ...string) *Page {
	t := template.Must(template.New("layout.html").Funcs(funcs).ParseFS(templateFiles, "templates/layout.html"))
	template.Must(t.ParseFS(pageFS, files...))
	return &Page{t: t}
}

var funcs = template.FuncMap{
	// dates and weekdays in the page's language (dates.go)
	"weekdayName":    WeekdayName,
	"weekdayShort":   WeekdayShort,
	"formatDate":     FormatDate,
	"formatDay":      FormatDay,
	"formatDayYear":  FormatDayYear,
	"isoDay":         FormatISODay,
	"formatDateTime": FormatDateTime,
	"numericDate":    FormatNumericDate,
	"citizenLangs":   func() []Language { return CitizenLangs },
	"dir":            Direction,
	"dict": func(kv ...any) map[string]any {
		m := make(map[string]any, len(kv)/2)
		for i := 0; i+1 < len(kv); i += 2 {
			m[kv[i].(string)] = kv[i+1]
		}
		return m
	},
}

// View is what every page template receives.
type View struct {
	Lang   string
	Title  string
	Body   string // class of <body>, for page-specific styling
	User   string // signed-in user's name, if any
	Langs  []Language
	Data   any
	Status int // HTTP status; 200 when zero
}

// T translates key into the view's language.
func (v *View) T(key string) string { return Translate(v.Lang, key) }

// Dir is the text direction of the view's language.
func (v *View) Dir() string { return Direction(v.Lang) }

// Render writes the page with data in the request's language, under the pages' Content-Security-Policy:
// no inline script or style (a page's code and styles are files under its static/ directory, and its
// data for scripts a <script type="application/json"> block, which is not run), nothing from another
// origin, no framing (but of the hall display by the origins the Site allows).
func (p *Page) Render(w http.ResponseWriter, r *http.Request, v *View) {
	if v.Lang == "" {
		v.Lang = RequestLang(r, StaffLangs)
	}
	if v.Langs == nil {
		v.Langs = StaffLangs
	}
	var buf bytes.Buffer
	if err := p.t.ExecuteTemplate(&buf, "layout.html", v); err != nil {
		slog.ErrorContext(r.Context(), "render page", "path", RedactPath(r.URL.Path), "err", err)
		http.Error(w, "internal error", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("Referrer-Policy", "same-origin")
	w.Header().Set("Content-Security-Policy", pagePolicy(r))
	status := v.Status
	if status == 0 {
		status = http.StatusOK
	}
	w.WriteHeader(status)
	_, _ = buf.WriteTo(w)
}

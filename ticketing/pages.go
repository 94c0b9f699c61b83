package ticketing

import (
	"embed"
	"io/fs"
	"maps"
	"net/http"

	"github.com/go-chi/chi/v5"

	"turno/internal/auth"
	"turno/internal/web"
)

//go:embed templates/*.html
var templates embed.FS

//go:embed static
var staticFiles embed.FS

var deskPage = web.NewPage(templates, "templates/desk.html")

// Pages serves the operator's desk page.
type Pages struct {
	Store *Store
}

// Routes mounts /desk and its script.
func (p *Pages) Routes(r chi.Router) {
	static, _ := fs.Sub(staticFiles, "static")
	r.Get("/desk/static/*", http.StripPrefix("/desk/static/", http.FileServer(http.FS(static))).ServeHTTP)
	r.With(auth.RequirePage).Get("/desk", p.desk)
}

// deskView is what the desk page needs to start; the rest comes from the JSON API.
type deskView struct {
	Office   *Office
	Desks    []*DeskState
	DeskID   int64
	Services []*Service
	Reasons  []string
	Catalog  map[string]string
	Client   *deskClient
	NoOffice bool
}

// deskClient is the desk page's script data beside its strings: the office's time zone (waiting times
// are shown on the office's clock, not the workstation's), the priority categories' names in the
// page's language, which the waiting list shows instead of their codes, and each service's wait target,
// against which the page raises its alarm.
type deskClient struct {
	TimeZone   string            `json:"time_zone"`
	Priorities map[string]string `json:"priorities"`
	Targets    map[string]int    `json:"targets"` // service code → wait target in seconds
}

// deskCatalogue is the part of the catalogue desk.js reads: its own keys, ticket statuses and units.
func deskCatalogue(lang string) map[string]string {
	out := web.Catalogue(lang, "desk.")
	for _, prefix := range []string{"status.", "unit."} {
		maps.Copy(out, web.Catalogue(lang, prefix))
	}
	return out
}

func (p *Pages) desk(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := auth.FromContext(ctx).User
	lang := web.RequestLang(r, web.StaffLangs)
	v := &deskView{Reasons: []string{"break", "backoffice", "meeting", "other"}, Catalog: deskCatalogue(lang)}
	view := &web.View{Lang: lang, Title: "desk", Body: "desk", User: u.DisplayName, Data: v}
	if u.OfficeID == 0 {
		v.NoOffice = true
		deskPage.Render(w, r, view)
		return
	}
	o, err := p.Store.OfficeByID(ctx, u.OfficeID)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	v.Office = o
	if v.DeskID, err = p.Store.DeskOfUser(ctx, u.ID); err != nil {
		web.WriteError(w, r, err)
		return
	}
	if v.DeskID == 0 { // the chooser: every desk and who holds it
		desks, err := p.Store.Desks(ctx, o.ID)
		if err != nil {
			web.WriteError(w, r, err)
			return
		}
		for _, d := range desks {
			st, err := p.Store.DeskState(ctx, d.ID)
			if err != nil {
				web.WriteError(w, r, err)
				return
			}
			v.Desks = append(v.Desks, st)
		}
	}
	if v.Services, err = p.Store.Services(ctx, o.ID); err != nil {
		web.WriteError(w, r, err)
		return
	}
	categories, err := p.Store.PriorityCategories(ctx, o.ID)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	v.Client = &deskClient{TimeZone: o.TimeZone, Priorities: map[string]string{}, Targets: map[string]int{}}
	for _, sv := range v.Services {
		v.Client.Targets[sv.Code] = sv.WaitTargetSeconds
	}
	for _, c := range categories {
		v.Client.Priorities[c.Code] = priorityLabel(c.Labels, lang, c.Code)
	}
	deskPage.Render(w, r, view)
}

// priorityLabel picks a name in lang from a map of names by language, falling back to Italian, then to fallback.
func priorityLabel(names map[string]string, lang, fallback string) string {
	for _, l := range []string{lang, "it"} {
		if n := names[l]; n != "" {
			return n
		}
	}
	return fallback
}

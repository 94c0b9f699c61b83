package displays

import (
	"maps"
	"net/http"

	"github.com/go-chi/chi/v5"

	"turno/internal/auth"
	"turno/internal/web"
	"turno/ticketing"
)

// livePage is the live floor view in the /manage shell; its script and style are served with the display's
// under /display/static/.
var livePage = web.ManagePage(templates, "templates/live.html")

// liveData is what the live floor page renders: where to read the floor and the stream, and the page's
// strings for live.js.
type liveData struct {
	Office string            // slug
	Floor  string            // the floor endpoint
	Stream string            // the office's event stream
	I18n   map[string]string // live.* keys, status and unit names in the page's language
}

// liveRoutes mounts the live floor view, /manage/live, and the floor it starts from,
// GET /api/v1/offices/{office}/floor: both for the office's managers only, since they show the whole hall.
func (s *Server) liveRoutes(r chi.Router) {
	r.With(auth.RequirePage).Get("/manage/live", s.Store.ManageHandler(livePage, "live", s.live))
	r.With(auth.RequireRole(auth.Manager, auth.Admin), s.Store.InOffice(ticketing.Managers)).
		Method(http.MethodGet, "/api/v1/offices/{office}/floor", web.Endpoint(func(r *http.Request) (int, any, error) {
			return web.OK(s.Store.Floor(r.Context(), ticketing.OfficeOf(r)))
		}))
}

func (s *Server) live(r *http.Request, o *ticketing.Office) (any, error) {
	lang := web.RequestLang(r, web.StaffLangs)
	i18n := web.Catalogue(lang, "live.")
	for _, prefix := range []string{"status.", "unit.", "desk.reason."} {
		maps.Copy(i18n, web.Catalogue(lang, prefix))
	}
	return &liveData{Office: o.Slug, Floor: "/api/v1/offices/" + o.Slug + "/floor", Stream: "/ws/offices/" + o.Slug + "/events", I18n: i18n}, nil
}

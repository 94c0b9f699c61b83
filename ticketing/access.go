package ticketing

import (
	"context"
	"net/http"

	"github.com/go-chi/chi/v5"

	"turno/internal/auth"
	"turno/internal/web"
)

// Access says who may use a route about an office ({office} in its path).
type Access int

// The levels of access to an office's routes.
const (
	// Anyone may call the route: the catalogue, the queue, the kiosk's status.
	Anyone Access = iota
	// SignedIn needs a user or a device; the route checks what each may do.
	SignedIn
	// Members needs a user who works in the office (its staff, its managers, administrators of it) or a
	// device of the office.
	Members
	// Managers needs a manager of the office or an administrator.
	Managers
)

type officeKey struct{}

// InOffice is the one middleware of office routes: it resolves {office} (404 unknown_office), checks the
// caller's access (401 without a principal where one is needed, 403 other_office for a manager of another
// office or a caller who is not a manager) and puts the office in the request context for OfficeOf.
func (s *Store) InOffice(a Access) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			o, err := s.Office(r.Context(), chi.URLParam(r, "office"))
			if err == nil {
				err = a.check(auth.FromContext(r.Context()), o)
			}
			if err != nil {
				web.WriteError(w, r, err)
				return
			}
			next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), officeKey{}, o)))
		})
	}
}

func (a Access) check(p auth.Principal, o *Office) error {
	if a == Anyone {
		return nil
	}
	if p.User == nil && p.Device == nil {
		return web.Unauthorized("sign in or use a device token")
	}
	switch {
	case a == Managers && !auth.CanManage(p.User, o.ID):
		return web.Forbidden("other_office", "you do not manage office %q", o.Slug)
	case a == Members && p.User != nil && !auth.WorksIn(p.User, o.ID):
		return web.Forbidden("other_office", "you do not work in office %q", o.Slug)
	case a == Members && p.Device != nil && p.Device.OfficeID != o.ID:
		return web.Forbidden("other_office", "this device belongs to another office")
	}
	return nil
}

// OfficeOf returns the office InOffice resolved for the request.
func OfficeOf(r *http.Request) *Office {
	o, _ := r.Context().Value(officeKey{}).(*Office)
	return o
}

// ManagedOffice resolves the office a /manage page is about: the one named by ?office=, else the user's
// own, else (administrators) the first. The user must manage it. It also returns the offices an
// administrator may switch to.
func (s *Store) ManagedOffice(r *http.Request) (*Office, []*Office, error) {
	ctx := r.Context()
	u := auth.FromContext(ctx).User
	if u == nil || (u.Role != auth.Manager && u.Role != auth.Admin) {
		return nil, nil, web.Forbidden("not_manager", "these pages are for office managers")
	}
	var o *Office
	var err error
	switch slug := r.URL.Query().Get("office"); {
	case slug != "":
		o, err = s.Office(ctx, slug)
	case u.OfficeID != 0:
		o, err = s.OfficeByID(ctx, u.OfficeID)
	default:
		offices, lerr := s.Offices(ctx)
		if lerr != nil {
			return nil, nil, lerr
		}
		if len(offices) == 0 {
			return nil, nil, web.NotFound("no_office", "there is no office yet; create one with turno demo or the API")
		}
		o = offices[0]
	}
	if err != nil {
		return nil, nil, err
	}
	if !auth.CanManage(u, o.ID) {
		return nil, nil, web.Forbidden("other_office", "you do not manage office %q", o.Slug)
	}
	var all []*Office
	if u.Role == auth.Admin && u.AllOffices {
		if all, err = s.Offices(ctx); err != nil {
			return nil, nil, err
		}
	}
	return o, all, nil
}

// ManageView resolves the managed office (ManagedOffice) and returns the /manage shell's view for a
// section, to which the page adds its data.
func (s *Store) ManageView(r *http.Request, section string) (*web.Manage, *Office, error) {
	o, all, err := s.ManagedOffice(r)
	if err != nil {
		return nil, nil, err
	}
	m := &web.Manage{Office: o, Slug: o.Slug, Section: section, API: "/api/v1/offices/" + o.Slug, Lang: web.RequestLang(r, web.StaffLangs)}
	if all != nil {
		m.Query = "?office=" + o.Slug
		for _, x := range all {
			m.Offices = append(m.Offices, web.OfficeLink{Slug: x.Slug, Name: x.Name})
		}
	}
	return m, o, nil
}

// UserName is the name the page header shows for the signed-in user.
func UserName(r *http.Request) string {
	u := auth.FromContext(r.Context()).User
	switch {
	case u == nil:
		return ""
	case u.DisplayName != "":
		return u.DisplayName
	}
	return u.Username
}

// ManageHandler serves a /manage page in the shared shell: it resolves the managed office (ManageView),
// runs fill for the page's data and renders page, or the shell's error page when either fails.
func (s *Store) ManageHandler(page *web.Page, section string, fill func(*http.Request, *Office) (any, error)) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		v, o, err := s.ManageView(r, section)
		if err == nil {
			v.Page, err = fill(r, o)
		}
		web.RenderManage(w, r, page, UserName(r), v, err)
	}
}

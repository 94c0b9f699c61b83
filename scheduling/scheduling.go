// Package scheduling is the staff-planning side of Turno for managers: shift templates, contracts,
// absences and preferences (Store, the only reader and writer of their tables), the planning JSON API under
// /api/v1/offices/{office}/ and the planning /manage pages. The forecast lives in scheduling/demand, the
// rosters in scheduling/plan and the solver in scheduling/roster. Offices, staff, skills and the calendar
// are ticketing's: this package reads them through ticketing.Store.
package scheduling

import (
	"net/http"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"turno/internal/auth"
	"turno/internal/web"
	"turno/scheduling/demand"
	"turno/ticketing"
)

// Store keeps the planning data of staff members: shift templates, contracts, absences and preferences.
// It reads offices and staff through the ticketing store.
type Store struct {
	pool    *pgxpool.Pool
	tickets *ticketing.Store
}

// NewStore returns the planning store on pool; tickets is the store of the offices and staff it plans.
func NewStore(pool *pgxpool.Pool, tickets *ticketing.Store) *Store {
	return &Store{pool: pool, tickets: tickets}
}

// API serves the manager's planning JSON API: shift templates, contracts, preferences, absences, the
// demand forecast and the planning settings. The staff members themselves are served by ticketing's API,
// to which Store adds the contract and preferences (ticketing.StaffPlanning).
type API struct {
	Store   *Store
	Tickets *ticketing.Store
	Demand  *demand.Store
}

// Routes mounts the API on r, which must run auth.Store.Authenticate. Every route needs a manager of the
// office or an administrator.
func (a *API) Routes(r chi.Router) {
	const o = "/api/v1/offices/{office}"
	r.Group(func(r chi.Router) {
		r.Use(auth.RequireRole(auth.Manager, auth.Admin), a.Tickets.InOffice(ticketing.Managers))
		e := func(method, path string, fn web.Endpoint) { r.Method(method, o+path, fn) }

		e("GET", "/shift-templates", a.listTemplates)
		e("POST", "/shift-templates", a.createTemplate)
		e("PUT", "/shift-templates/{id}", a.updateTemplate)

		e("PUT", "/staff/{id}/contract", a.putContract)
		e("GET", "/staff/{id}/preferences", a.getPreferences)
		e("PUT", "/staff/{id}/preferences", a.putPreferences)
		e("GET", "/contracts", a.listContracts)

		e("GET", "/absences", a.listAbsences)
		e("POST", "/absences", a.createAbsence)
		e("DELETE", "/absences/{id}", a.deleteAbsence)

		e("GET", "/demand", a.getDemand)
		e("POST", "/demand/refresh", a.refreshDemand)
		e("PUT", "/demand/overrides", a.putOverride)
		e("DELETE", "/demand/overrides", a.deleteOverride)
		e("GET", "/planning-settings", a.getSettings)
		e("PUT", "/planning-settings", a.putSettings)
	})
}

// staffParam resolves {id} to a staff member of the request's office; one of another office is a 404 on
// "staff", like an unknown one.
func (a *API) staffParam(r *http.Request) (*ticketing.Staff, error) {
	id, err := web.PathID(r, "id", "unknown_staff")
	if err != nil {
		return nil, staffNotFound(chi.URLParam(r, "id"))
	}
	return a.Tickets.StaffMember(r.Context(), ticketing.OfficeOf(r).ID, id)
}

// staffNotFound is ticketing's error for a staff id that is not one of the office's.
func staffNotFound(id any) error {
	return web.NotFound("unknown_staff", "no staff member %v in this office", id).On("staff")
}

// Package scheduling is the office-planning side of Turno for managers: opening hours and their exceptions,
// holidays, shift templates, staff with skills and contracts, absences, preferences, the demand forecast
// and planning settings — as a JSON API under /api/v1/offices/{office}/ and as the /manage pages. The
// forecast itself lives in scheduling/demand, the cron jobs in scheduling/job, the roster solver in
// scheduling/roster.
package scheduling

import (
	"context"
	"net/http"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"turno/internal/auth"
	"turno/internal/web"
	"turno/ticketing"
)

// API serves the manager's planning JSON API.
type API struct {
	Store *ticketing.Store
	// Now is the clock; nil means time.Now.
	Now func() time.Time
}

func (a *API) pool() *pgxpool.Pool { return a.Store.Pool() }

func (a *API) now() time.Time {
	if a.Now != nil {
		return a.Now()
	}
	return time.Now()
}

// Routes mounts the API on r, which must run auth.Store.Authenticate. Every route needs a manager of the
// office or an admin.
func (a *API) Routes(r chi.Router) {
	const o = "/api/v1/offices/{office}"
	m := r.With(auth.RequireRole(auth.Manager, auth.Admin), a.managed)

	m.Get(o+"/opening-hours", a.getOpeningHours)
	m.Put(o+"/opening-hours", a.putOpeningHours)
	m.Get(o+"/exceptions", a.listExceptions)
	m.Post(o+"/exceptions", a.saveException)
	m.Delete(o+"/exceptions/{day}", a.deleteException)
	m.Get(o+"/holidays", a.holidays)

	m.Get(o+"/shift-templates", a.listTemplates)
	m.Post(o+"/shift-templates", a.createTemplate)
	m.Put(o+"/shift-templates/{id}", a.updateTemplate)

	m.Post(o+"/staff", a.createStaff)
	m.Get(o+"/staff/{id}", a.getStaff)
	m.Put(o+"/staff/{id}", a.updateStaff)
	m.Put(o+"/staff/{id}/contract", a.putContract)
	m.Get(o+"/staff/{id}/preferences", a.getPreferences)
	m.Put(o+"/staff/{id}/preferences", a.putPreferences)
	m.Get(o+"/contracts", a.listContracts)

	m.Get(o+"/absences", a.listAbsences)
	m.Post(o+"/absences", a.createAbsence)
	m.Delete(o+"/absences/{id}", a.deleteAbsence)

	m.Get(o+"/demand", a.getDemand)
	m.Post(o+"/demand/refresh", a.refreshDemand)
	m.Put(o+"/demand/overrides", a.putOverride)
	m.Delete(o+"/demand/overrides", a.deleteOverride)
	m.Get(o+"/planning-settings", a.getSettings)
	m.Put(o+"/planning-settings", a.putSettings)

	m.Post(o+"/services", a.createService)
	m.Put(o+"/services/{code}", a.updateService)
	m.Post(o+"/desks", a.createDesk)
	m.Put(o+"/desks/{number}", a.updateDesk)
	m.Post(o+"/priorities", a.createPriority)
	m.Put(o+"/priorities/{code}", a.updatePriority)
}

type officeKey struct{}

// managed resolves {office}, checks that the caller manages it and puts it in the request context.
func (a *API) managed(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		o, err := a.Store.Office(r.Context(), chi.URLParam(r, "office"))
		if err != nil {
			web.WriteError(w, r, err)
			return
		}
		if !auth.CanManage(auth.FromContext(r.Context()).User, o.ID) {
			web.WriteError(w, r, web.Forbidden("other_office", "you do not manage office %q", o.Slug))
			return
		}
		next.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), officeKey{}, o)))
	})
}

// officeOf returns the office resolved by managed.
func officeOf(r *http.Request) *ticketing.Office {
	return r.Context().Value(officeKey{}).(*ticketing.Office)
}

// reply writes v as JSON with status, or err as a JSON error.
func reply(w http.ResponseWriter, r *http.Request, status int, v any, err error) {
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	web.JSON(w, status, v)
}

package scheduling

import (
	"net/http"
	"strconv"

	"turno/internal/web"
	"turno/scheduling/demand"
)

func (a *API) getDemand(w http.ResponseWriter, r *http.Request) {
	f, err := demand.Load(r.Context(), a.pool(), officeOf(r).ID)
	reply(w, r, http.StatusOK, f, err)
}

// refreshDemand recomputes the forecast now instead of waiting for the nightly job.
func (a *API) refreshDemand(w http.ResponseWriter, r *http.Request) {
	o := officeOf(r)
	if err := demand.Refresh(r.Context(), a.pool(), o.ID, a.now()); err != nil {
		web.WriteError(w, r, err)
		return
	}
	f, err := demand.Load(r.Context(), a.pool(), o.ID)
	reply(w, r, http.StatusOK, f, err)
}

func (a *API) putOverride(w http.ResponseWriter, r *http.Request) {
	var ov demand.Override
	if err := web.Decode(r, &ov, false); err != nil {
		web.WriteError(w, r, err)
		return
	}
	o := officeOf(r)
	if err := demand.SetOverride(r.Context(), a.pool(), o.ID, ov, a.now()); err != nil {
		web.WriteError(w, r, err)
		return
	}
	f, err := demand.Load(r.Context(), a.pool(), o.ID)
	reply(w, r, http.StatusOK, f, err)
}

// deleteOverride takes the cell from the query: ?weekday=1&slot_start=09:00&skill_group=anagrafe.
func (a *API) deleteOverride(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	wd, err := strconv.Atoi(q.Get("weekday"))
	if err != nil || wd < 1 || wd > 7 {
		web.WriteError(w, r, web.InvalidField("weekday", "weekday must be between 1 (Monday) and 7 (Sunday)"))
		return
	}
	o := officeOf(r)
	if err := demand.DeleteOverride(r.Context(), a.pool(), o.ID, wd, q.Get("slot_start"), q.Get("skill_group"), a.now()); err != nil {
		web.WriteError(w, r, err)
		return
	}
	f, err := demand.Load(r.Context(), a.pool(), o.ID)
	reply(w, r, http.StatusOK, f, err)
}

func (a *API) getSettings(w http.ResponseWriter, r *http.Request) {
	s, err := demand.LoadSettings(r.Context(), a.pool(), officeOf(r).ID)
	reply(w, r, http.StatusOK, s, err)
}

// putSettings stores the planning settings and recomputes the forecast, whose staff needed depend on them.
func (a *API) putSettings(w http.ResponseWriter, r *http.Request) {
	o := officeOf(r)
	s, err := demand.LoadSettings(r.Context(), a.pool(), o.ID)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	if err := web.Decode(r, &s, false); err != nil {
		web.WriteError(w, r, err)
		return
	}
	if err := demand.SaveSettings(r.Context(), a.pool(), o.ID, s); err != nil {
		web.WriteError(w, r, err)
		return
	}
	reply(w, r, http.StatusOK, s, demand.Refresh(r.Context(), a.pool(), o.ID, a.now()))
}

package scheduling

import (
	"net/http"
	"strconv"

	"turno/internal/web"
	"turno/scheduling/demand"
	"turno/ticketing"
)

func (a *API) getDemand(r *http.Request) (int, any, error) {
	return web.OK(a.Demand.Load(r.Context(), ticketing.OfficeOf(r).ID))
}

// refreshDemand recomputes the forecast now instead of waiting for the nightly job.
func (a *API) refreshDemand(r *http.Request) (int, any, error) {
	o := ticketing.OfficeOf(r)
	if err := a.Demand.Refresh(r.Context(), o.ID, a.Tickets.Now()); err != nil {
		return 0, nil, err
	}
	return web.OK(a.Demand.Load(r.Context(), o.ID))
}

func (a *API) putOverride(r *http.Request) (int, any, error) {
	ov := demand.Override{Slot: unsetTime}
	if err := web.Decode(r, &ov, false); err != nil {
		return 0, nil, err
	}
	o := ticketing.OfficeOf(r)
	if err := a.Demand.SetOverride(r.Context(), o.ID, ov, a.Tickets.Now()); err != nil {
		return 0, nil, err
	}
	return web.OK(a.Demand.Load(r.Context(), o.ID))
}

// deleteOverride takes the cell from the query: ?weekday=1&slot_start=09:00&skill_group=anagrafe.
func (a *API) deleteOverride(r *http.Request) (int, any, error) {
	q := r.URL.Query()
	wd, err := strconv.Atoi(q.Get("weekday"))
	if err != nil || wd < 1 || wd > 7 {
		return 0, nil, web.InvalidField("weekday", "weekday must be between 1 (Monday) and 7 (Sunday)")
	}
	slot, err := ticketing.ParseTimeOfDay(q.Get("slot_start"))
	if err != nil {
		return 0, nil, web.InvalidField("slot_start", "slot_start must be a time like 08:30")
	}
	o := ticketing.OfficeOf(r)
	k := demand.Key{Weekday: wd, Slot: slot, Group: q.Get("skill_group")}
	if err := a.Demand.DeleteOverride(r.Context(), o.ID, k, a.Tickets.Now()); err != nil {
		return 0, nil, err
	}
	return web.OK(a.Demand.Load(r.Context(), o.ID))
}

func (a *API) getSettings(r *http.Request) (int, any, error) {
	return web.OK(a.Demand.Settings(r.Context(), ticketing.OfficeOf(r).ID))
}

// putSettings stores the planning settings (fields left out keep their values) and recomputes the
// forecast, whose staff needed depend on them.
func (a *API) putSettings(r *http.Request) (int, any, error) {
	o := ticketing.OfficeOf(r)
	s, err := a.Demand.Settings(r.Context(), o.ID)
	if err != nil {
		return 0, nil, err
	}
	if err := web.Decode(r, &s, false); err != nil {
		return 0, nil, err
	}
	if err := a.Demand.SaveSettings(r.Context(), o.ID, s); err != nil {
		return 0, nil, err
	}
	return web.OK(s, a.Demand.Refresh(r.Context(), o.ID, a.Tickets.Now()))
}

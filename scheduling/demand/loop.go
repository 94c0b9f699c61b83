package demand

import (
	"context"
	"fmt"
	"time"

	"turno/ticketing"
)

// HasForecast reports whether an office has a stored forecast (the nightly job or a refresh computed one).
func (st *Store) HasForecast(ctx context.Context, officeID int64) (bool, error) {
	var ok bool
	if err := st.pool.QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM demand_forecasts WHERE office_id = $1)`, officeID).Scan(&ok); err != nil {
		return false, fmt.Errorf("demand: has forecast %d: %w", officeID, err)
	}
	return ok, nil
}

// Backcast returns, for each of the given local dates (Mondays, for the planning loop), the forecast of
// office o as the nightly job would have computed it the night before that date: the HistoryWeeks weeks
// of arrivals and handling times before it, with the office's current settings, skill groups and manual
// overrides (neither is kept over time). It lets the planning loop judge past weeks by the forecast that
// was available when they were planned, not by one that has since learnt from them.
func (st *Store) Backcast(ctx context.Context, o *ticketing.Office, dates []time.Time) (Settings, map[time.Time][]Row, error) {
	s, err := st.Settings(ctx, o.ID)
	if err != nil || len(dates) == 0 {
		return s, nil, err
	}
	cal, err := st.tickets.Calendar(ctx, o)
	if err != nil {
		return s, nil, err
	}
	groups, fallback, err := st.tickets.SkillGroups(ctx, o.ID)
	if err != nil {
		return s, nil, err
	}
	overrides, err := st.overrides(ctx, o.ID)
	if err != nil {
		return s, nil, err
	}
	first, last := dates[0], dates[0]
	for _, d := range dates {
		if d.Before(first) {
			first = d
		}
		if d.After(last) {
			last = d
		}
	}
	// One read of the arrivals for every window: Compute takes from them the dates of its own window.
	counts, err := st.tickets.ArrivalCounts(ctx, o, o.Midnight(first.AddDate(0, 0, -HistoryWeeks*7)), o.Midnight(last), s.SlotMinutes)
	if err != nil {
		return s, nil, err
	}
	out := make(map[time.Time][]Row, len(dates))
	for _, d := range dates {
		if _, done := out[d]; done {
			continue
		}
		from, to := o.Midnight(d.AddDate(0, 0, -HistoryWeeks*7)), o.Midnight(d)
		served, err := st.tickets.HandlingTimes(ctx, o.ID, from, to)
		if err != nil {
			return s, nil, err
		}
		handling := make(map[string]float64, len(fallback))
		for g, secs := range fallback {
			handling[g] = secs
			if v, ok := served[g]; ok {
				handling[g] = round2(v)
			}
		}
		out[d] = Compute(Input{Calendar: cal, Today: d, Settings: s, Groups: groups, Counts: counts, Handling: handling,
			Overrides: overrides})
	}
	return s, out, nil
}

// AgentsAtDesks returns the agents Erlang C asks for at the desks in one slot, before shrinkage, for the
// rows of that slot (one per skill group): the pooled figure that StaffNeeded shares out once shrinkage
// is added.
func AgentsAtDesks(rows []Row, s Settings) int {
	slotSeconds := float64(s.SlotMinutes * 60)
	var traffic, arrivals, work float64
	for _, r := range rows {
		if r.HandlingSeconds > 0 {
			traffic += r.Arrivals * r.HandlingSeconds / slotSeconds
			arrivals += r.Arrivals
			work += r.Arrivals * r.HandlingSeconds
		}
	}
	if traffic <= 0 {
		return 0
	}
	return Agents(traffic, work/arrivals, float64(s.TargetWaitSeconds), s.ServiceLevel)
}

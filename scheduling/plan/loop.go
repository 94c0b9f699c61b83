package plan

import (
	"context"
	"fmt"
	"time"

	"turno/scheduling/demand"
	"turno/ticketing"
	"turno/ticketing/insight"
)

var (
	_ insight.Planning         = (*Planner)(nil)
	_ insight.ServiceLevelGoal = (*Planner)(nil)
)

// ServiceLevel implements insight.ServiceLevelGoal: the office's service-level goal from its planning
// settings, so the reports draw the share-within-target line where the roster is sized to reach.
func (pl *Planner) ServiceLevel(ctx context.Context, officeID int64) (float64, error) {
	settings, err := pl.demand.Settings(ctx, officeID)
	if err != nil {
		return 0, err
	}
	return settings.ServiceLevel, nil
}

// LoopForecast implements insight.Planning: the forecast of the office's local dates from to to, per
// planning slot, each date's from the forecast as it stood when its ISO week began (demand.Store.Backcast).
// Closed dates get none, and on a date with exceptional hours only the slots that overlap them count.
func (pl *Planner) LoopForecast(ctx context.Context, o *ticketing.Office, from, to time.Time) (*insight.LoopForecast, error) {
	has, err := pl.demand.HasForecast(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	settings, err := pl.demand.Settings(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	out := &insight.LoopForecast{Available: has, SlotMinutes: settings.SlotMinutes}
	if !has {
		return out, nil
	}
	monday := func(d time.Time) time.Time { return d.AddDate(0, 0, 1-ticketing.ISOWeekday(d)) }
	var mondays []time.Time
	for m := monday(from); !m.After(to); m = m.AddDate(0, 0, 7) {
		mondays = append(mondays, m)
	}
	settings, weeks, err := pl.demand.Backcast(ctx, o, mondays)
	if err != nil {
		return nil, err
	}
	cal, err := pl.tickets.Calendar(ctx, o)
	if err != nil {
		return nil, err
	}
	slot := ticketing.TimeOfDay(settings.SlotMinutes)
	for d := from; !d.After(to); d = d.AddDate(0, 0, 1) {
		ivs := cal.Intervals(d)
		if len(ivs) == 0 {
			continue
		}
		wd := ticketing.ISOWeekday(d)
		rows := weeks[monday(d)]
		for i := 0; i < len(rows); {
			j := i
			for j < len(rows) && rows[j].Weekday == rows[i].Weekday && rows[j].Slot == rows[i].Slot {
				j++
			}
			cellRows := rows[i:j]
			i = j
			if cellRows[0].Weekday != wd || !overlapsAny(ivs, cellRows[0].Slot, slot) {
				continue
			}
			fs := insight.ForecastSlot{Day: d, Slot: cellRows[0].Slot, NeededAtDesks: demand.AgentsAtDesks(cellRows, settings)}
			for _, r := range cellRows {
				fs.Arrivals += r.Arrivals
				fs.Needed += r.StaffNeeded
			}
			fs.Arrivals = float64(int(fs.Arrivals*100+0.5)) / 100
			out.Slots = append(out.Slots, fs)
		}
	}
	return out, nil
}

// overlapsAny reports whether the slot [s, s+slot) overlaps one of ivs.
func overlapsAny(ivs []ticketing.Interval, s, slot ticketing.TimeOfDay) bool {
	for _, iv := range ivs {
		if s < iv.Closes && s+slot > iv.Opens {
			return true
		}
	}
	return false
}

// LoopPlanned implements insight.Planning: the people the published rosters put on shift in each slot of
// slotMinutes of the local dates from to to, as the mean number on shift over the slot (a shift from
// 08:15 counts half in the 08:00–08:30 slot). A staff member with the same shift in two published rosters
// counts once.
func (pl *Planner) LoopPlanned(ctx context.Context, o *ticketing.Office, from, to time.Time, slotMinutes int) ([]insight.PlannedCover, error) {
	rows, err := pl.pool.Query(ctx, `
		SELECT DISTINCT a.staff_id, a.day, a.template_id
		FROM roster_assignments a JOIN rosters r ON r.id = a.roster_id
		WHERE r.office_id = $1 AND r.status = 'published' AND a.day BETWEEN $2 AND $3
		ORDER BY a.day`, o.ID, from, to)
	if err != nil {
		return nil, fmt.Errorf("plan: planned cover: %w", err)
	}
	type shift struct {
		day        time.Time
		templateID int64
	}
	var shifts []shift
	for rows.Next() {
		var s shift
		var staff int64
		if err := rows.Scan(&staff, &s.day, &s.templateID); err != nil {
			rows.Close()
			return nil, fmt.Errorf("plan: planned cover: %w", err)
		}
		shifts = append(shifts, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("plan: planned cover: %w", err)
	}
	if len(shifts) == 0 {
		return nil, nil
	}
	templates, err := pl.plans.ShiftTemplates(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	hours := map[int64][2]ticketing.TimeOfDay{}
	for _, t := range templates {
		hours[t.ID] = [2]ticketing.TimeOfDay{t.Starts, t.Ends}
	}
	type key struct {
		day  time.Time
		slot ticketing.TimeOfDay
	}
	cover := map[key]float64{}
	var order []key
	slot := ticketing.TimeOfDay(slotMinutes)
	for _, s := range shifts {
		h, ok := hours[s.templateID]
		if !ok {
			continue
		}
		for st := h[0] / slot * slot; st < h[1]; st += slot {
			lo, hi := max(st, h[0]), min(st+slot, h[1])
			k := key{s.day, st}
			if _, seen := cover[k]; !seen {
				order = append(order, k)
			}
			cover[k] += float64(hi-lo) / float64(slot)
		}
	}
	out := make([]insight.PlannedCover, 0, len(order))
	for _, k := range order {
		out = append(out, insight.PlannedCover{Day: k.day, Slot: k.slot, Staff: cover[k]})
	}
	return out, nil
}

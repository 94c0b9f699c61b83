package plan

import (
	"context"
	"fmt"
	"slices"
	"time"

	"turno/scheduling"
	"turno/ticketing"
)

var _ ticketing.StaffOutlook = (*Planner)(nil)

// outlookSlot is the length of the outlook's slots, the planning's default slot.
const outlookSlot = 30 * time.Minute

// PlannedStaff implements ticketing.StaffOutlook: the slots of office o that overlap [from, to), aligned to
// the half hour of the office's clock, each with the staff whose shift in a published roster covers the
// slot's start (a shift starting at 08:15 counts from the 08:30 slot: an estimate should not promise a desk
// before anyone is there). Ticketing uses it to estimate waits while no desk is open, and checks the skills
// itself. Slots without anyone planned are left out.
func (pl *Planner) PlannedStaff(ctx context.Context, o *ticketing.Office, from, to time.Time) ([]ticketing.PlannedSlot, error) {
	if !to.After(from) {
		return nil, nil
	}
	loc := o.Location()
	rows, err := pl.pool.Query(ctx, `
		SELECT DISTINCT a.staff_id, a.day, a.template_id
		FROM roster_assignments a JOIN rosters r ON r.id = a.roster_id
		WHERE r.office_id = $1 AND r.status = 'published' AND a.day BETWEEN $2 AND $3`,
		o.ID, ticketing.Date(from.In(loc)).AddDate(0, 0, -1), ticketing.Date(to.In(loc)))
	if err != nil {
		return nil, fmt.Errorf("plan: planned staff: %w", err)
	}
	type shift struct {
		staff      int64
		day        time.Time
		templateID int64
	}
	var shifts []shift
	for rows.Next() {
		var s shift
		if err := rows.Scan(&s.staff, &s.day, &s.templateID); err != nil {
			rows.Close()
			return nil, fmt.Errorf("plan: planned staff: %w", err)
		}
		shifts = append(shifts, s)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("plan: planned staff: %w", err)
	}
	if len(shifts) == 0 {
		return nil, nil
	}
	templates, err := pl.plans.ShiftTemplates(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	type span struct {
		staff      int64
		start, end time.Time
	}
	spans := make([]span, 0, len(shifts))
	for _, s := range shifts {
		i := slices.IndexFunc(templates, func(t scheduling.ShiftTemplate) bool { return t.ID == s.templateID })
		if i < 0 {
			continue
		}
		t := templates[i]
		spans = append(spans, span{staff: s.staff, start: t.Starts.On(s.day, loc), end: t.Ends.On(s.day, loc)})
	}
	local := from.In(loc)
	tod := ticketing.TimeOfDayOf(local, loc)
	start := (tod - tod%ticketing.TimeOfDay(outlookSlot/time.Minute)).On(local, loc)
	var out []ticketing.PlannedSlot
	for at := start; at.Before(to); at = at.Add(outlookSlot) {
		var staff []int64
		for _, sp := range spans {
			if !at.Before(sp.start) && at.Before(sp.end) && !slices.Contains(staff, sp.staff) {
				staff = append(staff, sp.staff)
			}
		}
		if len(staff) > 0 {
			out = append(out, ticketing.PlannedSlot{Start: at, End: at.Add(outlookSlot), Staff: staff})
		}
	}
	return out, nil
}

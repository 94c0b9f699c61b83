package insight

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"time"

	"turno/internal/web"
	"turno/ticketing"
)

// Planning is what the planning loop needs from staff planning, which owns the forecast and the rosters.
// Scheduling implements it (plan.Planner) and cmd/turno wires it into Handler.Planning: insight sits
// below scheduling and cannot import it.
type Planning interface {
	// LoopForecast returns the forecast of an office's local dates from to to (both included), per slot of
	// the office's planning slot length. Each date gets the forecast as the nightly job would have computed
	// it the night before the date's ISO week began; dates the office is closed get none. Without a stored
	// forecast (the office never had one computed) Available is false and there are no slots.
	LoopForecast(ctx context.Context, o *ticketing.Office, from, to time.Time) (*LoopForecast, error)
	// LoopPlanned returns the people planned by the published rosters in each slot of slotMinutes of the
	// dates from to to, as the mean number on shift over the slot; slots with nobody are left out.
	LoopPlanned(ctx context.Context, o *ticketing.Office, from, to time.Time, slotMinutes int) ([]PlannedCover, error)
}

// LoopForecast is the forecast the planning loop compares with what happened.
type LoopForecast struct {
	Available   bool
	SlotMinutes int
	Slots       []ForecastSlot
}

// ForecastSlot is the forecast of one slot of one local date, over all skill groups.
type ForecastSlot struct {
	Day      time.Time // local date at UTC midnight
	Slot     ticketing.TimeOfDay
	Arrivals float64
	// Needed is the staff to roster: Erlang C on the slot's pooled traffic, plus shrinkage.
	Needed int
	// NeededAtDesks is the agents Erlang C asks for at the desks, before shrinkage: what the people
	// signed in and not paused are compared with.
	NeededAtDesks int
}

// PlannedCover is the people a published roster puts on shift in one slot of one local date.
type PlannedCover struct {
	Day   time.Time
	Slot  ticketing.TimeOfDay
	Staff float64
}

// MaxPlanningDays bounds the planning loop's period: its slot rows grow with every day.
const MaxPlanningDays = 92

// LoopWeek is one ISO week of the planning loop: forecast and actual arrivals over the week's complete
// days within the period, the absolute error summed over the week's slots, the weighted absolute
// percentage error (WAPE = Σ|f − a| ÷ Σa over slots) and the bias ((Σf − Σa) ÷ Σa). The ratios are null
// when nobody arrived.
type LoopWeek struct {
	Week     string   `json:"week"` // ISO week, "2026-W48"
	From     string   `json:"from"`
	To       string   `json:"to"`
	Forecast float64  `json:"forecast"`
	Actual   int      `json:"actual"`
	AbsError float64  `json:"abs_error"`
	WAPE     *float64 `json:"wape"`
	Bias     *float64 `json:"bias"`
}

// LoopSlot is one slot of one date: forecast and actual arrivals, staff needed (to roster, and at the
// desks), planned by the published roster, and actually signed in and available (signed in and not
// paused), people as means over the slot. Forecast figures are null without a forecast.
type LoopSlot struct {
	Day              string   `json:"day"`
	Time             string   `json:"time"`
	ForecastArrivals *float64 `json:"forecast_arrivals"`
	ActualArrivals   int      `json:"actual_arrivals"`
	Needed           *int     `json:"needed"`
	NeededAtDesks    *int     `json:"needed_at_desks"`
	Planned          float64  `json:"planned"`
	SignedIn         float64  `json:"signed_in"`
	Available        float64  `json:"available"`
}

// LoopSummary judges the staffing of the slots: how many slots had fewer people planned than needed,
// and (over complete days) fewer available at the desks than Erlang C asked for; and the staff-hours
// needed, planned and signed in.
type LoopSummary struct {
	Slots               int     `json:"slots"`
	PlannedBelowNeeded  int     `json:"planned_below_needed"`
	AvailableBelowNeed  int     `json:"available_below_needed"`
	NeededStaffHours    float64 `json:"needed_staff_hours"`
	PlannedStaffHours   float64 `json:"planned_staff_hours"`
	SignedInStaffHours  float64 `json:"signed_in_staff_hours"`
	AvailableStaffHours float64 `json:"available_staff_hours"`
}

// PlanningLoop is the planning loop's report (docs/kpis.md, "Planning loop").
type PlanningLoop struct {
	From        string      `json:"from"`
	To          string      `json:"to"`
	SlotMinutes int         `json:"slot_minutes"`
	Forecast    bool        `json:"forecast"` // the office has a forecast
	Roster      bool        `json:"roster"`   // a published roster covers some of the period
	Weeks       []LoopWeek  `json:"weeks"`
	Totals      LoopWeek    `json:"totals"`
	Slots       []LoopSlot  `json:"slots"`
	Summary     LoopSummary `json:"summary"`
}

func (h *Handler) getPlanningLoop(r *http.Request) (int, any, error) {
	q, err := loopQuery(r, MaxPlanningDays)
	if err != nil {
		return 0, nil, err
	}
	var day *time.Time
	if s := r.URL.Query().Get("day"); s != "" {
		d, err := ticketing.ParseDate("day", s)
		if err != nil {
			return 0, nil, err
		}
		if d.Before(q.From) || d.After(q.To) {
			return 0, nil, web.InvalidField("day", "day must lie between from and to")
		}
		day = &d
	}
	var p Planning = noPlanning{}
	if h.Planning != nil {
		p = h.Planning
	}
	return web.OK(h.Store.PlanningLoop(r.Context(), p, q, day))
}

// noPlanning is the planning of a server without staff planning: no forecast and no roster.
type noPlanning struct{}

func (noPlanning) LoopForecast(context.Context, *ticketing.Office, time.Time, time.Time) (*LoopForecast, error) {
	return &LoopForecast{}, nil
}

func (noPlanning) LoopPlanned(context.Context, *ticketing.Office, time.Time, time.Time, int) ([]PlannedCover, error) {
	return nil, nil
}

// PlanningLoop compares, over q's period, the forecast with the arrivals per ISO week, and per slot the
// staff needed with those planned and those signed in; the slots are those of day only when day is not
// nil. Weeks compare only complete days (before today).
func (s *Store) PlanningLoop(ctx context.Context, p Planning, q Query, day *time.Time) (*PlanningLoop, error) {
	o := q.Office
	today := o.LocalDay(s.tickets.Now())
	fc, err := p.LoopForecast(ctx, o, q.From, q.To)
	if err != nil {
		return nil, err
	}
	slotMin := cmp.Or(fc.SlotMinutes, 30)
	slotSecs := float64(slotMin * 60)
	counts, err := s.tickets.ArrivalCounts(ctx, o, o.Midnight(q.From), o.Midnight(q.To.AddDate(0, 0, 1)), slotMin)
	if err != nil {
		return nil, err
	}
	planned, err := p.LoopPlanned(ctx, o, q.From, q.To, slotMin)
	if err != nil {
		return nil, err
	}
	desk, err := s.operatorSlots(ctx, o, q.From, q.To)
	if err != nil {
		return nil, err
	}

	type key struct {
		day  time.Time
		slot ticketing.TimeOfDay
	}
	type cell struct {
		fc                  *ForecastSlot
		actual              int
		planned             float64
		signedIn, available float64 // seconds
	}
	cells := map[key]*cell{}
	get := func(d time.Time, t ticketing.TimeOfDay) *cell {
		k := key{d, t - t%ticketing.TimeOfDay(slotMin)}
		if cells[k] == nil {
			cells[k] = &cell{}
		}
		return cells[k]
	}
	for i := range fc.Slots {
		get(fc.Slots[i].Day, fc.Slots[i].Slot).fc = &fc.Slots[i]
	}
	for _, c := range counts {
		get(c.Day, c.Slot).actual += c.N
	}
	for _, pc := range planned {
		get(pc.Day, pc.Slot).planned += pc.Staff
	}
	for _, d := range desk {
		c := get(d.Day, d.Slot)
		paused := 0.0
		for _, v := range d.Paused {
			paused += v
		}
		c.signedIn += d.SignedInSeconds
		c.available += max(d.SignedInSeconds-paused, 0)
	}

	out := &PlanningLoop{From: q.From.Format(time.DateOnly), To: q.To.Format(time.DateOnly), SlotMinutes: slotMin,
		Forecast: fc.Available, Roster: len(planned) > 0, Weeks: []LoopWeek{}, Slots: []LoopSlot{}}
	keys := make([]key, 0, len(cells))
	for k := range cells {
		keys = append(keys, k)
	}
	slices.SortFunc(keys, func(a, b key) int { return cmp.Or(a.day.Compare(b.day), cmp.Compare(a.slot, b.slot)) })

	// Weeks: complete days only, and only with a forecast to compare.
	var week *LoopWeek
	var weekAbs, totalAbs float64
	closeWeek := func() {
		if week != nil {
			week.AbsError = weekAbs
			finishWeek(week)
			out.Weeks = append(out.Weeks, *week)
		}
	}
	for _, k := range keys {
		c := cells[k]
		if !fc.Available || !k.day.Before(today) {
			continue
		}
		monday := k.day.AddDate(0, 0, 1-ticketing.ISOWeekday(k.day))
		if week == nil || week.From != latest(monday, q.From).Format(time.DateOnly) {
			closeWeek()
			y, w := monday.ISOWeek()
			last := earliest(monday.AddDate(0, 0, 6), q.To, today.AddDate(0, 0, -1))
			week = &LoopWeek{Week: fmt.Sprintf("%04d-W%02d", y, w), From: latest(monday, q.From).Format(time.DateOnly), To: last.Format(time.DateOnly)}
			weekAbs = 0
		}
		f := 0.0
		if c.fc != nil {
			f = c.fc.Arrivals
		}
		week.Forecast += f
		week.Actual += c.actual
		weekAbs += math.Abs(f - float64(c.actual))
		out.Totals.Forecast += f
		out.Totals.Actual += c.actual
		totalAbs += math.Abs(f - float64(c.actual))
	}
	closeWeek()
	out.Totals.AbsError = totalAbs
	out.Totals.From, out.Totals.To = out.From, out.To
	finishWeek(&out.Totals)

	// Slots: those with anything to show, of the chosen day or of the whole period.
	sum := &out.Summary
	for _, k := range keys {
		c := cells[k]
		if day != nil && !k.day.Equal(*day) {
			continue
		}
		row := LoopSlot{Day: k.day.Format(time.DateOnly), Time: k.slot.String(), ActualArrivals: c.actual,
			Planned: round2(c.planned), SignedIn: round2(c.signedIn / slotSecs), Available: round2(c.available / slotSecs)}
		if c.fc != nil {
			a, n, d := c.fc.Arrivals, c.fc.Needed, c.fc.NeededAtDesks
			row.ForecastArrivals, row.Needed, row.NeededAtDesks = &a, &n, &d
		}
		out.Slots = append(out.Slots, row)
		sum.Slots++
		hours := slotSecs / 3600
		sum.PlannedStaffHours += c.planned * hours
		sum.SignedInStaffHours += c.signedIn / 3600
		sum.AvailableStaffHours += c.available / 3600
		if c.fc != nil {
			sum.NeededStaffHours += float64(c.fc.Needed) * hours
			if c.planned+1e-9 < float64(c.fc.Needed) {
				sum.PlannedBelowNeeded++
			}
			if k.day.Before(today) && c.available/slotSecs+1e-9 < float64(c.fc.NeededAtDesks) {
				sum.AvailableBelowNeed++
			}
		}
	}
	for _, p := range []*float64{&sum.NeededStaffHours, &sum.PlannedStaffHours, &sum.SignedInStaffHours, &sum.AvailableStaffHours} {
		*p = round2(*p)
	}
	return out, nil
}

// finishWeek derives a week's ratios and rounds its figures.
func finishWeek(w *LoopWeek) {
	if w.Actual > 0 {
		wape := math.Round(w.AbsError/float64(w.Actual)*10000) / 10000
		bias := math.Round((w.Forecast-float64(w.Actual))/float64(w.Actual)*10000) / 10000
		w.WAPE, w.Bias = &wape, &bias
	}
	w.Forecast, w.AbsError = round2(w.Forecast), round2(w.AbsError)
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

package demand

import (
	"math"
	"slices"
	"time"

	"turno/ticketing"
)

// HistoryWeeks is how many weeks of ticket history a forecast averages.
const HistoryWeeks = 8

// Decay is the weight of a week of history relative to the week after it: last week counts 1, the week
// before 0.8, the one before that 0.64 and so on, so the forecast follows recent change without forgetting
// the seasonal pattern.
const Decay = 0.8

// Key identifies a forecast cell: ISO weekday (1 = Monday), slot start (local time) and skill group (a
// service category).
type Key struct {
	Weekday int
	Slot    ticketing.TimeOfDay
	Group   string
}

// Input is what Compute needs: the calendar, the history and the office's parameters.
type Input struct {
	Calendar  *ticketing.Calendar
	Today     time.Time // local date (UTC midnight) of the forecast; history ends the day before
	Settings  Settings
	Groups    []string                 // skill groups to forecast
	Counts    []ticketing.ArrivalCount // arrivals of the HistoryWeeks weeks before Today, in slots of SlotMinutes
	Handling  map[string]float64       // skill group → mean handling seconds
	Overrides map[Key]float64          // manual arrivals per cell, used instead of the history
}

// Row is one forecast cell: expected arrivals in the slot and the staff they need.
type Row struct {
	Weekday         int                 `json:"weekday"`
	Slot            ticketing.TimeOfDay `json:"slot_start"` // local "HH:MM"
	Group           string              `json:"skill_group"`
	Arrivals        float64             `json:"arrivals"`         // the override when there is one, else History
	History         float64             `json:"history"`          // weighted average of the history
	Overridden      bool                `json:"overridden"`       // Arrivals comes from a manager's override
	HandlingSeconds float64             `json:"handling_seconds"` // mean handling time of the group
	AgentsNeeded    int                 `json:"agents_needed"`    // Erlang C for the service-level target
	StaffNeeded     int                 `json:"staff_needed"`     // the group's share of the slot's pooled need, after shrinkage
}

// Slots returns the slot starts of an ISO weekday's weekly opening hours: every slot of slotMinutes that
// overlaps an opening interval, slots aligned to multiples of the slot length from midnight.
func Slots(cal *ticketing.Calendar, weekday, slotMinutes int) []ticketing.TimeOfDay {
	return slotsOf(cal.Weekly[weekday], ticketing.TimeOfDay(slotMinutes))
}

func slotsOf(ivs []ticketing.Interval, slot ticketing.TimeOfDay) []ticketing.TimeOfDay {
	seen := map[ticketing.TimeOfDay]bool{}
	var out []ticketing.TimeOfDay
	for _, iv := range ivs {
		for s := iv.Opens / slot * slot; s < iv.Closes; s += slot {
			if !seen[s] {
				seen[s] = true
				out = append(out, s)
			}
		}
	}
	slices.Sort(out)
	return out
}

// overlaps reports whether the slot [s, s+slot) overlaps one of ivs.
func overlaps(ivs []ticketing.Interval, s, slot ticketing.TimeOfDay) bool {
	for _, iv := range ivs {
		if s < iv.Closes && s+slot > iv.Opens {
			return true
		}
	}
	return false
}

// Compute forecasts every cell of the weekly opening hours. A cell's history is the weighted mean of its
// arrivals over the HistoryWeeks weeks before Today, week k before counting Decay^(k−1). Only dates on which
// the office was open in that slot count: a holiday or a closure is missing data, not a day without
// demand. An override replaces the history. AgentsNeeded is Erlang C for the office's service-level target
// with the group's mean handling time, as if the group had its own desks; StaffNeeded is the group's share
// of the slot's pooled need (see pool).
func Compute(in Input) []Row {
	s := in.Settings
	slot := ticketing.TimeOfDay(s.SlotMinutes)
	slotSeconds := float64(s.SlotMinutes * 60)
	var weight, num = map[Key]float64{}, map[Key]float64{} // weight: per (weekday, slot), Group empty
	dayWeight := map[time.Time]float64{}
	dayOpen := map[time.Time][]ticketing.Interval{}
	for k := 1; k <= HistoryWeeks*7; k++ {
		d := in.Today.AddDate(0, 0, -k)
		ivs := in.Calendar.Intervals(d)
		if len(ivs) == 0 {
			continue
		}
		w := math.Pow(Decay, float64((k-1)/7))
		dayWeight[d], dayOpen[d] = w, ivs
		wd := ticketing.ISOWeekday(d)
		for _, st := range Slots(in.Calendar, wd, s.SlotMinutes) {
			if overlaps(ivs, st, slot) {
				weight[Key{wd, st, ""}] += w
			}
		}
	}
	for _, c := range in.Counts {
		w, ok := dayWeight[c.Day]
		if !ok || !overlaps(dayOpen[c.Day], c.Slot, slot) {
			continue
		}
		num[Key{ticketing.ISOWeekday(c.Day), c.Slot, c.Group}] += w * float64(c.N)
	}
	var rows []Row
	for wd := 1; wd <= 7; wd++ {
		for _, st := range Slots(in.Calendar, wd, s.SlotMinutes) {
			first := len(rows)
			for _, g := range in.Groups {
				k := Key{wd, st, g}
				r := Row{Weekday: wd, Slot: st, Group: g, HandlingSeconds: in.Handling[g]}
				if w := weight[Key{wd, st, ""}]; w > 0 {
					r.History = round2(num[k] / w)
				}
				r.Arrivals = r.History
				if v, ok := in.Overrides[k]; ok {
					r.Arrivals, r.Overridden = v, true
				}
				if r.HandlingSeconds > 0 {
					traffic := r.Arrivals * r.HandlingSeconds / slotSeconds
					r.AgentsNeeded = Agents(traffic, r.HandlingSeconds, float64(s.TargetWaitSeconds), s.ServiceLevel)
				}
				rows = append(rows, r)
			}
			pool(rows[first:], s, slotSeconds)
		}
	}
	return rows
}

// pool sets StaffNeeded for the groups of one slot. Operators serve several groups, so the slot's staff
// come from Erlang C on the slot's pooled traffic (not the sum of per-group needs, which rounds every small
// group up to a whole person and overstates the need several times over), then shrinkage; that total is
// shared among the groups in proportion to their traffic (largest remainder), and a group with arrivals
// keeps at least one person while the total allows.
func pool(rows []Row, s Settings, slotSeconds float64) {
	var traffic, arrivals, work float64
	for _, r := range rows {
		if r.HandlingSeconds > 0 {
			traffic += r.Arrivals * r.HandlingSeconds / slotSeconds
			arrivals += r.Arrivals
			work += r.Arrivals * r.HandlingSeconds
		}
	}
	if traffic <= 0 {
		return
	}
	aht := work / arrivals
	total := WithShrinkage(Agents(traffic, aht, float64(s.TargetWaitSeconds), s.ServiceLevel), s.Shrinkage)
	share := make([]float64, len(rows))
	given := 0
	for i, r := range rows {
		if r.HandlingSeconds > 0 {
			share[i] = float64(total) * (r.Arrivals * r.HandlingSeconds / slotSeconds) / traffic
			rows[i].StaffNeeded = int(share[i])
			given += rows[i].StaffNeeded
		}
	}
	for ; given < total; given++ { // largest remainder first
		best := -1
		for i := range rows {
			if best < 0 || share[i]-float64(rows[i].StaffNeeded) > share[best]-float64(rows[best].StaffNeeded) {
				best = i
			}
		}
		rows[best].StaffNeeded++
	}
	// A group with arrivals but no one takes a person from the group with the most, if it has more than one.
	for i, r := range rows {
		if r.StaffNeeded > 0 || r.Arrivals <= 0 || r.HandlingSeconds <= 0 {
			continue
		}
		most := 0
		for j := range rows {
			if rows[j].StaffNeeded > rows[most].StaffNeeded {
				most = j
			}
		}
		if rows[most].StaffNeeded > 1 {
			rows[most].StaffNeeded--
			rows[i].StaffNeeded++
		}
	}
}

func round2(x float64) float64 { return math.Round(x*100) / 100 }

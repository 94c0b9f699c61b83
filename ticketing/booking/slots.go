package booking

import (
	"context"
	"fmt"
	"math"
	"net/http"
	"slices"
	"sort"
	"time"

	"github.com/jackc/pgx/v5"

	"turno/internal/web"
	"turno/ticketing"
)

// Slot is one appointment slot of a service with its capacity. Places can be fewer than Booked: when the
// capacity fell after bookings were made (a shift removed from the roster, a desk closed), the bookings
// stay and the slot is reported overbooked, never silently dropped.
type Slot struct {
	Start  time.Time `json:"start"`
	End    time.Time `json:"end"`
	Places int       `json:"places"`
	Booked int       `json:"booked"`
	Free   int       `json:"free"`
	// Staff are the back-office specialists free in the slot, for Book to pick from (back-office services
	// only).
	Staff []int64 `json:"-"`
	// available are the specialists who work in the slot, free or busy (back-office services only).
	available []int64
}

// Slots returns the slots of service svc of office o that start in [from, to), in time order, with their
// places, what is booked and what is free. Slots open on the office's calendar: from the start of each
// opening interval, consecutive slots of the rules' length that end within it; none on holidays, closed
// days and the service's (or the office's) blackout days, none starting before the minimum notice or on a
// day beyond the horizon.
//
// The places of a slot are the staff on shift with a skill for the service in the published roster
// (ticketing.StaffOutlook), counting those present for the whole slot, or on a day without a published
// roster the office's active desks that serve the service, times the share of capacity the rules keep for
// appointments at the slot's time, rounded down. For a back-office service they are the specialists (staff
// in the back office with the skill) who work in the slot, by their weekly hours or a roster shift; a
// specialist with any appointment overlapping the slot is busy. A service that is not bookable has no
// slots.
func (s *Store) Slots(ctx context.Context, o *ticketing.Office, svc *ticketing.Service, from, to time.Time) ([]Slot, error) {
	rules, err := s.RulesOf(ctx, svc)
	if err != nil {
		return nil, err
	}
	if !rules.Bookable || !svc.Active || !to.After(from) {
		return []Slot{}, nil
	}
	c, err := s.capacity(ctx, o, svc, rules, from, to)
	if err != nil {
		return nil, err
	}
	held, err := heldIn(ctx, s.pool, o.ID, from, to.Add(c.length))
	if err != nil {
		return nil, err
	}
	out := []Slot{}
	c.grid(from, to, func(start time.Time) {
		out = append(out, c.slot(start, held, 0))
	})
	return out, nil
}

// capacity is what the slots of one service over a range are computed from, loaded once: the rules, the
// calendar, the blackout days, the roster's staff, the skilled staff, the desks and the specialists' hours.
type capacity struct {
	office *ticketing.Office
	loc    *time.Location
	svc    *ticketing.Service
	rules  Rules
	length time.Duration
	cal    *ticketing.Calendar
	now    time.Time
	// blackouts are the local dates without appointments for the service.
	blackouts map[time.Time]bool
	// planned are the published roster's half-hour slots over the range, in time order; rosterDays the
	// local dates that have any (a day without is planned from the desks).
	planned    []ticketing.PlannedSlot
	rosterDays map[time.Time]bool
	// skilled are the active staff with a skill for the service; for a back-office service, the
	// specialists among them.
	skilled map[int64]bool
	// desks is the number of active desks that serve the service.
	desks int
	// hours are the specialists' weekly hours (back-office services): staff → ISO weekday → intervals.
	hours map[int64]*[8][]ticketing.Interval
}

// capacity loads what the slots of svc starting in [from, to) need.
func (s *Store) capacity(ctx context.Context, o *ticketing.Office, svc *ticketing.Service, rules Rules, from, to time.Time) (*capacity, error) {
	c := &capacity{office: o, loc: o.Location(), svc: svc, rules: rules, length: rules.SlotLength(svc.ExpectedHandlingSeconds),
		now: s.now(), blackouts: map[time.Time]bool{}, rosterDays: map[time.Time]bool{}, skilled: map[int64]bool{}}
	var err error
	if c.cal, err = s.tickets.Calendar(ctx, o); err != nil {
		return nil, err
	}
	rows, err := s.pool.Query(ctx, `SELECT day FROM booking_blackouts
		WHERE office_id = $1 AND (service_id IS NULL OR service_id = $2) AND day BETWEEN $3 AND $4`,
		o.ID, svc.ID, o.LocalDay(from), o.LocalDay(to))
	if err != nil {
		return nil, fmt.Errorf("booking: blackouts: %w", err)
	}
	days, err := pgx.CollectRows(rows, pgx.RowTo[time.Time])
	if err != nil {
		return nil, fmt.Errorf("booking: blackouts: %w", err)
	}
	for _, d := range days {
		c.blackouts[ticketing.Date(d)] = true
	}
	staff, err := s.tickets.StaffList(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	var specialists []int64
	for _, st := range staff {
		if _, ok := st.Skills[svc.Code]; !ok || !st.Active || (rules.BackOffice && !st.BackOffice) {
			continue
		}
		c.skilled[st.ID] = true
		specialists = append(specialists, st.ID)
	}
	if s.tickets.Outlook != nil {
		// Whole days: whether a day has a roster at all decides between the roster and the desks.
		first, last := o.Midnight(o.LocalDay(from)), o.Midnight(o.LocalDay(to.Add(c.length)).AddDate(0, 0, 1))
		if c.planned, err = s.tickets.Outlook.PlannedStaff(ctx, o, first, last); err != nil {
			return nil, err
		}
		sort.Slice(c.planned, func(i, j int) bool { return c.planned[i].Start.Before(c.planned[j].Start) })
		for _, p := range c.planned {
			c.rosterDays[o.LocalDay(p.Start)] = true
		}
	}
	if rules.BackOffice {
		if c.hours, err = s.specialistHours(ctx, specialists); err != nil {
			return nil, err
		}
		return c, nil
	}
	desks, err := s.tickets.Desks(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	for _, d := range desks {
		if d.Active && slices.Contains(d.Services, svc.Code) {
			c.desks++
		}
	}
	return c, nil
}

// specialistHours reads the weekly hours of the specialists.
func (s *Store) specialistHours(ctx context.Context, staff []int64) (map[int64]*[8][]ticketing.Interval, error) {
	out := map[int64]*[8][]ticketing.Interval{}
	if len(staff) == 0 {
		return out, nil
	}
	rows, err := s.pool.Query(ctx, `SELECT staff_id, weekday, starts, ends FROM backoffice_hours WHERE staff_id = ANY($1)`, staff)
	if err != nil {
		return nil, fmt.Errorf("booking: back-office hours: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id int64
		var wd int
		var iv ticketing.Interval
		if err := rows.Scan(&id, &wd, &iv.Opens, &iv.Closes); err != nil {
			return nil, fmt.Errorf("booking: back-office hours: %w", err)
		}
		if out[id] == nil {
			out[id] = &[8][]ticketing.Interval{}
		}
		out[id][wd] = append(out[id][wd], iv)
	}
	return out, rows.Err()
}

// held is a booking that holds its place, as capacity counts it.
type held struct {
	id, service, staff int64
	start, end         time.Time
}

// queryer is a pool or a transaction.
type queryer interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
}

// heldIn returns the bookings of an office that hold a place and overlap [from, to), by start.
func heldIn(ctx context.Context, q queryer, officeID int64, from, to time.Time) ([]held, error) {
	rows, err := q.Query(ctx, `SELECT id, service_id, coalesce(staff_id, 0), starts_at, ends_at FROM bookings
		WHERE office_id = $1 AND status IN ('booked', 'checked_in') AND starts_at < $3 AND ends_at > $2
		ORDER BY starts_at`, officeID, from, to)
	if err != nil {
		return nil, fmt.Errorf("booking: bookings held: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (held, error) {
		var h held
		err := row.Scan(&h.id, &h.service, &h.staff, &h.start, &h.end)
		return h, err
	})
	if err != nil {
		return nil, fmt.Errorf("booking: bookings held: %w", err)
	}
	return out, nil
}

// grid calls fn with the start of every bookable slot in [from, to), in time order.
func (c *capacity) grid(from, to time.Time, fn func(start time.Time)) {
	for day := c.office.LocalDay(from); c.office.Midnight(day).Before(to); day = day.AddDate(0, 0, 1) {
		if c.blackouts[day] || day.After(c.lastDay()) {
			continue
		}
		for _, iv := range c.cal.Intervals(day) {
			closes := iv.Closes.On(day, c.loc)
			for start := iv.Opens.On(day, c.loc); !start.Add(c.length).After(closes); start = start.Add(c.length) {
				if !start.Before(from) && start.Before(to) && !start.Before(c.earliest()) {
					fn(start)
				}
			}
		}
	}
}

// earliest is the first instant a slot may start: now plus the minimum notice.
func (c *capacity) earliest() time.Time {
	return c.now.Add(time.Duration(c.rules.MinNoticeMinutes) * time.Minute)
}

// lastDay is the last local date with slots: today plus the horizon.
func (c *capacity) lastDay() time.Time {
	return c.office.LocalDay(c.now).AddDate(0, 0, c.rules.HorizonDays)
}

// refuse explains why start is not the start of a bookable slot, as a 422 on the field "start", or returns
// nil when it is one.
func (c *capacity) refuse(start time.Time) error {
	day := c.office.LocalDay(start)
	switch {
	case start.Before(c.earliest()):
		return web.Errorf(http.StatusUnprocessableEntity, "booking_too_soon",
			"appointments for this service must be booked at least %d minutes ahead", c.rules.MinNoticeMinutes).On("start")
	case day.After(c.lastDay()):
		return web.Errorf(http.StatusUnprocessableEntity, "booking_beyond_horizon",
			"appointments for this service can be booked at most %d days ahead", c.rules.HorizonDays).On("start")
	case c.blackouts[day]:
		return web.Errorf(http.StatusUnprocessableEntity, "booking_blackout", "there are no appointments on that day").On("start")
	}
	for _, iv := range c.cal.Intervals(day) {
		opens, closes := iv.Opens.On(day, c.loc), iv.Closes.On(day, c.loc)
		if start.Before(opens) || !start.Before(closes) {
			continue
		}
		if start.Sub(opens)%c.length != 0 || start.Add(c.length).After(closes) {
			break
		}
		return nil
	}
	if open, _ := c.cal.OpenAt(start); !open {
		return web.Errorf(http.StatusUnprocessableEntity, "office_closed", "the office is closed at that time").On("start")
	}
	return web.Errorf(http.StatusUnprocessableEntity, "not_a_slot",
		"that time is not the start of an appointment slot; choose one of the slots offered").On("start")
}

// slot computes the capacity of the slot starting at start against the bookings held, leaving out the
// booking with id except (a booking being moved).
func (c *capacity) slot(start time.Time, hs []held, except int64) Slot {
	sl := Slot{Start: start, End: start.Add(c.length)}
	overlaps := func(h held) bool { return h.id != except && h.start.Before(sl.End) && h.end.After(start) }
	// hs is by start: the bookings that may overlap begin before the slot ends.
	n := sort.Search(len(hs), func(i int) bool { return !hs[i].start.Before(sl.End) })
	if !c.rules.BackOffice {
		staff := c.desks
		if c.rosterDays[c.office.LocalDay(start)] {
			staff = len(c.onShift(start, sl.End))
		}
		local := start.In(c.loc)
		share := c.rules.ShareAt(ticketing.ISOWeekday(local), ticketing.TimeOfDayOf(start, c.loc))
		sl.Places = int(math.Floor(float64(staff)*share + 1e-9))
		for _, h := range hs[:n] {
			if h.service == c.svc.ID && overlaps(h) {
				sl.Booked++
			}
		}
		sl.Free = max(0, sl.Places-sl.Booked)
		return sl
	}
	sl.available = c.specialistsIn(start, sl.End)
	busy := map[int64]bool{}
	for _, h := range hs[:n] {
		if !overlaps(h) {
			continue
		}
		switch {
		case slices.Contains(sl.available, h.staff):
			busy[h.staff] = true
		case h.service == c.svc.ID:
			sl.Booked++ // a booking whose specialist no longer works in the slot: overbooked, reported
		}
	}
	for _, id := range sl.available {
		if !busy[id] {
			sl.Staff = append(sl.Staff, id)
		}
	}
	sl.Places = len(sl.available)
	sl.Booked += len(busy)
	sl.Free = len(sl.Staff)
	return sl
}

// onShift returns the skilled staff the roster has at work for the whole of [start, end): in every
// half-hour slot it overlaps, with no gap.
func (c *capacity) onShift(start, end time.Time) []int64 {
	i := sort.Search(len(c.planned), func(i int) bool { return c.planned[i].End.After(start) })
	var staff []int64
	covered := start
	first := true
	for ; i < len(c.planned) && c.planned[i].Start.Before(end); i++ {
		p := c.planned[i]
		if p.Start.After(covered) {
			return nil // a gap nobody is planned in
		}
		var in []int64
		for _, id := range p.Staff {
			if c.skilled[id] && (first || slices.Contains(staff, id)) {
				in = append(in, id)
			}
		}
		staff, first = in, false
		covered = p.End
	}
	if covered.Before(end) {
		return nil
	}
	return staff
}

// specialistsIn returns the specialists who work for the whole of [start, end), by their weekly hours or
// a roster shift, in id order.
func (c *capacity) specialistsIn(start, end time.Time) []int64 {
	local := start.In(c.loc)
	day, wd := ticketing.Date(local), ticketing.ISOWeekday(local)
	from, to := ticketing.TimeOfDayOf(start, c.loc), ticketing.TimeOfDayOf(end, c.loc)
	if c.office.LocalDay(end) != day {
		to = ticketing.EndOfDay
	}
	var out []int64
	for id, hours := range c.hours {
		for _, iv := range hours[wd] {
			if iv.Opens <= from && to <= iv.Closes {
				out = append(out, id)
				break
			}
		}
	}
	if c.rosterDays[day] {
		for _, id := range c.onShift(start, end) {
			if !slices.Contains(out, id) {
				out = append(out, id)
			}
		}
	}
	slices.Sort(out)
	return out
}

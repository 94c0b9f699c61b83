package plan

import (
	"context"
	"math"
	"net/http"
	"slices"
	"time"

	"github.com/go-chi/chi/v5"

	"turno/internal/auth"
	"turno/internal/web"
	"turno/scheduling/demand"
	"turno/ticketing"
	"turno/ticketing/booking"
)

// Appointments in the plan. Booked appointments are known demand: Load adds the work of each booking to
// the coverage the roster needs on its date and slot (Input.Booked), beside the walk-in forecast, which
// learns from walk-in tickets only (ticketing.ArrivalCounts leaves appointment tickets out), so nothing
// is counted twice. The capacity preview shows, for each half hour of a day, the bookable places and
// the bookings of each service, the walk-in forecast, the staff on shift, and whether the walk-ins' service
// level still holds on the staff the appointments leave (Erlang C).

// BookedKey identifies the booked work of one day of a planning period (its index), slot and skill group.
type BookedKey struct {
	Day   int
	Slot  ticketing.TimeOfDay
	Group string
}

// need is the staff the roster must cover on day d (ISO weekday wd) in slot for group: the walk-in
// forecast of the weekday plus the appointments booked on that date.
func (in *Input) need(d, wd int, slot ticketing.TimeOfDay, group string) int {
	return in.Demand[DemandKey{wd, slot, group}] + in.Booked[BookedKey{d, slot, group}]
}

// bookingWork is the operator time a booking is expected to take: the service's handling time from the
// booking's start (not its whole slot, which may be longer when a manager sets long slots).
func bookingWork(b *booking.Booking, handlingSeconds int) (time.Time, time.Time) {
	d := time.Duration(max(handlingSeconds, 60)) * time.Second
	return b.Start, b.Start.Add(d)
}

// overlapMinutes is the length of [a0, a1) ∩ [b0, b1) in minutes.
func overlapMinutes(a0, a1, b0, b1 time.Time) float64 {
	from, to := a0, a1
	if b0.After(from) {
		from = b0
	}
	if b1.Before(to) {
		to = b1
	}
	if !to.After(from) {
		return 0
	}
	return to.Sub(from).Minutes()
}

// addBooked fills in.Booked from the office's bookings that hold a place in the period: per date, slot and
// skill group (the service's category), the booked work in the slot divided by the slot's length, rounded
// up, is the staff the appointments need.
func (pl *Planner) addBooked(ctx context.Context, o *ticketing.Office, in *Input) error {
	in.Booked = map[BookedKey]int{}
	if pl.Bookings == nil {
		return nil
	}
	loc := in.Loc
	list, err := pl.Bookings.Bookings(ctx, o.ID, o.Midnight(in.From), o.Midnight(in.Date(in.Days)))
	if err != nil {
		return err
	}
	if len(list) == 0 {
		return nil
	}
	services, err := pl.tickets.Services(ctx, o.ID)
	if err != nil {
		return err
	}
	byID := map[int64]*ticketing.Service{}
	for _, sv := range services {
		byID[sv.ID] = sv
	}
	step := ticketing.TimeOfDay(in.SlotMinutes)
	minutes := map[BookedKey]float64{}
	for _, b := range list {
		sv := byID[b.ServiceID]
		if !b.Status.Holds() || sv == nil || sv.Category == "" || !slices.Contains(in.Groups, sv.Category) {
			continue
		}
		day := o.LocalDay(b.Start)
		d := int(math.Round(day.Sub(in.From).Hours() / 24))
		if d < 0 || d >= in.Days {
			continue
		}
		from, to := bookingWork(b, sv.ExpectedHandlingSeconds)
		tod := ticketing.TimeOfDayOf(from, loc)
		for slot := tod - tod%step; slot < ticketing.EndOfDay; slot += step {
			start := in.at(d, slot)
			if !start.Before(to) {
				break
			}
			if m := overlapMinutes(from, to, start, in.at(d, slot+step)); m > 0 {
				minutes[BookedKey{d, slot, sv.Category}] += m
			}
		}
	}
	for k, m := range minutes {
		in.Booked[k] = int(math.Ceil(m/float64(in.SlotMinutes) - 1e-9))
	}
	return nil
}

// capacitySlot is the length of the capacity preview's slots: the roster outlook's.
const capacitySlot = outlookSlot

// Capacity is the appointment capacity preview of one day of an office.
type Capacity struct {
	Office string `json:"office"`
	Day    string `json:"day"`
	// Closed: the office does not open that day (no slots).
	Closed bool `json:"closed"`
	// Roster: staff on shift come from a published roster; otherwise from the office's active desks.
	Roster      bool `json:"roster"`
	SlotMinutes int  `json:"slot_minutes"`
	// Forecast: the office has a walk-in forecast.
	Forecast          bool    `json:"forecast"`
	TargetWaitSeconds int     `json:"target_wait_seconds"`
	ServiceLevelGoal  float64 `json:"service_level_goal"`
	// Services are the bookable front-office services, in catalogue order (back-office services are
	// served by specialists and do not take front-desk staff).
	Services []string       `json:"services"`
	Slots    []CapacitySlot `json:"slots"`
}

// CapacitySlot is one half hour of the preview.
type CapacitySlot struct {
	Start    time.Time         `json:"start"`
	End      time.Time         `json:"end"`
	Services []ServiceCapacity `json:"services"`
	// Places and Booked add up the services': the places booking offers in the slots that start in this
	// half hour (none within the minimum notice) and the bookings that start in it.
	Places int `json:"places"`
	Booked int `json:"booked"`
	// WalkInArrivals is the walk-in forecast of the slot; WalkInErlangs its traffic (arrivals × handling
	// time ÷ slot length).
	WalkInArrivals float64 `json:"walk_in_arrivals"`
	WalkInErlangs  float64 `json:"walk_in_erlangs"`
	StaffOnShift   int     `json:"staff_on_shift"`
	// AppointmentErlangs is the expected appointment load from what is booked: the handling time of the
	// booked appointments falling in the slot ÷ the slot's length. AppointmentErlangsFull is the same if
	// every place were booked: the worst case the rules allow.
	AppointmentErlangs     float64 `json:"appointment_erlangs"`
	AppointmentErlangsFull float64 `json:"appointment_erlangs_full"`
	// StaffLeft is the staff on shift less ceil(AppointmentErlangs): who serves walk-ins.
	StaffLeft int `json:"staff_left"`
	// ServiceLevel is the share of walk-ins called within the target wait by StaffLeft operators (Erlang C);
	// ServiceLevelFull the same with every place booked.
	ServiceLevel     float64 `json:"service_level"`
	ServiceLevelFull float64 `json:"service_level_full"`
	// Warning: ServiceLevel is below the goal. Overbooked: a service has more booked than places in a
	// slot (its capacity fell after the bookings were made: they are kept and reported).
	Warning    bool `json:"warning"`
	Overbooked bool `json:"overbooked"`
}

// ServiceCapacity is one bookable service in one slot of the preview.
type ServiceCapacity struct {
	Service string `json:"service"`
	Places  int    `json:"places"`
	Booked  int    `json:"booked"`
}

// Capacity computes the appointment capacity preview of office o on a local date.
func (pl *Planner) Capacity(ctx context.Context, o *ticketing.Office, day time.Time) (*Capacity, error) {
	if pl.Bookings == nil {
		return nil, web.Errorf(http.StatusServiceUnavailable, "unavailable", "appointments are not available on this server")
	}
	loc := o.Location()
	c := &Capacity{Office: o.Slug, Day: day.Format(time.DateOnly), SlotMinutes: int(capacitySlot / time.Minute),
		Services: []string{}, Slots: []CapacitySlot{}}
	cal, err := pl.tickets.Calendar(ctx, o)
	if err != nil {
		return nil, err
	}
	forecast, err := pl.demand.Load(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	st := forecast.Settings
	c.TargetWaitSeconds, c.ServiceLevelGoal, c.Forecast = st.TargetWaitSeconds, st.ServiceLevel, len(forecast.Rows) > 0
	open := cal.Intervals(day)
	if len(open) == 0 {
		c.Closed = true
		return c, nil
	}
	dayStart, dayEnd := o.Midnight(day), o.Midnight(day.AddDate(0, 0, 1))

	// The preview's slots: every half hour that overlaps the opening hours.
	step := ticketing.TimeOfDay(capacitySlot / time.Minute)
	var starts []ticketing.TimeOfDay
	for _, iv := range open {
		for t := iv.Opens - iv.Opens%step; t < iv.Closes; t += step {
			if !slices.Contains(starts, t) {
				starts = append(starts, t)
			}
		}
	}
	slices.Sort(starts)
	for _, t := range starts {
		c.Slots = append(c.Slots, CapacitySlot{Start: t.On(day, loc).UTC(), End: (t + step).On(day, loc).UTC(), Services: []ServiceCapacity{}})
	}
	slotOf := func(at time.Time) int {
		for i, s := range c.Slots {
			if !at.Before(s.Start) && at.Before(s.End) {
				return i
			}
		}
		return -1
	}
	// spread calls add with each slot that [from, to) overlaps and the minutes of the overlap.
	spread := func(from, to time.Time, add func(i int, minutes float64)) {
		for i, s := range c.Slots {
			if m := overlapMinutes(from, to, s.Start, s.End); m > 0 {
				add(i, m)
			}
		}
	}
	slotLen := capacitySlot.Minutes()

	// Bookable front-office services: places from booking's capacity, bookings as they are.
	services, err := pl.tickets.Services(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	rules, err := pl.Bookings.OfficeRules(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	bookings, err := pl.Bookings.Bookings(ctx, o.ID, dayStart, dayEnd)
	if err != nil {
		return nil, err
	}
	for _, sv := range services {
		r, ok := rules[sv.ID]
		if !ok || !r.Bookable || r.BackOffice || !sv.Active {
			continue
		}
		col := len(c.Services)
		c.Services = append(c.Services, sv.Code)
		for i := range c.Slots {
			c.Slots[i].Services = append(c.Slots[i].Services, ServiceCapacity{Service: sv.Code})
		}
		slots, err := pl.Bookings.Slots(ctx, o, sv, dayStart, dayEnd)
		if err != nil {
			return nil, err
		}
		work := time.Duration(max(sv.ExpectedHandlingSeconds, 60)) * time.Second
		for _, s := range slots {
			if i := slotOf(s.Start); i >= 0 {
				c.Slots[i].Services[col].Places += s.Places
				// Overbooked as booking counts it: a slot within the minimum notice has no places to
				// offer any more, which is not a fall in capacity.
				c.Slots[i].Overbooked = c.Slots[i].Overbooked || s.Booked > s.Places
			}
			// The worst case: every place taken, or what is booked when that is more.
			n := float64(max(s.Places, s.Booked))
			spread(s.Start, s.Start.Add(work), func(i int, m float64) { c.Slots[i].AppointmentErlangsFull += n * m / slotLen })
		}
		for _, b := range bookings {
			if b.ServiceID != sv.ID || !b.Status.Holds() {
				continue
			}
			if i := slotOf(b.Start); i >= 0 {
				c.Slots[i].Services[col].Booked++
			}
			from, to := bookingWork(b, sv.ExpectedHandlingSeconds)
			spread(from, to, func(i int, m float64) { c.Slots[i].AppointmentErlangs += m / slotLen })
		}
	}

	// Walk-ins: the forecast of the weekday, spread over the preview's slots by overlap.
	wd := ticketing.ISOWeekday(day)
	fslot := time.Duration(st.SlotMinutes) * time.Minute
	work := make([]float64, len(c.Slots)) // walk-in seconds of work per slot, for the mean handling time
	for _, row := range forecast.Rows {
		if row.Weekday != wd || row.Arrivals <= 0 {
			continue
		}
		from := row.Slot.On(day, loc)
		spread(from, from.Add(fslot), func(i int, m float64) {
			arrivals := row.Arrivals * m / fslot.Minutes()
			c.Slots[i].WalkInArrivals += arrivals
			work[i] += arrivals * row.HandlingSeconds
		})
	}

	// Staff on shift: the published roster, else the office's active desks.
	if err := pl.staffOnShift(ctx, o, c, dayStart, dayEnd); err != nil {
		return nil, err
	}

	for i := range c.Slots {
		s := &c.Slots[i]
		for _, sc := range s.Services {
			s.Places += sc.Places
			s.Booked += sc.Booked
		}
		s.WalkInErlangs = work[i] / capacitySlot.Seconds()
		aht := 0.0
		if s.WalkInArrivals > 0 {
			aht = work[i] / s.WalkInArrivals
		}
		s.StaffLeft = max(0, s.StaffOnShift-int(math.Ceil(s.AppointmentErlangs-1e-9)))
		left := max(0, s.StaffOnShift-int(math.Ceil(s.AppointmentErlangsFull-1e-9)))
		s.ServiceLevel = demand.ServiceLevel(s.StaffLeft, s.WalkInErlangs, aht, float64(st.TargetWaitSeconds))
		s.ServiceLevelFull = demand.ServiceLevel(left, s.WalkInErlangs, aht, float64(st.TargetWaitSeconds))
		s.Warning = s.ServiceLevel < st.ServiceLevel
		s.AppointmentErlangs = round3(s.AppointmentErlangs)
		s.AppointmentErlangsFull = round3(s.AppointmentErlangsFull)
		s.WalkInArrivals, s.WalkInErlangs = round3(s.WalkInArrivals), round3(s.WalkInErlangs)
		s.ServiceLevel, s.ServiceLevelFull = round3(s.ServiceLevel), round3(s.ServiceLevelFull)
	}
	return c, nil
}

// staffOnShift sets each slot's staff on shift: the front-office staff (not back-office specialists, who
// serve their own agendas) of the published roster; without a roster for the day, the office's active
// desks while it is open.
func (pl *Planner) staffOnShift(ctx context.Context, o *ticketing.Office, c *Capacity, dayStart, dayEnd time.Time) error {
	planned, err := pl.PlannedStaff(ctx, o, dayStart, dayEnd)
	if err != nil {
		return err
	}
	if len(planned) > 0 {
		c.Roster = true
		staff, err := pl.tickets.StaffList(ctx, o.ID)
		if err != nil {
			return err
		}
		back := map[int64]bool{}
		for _, s := range staff {
			back[s.ID] = s.BackOffice
		}
		for i := range c.Slots {
			for _, p := range planned {
				if p.Start.Equal(c.Slots[i].Start) {
					for _, id := range p.Staff {
						if !back[id] {
							c.Slots[i].StaffOnShift++
						}
					}
				}
			}
		}
		return nil
	}
	desks, err := pl.tickets.Desks(ctx, o.ID)
	if err != nil {
		return err
	}
	n := 0
	for _, d := range desks {
		if d.Active {
			n++
		}
	}
	for i := range c.Slots {
		c.Slots[i].StaffOnShift = n
	}
	return nil
}

func round3(x float64) float64 { return math.Round(x*1000) / 1000 }

// capacityDay reads ?day= (the office's today when absent).
func (pl *Planner) capacityDay(r *http.Request, o *ticketing.Office) (time.Time, error) {
	if s := r.URL.Query().Get("day"); s != "" {
		return ticketing.ParseDate("day", s)
	}
	return o.LocalDay(pl.now()), nil
}

var capacityPage = web.ManagePage(templateFiles, "templates/capacity.html")

// appointmentRoutes mounts the capacity preview's API and page.
func (pl *Planner) appointmentRoutes(r chi.Router) {
	r.With(auth.RequireRole(auth.Manager, auth.Admin), pl.tickets.InOffice(ticketing.Managers)).
		Method("GET", "/api/v1/offices/{office}/appointment-capacity", web.Endpoint(func(r *http.Request) (int, any, error) {
			o := ticketing.OfficeOf(r)
			day, err := pl.capacityDay(r, o)
			if err != nil {
				return 0, nil, err
			}
			return web.OK(pl.Capacity(r.Context(), o, day))
		}))
	r.With(auth.RequirePage).Get("/manage/appointments/capacity", pl.tickets.ManageHandler(capacityPage, "appointments",
		func(r *http.Request, o *ticketing.Office) (any, error) {
			day, err := pl.capacityDay(r, o)
			if err != nil {
				return nil, err
			}
			c, err := pl.Capacity(r.Context(), o, day)
			if err != nil {
				return nil, err
			}
			v := &capacityView{Capacity: c, Loc: o.Location(), Prev: day.AddDate(0, 0, -1).Format(time.DateOnly),
				Next: day.AddDate(0, 0, 1).Format(time.DateOnly), Names: map[string]string{}}
			services, err := pl.tickets.Services(r.Context(), o.ID)
			if err != nil {
				return nil, err
			}
			lang := web.RequestLang(r, web.StaffLangs)
			for _, sv := range services {
				v.Names[sv.Code] = sv.Name(lang)
			}
			return v, nil
		}))
}

// capacityView is the capacity page's data.
type capacityView struct {
	*Capacity
	Loc        *time.Location
	Prev, Next string
	Names      map[string]string // service code → name in the page's language
}

// Clock is a slot's start on the office's wall clock.
func (v *capacityView) Clock(t time.Time) string { return t.In(v.Loc).Format("15:04") }

// Pct writes a share as a whole percentage.
func (v *capacityView) Pct(x float64) int { return int(math.Round(x * 100)) }

package booking_test

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"turno/ticketing"
	"turno/ticketing/booking"
	"turno/ticketing/ticketingtest"
)

// roster is a published roster as ticketing.StaffOutlook reports it: the staff at work in each half hour.
// Tests plan and unplan people in it between calls.
type roster struct {
	mu    sync.Mutex
	slots map[time.Time][]int64
}

func newRoster() *roster { return &roster{slots: map[time.Time][]int64{}} }

// plan puts staff at work from one local time to another of a March 2026 day (half hours).
func (r *roster) plan(day, fromH, fromM, toH, toM int, staff ...int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	end := time.Date(2026, 3, day, toH, toM, 0, 0, rome)
	for at := time.Date(2026, 3, day, fromH, fromM, 0, 0, rome); at.Before(end); at = at.Add(30 * time.Minute) {
		for _, id := range staff {
			if !slices.Contains(r.slots[at], id) {
				r.slots[at] = append(r.slots[at], id)
			}
		}
	}
}

// unplan takes staff off the roster of a whole March 2026 day.
func (r *roster) unplan(day int, staff ...int64) {
	r.mu.Lock()
	defer r.mu.Unlock()
	for at, ids := range r.slots {
		if at.In(rome).Day() == day {
			r.slots[at] = slices.DeleteFunc(ids, func(id int64) bool { return slices.Contains(staff, id) })
		}
	}
}

// PlannedStaff implements ticketing.StaffOutlook: the half hours overlapping [from, to) with anyone planned.
func (r *roster) PlannedStaff(_ context.Context, _ *ticketing.Office, from, to time.Time) ([]ticketing.PlannedSlot, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []ticketing.PlannedSlot
	for at, staff := range r.slots {
		if len(staff) > 0 && at.Before(to) && at.Add(30*time.Minute).After(from) {
			out = append(out, ticketing.PlannedSlot{Start: at, End: at.Add(30 * time.Minute), Staff: slices.Clone(staff)})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Start.Before(out[j].Start) })
	return out, nil
}

// staffIDs returns the ids of demo staff by code.
func (e *bookEnv) staffIDs(t testing.TB, codes ...string) []int64 {
	t.Helper()
	var out []int64
	for _, c := range codes {
		st, err := e.Store.StaffByCode(context.Background(), e.Office.ID, c)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, st.ID)
	}
	return out
}

// slotsOf returns a service's slots over local March 2026 days through the store.
func (e *bookEnv) slotsOf(t testing.TB, svc *ticketing.Service, fromDay, toDay int) []booking.Slot {
	t.Helper()
	list, err := e.store.Slots(context.Background(), e.Office, svc, time.Date(2026, 3, fromDay, 0, 0, 0, 0, rome),
		time.Date(2026, 3, toDay+1, 0, 0, 0, 0, rome))
	if err != nil {
		t.Fatal(err)
	}
	return list
}

// find returns the slot starting at a local March 2026 time, or fails.
func find(t testing.TB, list []booking.Slot, day, hour, minute int) booking.Slot {
	t.Helper()
	want := time.Date(2026, 3, day, hour, minute, 0, 0, rome)
	for _, sl := range list {
		if sl.Start.Equal(want) {
			return sl
		}
	}
	t.Fatalf("no slot at %s", want)
	return booking.Slot{}
}

// TestSlotsFollowTheRoster: with a published roster a slot's places are the staff with the skill present
// for the whole slot times the share; a day without a roster falls back to the desks; a shift removed
// gives fewer places, and the bookings already made stay and are reported (booked above places).
func TestSlotsFollowTheRoster(t *testing.T) {
	e := newBookEnv(t, 1000)
	ids := e.staffIDs(t, "S01", "S02", "S03", "S04", "S05")
	r := newRoster()
	e.Store.Outlook = r
	// Tuesday 3 March: four with the skill (S05 has none) until 10:00, then S01 alone until 11:00.
	r.plan(3, 8, 30, 10, 0, ids...)
	r.plan(3, 10, 0, 11, 0, ids[0], ids[4])
	e.rules(t, "certificati", func(r *booking.Rules) {
		// Tuesday afternoons keep every place for appointments.
		r.Bands = []booking.Band{{Weekday: 2, From: ticketing.Clock(14, 0), To: ticketing.Clock(18, 0), Share: 1}}
	})
	tue := e.slotsOf(t, e.cert, 3, 3)
	for _, c := range []struct {
		hour, minute, places int
	}{{8, 30, 3}, {9, 45, 3}, {10, 0, 0}, {10, 45, 0}, {11, 0, 0}, {12, 45, 0}, {14, 30, 0}} {
		if sl := find(t, tue, 3, c.hour, c.minute); sl.Places != c.places || sl.Free != c.places || sl.Booked != 0 {
			t.Errorf("Tuesday %02d:%02d: %+v; want %d places", c.hour, c.minute, sl, c.places)
		}
	}
	// Asked from 11:00 on, Tuesday is still a day with a roster, whose afternoon has nobody planned.
	late, err := e.store.Slots(context.Background(), e.Office, e.cert, time.Date(2026, 3, 3, 11, 0, 0, 0, rome), time.Date(2026, 3, 4, 0, 0, 0, 0, rome))
	if err != nil || len(late) == 0 || late[0].Places != 0 || late[len(late)-1].Places != 0 {
		t.Errorf("Tuesday from 11:00: %v %v; want slots without places", late, err)
	}
	// Wednesday has no roster: four desks serve certificati, three quarters of them for appointments.
	if sl := find(t, e.slotsOf(t, e.cert, 4, 4), 4, 9, 0); sl.Places != 3 {
		t.Errorf("Wednesday 09:00 without a roster: %+v; want 3 places from the desks", sl)
	}
	// The afternoon band: S02 and S03 planned, every place kept.
	r.plan(3, 14, 30, 17, 30, ids[1], ids[2])
	if sl := find(t, e.slotsOf(t, e.cert, 3, 3), 3, 15, 0); sl.Places != 2 {
		t.Errorf("Tuesday 15:00 with a band of share 1: %+v; want 2 places", sl)
	}
	// Three booked at 09:00, then two shifts removed: 2 × 0.75 = 1 place, 3 booked, reported.
	for range 3 {
		if status, m := e.book(t, at(3, 9, 0)); status != 201 {
			t.Fatalf("book: %d %v", status, m)
		}
	}
	r.unplan(3, ids[2], ids[3])
	sl := find(t, e.slotsOf(t, e.cert, 3, 3), 3, 9, 0)
	if sl.Places != 1 || sl.Booked != 3 || sl.Free != 0 {
		t.Errorf("after two shifts removed: %+v; want 1 place, 3 booked (overbooked), none free", sl)
	}
	if status, m := e.book(t, at(3, 9, 0)); status != 409 {
		t.Errorf("booking an overbooked slot: %d %v", status, m)
	}
	if n := e.Count(t, `SELECT count(*) FROM bookings WHERE status = 'booked'`); n != 3 {
		t.Errorf("%d bookings held after the roster changed; want the 3 made", n)
	}
	// The API reports the same.
	if sl := e.slotAt(t, "certificati", at(3, 9, 0)); sl.Places != 1 || sl.Booked != 3 || sl.Free != 0 {
		t.Errorf("slots API after the change: %+v", sl)
	}
}

// TestSlotsFollowTheCalendar: the grid starts at each opening interval and keeps the wall clock across the
// change to summer time; holidays, Sundays and blackout days have no slots, nor the time before the
// minimum notice or the days beyond the horizon.
func TestSlotsFollowTheCalendar(t *testing.T) {
	e := newBookEnv(t, 1000)
	ctx := context.Background()
	if _, err := e.store.AddBlackout(ctx, e.Office, booking.BlackoutInput{Day: "2026-03-06", Reason: "assemblea"}); err != nil {
		t.Fatal(err)
	}
	perDay := map[string]int{}
	first := map[string]time.Time{}
	list, err := e.store.Slots(ctx, e.Office, e.cert, time.Date(2026, 3, 2, 0, 0, 0, 0, rome), time.Date(2026, 4, 8, 0, 0, 0, 0, rome))
	if err != nil {
		t.Fatal(err)
	}
	for i, sl := range list {
		day := sl.Start.In(rome).Format(time.DateOnly)
		if perDay[day] == 0 {
			first[day] = sl.Start
		}
		perDay[day]++
		if i > 0 && !list[i-1].Start.Before(sl.Start) {
			t.Fatalf("slots out of order at %s", sl.Start)
		}
		if sl.End.Sub(sl.Start) != 15*time.Minute {
			t.Fatalf("slot %s–%s is not 15 minutes", sl.Start, sl.End)
		}
	}
	for day, want := range map[string]int{
		"2026-03-02": 18, // Monday morning, 08:30–13:00, all after the notice (now 07:00)
		"2026-03-03": 30, // Tuesday, morning and 14:30–17:30
		"2026-03-06": 0,  // blackout for every service
		"2026-03-07": 16, // Saturday, 08:30–12:30
		"2026-03-08": 0,  // Sunday
		"2026-03-27": 18, // Friday before the change to summer time
		"2026-03-28": 16,
		"2026-03-29": 0, // Sunday of the change
		"2026-03-30": 18,
		"2026-04-06": 0, // Easter Monday
	} {
		if perDay[day] != want {
			t.Errorf("%s: %d slots; want %d", day, perDay[day], want)
		}
	}
	for day, want := range map[string]string{"2026-03-27": "2026-03-27T07:30:00Z", "2026-03-30": "2026-03-30T06:30:00Z"} {
		if got := first[day].UTC().Format(time.RFC3339); got != want {
			t.Errorf("first slot of %s at %s; want %s (08:30 on the office's clock)", day, got, want)
		}
	}
	// Booking follows the same clock: 08:30 in summer time is 06:30 UTC.
	if status, m := e.book(t, "2026-03-30T08:30:00+02:00"); status != 201 || m["start"] != "2026-03-30T06:30:00Z" {
		t.Errorf("booking the first slot after the change: %d %v", status, m)
	}
	if status, m := e.book(t, "2026-03-30T06:15:00Z"); status != 422 || errorCode(m) != "office_closed" {
		t.Errorf("06:15 UTC, 08:15 in summer time, before the office opens: %d %v; want office_closed", status, m)
	}
	// Minimum notice: at 09:10 the first slot of the day is the one at 10:15.
	e.SetNow(time.Date(2026, 3, 2, 9, 10, 0, 0, rome))
	if today := e.slotsOf(t, e.cert, 2, 2); len(today) == 0 || !today[0].Start.Equal(time.Date(2026, 3, 2, 10, 15, 0, 0, rome)) {
		t.Errorf("first slot with an hour's notice at 09:10: %v", today)
	}
	// Horizon: 10 days from Monday 2 March ends on Thursday 12 March.
	e.rules(t, "certificati", func(r *booking.Rules) { r.HorizonDays = 10 })
	late := e.slotsOf(t, e.cert, 12, 14)
	if len(late) != 32 || late[len(late)-1].Start.In(rome).Day() != 12 {
		t.Errorf("slots of 12–14 March with a 10-day horizon: %d; want Thursday 12's 32 (morning and afternoon)", len(late))
	}
}

// TestSlotsAPI: the slots API's range, defaults and refusals.
func TestSlotsAPI(t *testing.T) {
	e := newBookEnv(t, 1000)
	base := e.url + "/api/v1/offices/demo/slots"
	status, v := ticketingtest.Call(t, "GET", base+"?service=certificati", "", "")
	m, _ := v.(map[string]any)
	slots, _ := m["slots"].([]any)
	if status != 200 || m["from"] != "2026-03-02" || m["to"] != "2026-03-16" || m["time_zone"] != "Europe/Rome" ||
		m["slot_minutes"] != 15.0 || len(slots) == 0 {
		t.Fatalf("default range: %d from %v to %v, %d slots", status, m["from"], m["to"], len(slots))
	}
	last, _ := slots[len(slots)-1].(map[string]any)
	if s, _ := last["start"].(string); !strings.HasPrefix(s, "2026-03-16T") {
		t.Errorf("last default slot %v; want on 16 March", last)
	}
	if status, v := ticketingtest.Call(t, "GET", base+"?service=certificati&from=2026-03-02&to=2026-06-01", "", ""); status != 200 {
		t.Errorf("92 days: %d %v", status, v)
	}
	for _, c := range []struct{ query, field string }{
		{"?service=certificati&from=2026-03-02&to=2026-06-02", "to"},
		{"?service=certificati&from=2026-03-10&to=2026-03-09", "to"},
		{"?service=certificati&from=2026-3-1", "from"},
		{"?service=certificati&to=yesterday", "to"},
		{"?service=cie", "service"},
		{"?service=nessuno", "service"},
		{"", "service"},
		{"?service=certificati&staff=3", "staff"},
	} {
		ticketingtest.WantError(t, "GET", base+c.query, "", "", 422, c.field)
	}
	if status, _ := ticketingtest.Call(t, "GET", e.url+"/api/v1/offices/nessuna/slots?service=certificati", "", ""); status != 404 {
		t.Errorf("unknown office: %d", status)
	}
}

// TestBackOfficeSlots: a back-office service's places are its specialists at work (weekly hours or a
// roster shift) and not busy with another appointment, of any service; booking picks a free specialist or
// the one asked for, and a move keeps the specialist when they are free.
func TestBackOfficeSlots(t *testing.T) {
	e := newBookEnv(t, 1000)
	ctx := context.Background()
	isee := e.rules(t, "isee", func(r *booking.Rules) { r.BackOffice, r.SlotMinutes = true, 30 })
	edil := e.rules(t, "edilizia", func(r *booking.Rules) { r.BackOffice, r.SlotMinutes = true, 30 })
	var spec []int64
	for i, skills := range []map[string]ticketing.SkillLevel{
		{"isee": ticketing.Primary, "edilizia": ticketing.Primary},
		{"isee": ticketing.Primary},
		{"isee": ticketing.Primary}, // not in the back office: never a specialist
	} {
		st := &ticketing.Staff{OfficeID: e.Office.ID, Code: fmt.Sprintf("B%02d", i+1), FullName: fmt.Sprintf("Specialista %d", i+1),
			Active: true, BackOffice: i < 2, Skills: skills}
		if err := e.Store.SaveStaff(ctx, st); err != nil {
			t.Fatal(err)
		}
		spec = append(spec, st.ID)
	}
	a, b, other := spec[0], spec[1], spec[2]
	for _, h := range []struct {
		staff      int64
		from, to   string
		weekdayISO int
	}{{a, "09:00", "11:00", 2}, {b, "10:00", "12:00", 2}, {other, "08:30", "13:00", 2}} {
		if _, err := e.Pool.Exec(ctx, `INSERT INTO backoffice_hours (staff_id, weekday, starts, ends) VALUES ($1, $2, $3, $4)`,
			h.staff, h.weekdayISO, h.from, h.to); err != nil {
			t.Fatal(err)
		}
	}
	tue := e.slotsOf(t, isee, 3, 3)
	for _, c := range []struct{ hour, minute, places int }{{8, 30, 0}, {9, 0, 1}, {10, 0, 2}, {10, 30, 2}, {11, 0, 1}, {12, 0, 0}} {
		if sl := find(t, tue, 3, c.hour, c.minute); sl.Places != c.places || sl.Free != c.places {
			t.Errorf("isee Tuesday %02d:%02d: %+v; want %d places", c.hour, c.minute, sl, c.places)
		}
	}
	ten := time.Date(2026, 3, 3, 10, 0, 0, 0, rome)
	user := e.UserID(t, "op1")
	// A citizen cannot book it; staff can, and get the first free specialist.
	if _, _, err := e.store.Book(ctx, e.Office, booking.BookRequest{Service: "isee", Start: ten}); err == nil || !strings.Contains(err.Error(), "back_office_only") {
		t.Errorf("citizen booking a back-office service: %v", err)
	}
	first, _, err := e.store.Book(ctx, e.Office, booking.BookRequest{Service: "isee", Start: ten, UserID: user, Note: "ISEE 2026, manca il contratto"})
	if err != nil || first.StaffID != a {
		t.Fatalf("first back-office booking: %+v %v; want specialist %d", first, err, a)
	}
	if _, _, err := e.store.Book(ctx, e.Office, booking.BookRequest{Service: "isee", Start: ten, UserID: user, StaffID: a}); err == nil || !strings.Contains(err.Error(), "slot_full") {
		t.Errorf("asking for a busy specialist: %v; want slot_full", err)
	}
	if _, _, err := e.store.Book(ctx, e.Office, booking.BookRequest{Service: "isee", Start: ten, UserID: user, StaffID: other}); err == nil || !strings.Contains(err.Error(), "invalid_staff") {
		t.Errorf("asking for someone outside the back office: %v; want invalid_staff", err)
	}
	// The specialist's appointment makes them busy for their other service too.
	if sl := find(t, e.slotsOf(t, edil, 3, 3), 3, 10, 0); sl.Places != 1 || sl.Booked != 1 || sl.Free != 0 {
		t.Errorf("edilizia at 10:00 with its specialist busy with isee: %+v", sl)
	}
	second, _, err := e.store.Book(ctx, e.Office, booking.BookRequest{Service: "isee", Start: ten, UserID: user})
	if err != nil || second.StaffID != b {
		t.Fatalf("second back-office booking: %+v %v; want specialist %d", second, err, b)
	}
	if _, _, err := e.store.Book(ctx, e.Office, booking.BookRequest{Service: "isee", Start: ten, UserID: user}); err == nil || !strings.Contains(err.Error(), "slot_full") {
		t.Errorf("third booking at 10:00: %v; want slot_full", err)
	}
	// One specialist's slots through the API.
	status, v := ticketingtest.Call(t, "GET", fmt.Sprintf("%s/api/v1/offices/demo/slots?service=isee&from=2026-03-03&to=2026-03-03&staff=%d", e.url, a), "", "")
	m, _ := v.(map[string]any)
	list, _ := m["slots"].([]any)
	var free []string
	for _, x := range list {
		sl := x.(map[string]any)
		if sl["free"] == 1.0 {
			s, _ := time.Parse(time.RFC3339, sl["start"].(string))
			free = append(free, s.In(rome).Format("15:04"))
		}
	}
	if status != 200 || len(list) != 4 || strings.Join(free, " ") != "09:00 09:30 10:30" {
		t.Errorf("specialist %d's slots: %d, %d slots, free %v; want 4 with 09:00 09:30 10:30 free", a, status, len(list), free)
	}
	// A move keeps the specialist who is free then; a roster shift makes a specialist available too.
	moved, err := e.store.Reschedule(ctx, first.Code, time.Date(2026, 3, 3, 9, 0, 0, 0, rome))
	if err != nil || moved.StaffID != a {
		t.Errorf("moved back-office booking: %+v %v; want specialist %d kept", moved, err, a)
	}
	r := newRoster()
	e.Store.Outlook = r
	r.plan(3, 15, 0, 16, 0, b)
	if sl := find(t, e.slotsOf(t, isee, 3, 3), 3, 15, 0); sl.Places != 1 || sl.Free != 1 {
		t.Errorf("isee at 15:00 with a specialist on a roster shift: %+v", sl)
	}
}

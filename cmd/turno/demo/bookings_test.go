package demo_test

import (
	"context"
	"testing"
	"time"

	"turno/cmd/turno/demo"
	"turno/ticketing/booking"
	"turno/ticketing/ticketingtest"
)

// The demo office's second channel: three citizen services bookable with a share of 0.3–0.5, a back-office
// service with its specialist (flagged, Monday–Friday 09:00–13:00, a user who signs in, a desk), phone join
// on, and a few appointments in the coming days without any personal data; seeding again adds nothing and
// keeps a manager's change.
func TestSeedBookings(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	ctx := context.Background()
	bookings := booking.NewStore(env.Pool, env.Store)
	now := time.Date(2026, 6, 3, 7, 30, 0, 0, env.Office.Location()) // a Wednesday
	env.SetNow(now)
	bookings.Now = env.Now
	stores := demo.Stores{Tickets: env.Store, Auth: env.Auth, Bookings: bookings}
	if err := demo.SeedBookings(ctx, stores, env.Office, now); err != nil {
		t.Fatal(err)
	}
	rules, err := bookings.OfficeRules(ctx, env.Office.ID)
	if err != nil {
		t.Fatal(err)
	}
	citizen, backOffice := 0, 0
	for _, r := range rules {
		switch {
		case r.Bookable && r.BackOffice:
			backOffice++
		case r.Bookable && r.DefaultShare >= 0.3 && r.DefaultShare <= 0.5:
			citizen++
		}
	}
	if citizen != 3 || backOffice != 1 {
		t.Errorf("rules %+v: want 3 citizen services at 0.3–0.5 and 1 back-office service", rules)
	}
	o, err := env.Store.OfficeByID(ctx, env.Office.ID)
	if err != nil || !o.PhoneJoin {
		t.Errorf("phone join after the demo seed: %+v %v, want on", o, err)
	}
	st, err := env.Store.StaffByCode(ctx, o.ID, "S11")
	if err != nil || !st.BackOffice {
		t.Fatalf("specialist S11: %+v %v", st, err)
	}
	hours, err := bookings.BackOfficeHours(ctx, st.ID)
	if err != nil || len(hours) != 5 || hours[0].From.String() != "09:00" || hours[0].To.String() != "13:00" {
		t.Errorf("specialist's hours %v %v, want Monday–Friday 09:00–13:00", hours, err)
	}
	if _, _, err := env.Auth.Login(ctx, demo.BackOfficeUser, demo.Password); err != nil {
		t.Errorf("the specialist cannot sign in: %v", err)
	}
	if _, err := env.Store.DeskByNumber(ctx, o.ID, 7); err != nil {
		t.Errorf("back-office desk 7: %v", err)
	}
	count := func() (all, personal, withSpecialist int) {
		t.Helper()
		if err := env.Pool.QueryRow(ctx, `SELECT count(*), count(*) FILTER (WHERE name IS NOT NULL OR email IS NOT NULL OR phone IS NOT NULL),
			count(*) FILTER (WHERE staff_id = $2) FROM bookings WHERE office_id = $1 AND starts_at > $3 AND status = 'booked'`,
			o.ID, st.ID, now).Scan(&all, &personal, &withSpecialist); err != nil {
			t.Fatal(err)
		}
		return
	}
	all, personal, withSpecialist := count()
	if all < 6 || personal != 0 || withSpecialist != 2 {
		t.Errorf("demo appointments: %d, %d with personal data, %d with the specialist; want 8 or so, none, 2", all, personal, withSpecialist)
	}

	// A manager turns phone join off; seeding again changes nothing.
	o.PhoneJoin = false
	if err := env.Store.UpdateOffice(ctx, o); err != nil {
		t.Fatal(err)
	}
	if err := demo.SeedBookings(ctx, stores, o, now); err != nil {
		t.Fatal(err)
	}
	if again, _, _ := count(); again != all {
		t.Errorf("second seed: %d appointments, want %d", again, all)
	}
	if o, _ := env.Store.OfficeByID(ctx, o.ID); o.PhoneJoin {
		t.Error("the second seed turned phone join back on")
	}
}

package ticketing_test

import (
	"context"
	"fmt"
	"testing"

	"turno/internal/auth"
	"turno/ticketing"
	"turno/ticketing/ticketingtest"
)

// loadOffice is an office built for concurrency tests and benchmarks: services with prefixes A, B, C,
// and n desks serving all of them, each with its own operator (primary in every service) signed in.
type loadOffice struct {
	office  *ticketing.Office
	desks   []int64 // desk ids
	users   []int64 // users[i] is signed in to desks[i]
	service []string
}

func newLoadOffice(tb testing.TB, env *ticketingtest.Env, slug string, n int) *loadOffice {
	tb.Helper()
	ctx := context.Background()
	s := env.Store
	o := &ticketing.Office{Slug: slug, Name: "Load " + slug, TimeZone: "Europe/Rome", IssuingAlwaysOpen: true}
	must(tb, func() error { _, err := s.SaveOffice(ctx, o); return err })
	must(tb, func() error {
		return s.SaveAgency(ctx, &ticketing.Agency{OfficeID: o.ID, Code: "comune", Name: "Comune"})
	})
	lo := &loadOffice{office: o, service: []string{"anagrafe", "tributi", "sociale"}}
	for i, code := range lo.service {
		must(tb, func() error {
			return s.SaveService(ctx, &ticketing.Service{OfficeID: o.ID, Agency: "comune", Code: code, Audience: ticketing.Citizen,
				Prefix: string(rune('A' + i)), Names: map[string]string{"it": code}, ExpectedHandlingSeconds: 600,
				WaitTargetSeconds: 1800, Active: true})
		})
	}
	skills := map[string]ticketing.SkillLevel{}
	for _, code := range lo.service {
		skills[code] = ticketing.Primary
	}
	for i := 1; i <= n; i++ {
		d := &ticketing.Desk{OfficeID: o.ID, Number: i, Name: fmt.Sprintf("Desk %d", i), Audience: ticketing.Citizen, Active: true, Services: lo.service}
		must(tb, func() error { return s.SaveDesk(ctx, d) })
		st := &ticketing.Staff{OfficeID: o.ID, Code: fmt.Sprintf("L%03d", i), FullName: fmt.Sprintf("Operator %d", i), Active: true, Skills: skills}
		must(tb, func() error { return s.SaveStaff(ctx, st) })
		uid, err := env.Auth.CreateUser(ctx, auth.NewUser{Username: fmt.Sprintf("%s-op%d", slug, i), Password: "vento di marzo 27",
			Role: auth.Operator, OfficeID: o.ID, StaffID: st.ID}, false)
		if err != nil {
			tb.Fatalf("create user: %v", err)
		}
		if _, err := s.OpenDesk(ctx, d.ID, uid, st.ID); err != nil {
			tb.Fatalf("open desk: %v", err)
		}
		lo.desks, lo.users = append(lo.desks, d.ID), append(lo.users, uid)
	}
	return lo
}

// fillWaiting inserts n waiting tickets spread over the office's services, in one statement, bypassing
// Issue (which benchmarks measure separately). Numbers continue each prefix's sequence of today.
func fillWaiting(tb testing.TB, env *ticketingtest.Env, officeID int64, n int) {
	tb.Helper()
	_, err := env.Pool.Exec(context.Background(), `
		INSERT INTO tickets (office_id, service_id, code, prefix, number, label, local_day, status, lang, issued_at, queued_at)
		SELECT $1, s.id, md5(random()::text || g), s.prefix, 100000 + g, s.prefix || g, current_date, 'waiting', 'it',
			now() - (g % 3600) * interval '1 second', now()
		FROM generate_series(1, $2) g
		JOIN LATERAL (SELECT id, prefix FROM services WHERE office_id = $1 ORDER BY id OFFSET (g % 3) LIMIT 1) s ON true`,
		officeID, n)
	if err != nil {
		tb.Fatalf("fill waiting tickets: %v", err)
	}
}

func must(tb testing.TB, f func() error) {
	tb.Helper()
	if err := f(); err != nil {
		tb.Fatal(err)
	}
}

package ticketing_test

import (
	"context"
	"errors"
	"sort"
	"sync"
	"testing"
	"time"

	"turno/internal/web"
	"turno/ticketing"
	"turno/ticketing/ticketingtest"
)

// 50 goroutines on 20 desks call 1,000 tickets: every ticket is called exactly once.
func TestConcurrentCallNextCallsEachTicketOnce(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	ctx := context.Background()
	lo := newLoadOffice(t, env, "load", 20)
	fillWaiting(t, env, lo.office.ID, 1000)

	var mu sync.Mutex
	calls := map[int64]int{}
	var wg sync.WaitGroup
	errc := make(chan error, 50)
	for g := 0; g < 50; g++ {
		wg.Add(1)
		go func(g int) {
			defer wg.Done()
			desk, user := lo.desks[g%20], lo.users[g%20]
			for {
				tk, err := env.Store.CallNext(ctx, desk, user)
				if isConflict(err) { // another goroutine on this desk holds a called ticket: move it on
					_, _ = env.Store.NoShow(ctx, desk, user)
					continue
				}
				if err != nil {
					errc <- err
					return
				}
				if tk == nil {
					return
				}
				mu.Lock()
				calls[tk.ID]++
				mu.Unlock()
				if _, err := env.Store.NoShow(ctx, desk, user); err != nil && !isConflict(err) {
					errc <- err
					return
				}
			}
		}(g)
	}
	wg.Wait()
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	if len(calls) != 1000 {
		t.Fatalf("called %d distinct tickets, want 1000", len(calls))
	}
	for id, n := range calls {
		if n != 1 {
			t.Fatalf("ticket %d returned by CallNext %d times", id, n)
		}
	}
	var waiting, multi, events int
	must(t, func() error {
		return env.Pool.QueryRow(ctx, `SELECT
			(SELECT count(*) FROM tickets WHERE office_id = $1 AND status = 'waiting'),
			(SELECT count(*) FROM (SELECT ticket_id FROM office_events WHERE office_id = $1 AND type = 'ticket.called'
			                       GROUP BY ticket_id HAVING count(*) > 1) m),
			(SELECT count(*) FROM office_events WHERE office_id = $1 AND type = 'ticket.called')`, lo.office.ID).
			Scan(&waiting, &multi, &events)
	})
	if waiting != 0 || multi != 0 || events != 1000 {
		t.Fatalf("after the run: %d still waiting, %d tickets with several call events, %d call events (want 0, 0, 1000)", waiting, multi, events)
	}
	assertDenseSeqs(t, env, lo.office.ID)
}

// 200 concurrent issues of one service get the numbers 1…200, each once.
func TestConcurrentIssueNumbersUniqueAndGapFree(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	ctx := context.Background()
	var wg sync.WaitGroup
	numbers := make(chan string, 200)
	errc := make(chan error, 200)
	for i := 0; i < 200; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk, _, err := env.Store.Issue(ctx, ticketing.IssueRequest{OfficeID: env.Office.ID, Service: "certificati"})
			if err != nil {
				errc <- err
				return
			}
			numbers <- tk.Number
		}()
	}
	wg.Wait()
	close(numbers)
	close(errc)
	for err := range errc {
		t.Fatal(err)
	}
	var got []string
	for n := range numbers {
		got = append(got, n)
	}
	sort.Strings(got)
	if len(got) != 200 {
		t.Fatalf("issued %d tickets, want 200", len(got))
	}
	for i, n := range got {
		if want := ticketing.Label("C", i+1); n != want {
			t.Fatalf("numbers not unique and gap-free: position %d holds %s, want %s", i, n, want)
		}
	}
	assertDenseSeqs(t, env, env.Office.ID)
}

// The day boundary is the office's midnight: 23:59 and 00:01 Europe/Rome are different days, and the
// numbering restarts.
func TestNumberingRestartsAtOfficeMidnight(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	ctx := context.Background()
	rome, _ := time.LoadLocation("Europe/Rome")
	cases := []struct{ before, after time.Time }{
		{time.Date(2026, 11, 23, 23, 59, 0, 0, rome), time.Date(2026, 11, 24, 0, 1, 0, 0, rome)}, // CET, UTC+1
		{time.Date(2026, 7, 14, 23, 59, 0, 0, rome), time.Date(2026, 7, 15, 0, 1, 0, 0, rome)},   // CEST, UTC+2
	}
	for _, c := range cases {
		env.SetNow(c.before)
		a, _, err := env.Store.Issue(ctx, ticketing.IssueRequest{OfficeID: env.Office.ID, Service: "cie"})
		if err != nil {
			t.Fatal(err)
		}
		a2, _, err := env.Store.Issue(ctx, ticketing.IssueRequest{OfficeID: env.Office.ID, Service: "cie"})
		if err != nil {
			t.Fatal(err)
		}
		env.SetNow(c.after)
		b, _, err := env.Store.Issue(ctx, ticketing.IssueRequest{OfficeID: env.Office.ID, Service: "cie"})
		if err != nil {
			t.Fatal(err)
		}
		if a.LocalDay.Equal(b.LocalDay) {
			t.Errorf("%s and %s share the day %s", c.before, c.after, a.LocalDay.Format(time.DateOnly))
		}
		if want := c.before.Format(time.DateOnly); a.LocalDay.Format(time.DateOnly) != want {
			t.Errorf("ticket at %s has day %s, want %s (UTC day is %s)", c.before, a.LocalDay.Format(time.DateOnly), want, c.before.UTC().Format(time.DateOnly))
		}
		if a.Number != "A001" || a2.Number != "A002" || b.Number != "A001" {
			t.Errorf("numbers %s, %s then after midnight %s; want A001, A002, A001", a.Number, a2.Number, b.Number)
		}
	}
}

// A retried issue with the same Idempotency-Key returns the same ticket, also when the retries race.
func TestIdempotentIssue(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	ctx := context.Background()
	req := ticketing.IssueRequest{OfficeID: env.Office.ID, Service: "cie", IdempotencyKey: "kiosk-1-tap-42"}
	first, created, err := env.Store.Issue(ctx, req)
	if err != nil || !created {
		t.Fatalf("first issue: created=%v err=%v", created, err)
	}
	again, created, err := env.Store.Issue(ctx, req)
	if err != nil || created || again.ID != first.ID || again.Number != first.Number {
		t.Fatalf("retry: created=%v err=%v ticket %v, want the same ticket %d", created, err, again, first.ID)
	}

	race := ticketing.IssueRequest{OfficeID: env.Office.ID, Service: "cie", IdempotencyKey: "kiosk-1-tap-43"}
	ids := make(chan int64, 20)
	var wg sync.WaitGroup
	for i := 0; i < 20; i++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			tk, _, err := env.Store.Issue(ctx, race)
			if err != nil {
				t.Error(err)
				return
			}
			ids <- tk.ID
		}()
	}
	wg.Wait()
	close(ids)
	distinct := map[int64]bool{}
	for id := range ids {
		distinct[id] = true
	}
	var n int
	must(t, func() error {
		return env.Pool.QueryRow(ctx, `SELECT count(*) FROM tickets WHERE office_id = $1`, env.Office.ID).Scan(&n)
	})
	if len(distinct) != 1 || n != 2 {
		t.Fatalf("racing retries made %d distinct tickets (%d in the office), want 1 (2)", len(distinct), n)
	}
}

// A transfer ends the ticket and queues a new one in the other service with the same number and the
// original issue time; the phone code follows the person.
func TestTransferKeepsNumberAndIssueTime(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	ctx := context.Background()
	start := time.Date(2026, 11, 23, 9, 0, 0, 0, time.UTC)
	env.SetNow(start)
	tk, _, err := env.Store.Issue(ctx, ticketing.IssueRequest{OfficeID: env.Office.ID, Service: "cie"})
	if err != nil {
		t.Fatal(err)
	}
	desk, user := env.DeskID(t, 1), env.UserID(t, "op1")
	if _, err := env.Store.OpenDesk(ctx, desk, user, env.StaffID(t, "op1")); err != nil {
		t.Fatal(err)
	}
	env.Advance(10 * time.Minute)
	if _, err := env.Store.CallNext(ctx, desk, user); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.Start(ctx, desk, user); err != nil {
		t.Fatal(err)
	}
	env.Advance(3 * time.Minute)
	moved, err := env.Store.Transfer(ctx, desk, user, "tributi")
	if err != nil {
		t.Fatal(err)
	}
	if moved.Number != tk.Number || !moved.IssuedAt.Equal(tk.IssuedAt) || moved.Service != "tributi" || moved.Status != ticketing.Waiting {
		t.Fatalf("transferred ticket %s issued %s in %s (%s); want %s issued %s in tributi (waiting)",
			moved.Number, moved.IssuedAt, moved.Service, moved.Status, tk.Number, tk.IssuedAt)
	}
	old, err := env.Store.Ticket(ctx, env.Office.ID, tk.ID)
	if err != nil || old.Status != ticketing.Transferred {
		t.Fatalf("original ticket status %v (err %v), want transferred", old.Status, err)
	}
	byCode, err := env.Store.TicketByCode(ctx, tk.Code)
	if err != nil || byCode.ID != moved.ID {
		t.Fatalf("the original code resolves to %v (err %v), want the new ticket %d", byCode, err, moved.ID)
	}
	// Another desk serving tributi can now call it, and its wait counts from the first issue.
	desk3, op3 := env.DeskID(t, 3), env.UserID(t, "op3")
	if _, err := env.Store.OpenDesk(ctx, desk3, op3, env.StaffID(t, "op3")); err != nil {
		t.Fatal(err)
	}
	got, err := env.Store.CallNext(ctx, desk3, op3)
	if err != nil || got == nil || got.ID != moved.ID {
		t.Fatalf("desk 3 called %v (err %v), want the transferred ticket", got, err)
	}
}

func isConflict(err error) bool {
	var we *web.Error
	return errors.As(err, &we) && we.Status == 409
}

// assertDenseSeqs checks that an office's event seqs are 1…n with no gap or repeat.
func assertDenseSeqs(t *testing.T, env *ticketingtest.Env, officeID int64) {
	t.Helper()
	var n, max, last int64
	must(t, func() error {
		return env.Pool.QueryRow(context.Background(), `SELECT count(*), coalesce(max(seq), 0), (SELECT last_event_seq FROM offices WHERE id = $1)
			FROM office_events WHERE office_id = $1`, officeID).Scan(&n, &max, &last)
	})
	if n != max || max != last {
		t.Fatalf("event seqs not dense: %d events, max seq %d, office counter %d", n, max, last)
	}
}

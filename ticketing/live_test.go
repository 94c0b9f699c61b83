package ticketing_test

import (
	"context"
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"reflect"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"turno/internal/database"
	"turno/ticketing"
	"turno/ticketing/ticketingtest"
)

// demoServiceCodes are the demo office's services.
var demoServiceCodes = []string{"cie", "certificati", "residenza", "tributi", "isee", "edilizia", "inps-pensioni",
	"enel-bonus", "suap", "inps-imprese", "edilizia-imprese"}

// liveWorld is a demo office driven at random, with another office beside it whose desk and ticket a live
// state of the demo office must leave out.
type liveWorld struct {
	*ticketingtest.Env
	rng         *rand.Rand
	desks       []int64 // demo desks 1–6
	users       []int64 // op1–op6
	staff       []int64 // their staff members
	at          map[int64]int64
	otherDesk   int64
	otherTicket int64
}

// TestLiveStateMatchesAPI: in random states of the demo office (several services, desks serving different
// ones, operators with different skill levels, priorities, a checked-in appointment, tickets reserved for a
// signed-in and for an absent staff member, a paused desk, a closed desk, called and serving tickets,
// transfers), the live state says exactly what the API says at the same instant: the queue, each desk's
// state and waiting list, each waiting ticket's position and estimate. It leaves out tickets that do not
// wait, and desks and tickets of other offices.
func TestLiveStateMatchesAPI(t *testing.T) {
	t.Parallel()
	for seed := uint64(1); seed <= 3; seed++ {
		t.Run(fmt.Sprintf("seed%d", seed), func(t *testing.T) {
			w := newLiveWorld(t, seed)
			ctx := context.Background()
			w.SetNow(monday(8, 40))
			w.issueSome(t, 30, 3*time.Minute)
			// Reserved tickets: for the operator at a random open desk, and for the manager, who works at none.
			open := w.openDesks(t)
			member := w.at[open[w.rng.IntN(len(open))]]
			w.issue(t, ticketing.IssueRequest{Service: "certificati", ForStaffID: member})
			w.issue(t, ticketing.IssueRequest{Service: "isee", ForStaffID: w.StaffID(t, "manager")})
			// A checked-in appointment whose slot began five minutes ago carries the appointment bonus.
			slot := w.Now().Add(-5 * time.Minute)
			w.issue(t, ticketing.IssueRequest{Service: demoServiceCodes[w.rng.IntN(4)], AppointmentAt: &slot})
			w.Advance(4 * time.Minute)
			w.work(t)
			w.compare(t)

			// Later: more tickets, more work, a desk resumes or closes.
			w.Advance(7 * time.Minute)
			w.issueSome(t, 8, time.Minute)
			for _, d := range w.openDesks(t) {
				st, err := w.Store.DeskState(ctx, d)
				if err != nil {
					t.Fatal(err)
				}
				switch {
				case st.Paused:
					w.must(t, d, func(u int64) error { _, err := w.Store.Resume(ctx, d, u); return err })
				case st.Current == nil && w.rng.IntN(3) == 0:
					w.must(t, d, func(u int64) error { _, err := w.Store.CloseDesk(ctx, d, u); return err })
				}
			}
			w.work(t)
			w.compare(t)
		})
	}
}

func newLiveWorld(t *testing.T, seed uint64) *liveWorld {
	t.Helper()
	env := ticketingtest.New(t)
	ctx := context.Background()
	w := &liveWorld{Env: env, rng: rand.New(rand.NewPCG(seed, 19)), at: map[int64]int64{}}
	env.SetNow(monday(8, 0))
	for i := 1; i <= 6; i++ {
		w.desks = append(w.desks, env.DeskID(t, i))
		w.users = append(w.users, env.UserID(t, fmt.Sprintf("op%d", i)))
		w.staff = append(w.staff, env.StaffID(t, fmt.Sprintf("op%d", i)))
	}
	other := newLoadOffice(t, env, "other", 1)
	w.otherDesk = other.desks[0]
	tk, _, err := env.Store.Issue(ctx, ticketing.IssueRequest{OfficeID: other.office.ID, Service: other.service[0]})
	if err != nil {
		t.Fatal(err)
	}
	w.otherTicket = tk.ID

	// Operators sit at random desks: one desk stays closed, one is paused, the others work.
	perm := w.rng.Perm(6)
	for i, k := range perm[1:] {
		d, op := w.desks[k], w.rng.IntN(6)
		for w.taken(op) {
			op = (op + 1) % 6
		}
		if _, err := env.Store.OpenDesk(ctx, d, w.users[op], w.staff[op]); err != nil {
			t.Fatal(err)
		}
		w.at[d] = w.staff[op]
		if i == 0 {
			if _, err := env.Store.Pause(ctx, d, w.users[op], "pausa caffè"); err != nil {
				t.Fatal(err)
			}
		}
	}
	return w
}

// taken reports whether operator op sits at a desk.
func (w *liveWorld) taken(op int) bool {
	for _, st := range w.at {
		if st == w.staff[op] {
			return true
		}
	}
	return false
}

// user returns the user signed in to desk d.
func (w *liveWorld) user(d int64) int64 {
	for i, st := range w.staff {
		if st == w.at[d] {
			return w.users[i]
		}
	}
	return 0
}

// must runs a desk action as the desk's operator.
func (w *liveWorld) must(t *testing.T, d int64, act func(user int64) error) {
	t.Helper()
	if err := act(w.user(d)); err != nil {
		t.Fatalf("desk %d: %v", d, err)
	}
}

// openDesks returns the desks with an operator signed in, paused or not.
func (w *liveWorld) openDesks(t *testing.T) []int64 {
	t.Helper()
	var out []int64
	for _, d := range w.desks {
		st, err := w.Store.DeskState(context.Background(), d)
		if err != nil {
			t.Fatal(err)
		}
		if st.Open {
			out = append(out, d)
		}
	}
	return out
}

func (w *liveWorld) issue(t *testing.T, req ticketing.IssueRequest) {
	t.Helper()
	req.OfficeID = w.Office.ID
	if _, _, err := w.Store.Issue(context.Background(), req); err != nil {
		t.Fatal(err)
	}
}

// issueSome issues n tickets of random services, a few with priority, up to gap apart.
func (w *liveWorld) issueSome(t *testing.T, n int, gap time.Duration) {
	t.Helper()
	priorities := []string{"", "", "", "", "disabilita", "over75"}
	for range n {
		// Nanoseconds too: waits are rounded to the second from a clock sent at microseconds.
		w.Advance(time.Duration(w.rng.Int64N(int64(gap))))
		w.issue(t, ticketing.IssueRequest{Service: demoServiceCodes[w.rng.IntN(len(demoServiceCodes))],
			Priority: priorities[w.rng.IntN(len(priorities))]})
	}
}

// work has each working desk do something at random: call, start, transfer, finish, no-show.
func (w *liveWorld) work(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	for _, d := range w.openDesks(t) {
		st, err := w.Store.DeskState(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		if st.Paused {
			continue
		}
		u := w.user(d)
		if st.Current != nil {
			switch st.Current.Status {
			case ticketing.Called:
				_, err = w.Store.NoShow(ctx, d, u)
			case ticketing.Serving:
				_, err = w.Store.Finish(ctx, d, u)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		w.Advance(20 * time.Second)
		tk, err := w.Store.CallNext(ctx, d, u)
		if err != nil {
			t.Fatal(err)
		}
		if tk == nil {
			continue
		}
		switch w.rng.IntN(3) {
		case 0: // stays called
		case 1:
			_, err = w.Store.Start(ctx, d, u)
		case 2:
			to := demoServiceCodes[w.rng.IntN(len(demoServiceCodes))]
			if to == tk.Service {
				to = "certificati"
				if tk.Service == to {
					to = "tributi"
				}
			}
			_, err = w.Store.Transfer(ctx, d, u, to)
		}
		if err != nil {
			t.Fatal(err)
		}
	}
}

// compare checks the live state of the demo office, asked for every desk and ticket there is (of both
// offices) and for a desk that does not exist, against the API's answers at the same instant.
func (w *liveWorld) compare(t *testing.T) {
	t.Helper()
	ctx := context.Background()
	type ticketRow struct {
		id     int64
		code   string
		status ticketing.Status
	}
	rows, err := w.Pool.Query(ctx, `SELECT id, code, status FROM tickets WHERE office_id = $1 ORDER BY id`, w.Office.ID)
	if err != nil {
		t.Fatal(err)
	}
	tickets, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ticketRow, error) {
		var r ticketRow
		return r, row.Scan(&r.id, &r.code, &r.status)
	})
	if err != nil {
		t.Fatal(err)
	}
	lq := ticketing.LiveQuery{Desks: append([]int64{w.otherDesk, 1 << 40}, w.desks...), Tickets: []int64{w.otherTicket}}
	for _, r := range tickets {
		lq.Tickets = append(lq.Tickets, r.id)
	}
	st, err := w.Store.LiveState(ctx, w.Office, lq)
	if err != nil {
		t.Fatal(err)
	}
	if now := w.Now().Truncate(time.Microsecond); !st.At.Equal(now) {
		t.Errorf("at %v, want the clock's %v", st.At, now)
	}

	queue, err := w.Store.Queue(ctx, w.Office)
	if err != nil {
		t.Fatal(err)
	}
	if !reflect.DeepEqual(st.Queue, queue) {
		t.Errorf("queue:\n live %s\n  API %s", jsonOf(t, st.Queue), jsonOf(t, queue))
	}

	if len(st.Desks) != len(w.desks) {
		t.Errorf("%d desks, want the office's %d (no other office's, no unknown one)", len(st.Desks), len(w.desks))
	}
	var paused, closed, busy, reserved int
	for _, d := range w.desks {
		state, err := w.Store.DeskState(ctx, d)
		if err != nil {
			t.Fatal(err)
		}
		list, err := w.Store.WaitingForDesk(ctx, d, 200)
		if err != nil {
			t.Fatal(err)
		}
		if got, want := jsonOf(t, st.Desks[d]), jsonOf(t, &ticketing.LiveDesk{State: state, Waiting: list}); got != want {
			t.Errorf("desk %d:\n live %s\n  API %s", d, got, want)
		}
		if got, want := jsonOf(t, list), jsonOf(t, referenceWaiting(t, w.Env, d)); got != want {
			t.Errorf("desk %d waiting list:\n  got %s\n want %s", d, got, want)
		}
		switch {
		case !state.Open:
			closed++
		case state.Paused:
			paused++
		case state.Current != nil:
			busy++
		}
	}

	waiting := 0
	for _, r := range tickets {
		got := st.Tickets[r.id]
		if r.status != ticketing.Waiting {
			if got != nil {
				t.Errorf("ticket %d is %s but has a position: %s", r.id, r.status, jsonOf(t, got))
			}
			continue
		}
		waiting++
		tk, err := w.Store.TicketByCode(ctx, r.code)
		if err != nil {
			t.Fatal(err)
		}
		want := &ticketing.TicketPosition{ID: tk.ID, Status: tk.Status, Position: tk.Position,
			EstimatedWaitSeconds: tk.EstimatedWaitSeconds, Estimate: tk.Estimate}
		if g, a := jsonOf(t, got), jsonOf(t, want); g != a {
			t.Errorf("ticket %d:\n live %s\n  API %s", r.id, g, a)
		}
	}
	if st.Tickets[w.otherTicket] != nil {
		t.Errorf("the other office's ticket has a position in this office's state")
	}
	if len(st.Tickets) != waiting {
		t.Errorf("%d positions, want one for each of the %d waiting tickets", len(st.Tickets), waiting)
	}
	reserved = w.Count(t, `SELECT count(*) FROM tickets WHERE office_id = $1 AND status = 'waiting' AND for_staff_id IS NOT NULL`, w.Office.ID)
	t.Logf("%d waiting (%d reserved), %d desks closed, %d paused, %d busy", waiting, reserved, closed, paused, busy)
}

// referenceWaiting is a desk's waiting list as one SQL statement reads it (WaitingForDesk's before the
// live state shared its code): what the list computed in Go must equal.
func referenceWaiting(t *testing.T, env *ticketingtest.Env, deskID int64) []ticketing.WaitingTicket {
	t.Helper()
	rows, err := env.Pool.Query(context.Background(), `
		SELECT t.id, t.label, s.code, s.names, coalesce(pc.code, ''), t.issued_at,
			extract(epoch FROM $2::timestamptz - t.issued_at)::int, t.transferred_from IS NOT NULL
		FROM tickets t
		JOIN desks d ON d.id = $1 AND d.office_id = t.office_id
		JOIN desk_services ds ON ds.desk_id = d.id AND ds.service_id = t.service_id
		JOIN services s ON s.id = t.service_id
		LEFT JOIN priority_categories pc ON pc.id = t.priority_id
		WHERE t.status = 'waiting' AND (t.for_staff_id IS NULL OR t.for_staff_id =
			(SELECT staff_id FROM desk_sessions WHERE desk_id = d.id AND closed_at IS NULL))
		ORDER BY t.issued_at, t.id LIMIT 200`, deskID, env.Now())
	if err != nil {
		t.Fatal(err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ticketing.WaitingTicket, error) {
		var w ticketing.WaitingTicket
		return w, row.Scan(&w.ID, &w.Number, &w.Service, &w.ServiceNames, &w.Priority, &w.IssuedAt, &w.WaitSeconds, &w.Transferred)
	})
	if err != nil {
		t.Fatal(err)
	}
	return list
}

func jsonOf(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// countingStore is a store on a pool of its own to the test's database that counts the statements it
// sends, with the test's clock.
func countingStore(tb testing.TB, env *ticketingtest.Env) (*ticketing.Store, *database.StatementCounter) {
	tb.Helper()
	cfg, err := pgxpool.ParseConfig(env.Pool.Config().ConnString())
	if err != nil {
		tb.Fatal(err)
	}
	c := &database.StatementCounter{}
	cfg.ConnConfig.Tracer = c
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(pool.Close) // before the database is dropped: cleanups run last first
	s := ticketing.NewStore(pool)
	s.Now = env.Now
	return s, c
}

// liveLoad is an office of 10 open desks serving three services, half of them busy, with 300 waiting
// tickets, and the ids of those tickets.
func liveLoad(tb testing.TB, env *ticketingtest.Env) (*loadOffice, []int64) {
	tb.Helper()
	ctx := context.Background()
	lo := newLoadOffice(tb, env, "live", 10)
	fillWaiting(tb, env, lo.office.ID, 305)
	for i := range 5 {
		if _, err := env.Store.CallNext(ctx, lo.desks[i], lo.users[i]); err != nil {
			tb.Fatal(err)
		}
	}
	rows, err := env.Pool.Query(ctx, `SELECT id FROM tickets WHERE office_id = $1 AND status = 'waiting'`, lo.office.ID)
	if err != nil {
		tb.Fatal(err)
	}
	ids, err := pgx.CollectRows(rows, pgx.RowTo[int64])
	if err != nil || len(ids) != 300 {
		tb.Fatalf("%d waiting tickets, %v; want 300", len(ids), err)
	}
	return lo, ids
}

// TestLiveStateStatements: a live state costs the same statements for one desk and one ticket as for ten
// desks and 300 tickets, and no more than eight even when estimates need the office's calendar.
func TestLiveStateStatements(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	ctx := context.Background()
	lo, tickets := liveLoad(t, env)
	// A service no desk serves: its estimate reads the calendar, the most a live state reads.
	must(t, func() error {
		return env.Store.SaveService(ctx, &ticketing.Service{OfficeID: lo.office.ID, Agency: "comune", Code: "archivio",
			Audience: ticketing.Citizen, Prefix: "X", Names: map[string]string{"it": "Archivio"}, ExpectedHandlingSeconds: 600,
			WaitTargetSeconds: 1800, Active: true})
	})
	s, counter := countingStore(t, env)
	count := func(desks, tickets []int64) int64 {
		before := counter.Load()
		st, err := s.LiveState(ctx, lo.office, ticketing.LiveQuery{Desks: desks, Tickets: tickets})
		if err != nil {
			t.Fatal(err)
		}
		if len(st.Desks) != len(desks) || len(st.Tickets) != len(tickets) {
			t.Fatalf("%d desks and %d tickets, want %d and %d", len(st.Desks), len(st.Tickets), len(desks), len(tickets))
		}
		return counter.Load() - before
	}
	one := count(lo.desks[:1], tickets[:1])
	t.Logf("%d statements", one)
	if one > 8 {
		t.Errorf("a live state of one desk and one ticket sends %d statements, want at most 8", one)
	}
	for _, c := range []struct{ desks, tickets int }{{10, 1}, {1, 300}, {10, 300}} {
		if n := count(lo.desks[:c.desks], tickets[:c.tickets]); n != one {
			t.Errorf("%d desks and %d tickets: %d statements, want %d as for one of each", c.desks, c.tickets, n, one)
		}
	}
}

// BenchmarkLiveState measures an office's live state with 10 open desks (half of them busy), 300
// waiting tickets, every desk's state and waiting list and every ticket's position asked for.
func BenchmarkLiveState(b *testing.B) {
	env := ticketingtest.New(b)
	ctx := context.Background()
	lo, tickets := liveLoad(b, env)
	s, counter := countingStore(b, env)
	lq := ticketing.LiveQuery{Desks: lo.desks, Tickets: tickets}
	before := counter.Load()
	b.ResetTimer()
	for range b.N {
		st, err := s.LiveState(ctx, lo.office, lq)
		if err != nil || len(st.Desks) != 10 || len(st.Tickets) != 300 {
			b.Fatalf("live state: %v", err)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(counter.Load()-before)/float64(b.N), "statements/op")
}

package plan

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"turno/internal/web"
	"turno/scheduling"
	"turno/scheduling/demand"
	"turno/scheduling/roster"
	"turno/ticketing"
	"turno/ticketing/booking"
)

// MaxDays is the longest roster period: twelve weeks.
const MaxDays = 84

// solveLease is how long a solving roster stays claimed by its node without a renewal.
const solveLease = 45 * time.Second

// Planner solves, stores and serves rosters. It owns the rosters, their assignments and changes, and the
// staff's calendar feed tokens; it reads offices, staff and the calendar through ticketing, templates,
// contracts, absences and preferences through scheduling, and the forecast through demand.
//
// Solves go through a queue that is the rosters table (see queue.go): a roster waits 'queued' until a
// node with a free solve slot claims it, one solve per office at a time.
type Planner struct {
	// Threads is the number of solver threads per solve; zero means the solver's default (2).
	Threads int
	// MaxSolves is how many solves this node runs at once; zero means DefaultMaxSolves for this machine.
	// Set it before Start.
	MaxSolves int
	// QueuePoll is how often the node looks for rosters queued on other nodes or waiting for their
	// office's solve to end elsewhere; zero means DefaultQueuePoll. Set it before Start.
	QueuePoll time.Duration
	// Bookings, when set, gives the booked appointments: known demand for the roster (Load) and the
	// capacity preview (appointments.go). cmd/turno sets it.
	Bookings *booking.Store

	pool    *pgxpool.Pool
	tickets *ticketing.Store // also the clock for what depends on today (upcoming shifts, feeds)
	plans   *scheduling.Store
	demand  *demand.Store
	log     *slog.Logger
	base    context.Context // outlives requests: background solves run in it
	wg      sync.WaitGroup

	kick      chan struct{} // wakes the dispatcher: a roster was queued or a slot freed here
	mu        sync.Mutex
	started   bool // the dispatcher runs: this node claims queued rosters
	stopped   bool // the dispatcher has ended: no more claims
	running   int  // solves running on this node
	repairing chan struct{}
}

// New returns a planner on pool whose background solves run until ctx ends; log nil means slog.Default.
// It solves nothing until Start.
func New(ctx context.Context, pool *pgxpool.Pool, tickets *ticketing.Store, plans *scheduling.Store, forecast *demand.Store, log *slog.Logger) *Planner {
	if log == nil {
		log = slog.Default()
	}
	return &Planner{pool: pool, tickets: tickets, plans: plans, demand: forecast, log: log, base: ctx,
		kick: make(chan struct{}, 1), repairing: make(chan struct{}, 1)}
}

// Start marks failed the rosters a stopped node left solving and keeps doing so every minute until ctx
// ends, so that a solve whose node died is never shown as running for ever; and it starts the
// dispatcher, which claims queued rosters while this node has a free solve slot, until ctx ends.
func (pl *Planner) Start(ctx context.Context) error {
	if n, err := pl.FailOrphans(ctx); err != nil {
		return err
	} else if n > 0 {
		pl.log.Warn("rosters left solving by a stopped server marked failed", "count", n)
	}
	go func() {
		t := time.NewTicker(time.Minute)
		defer t.Stop()
		for {
			select {
			case <-ctx.Done():
				return
			case <-t.C:
				if _, err := pl.FailOrphans(ctx); err != nil && ctx.Err() == nil {
					pl.log.Error("fail orphaned rosters", "err", err)
				}
			}
		}
	}()
	pl.mu.Lock()
	pl.started = true
	pl.mu.Unlock()
	pl.wg.Add(1)
	go pl.dispatch(ctx)
	return nil
}

func (pl *Planner) now() time.Time { return pl.tickets.Now() }

// Wait waits for the dispatcher, once its context has ended, and for the solves started so far (tests,
// shutdown).
func (pl *Planner) Wait() { pl.wg.Wait() }

// Period is a roster request.
type Period struct {
	From      time.Time
	To        time.Time
	TimeLimit time.Duration
	Seed      uint64
}

// parseDay parses a required YYYY-MM-DD date of a request field.
func parseDay(field, s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, web.InvalidField(field, "%s is required (YYYY-MM-DD)", web.Term(field))
	}
	return ticketing.ParseDate(field, s)
}

// validatePeriod checks a roster period: from ≤ to, at most twelve weeks.
func validatePeriod(from, to time.Time) error {
	if to.Before(from) {
		return web.InvalidField("to", "to must not be before from")
	}
	if days := int(to.Sub(from).Hours()/24) + 1; days > MaxDays {
		return web.InvalidField("to", "the period has %d days; a roster covers at most 12 weeks (%d days)", days, MaxDays)
	}
	return nil
}

// StartSolve validates the period, builds the office model (so that an office that cannot be planned
// is refused at once) and queues a roster for it: this node claims it at once when it has a free solve
// slot and the office no solve running, any node later otherwise. It returns the roster id; the roster
// is queued, then solving (progress is appended to it), and ends draft or failed.
func (pl *Planner) StartSolve(ctx context.Context, o *ticketing.Office, per Period, userID *int64) (int64, error) {
	if err := validatePeriod(per.From, per.To); err != nil {
		return 0, err
	}
	in, err := pl.Load(ctx, o, per.From, per.To)
	if err != nil {
		return 0, err
	}
	if _, err := Build(in); err != nil {
		return 0, web.Invalid("not_plannable", "the office cannot be planned: %v", err)
	}
	if len(in.Staff) == 0 {
		return 0, web.Invalid("not_plannable", "the office has no active staff with a contract")
	}
	id, err := pl.enqueue(ctx, o.ID, per, userID)
	if err != nil {
		return 0, err
	}
	pl.fill()
	pl.wake() // in case the dispatcher held the free slot while looking before the roster was stored
	return id, nil
}

// solve runs in the background: it solves, explains and stores the roster, or marks it failed.
func (pl *Planner) solve(base context.Context, id int64, p *Problem, per Period) {
	if base == nil {
		base = context.Background()
	}
	ctx, cancel := context.WithTimeout(base, per.TimeLimit+time.Minute)
	defer cancel()
	// Writes outlive a shutdown that stops the search: the best roster so far is still stored.
	wctx := context.WithoutCancel(ctx)
	var mu sync.Mutex
	var pending []ProgressEntry
	last := time.Now()
	flush := func(force bool) {
		mu.Lock()
		defer mu.Unlock()
		if len(pending) == 0 || (!force && time.Since(last) < 500*time.Millisecond) {
			return
		}
		if err := pl.appendProgress(wctx, id, pending); err != nil {
			pl.log.Error("roster progress", "roster", id, "err", err)
		}
		pending, last = nil, time.Now()
	}
	// The lease on the roster: renewed while this goroutine lives, so a roster whose node stopped is
	// recognised (FailOrphans) within a minute or so.
	beat := time.NewTicker(solveLease / 3)
	defer beat.Stop()
	done := make(chan struct{})
	defer close(done)
	go func() {
		for {
			select {
			case <-done:
				return
			case <-beat.C:
				if _, err := pl.pool.Exec(wctx, `UPDATE rosters SET solving_until = now() + $2::interval
					WHERE id = $1 AND status = 'solving'`, id, solveLease.String()); err != nil {
					pl.log.Error("renew roster lease", "roster", id, "err", err)
				}
			}
		}
	}()
	out, err := p.Solve(ctx, SolveOptions{TimeLimit: per.TimeLimit, Seed: per.Seed, Threads: pl.Threads, Progress: func(e ProgressEntry) {
		mu.Lock()
		pending = append(pending, e)
		mu.Unlock()
		flush(false)
	}})
	flush(true)
	if err == nil {
		var res *Result
		if res, err = p.Explain(out.Roster); err == nil {
			res.TimeToFeasibleMS, res.ElapsedMS, res.Rounds = out.TimeToFeasible.Milliseconds(), out.Elapsed.Milliseconds(), out.Rounds
			err = pl.finishRoster(wctx, id, p, out.Roster, res)
		}
	}
	if err != nil {
		pl.log.Error("roster solve failed", "roster", id, "err", err)
		if ferr := pl.failRoster(wctx, id, err); ferr != nil {
			pl.log.Error("mark roster failed", "roster", id, "err", ferr)
		}
	}
}

// stored is a stored roster loaded into its office model.
type stored struct {
	R      *Roster
	Office *ticketing.Office
	P      *Problem
	Cells  roster.Roster
	// Unmapped counts assignments the model cannot hold (a person without a contract any more, an
	// inactive template).
	Unmapped int
}

// load reads a roster and rebuilds its office model with today's data (absences included).
func (pl *Planner) load(ctx context.Context, r *Roster) (*stored, error) {
	o, err := pl.tickets.OfficeByID(ctx, r.OfficeID)
	if err != nil {
		return nil, err
	}
	from, err := time.Parse(time.DateOnly, r.From)
	if err != nil {
		return nil, fmt.Errorf("plan: roster %d starts on %q: %w", r.ID, r.From, err)
	}
	to, err := time.Parse(time.DateOnly, r.To)
	if err != nil {
		return nil, fmt.Errorf("plan: roster %d ends on %q: %w", r.ID, r.To, err)
	}
	in, err := pl.Load(ctx, o, from, to)
	if err != nil {
		return nil, err
	}
	p, err := Build(in)
	if err != nil {
		return nil, err
	}
	st := &stored{R: r, Office: o, P: p, Cells: roster.NewRoster(len(in.Staff), in.Days)}
	rows, err := pl.pool.Query(ctx, `SELECT staff_id, day, template_id, skill_group FROM roster_assignments WHERE roster_id = $1`, r.ID)
	if err != nil {
		return nil, fmt.Errorf("plan: assignments: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var staffID, tplID int64
		var day pgtype.Date
		var group string
		if err := rows.Scan(&staffID, &day, &tplID, &group); err != nil {
			return nil, fmt.Errorf("plan: assignments: %w", err)
		}
		e, ok1 := p.staffIndex(staffID)
		t, ok2 := p.templateIndex(tplID)
		g, ok3 := p.groupIndex[group]
		d := int(day.Time.Sub(from).Hours() / 24)
		if !ok1 || !ok2 || !ok3 || d < 0 || d >= in.Days {
			st.Unmapped++
			continue
		}
		st.Cells[e][d] = p.shiftOf(t, g)
	}
	return st, rows.Err()
}

// reexplain recomputes and stores a roster's result after a change, keeping its solve statistics.
func (pl *Planner) reexplain(ctx context.Context, id int64) error {
	r, err := pl.Roster(ctx, id)
	if err != nil {
		return err
	}
	st, err := pl.load(ctx, r)
	if err != nil {
		return err
	}
	res, err := st.P.Explain(st.Cells)
	if err != nil {
		return err
	}
	// The solve statistics are kept when they can be read; a roster without them simply has none.
	var old Result
	_ = json.Unmarshal(r.Result, &old)
	res.TimeToFeasibleMS, res.ElapsedMS, res.Rounds = old.TimeToFeasibleMS, old.ElapsedMS, old.Rounds
	res.Note = "re-evaluated after a change"
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	_, err = pl.pool.Exec(ctx, `UPDATE rosters SET result = $2 WHERE id = $1`, id, b)
	return err
}

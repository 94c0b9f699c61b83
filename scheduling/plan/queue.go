package plan

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"turno/ticketing"
)

// The solve queue. The rosters table is the queue, shared by every node: StartSolve stores a roster
// 'queued' with its solve's time limit and seed; a node's dispatcher claims queued rosters while the node
// has a free solve slot, and solves each in a goroutine under the node's lease (solving_until), as
// before. A claim takes the oldest queued roster of an office that has no solve running, so an office
// solves one roster at a time and a node at most MaxSolves; the others wait, and the roster shows its
// place in the queue (queue_position). The dispatcher looks for work when a roster is queued on this node,
// when one of its solves ends, and every QueuePoll for what other nodes queued or freed. A queued roster
// belongs to no node: when the node that queued it stops, another claims it. A roster whose node stopped
// while solving it is marked failed when its lease runs out (FailOrphans).

// DefaultQueuePoll is how often a node looks for queued rosters by default.
const DefaultQueuePoll = 5 * time.Second

// DefaultMaxSolves is the number of solves a node with cpus CPUs runs at once: one per four CPUs, at
// least one. A solve keeps two threads busy for its whole time limit, so this leaves at least half of the
// CPUs to the requests (kiosks, desks, screens) of the same node.
func DefaultMaxSolves(cpus int) int { return max(1, cpus/4) }

// Slots returns how many solves this node runs at once: MaxSolves, or DefaultMaxSolves for this machine.
func (pl *Planner) Slots() int {
	if pl.MaxSolves > 0 {
		return pl.MaxSolves
	}
	return DefaultMaxSolves(runtime.NumCPU())
}

// queueLock is the advisory lock key that orders claims across nodes (hashtextextended of
// 'turno.roster-queue'): under it, "the office has no solve running" stays true until the claim commits.
const queueLock = `hashtextextended('turno.roster-queue', 0)`

// queuePositionSQL is a roster's place in the queue (1 is next), 0 when it is not queued. The queue is in
// order of creation across offices; a roster whose office is busy may be passed by later ones.
const queuePositionSQL = `CASE WHEN rosters.status = 'queued' THEN (SELECT count(*) FROM rosters q
	WHERE q.status = 'queued' AND (q.created_at, q.id) <= (rosters.created_at, rosters.id)) ELSE 0 END`

// enqueue stores a queued roster for the period.
func (pl *Planner) enqueue(ctx context.Context, officeID int64, per Period, userID *int64) (int64, error) {
	var id int64
	err := pl.pool.QueryRow(ctx, `INSERT INTO rosters (office_id, starts_on, ends_on, status, created_by, time_limit_ms, seed)
		VALUES ($1, $2, $3, 'queued', $4, $5, $6) RETURNING id`,
		officeID, per.From, per.To, userID, max(per.TimeLimit.Milliseconds(), 1), int64(per.Seed)).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("plan: queue roster: %w", err)
	}
	return id, nil
}

// wake tells the dispatcher to look for work.
func (pl *Planner) wake() {
	select {
	case pl.kick <- struct{}{}:
	default:
	}
}

// dispatch claims queued rosters while the node has a free slot: at once, on every wake, and every
// QueuePoll, until ctx ends. It runs in Start's goroutine, counted in pl.wg.
func (pl *Planner) dispatch(ctx context.Context) {
	defer pl.wg.Done()
	poll := pl.QueuePoll
	if poll <= 0 {
		poll = DefaultQueuePoll
	}
	t := time.NewTicker(poll)
	defer t.Stop()
	for {
		pl.fill()
		select {
		case <-ctx.Done():
			pl.mu.Lock()
			pl.stopped = true
			pl.mu.Unlock()
			return
		case <-pl.kick:
		case <-t.C:
		}
	}
}

// claimed is a roster this node claimed, with the parameters of its solve.
type claimed struct {
	id       int64
	officeID int64
	per      Period
}

// fill claims queued rosters and starts their solves while this node has a free slot. It does nothing
// before Start or after the dispatcher ended.
func (pl *Planner) fill() {
	for {
		pl.mu.Lock()
		if !pl.started || pl.stopped || pl.running >= pl.Slots() {
			pl.mu.Unlock()
			return
		}
		pl.running++
		pl.mu.Unlock()
		c, err := pl.claim(pl.base)
		if err != nil || c == nil {
			pl.release()
			if err != nil && pl.base.Err() == nil {
				pl.log.Error("claim a queued roster", "err", err)
			}
			return
		}
		pl.mu.Lock()
		if pl.stopped { // the node is stopping: the roster goes back to the queue for another node
			pl.mu.Unlock()
			pl.release()
			pl.unclaim(c.id)
			return
		}
		pl.wg.Add(1) // the dispatcher's own count keeps the counter above zero here
		pl.mu.Unlock()
		go func() {
			defer pl.wg.Done()
			defer pl.wake()
			defer pl.release()
			pl.run(c)
		}()
	}
}

// release frees a solve slot.
func (pl *Planner) release() {
	pl.mu.Lock()
	pl.running--
	pl.mu.Unlock()
}

// claim makes the oldest queued roster of an office without a running solve 'solving' under this
// node's lease and returns it; nil when there is none.
func (pl *Planner) claim(ctx context.Context) (*claimed, error) {
	var c *claimed
	err := pgx.BeginFunc(ctx, pl.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(`+queueLock+`)`); err != nil {
			return err
		}
		var x claimed
		var from, to pgtype.Date
		var limitMS, seed int64
		err := tx.QueryRow(ctx, `SELECT id, office_id, starts_on, ends_on, coalesce(time_limit_ms, 30000), coalesce(seed, 0)
			FROM rosters r
			WHERE status = 'queued' AND NOT EXISTS (SELECT 1 FROM rosters s
				WHERE s.office_id = r.office_id AND s.status = 'solving' AND s.solving_until > now())
			ORDER BY created_at, id LIMIT 1
			FOR UPDATE SKIP LOCKED`).Scan(&x.id, &x.officeID, &from, &to, &limitMS, &seed)
		if errors.Is(err, pgx.ErrNoRows) {
			return nil
		}
		if err != nil {
			return err
		}
		if _, err := tx.Exec(ctx, `UPDATE rosters SET status = 'solving', solving_until = now() + $2::interval
			WHERE id = $1`, x.id, solveLease.String()); err != nil {
			return err
		}
		x.per = Period{From: from.Time, To: to.Time, TimeLimit: time.Duration(limitMS) * time.Millisecond, Seed: uint64(seed)}
		c = &x
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("plan: claim queued roster: %w", err)
	}
	return c, nil
}

// unclaim puts a roster this node claimed but will not solve back in the queue.
func (pl *Planner) unclaim(id int64) {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(pl.base), 10*time.Second)
	defer cancel()
	if _, err := pl.pool.Exec(ctx, `UPDATE rosters SET status = 'queued', solving_until = NULL
		WHERE id = $1 AND status = 'solving'`, id); err != nil {
		pl.log.Error("put a roster back in the queue", "roster", id, "err", err)
	}
}

// run builds the claimed roster's office model from today's data and solves it, or marks it failed.
func (pl *Planner) run(c *claimed) {
	wctx := context.WithoutCancel(pl.base)
	p, err := pl.problem(pl.base, c)
	if err != nil {
		pl.log.Error("roster solve failed", "roster", c.id, "err", err)
		if ferr := pl.failRoster(wctx, c.id, err); ferr != nil {
			pl.log.Error("mark roster failed", "roster", c.id, "err", ferr)
		}
		return
	}
	pl.solve(pl.base, c.id, p, c.per)
}

func (pl *Planner) problem(ctx context.Context, c *claimed) (*Problem, error) {
	o, err := pl.tickets.OfficeByID(ctx, c.officeID)
	if err != nil {
		return nil, err
	}
	in, err := pl.Load(ctx, o, c.per.From, c.per.To)
	if err != nil {
		return nil, err
	}
	return Build(in)
}

// queueState is a roster's status and place in the queue.
func (pl *Planner) queueState(ctx context.Context, id int64) (status string, position int, err error) {
	err = pl.pool.QueryRow(ctx, `SELECT status, `+queuePositionSQL+` FROM rosters WHERE id = $1`, id).Scan(&status, &position)
	if err != nil {
		return "", 0, fmt.Errorf("plan: roster %d: %w", id, err)
	}
	return status, position, nil
}

// draft queues the roster of a period for the weekly job and says where it stands.
func (pl *Planner) draft(ctx context.Context, o *ticketing.Office, per Period) (string, error) {
	if err := validatePeriod(per.From, per.To); err != nil {
		return "", err
	}
	in, err := pl.Load(ctx, o, per.From, per.To)
	if err != nil {
		return "", err
	}
	if _, err := Build(in); err != nil {
		return "", err
	}
	id, err := pl.enqueue(ctx, o.ID, per, nil)
	if err != nil {
		return "", err
	}
	pl.fill()
	pl.wake()
	status, position, err := pl.queueState(ctx, id)
	if err != nil {
		return "", err
	}
	detail := fmt.Sprintf("draft roster %d for %s %s", id, per.From.Format(time.DateOnly), status)
	if position > 0 {
		detail += fmt.Sprintf(" (position %d)", position)
	}
	return detail, nil
}

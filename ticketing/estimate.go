package ticketing

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"
)

// Position and estimated wait. docs/kpis.md ("Position and estimated wait") explains the model and why;
// in short:
//
//   - The position of a waiting ticket T is the number of waiting tickets that the call-next policy
//     (call.go) would call before T at one of the desks that can serve T: a ticket U counts when some such
//     desk serves U's service and ranks U above T with the policy's score (wait × skill factor + priority,
//     appointment and overdue bonuses; ties to the older ticket, then the lower id). Tickets of other
//     services count when they share a desk with T.
//   - The desks that can serve T are the open, unpaused desks that serve its service and whose operator has
//     a skill for it. When none is open, they are every active desk that serves the service, ranked as if
//     its operator had a primary skill.
//   - A ticket reserved for one staff member (a back-office appointment's check-in, tickets.for_staff_id)
//     is served only by that member, as call-next does: T's desks are only the desk that member is signed
//     in to, and a reserved U counts ahead of T only at its member's desk (with no desk open: only when T
//     is reserved for the same member). The roster counts that member alone.
//   - With desks open, the wait is the expected work before T spread over those desks: the handling time
//     of every ticket ahead (each its own service's) plus what remains of the tickets the desks are busy
//     with, divided by the number of desks, rounded up.
//   - With no desk open, the published roster (a StaffOutlook) may plan staff with the skill later today:
//     the wait is the time until the first such slot plus the work ahead spread over the staff planned
//     then (at most as many as there are desks for the service). Otherwise the estimate says only when the
//     office opens (no_desk_open, or closed when it does not open again today): never a zero wait.

// EstimateKind says what an estimate rests on.
type EstimateKind string

// The kinds of estimate.
const (
	// EstimateDesksOpen: desks that can serve the ticket are open now; WaitSeconds is from them.
	EstimateDesksOpen EstimateKind = "desks_open"
	// EstimatePlanned: no desk is open, and the published roster plans staff with the skill later today;
	// WaitSeconds counts from their first slot (OpensAt, unless it has begun).
	EstimatePlanned EstimateKind = "planned"
	// EstimateNoDeskOpen: no desk is open and no roster says when one will; the office opens at OpensAt
	// later today, or is open already (OpensAt nil). WaitSeconds is nil.
	EstimateNoDeskOpen EstimateKind = "no_desk_open"
	// EstimateClosed: no desk is open and the office does not open again today; it reopens at OpensAt
	// (nil when no opening is scheduled within 60 days). WaitSeconds is nil.
	EstimateClosed EstimateKind = "closed"
)

// Estimate is what a wait estimate rests on and says. Times are the office's: OpensAt carries the office's
// UTC offset, and OpensDate and OpensTime are its local date and time, so every page prints the same
// wall-clock time without knowing the office's time zone.
type Estimate struct {
	Kind EstimateKind `json:"kind"`
	// WaitSeconds is the expected wait before being called; nil when nothing says when desks will open.
	WaitSeconds *int `json:"wait_seconds"`
	// Desks is the number of desks counted: open now (desks_open) or staffed by the roster (planned).
	Desks int `json:"desks"`
	// OpensAt is when the first desk or the office is expected to open, when that is later than now.
	OpensAt     *time.Time `json:"opens_at"`
	OpensDate   string     `json:"opens_date,omitempty"` // YYYY-MM-DD, local
	OpensTime   string     `json:"opens_time,omitempty"` // HH:MM, local
	OpensInDays int        `json:"opens_in_days"`        // 0 today, 1 tomorrow…
}

// legacySeconds is the estimate as the older estimated_wait_seconds fields carry it: the wait when known,
// otherwise the time until OpensAt (a lower bound), otherwise 0. Pages read Kind before showing it.
func (e *Estimate) legacySeconds(now time.Time) int {
	switch {
	case e.WaitSeconds != nil:
		return *e.WaitSeconds
	case e.OpensAt != nil:
		return max(0, int(math.Ceil(e.OpensAt.Sub(now).Seconds())))
	}
	return 0
}

// StaffOutlook is what the published roster says about the coming hours. Scheduling keeps rosters and
// implements it (scheduling/plan); ticketing takes it, wired by cmd/turno, to estimate waits before any desk
// opens. Ticketing itself checks which of the planned staff have the skill for a service.
type StaffOutlook interface {
	// PlannedStaff returns the slots of office o that overlap [from, to), in time order, each with the
	// staff the published roster has at work during it.
	PlannedStaff(ctx context.Context, o *Office, from, to time.Time) ([]PlannedSlot, error)
}

// PlannedSlot is one slot of a published roster and the staff at work during it.
type PlannedSlot struct {
	Start time.Time
	End   time.Time
	Staff []int64
}

// queueState is what an estimate needs of an office at one instant: its waiting tickets, services, desks
// and the skills of the operators at them. The calendar and the roster's outlook are loaded on first need.
type queueState struct {
	store    *Store
	office   *Office
	now      time.Time
	waiting  []waitingEntry // oldest first, ties to the lower id
	services map[int64]serviceEntry
	desks    []deskEntry
	skills   map[int64]map[int64]float64 // staff → service → skill factor
	cal      *Calendar
	slots    []PlannedSlot
	outlook  bool // slots loaded
	// ranks, when set (rankOpenDesks), hold each open desk's order of the tickets it may call, so that the
	// positions of many tickets compare ranks instead of scoring every pair again.
	ranks map[int64][]int32 // desk id → rank of q.waiting[i] there, -1 when the desk would not call it
	index map[int64]int     // ticket id → its index in q.waiting
}

// waitingEntry is a waiting ticket as the policy ranks it and a desk's waiting list shows it.
type waitingEntry struct {
	id        int64
	serviceID int64
	issuedAt  time.Time
	bonus     float64 // priority and appointment bonuses, in seconds
	forStaff  int64   // the only staff member who may serve it (0: anyone with the skill)
	// label, priority (the category's code) and transferred are only shown, never ranked on.
	label       string
	priority    string
	transferred bool
}

// serviceEntry is a service as estimates use it (handling time and wait target) and as waiting lists
// name it.
type serviceEntry struct {
	code     string
	names    map[string]string
	handling int
	target   int
}

// deskEntry is an active desk: the services it serves, whether it is open and unpaused now with which
// operator, and the expected seconds left of the ticket it is busy with.
type deskEntry struct {
	id       int64
	services map[int64]bool
	open     bool
	staffID  int64
	residual int
}

// queueState loads an office's state for estimates at the store's current time: three statements.
func (s *Store) queueState(ctx context.Context, o *Office) (*queueState, error) {
	q := &queueState{store: s, office: o, now: s.now(), skills: map[int64]map[int64]float64{}}
	var err error
	if q.waiting, q.services, err = s.loadWaiting(ctx, o.ID, q.now, o.AppointmentBonus); err != nil {
		return nil, err
	}
	return q, q.loadDesks(ctx)
}

// loadWaiting reads an office's waiting tickets, oldest first (ties to the lower id), and its services.
// appointmentBonus is the office's bonus for a checked-in appointment whose slot has begun.
func (s *Store) loadWaiting(ctx context.Context, officeID int64, now time.Time, appointmentBonus int) ([]waitingEntry, map[int64]serviceEntry, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT t.id, t.service_id, t.issued_at, coalesce(pc.bonus_seconds, 0)
			+ CASE WHEN t.checked_in_at IS NOT NULL AND t.appointment_at <= $2 THEN $3 ELSE 0 END,
			coalesce(t.for_staff_id, 0), t.label, coalesce(pc.code, ''), t.transferred_from IS NOT NULL
		FROM tickets t LEFT JOIN priority_categories pc ON pc.id = t.priority_id
		WHERE t.office_id = $1 AND t.status = 'waiting'
		ORDER BY t.issued_at, t.id`, officeID, now, appointmentBonus)
	if err != nil {
		return nil, nil, fmt.Errorf("ticketing: estimate: waiting tickets: %w", err)
	}
	var waiting []waitingEntry
	for rows.Next() {
		var w waitingEntry
		var bonus int
		if err := rows.Scan(&w.id, &w.serviceID, &w.issuedAt, &bonus, &w.forStaff, &w.label, &w.priority, &w.transferred); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("ticketing: estimate: waiting tickets: %w", err)
		}
		w.bonus = float64(bonus)
		waiting = append(waiting, w)
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("ticketing: estimate: waiting tickets: %w", err)
	}

	rows, err = s.pool.Query(ctx, `SELECT id, code, names, expected_handling_seconds, wait_target_seconds FROM services WHERE office_id = $1`, officeID)
	if err != nil {
		return nil, nil, fmt.Errorf("ticketing: estimate: services: %w", err)
	}
	services := map[int64]serviceEntry{}
	for rows.Next() {
		var id int64
		var sv serviceEntry
		if err := rows.Scan(&id, &sv.code, &sv.names, &sv.handling, &sv.target); err != nil {
			rows.Close()
			return nil, nil, fmt.Errorf("ticketing: estimate: services: %w", err)
		}
		services[id] = sv
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, nil, fmt.Errorf("ticketing: estimate: services: %w", err)
	}
	return waiting, services, nil
}

// loadDesks reads the office's active desks and the skills of the operators at the open, unpaused ones.
func (q *queueState) loadDesks(ctx context.Context) error {
	// The residual of a busy desk is its current ticket's handling time less the time since it started
	// (or was called, while the citizen walks up), never below zero. The operator's skills come along as
	// {"service id": "level"}, saving a statement.
	rows, err := q.store.pool.Query(ctx, `
		SELECT d.id, coalesce(array_agg(dsv.service_id) FILTER (WHERE dsv.service_id IS NOT NULL), '{}'),
			ds.id IS NOT NULL AND ds.paused_at IS NULL, coalesce(ds.staff_id, 0),
			coalesce((SELECT max(greatest(0, sv.expected_handling_seconds
					- extract(epoch FROM $2::timestamptz - coalesce(c.started_at, c.called_at))))::int
				FROM tickets c JOIN services sv ON sv.id = c.service_id
				WHERE c.desk_id = d.id AND c.status IN ('called', 'serving')), 0),
			coalesce((SELECT jsonb_object_agg(sk.service_id, sk.level) FROM staff_skills sk
				WHERE sk.staff_id = ds.staff_id AND ds.paused_at IS NULL), '{}')
		FROM desks d
		LEFT JOIN desk_services dsv ON dsv.desk_id = d.id
		LEFT JOIN desk_sessions ds ON ds.desk_id = d.id AND ds.closed_at IS NULL
		WHERE d.office_id = $1 AND d.active
		GROUP BY d.id, ds.id ORDER BY d.number`, q.office.ID, q.now)
	if err != nil {
		return fmt.Errorf("ticketing: estimate: desks: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		d := deskEntry{services: map[int64]bool{}}
		var services []int64
		var skills map[string]SkillLevel
		if err := rows.Scan(&d.id, &services, &d.open, &d.staffID, &d.residual, &skills); err != nil {
			return fmt.Errorf("ticketing: estimate: desks: %w", err)
		}
		for _, id := range services {
			d.services[id] = true
		}
		if d.open && d.staffID != 0 && len(skills) > 0 {
			m := make(map[int64]float64, len(skills))
			for id, level := range skills {
				serviceID, err := strconv.ParseInt(id, 10, 64)
				if err != nil {
					return fmt.Errorf("ticketing: estimate: skills: %w", err)
				}
				m[serviceID] = level.Factor()
			}
			q.skills[d.staffID] = m
		}
		q.desks = append(q.desks, d)
	}
	return rows.Err()
}

// loadSkills adds the skill factors of staff members.
func (q *queueState) loadSkills(ctx context.Context, staff []int64) error {
	if len(staff) == 0 {
		return nil
	}
	rows, err := q.store.pool.Query(ctx, `SELECT staff_id, service_id, level FROM staff_skills WHERE staff_id = ANY($1)`, staff)
	if err != nil {
		return fmt.Errorf("ticketing: estimate: skills: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var staffID, serviceID int64
		var level SkillLevel
		if err := rows.Scan(&staffID, &serviceID, &level); err != nil {
			return fmt.Errorf("ticketing: estimate: skills: %w", err)
		}
		if q.skills[staffID] == nil {
			q.skills[staffID] = map[int64]float64{}
		}
		q.skills[staffID][serviceID] = level.Factor()
	}
	return rows.Err()
}

// score is the call-next policy's score of w (callNextSQL) at a desk whose operator's skill factor for
// w's service is factor.
func (q *queueState) score(w waitingEntry, factor float64) float64 {
	wait := q.now.Sub(w.issuedAt)
	s := wait.Seconds()*factor + w.bonus
	if sv, ok := q.services[w.serviceID]; ok && wait > time.Duration(sv.target)*time.Second {
		s += float64(q.office.OverdueBonus)
	}
	return s
}

// factor returns the skill factor desk d applies to a service, and false when d does not take it. With
// skills false (no desk open), every desk that serves the service counts as primary.
func (q *queueState) factor(d deskEntry, serviceID int64, skills bool) (float64, bool) {
	if !d.services[serviceID] {
		return 0, false
	}
	if !skills {
		return 1, true
	}
	f, ok := q.skills[d.staffID][serviceID]
	return f, ok
}

// ahead returns how many waiting tickets some desk of desks would call before t, and their total expected
// handling time in seconds.
func (q *queueState) ahead(t waitingEntry, desks []deskEntry, skills bool) (n, work int) {
	if skills {
		if n, work, ok := q.aheadByRank(t, desks); ok {
			return n, work
		}
	}
	for _, u := range q.waiting {
		if u.id == t.id {
			continue
		}
		for _, d := range desks {
			fu, ok := q.factor(d, u.serviceID, skills)
			if !ok || !reservedAt(u, t, d, skills) {
				continue
			}
			ft, _ := q.factor(d, t.serviceID, skills)
			if q.before(u, fu, t, ft) {
				n++
				work += q.services[u.serviceID].handling
				break
			}
		}
	}
	return n, work
}

// rankOpenDesks orders, for each open desk, the waiting tickets it may call as the policy would call them
// (the order before defines), so that aheadByRank answers ahead for a waiting ticket at open desks by
// comparing ranks. It pays off when many tickets are estimated against one state (LiveState).
func (q *queueState) rankOpenDesks() {
	q.index = make(map[int64]int, len(q.waiting))
	for i, w := range q.waiting {
		q.index[w.id] = i
	}
	q.ranks = map[int64][]int32{}
	type scored struct {
		i      int
		factor float64
	}
	var list []scored
	for _, d := range q.desks {
		if !d.open {
			continue
		}
		rank := make([]int32, len(q.waiting))
		list = list[:0]
		for i, u := range q.waiting {
			rank[i] = -1
			// With desks open a reserved ticket goes only to its member's desk, whatever the ticket
			// estimated (reservedAt with skills), so the order does not depend on it.
			if f, ok := q.factor(d, u.serviceID, true); ok && (u.forStaff == 0 || u.forStaff == d.staffID) {
				list = append(list, scored{i, f})
			}
		}
		slices.SortFunc(list, func(a, b scored) int {
			switch {
			case q.before(q.waiting[a.i], a.factor, q.waiting[b.i], b.factor):
				return -1
			case q.before(q.waiting[b.i], b.factor, q.waiting[a.i], a.factor):
				return 1
			}
			return 0
		})
		for r, e := range list {
			rank[e.i] = int32(r)
		}
		q.ranks[d.id] = rank
	}
}

// aheadByRank is ahead with skills for a waiting ticket, from the ranks of rankOpenDesks: a ticket counts
// when some desk of desks ranks it before t. It returns false when the ranks cannot answer (not computed,
// t not waiting, or t not callable at one of desks), and ahead then scores the tickets itself.
func (q *queueState) aheadByRank(t waitingEntry, desks []deskEntry) (n, work int, ok bool) {
	ti, ok := q.index[t.id]
	if q.ranks == nil || !ok {
		return 0, 0, false
	}
	ranks := make([][]int32, len(desks))
	at := make([]int32, len(desks)) // t's rank at each desk
	for k, d := range desks {
		ranks[k] = q.ranks[d.id]
		if ranks[k] == nil || ranks[k][ti] < 0 {
			return 0, 0, false
		}
		at[k] = ranks[k][ti]
	}
	for ui, u := range q.waiting {
		if ui == ti {
			continue
		}
		for k := range ranks {
			if r := ranks[k][ui]; r >= 0 && r < at[k] {
				n++
				work += q.services[u.serviceID].handling
				break
			}
		}
	}
	return n, work, true
}

// reservedAt reports whether ticket u, when reserved for a staff member, may be called at desk d ahead
// of t: only at the desk its member is signed in to, or, with no desk open (skills false), when t is
// reserved for the same member.
func reservedAt(u, t waitingEntry, d deskEntry, skills bool) bool {
	switch {
	case u.forStaff == 0:
		return true
	case skills:
		return d.staffID == u.forStaff
	}
	return t.forStaff == u.forStaff
}

// before reports whether the policy calls a (skill factor fa) before b (factor fb) at one desk: the higher
// score first, then the older ticket, then the lower id, as callNextSQL orders them.
func (q *queueState) before(a waitingEntry, fa float64, b waitingEntry, fb float64) bool {
	if sa, sb := q.score(a, fa), q.score(b, fb); sa != sb {
		return sa > sb
	}
	if !a.issuedAt.Equal(b.issuedAt) {
		return a.issuedAt.Before(b.issuedAt)
	}
	return a.id < b.id
}

// newTicket is a ticket of a service taken now without priority: what a kiosk card estimates. It ranks
// last among equals, as a ticket issued after every waiting one does.
func (q *queueState) newTicket(serviceID int64) waitingEntry {
	return waitingEntry{id: math.MaxInt64, serviceID: serviceID, issuedAt: q.now}
}

// entry returns the waiting entry of ticket t, or one made from t if it has just stopped waiting.
func (q *queueState) entry(t *Ticket) waitingEntry {
	for _, w := range q.waiting {
		if w.id == t.ID {
			return w
		}
	}
	return waitingEntry{id: t.ID, serviceID: t.ServiceID, issuedAt: t.IssuedAt}
}

// estimate returns the position and wait estimate of t (see the model at the top of this file).
func (q *queueState) estimate(ctx context.Context, t waitingEntry) (int, Estimate, error) {
	var open, serving []deskEntry
	for _, d := range q.desks {
		if !d.services[t.serviceID] {
			continue
		}
		serving = append(serving, d)
		if t.forStaff != 0 && d.staffID != t.forStaff {
			continue // reserved for another operator
		}
		if _, skilled := q.skills[d.staffID][t.serviceID]; d.open && skilled {
			open = append(open, d)
		}
	}
	if len(open) > 0 {
		n, work := q.ahead(t, open, true)
		for _, d := range open {
			work += d.residual
		}
		wait := ceilDiv(work, len(open))
		return n, Estimate{Kind: EstimateDesksOpen, WaitSeconds: &wait, Desks: len(open)}, nil
	}
	n, work := q.ahead(t, serving, false)
	if len(serving) > 0 {
		e, ok, err := q.planned(ctx, t, work, len(serving))
		if err != nil || ok {
			return n, e, err
		}
	}
	e, err := q.byCalendar(ctx)
	return n, e, err
}

// planned estimates from the published roster: the first slot from now to the end of the office's day
// with planned staff skilled for t's service (only t's staff member, when it is reserved for one). It
// returns false when there is none (or no roster).
func (q *queueState) planned(ctx context.Context, t waitingEntry, work, desks int) (Estimate, bool, error) {
	serviceID := t.serviceID
	if q.store.Outlook == nil {
		return Estimate{}, false, nil
	}
	if !q.outlook {
		loc := q.office.Location()
		end := EndOfDay.On(q.now.In(loc), loc)
		slots, err := q.store.Outlook.PlannedStaff(ctx, q.office, q.now, end)
		if err != nil {
			return Estimate{}, false, err
		}
		var missing []int64
		for _, sl := range slots {
			for _, id := range sl.Staff {
				if _, ok := q.skills[id]; !ok {
					q.skills[id] = map[int64]float64{} // loaded below; an empty map marks a person with no skills
					missing = append(missing, id)
				}
			}
		}
		if err := q.loadSkills(ctx, missing); err != nil {
			return Estimate{}, false, err
		}
		q.slots, q.outlook = slots, true
	}
	for _, sl := range q.slots {
		if !sl.End.After(q.now) {
			continue
		}
		k := 0
		for _, id := range sl.Staff {
			if _, ok := q.skills[id][serviceID]; ok && (t.forStaff == 0 || t.forStaff == id) {
				k++
			}
		}
		if k == 0 {
			continue
		}
		k = min(k, desks) // one person per desk
		wait := ceilDiv(work, k)
		e := Estimate{Kind: EstimatePlanned, Desks: k}
		if sl.Start.After(q.now) {
			wait += int(math.Ceil(sl.Start.Sub(q.now).Seconds()))
			q.setOpens(&e, sl.Start)
		}
		e.WaitSeconds = &wait
		return e, true, nil
	}
	return Estimate{}, false, nil
}

// byCalendar says when the office opens, for a service no desk serves now and no roster plans.
func (q *queueState) byCalendar(ctx context.Context) (Estimate, error) {
	if q.cal == nil {
		cal, err := q.store.Calendar(ctx, q.office)
		if err != nil {
			return Estimate{}, err
		}
		q.cal = cal
	}
	if open, _ := q.cal.OpenAt(q.now); open {
		return Estimate{Kind: EstimateNoDeskOpen}, nil
	}
	next, ok := q.cal.NextOpening(q.now)
	if !ok {
		return Estimate{Kind: EstimateClosed}, nil
	}
	e := Estimate{Kind: EstimateNoDeskOpen}
	q.setOpens(&e, next)
	if e.OpensInDays > 0 {
		e.Kind = EstimateClosed
	}
	return e, nil
}

// setOpens sets when e's desks or office open, in the office's time.
func (q *queueState) setOpens(e *Estimate, at time.Time) {
	loc := q.office.Location()
	local := at.In(loc)
	e.OpensAt = &local
	e.OpensDate, e.OpensTime = local.Format(time.DateOnly), local.Format("15:04")
	e.OpensInDays = int(Date(local).Sub(Date(q.now.In(loc))).Hours() / 24)
}

// ceilDiv divides seconds of work over n desks, rounding up: a second of work is never promised as none.
func ceilDiv(work, n int) int {
	if n < 1 {
		n = 1
	}
	return (work + n - 1) / n
}

// fillEstimate sets the position and estimate of a waiting ticket (see the model at the top of this file).
func (s *Store) fillEstimate(ctx context.Context, t *Ticket) error {
	if t.Status != Waiting {
		return nil
	}
	o, err := s.OfficeByID(ctx, t.OfficeID)
	if err != nil {
		return err
	}
	q, err := s.queueState(ctx, o)
	if err != nil {
		return err
	}
	pos, est, err := q.estimate(ctx, q.entry(t))
	if err != nil {
		return fmt.Errorf("ticketing: estimate ticket %d: %w", t.ID, err)
	}
	wait := est.legacySeconds(q.now)
	t.Position, t.EstimatedWaitSeconds, t.Estimate = &pos, &wait, &est
	return nil
}

package plan

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"turno/internal/web"
	"turno/scheduling"
	"turno/scheduling/roster"
	"turno/ticketing"
)

// Hole is a shift left open by an absence, with its ranked substitutes.
type Hole struct {
	StaffID    int64       `json:"staff_id"`
	StaffName  string      `json:"staff_name"`
	Day        string      `json:"day"`
	TemplateID int64       `json:"template_id"`
	Template   string      `json:"template"`
	Starts     string      `json:"starts"`
	Ends       string      `json:"ends"`
	Group      string      `json:"skill_group"`
	Candidates []Candidate `json:"candidates"`
}

// Candidate is a possible substitute for a hole: qualified for the group, free and not absent that day,
// and within every contract and rest limit once the shift is added. Lower scores rank first.
type Candidate struct {
	StaffID       int64                `json:"staff_id"`
	Code          string               `json:"code"`
	Name          string               `json:"name"`
	Level         ticketing.SkillLevel `json:"level"`
	MinutesAfter  int                  `json:"minutes_after"`
	Expected      int                  `json:"expected_minutes"`
	MaxMinutes    int                  `json:"max_minutes"`
	Overtime      int                  `json:"overtime_minutes"`
	Substitutions int                  `json:"substitutions"`
	// MovedFrom is the shift the candidate leaves to take this one (template/group), empty when they
	// were free that day.
	MovedFrom string `json:"moved_from,omitempty"`
	// CoverDelta is the change of the coverage cost: negative when the substitution improves coverage.
	CoverDelta int      `json:"cover_delta"`
	Score      int      `json:"score"`
	Rank       int      `json:"rank"`
	Reasons    []string `json:"reasons"`
}

// Ranking weights: a minute of overtime is the unit; a secondary skill, each substitution already
// taken in this roster and each Saturday already worked (for a Saturday hole) cost as much as a
// quarter or half hour of overtime.
const (
	secondaryPenalty    = 60
	substitutionPenalty = 30
	saturdayPenalty     = 30
	maxCandidates       = 5
)

// absenceOf reads an absence of the roster's office; another office's is a 422 on absence_id.
func (pl *Planner) absenceOf(ctx context.Context, ro *Roster, id int64) (*scheduling.Absence, error) {
	a, err := pl.plans.Absence(ctx, ro.OfficeID, id)
	if isNotFound(err) {
		return nil, web.InvalidField("absence_id", "no absence %d in this roster's office", id)
	}
	return a, err
}

// isNotFound reports whether err is a 404 *web.Error.
func isNotFound(err error) bool {
	var we *web.Error
	return errors.As(err, &we) && we.Status == http.StatusNotFound
}

// holesOf lists the (day, shift) cells of the absent member e0 that the absence overlaps.
func (st *stored) holesOf(e0 int) [][2]int {
	var out [][2]int
	for d, s := range st.Cells[e0] {
		if s != roster.Off && st.P.Blocked[e0][d][st.P.ShiftTemplate[s]] {
			out = append(out, [2]int{d, s})
		}
	}
	return out
}

// Proposals lists the shifts of the roster an absence leaves open, each with its ranked substitutes.
func (pl *Planner) Proposals(ctx context.Context, ro *Roster, absenceID int64) ([]Hole, error) {
	a, err := pl.absenceOf(ctx, ro, absenceID)
	if err != nil {
		return nil, err
	}
	st, err := pl.load(ctx, ro)
	if err != nil {
		return nil, err
	}
	subs, err := pl.substitutionCounts(ctx, ro.ID)
	if err != nil {
		return nil, err
	}
	holes := []Hole{}
	e0, ok := st.P.staffIndex(a.StaffID)
	if !ok {
		return holes, nil
	}
	for _, h := range st.holesOf(e0) {
		holes = append(holes, st.hole(e0, h[0], h[1], subs))
	}
	return holes, nil
}

// substitutionCounts returns how many substitutions each staff member has taken in a roster.
func (pl *Planner) substitutionCounts(ctx context.Context, rosterID int64) (map[int64]int, error) {
	rows, err := pl.pool.Query(ctx, `SELECT staff_id, count(*) FROM roster_changes
		WHERE roster_id = $1 AND reason = 'substitution' GROUP BY staff_id`, rosterID)
	if err != nil {
		return nil, fmt.Errorf("plan: substitution counts: %w", err)
	}
	defer rows.Close()
	out := map[int64]int{}
	for rows.Next() {
		var id int64
		var n int
		if err := rows.Scan(&id, &n); err != nil {
			return nil, err
		}
		out[id] = n
	}
	return out, rows.Err()
}

// hole describes the open shift s of member e0 on day d and ranks its substitutes: everyone who holds
// the group, is free that day or works another shift they may leave, and for whom taking the shift adds
// no hard violation (rest, days a week, minutes, Saturdays, allowed templates, absences). The score adds
// the change of the coverage cost (moving someone opens a gap elsewhere), the overtime in minutes and
// penalties for a secondary skill, substitutions already taken, Saturdays and preferences.
func (st *stored) hole(e0, d, s int, subs map[int64]int) Hole {
	p := st.P
	t := p.In.Templates[p.ShiftTemplate[s]]
	group := p.In.Groups[p.ShiftGroup[s]]
	h := Hole{StaffID: p.In.Staff[e0].ID, StaffName: p.In.Staff[e0].Name, Day: p.In.Date(d).Format(time.DateOnly),
		TemplateID: t.ID, Template: t.Code, Starts: t.Start.String(), Ends: t.End.String(), Group: group, Candidates: []Candidate{}}
	base := st.Cells.Clone()
	base[e0][d] = roster.Off
	before := p.violationsByStaff(base)
	counts := p.coverCounts(base)
	for e, mb := range p.In.Staff {
		old := base[e][d]
		if e == e0 || old == s || p.Model.Staff[e].MaxShifts[s] == 0 || p.forbidden(e, d, p.ShiftTemplate[s]) {
			continue
		}
		base[e][d] = s
		after := p.violationsByStaff(base)
		minutes, saturdays := p.rowTotals(base[e])
		reqBefore, reqAfter := p.requestCost(e, d, old), p.requestCost(e, d, s)
		base[e][d] = old
		if after[mb.Code] > before[mb.Code] {
			continue
		}
		c := Candidate{StaffID: mb.ID, Code: mb.Code, Name: mb.Name, Level: mb.Groups[group], MinutesAfter: minutes,
			Expected: p.Expected[e], MaxMinutes: p.checkModel().Staff[e].MaxMinutes, Substitutions: subs[mb.ID],
			CoverDelta: p.coverDelta(counts, d, old, s)}
		c.Overtime = max(0, minutes-c.Expected)
		c.Score = c.CoverDelta + c.Overtime + substitutionPenalty*c.Substitutions + (reqAfter - reqBefore)
		if old != roster.Off {
			c.MovedFrom = p.Model.Shifts[old].ID
			c.Reasons = append(c.Reasons, "moves from "+c.MovedFrom)
		}
		c.Reasons = append(c.Reasons, fmt.Sprintf("%s skill in %s", c.Level, group))
		if c.Level != ticketing.Primary {
			c.Score += secondaryPenalty
		}
		if c.Overtime > 0 {
			c.Reasons = append(c.Reasons, fmt.Sprintf("%d min over contract", c.Overtime))
		} else {
			c.Reasons = append(c.Reasons, fmt.Sprintf("within contract (%d of %d min)", minutes, c.Expected))
		}
		if p.In.Date(d).Weekday() == time.Saturday {
			c.Score += saturdayPenalty * (saturdays - 1)
			c.Reasons = append(c.Reasons, fmt.Sprintf("%d Saturdays with this one", saturdays))
		}
		if c.Substitutions > 0 {
			c.Reasons = append(c.Reasons, fmt.Sprintf("%d substitutions already", c.Substitutions))
		}
		if reqAfter > reqBefore {
			c.Reasons = append(c.Reasons, "against a preference")
		}
		c.Reasons = append(c.Reasons, fmt.Sprintf("rest of %d min kept", p.In.Staff[e].Contract.MinRestMinutes))
		h.Candidates = append(h.Candidates, c)
	}
	sort.SliceStable(h.Candidates, func(i, j int) bool {
		a, b := h.Candidates[i], h.Candidates[j]
		if a.Score != b.Score {
			return a.Score < b.Score
		}
		return a.Name < b.Name
	})
	if len(h.Candidates) > maxCandidates {
		h.Candidates = h.Candidates[:maxCandidates]
	}
	for i := range h.Candidates {
		h.Candidates[i].Rank = i + 1
	}
	return h
}

// coverDelta is the change of the coverage cost on day d when one person's value there goes from old
// to new.
func (p *Problem) coverDelta(counts []int, d, old, new int) int {
	delta := 0
	for i := range p.Model.Cover {
		c := &p.Model.Cover[i]
		if c.Day != d {
			continue
		}
		n := counts[i]
		if old != roster.Off && slices.Contains(c.Shifts, old) {
			n--
		}
		if new != roster.Off && slices.Contains(c.Shifts, new) {
			n++
		}
		delta += c.Cost(n) - c.Cost(counts[i])
	}
	return delta
}

// violationsByStaff counts the hard violations of each staff member (by code).
func (p *Problem) violationsByStaff(r roster.Roster) map[string]int {
	viol, _, err := p.Violations(r)
	out := map[string]int{}
	if err != nil {
		return out
	}
	for _, v := range viol {
		out[v.Staff]++
	}
	return out
}

// rowTotals returns the minutes and Saturdays worked in a row.
func (p *Problem) rowTotals(row []int) (minutes, saturdays int) {
	for d, s := range row {
		if s == roster.Off {
			continue
		}
		minutes += p.Model.Shifts[s].Duration
		if p.In.Date(d).Weekday() == time.Saturday {
			saturdays++
		}
	}
	return minutes, saturdays
}

// requestCost is the preference cost of member e working value v on day d.
func (p *Problem) requestCost(e, d, v int) int {
	cost := 0
	for _, q := range p.Model.Requests[:p.prefRequests] {
		if q.Staff == e && q.Day == d && !requestGranted(q, v) {
			cost += q.Weight
		}
	}
	return cost
}

// ApplyProposal applies one proposed substitution: the absent member's shift on day goes to staffID,
// both changes are listed for the people affected, and the roster's result is re-evaluated.
func (pl *Planner) ApplyProposal(ctx context.Context, ro *Roster, absenceID, staffID int64, day time.Time, templateID int64, uid *int64) ([]Change, error) {
	_, err := pl.tickets.StaffMember(ctx, ro.OfficeID, staffID)
	if isNotFound(err) {
		return nil, web.InvalidField("staff_id", "staff member %d is not in this roster's office", staffID)
	}
	if err != nil {
		return nil, err
	}
	holes, err := pl.Proposals(ctx, ro, absenceID)
	if err != nil {
		return nil, err
	}
	dayStr := day.Format(time.DateOnly)
	var hole *Hole
	for i := range holes {
		if holes[i].Day == dayStr && holes[i].TemplateID == templateID {
			hole = &holes[i]
		}
	}
	if hole == nil {
		return nil, web.Conflict("no_open_shift", "the absence leaves no open shift %d on %s", templateID, dayStr)
	}
	var cand *Candidate
	for i := range hole.Candidates {
		if hole.Candidates[i].StaffID == staffID {
			cand = &hole.Candidates[i]
		}
	}
	if cand == nil {
		return nil, web.InvalidField("staff_id", "staff member %d is not a proposed substitute for this shift", staffID)
	}
	err = pgx.BeginFunc(ctx, pl.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM rosters WHERE id = $1 FOR UPDATE`, ro.ID); err != nil {
			return err
		}
		tag, err := tx.Exec(ctx, `DELETE FROM roster_assignments WHERE roster_id = $1 AND staff_id = $2 AND day = $3 AND template_id = $4`,
			ro.ID, hole.StaffID, day, templateID)
		if err != nil {
			return err
		}
		if tag.RowsAffected() != 1 {
			return web.Conflict("roster_changed", "the roster changed meanwhile; reload the proposals")
		}
		// The substitute's shift that day, if they move: it must still be the one the proposal left.
		var before *int64
		var beforeGroup *string
		err = tx.QueryRow(ctx, `DELETE FROM roster_assignments WHERE roster_id = $1 AND staff_id = $2 AND day = $3
			RETURNING template_id, skill_group`, ro.ID, staffID, day).Scan(&before, &beforeGroup)
		if err != nil && !errors.Is(err, pgx.ErrNoRows) {
			return err
		}
		if (before != nil) != (cand.MovedFrom != "") {
			return web.Conflict("roster_changed", "the substitute's day changed meanwhile; reload the proposals")
		}
		if _, err := tx.Exec(ctx, `INSERT INTO roster_assignments (roster_id, staff_id, day, template_id, skill_group)
			VALUES ($1, $2, $3, $4, $5)`, ro.ID, staffID, day, templateID, hole.Group); err != nil {
			return fmt.Errorf("plan: substitute's assignment: %w", err)
		}
		_, err = tx.Exec(ctx, `INSERT INTO roster_changes (roster_id, staff_id, day, before_template, after_template, reason,
				absence_id, changed_by, before_group, after_group)
			VALUES ($1, $2, $3, $4, NULL, 'absence', $5, $6, $9, NULL), ($1, $7, $3, $8, $4, 'substitution', $5, $6, $10, $9)`,
			ro.ID, hole.StaffID, day, templateID, absenceID, uid, staffID, before, hole.Group, beforeGroup)
		return err
	})
	if err != nil {
		return nil, err
	}
	if err := pl.reexplain(ctx, ro.ID); err != nil {
		return nil, err
	}
	return pl.changes(ctx, `c.roster_id = $1 AND c.absence_id = $2 AND c.day = $3`, ro.ID, absenceID, day)
}

// repairWait is how long a repair waits for the node's repair slot before it is refused.
const repairWait = 10 * time.Second

// repairSlot takes the node's one repair slot, waiting up to repairWait: a repair runs the solver in the
// request, outside the queue (a manager waits for it), so a node runs one at a time besides its queued
// solves. The caller runs release when the solver is done.
func (pl *Planner) repairSlot(ctx context.Context) (release func(), err error) {
	t := time.NewTimer(repairWait)
	defer t.Stop()
	select {
	case pl.repairing <- struct{}{}:
		return func() { <-pl.repairing }, nil
	case <-t.C:
		return nil, &web.Error{Status: http.StatusTooManyRequests, Code: "repair_busy",
			Message: "another repair is running on this server; try again in a few seconds"}
	case <-ctx.Done():
		return nil, ctx.Err()
	}
}

// RepairMinimal repairs the roster around an absence with the solver: the absent member's overlapped
// shifts are removed, and the solver, starting from that roster, re-covers the demand while every day
// changed from the current roster costs changeWeight, so it changes as few assignments as it can.
func (pl *Planner) RepairMinimal(ctx context.Context, ro *Roster, absenceID int64, limit time.Duration, uid *int64) ([]Change, error) {
	a, err := pl.absenceOf(ctx, ro, absenceID)
	if err != nil {
		return nil, err
	}
	st, err := pl.load(ctx, ro)
	if err != nil {
		return nil, err
	}
	p := st.P
	ref := st.Cells.Clone()
	initial := st.Cells.Clone()
	if e0, ok := p.staffIndex(a.StaffID); ok {
		for _, h := range st.holesOf(e0) {
			initial[e0][h[0]] = roster.Off
		}
	}
	p.repairMode(ref)
	release, err := pl.repairSlot(ctx)
	if err != nil {
		return nil, err
	}
	out, err := p.Solve(ctx, SolveOptions{TimeLimit: limit, Seed: uint64(absenceID), Threads: pl.Threads, Initial: initial})
	release()
	if err != nil {
		return nil, err
	}
	var changes [][]any
	for e := range ref {
		for d := range ref[e] {
			b, n := ref[e][d], out.Roster[e][d]
			if b == n {
				continue
			}
			var before, after *int64
			var beforeGroup, afterGroup *string
			reason := "repair"
			if b != roster.Off {
				id := p.In.Templates[p.ShiftTemplate[b]].ID
				before, beforeGroup = &id, &p.In.Groups[p.ShiftGroup[b]]
				if p.Blocked[e][d][p.ShiftTemplate[b]] {
					reason = "absence"
				}
			}
			if n != roster.Off {
				id := p.In.Templates[p.ShiftTemplate[n]].ID
				after, afterGroup = &id, &p.In.Groups[p.ShiftGroup[n]]
				if b == roster.Off {
					reason = "substitution"
				}
			}
			changes = append(changes, []any{ro.ID, p.In.Staff[e].ID, p.In.Date(d), before, after, reason, absenceID, uid, beforeGroup, afterGroup})
		}
	}
	err = pgx.BeginFunc(ctx, pl.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `SELECT 1 FROM rosters WHERE id = $1 FOR UPDATE`, ro.ID); err != nil {
			return err
		}
		if err := writeAssignments(ctx, tx, ro.ID, p.cellsOf(out.Roster)); err != nil {
			return err
		}
		_, err := tx.CopyFrom(ctx, pgx.Identifier{"roster_changes"},
			[]string{"roster_id", "staff_id", "day", "before_template", "after_template", "reason", "absence_id", "changed_by", "before_group", "after_group"},
			pgx.CopyFromRows(changes))
		return err
	})
	if err != nil {
		return nil, fmt.Errorf("plan: store repair: %w", err)
	}
	if err := pl.reexplain(ctx, ro.ID); err != nil {
		return nil, err
	}
	if len(out.Violations) > 0 {
		var v []string
		for _, x := range out.Violations {
			v = append(v, x.Staff+": "+x.Rule)
		}
		pl.log.Warn("repaired roster keeps hard violations", "roster", ro.ID, "violations", strings.Join(v, "; "))
	}
	return pl.changes(ctx, `c.roster_id = $1 AND c.absence_id = $2`, ro.ID, absenceID)
}

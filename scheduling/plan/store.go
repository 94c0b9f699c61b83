package plan

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"turno/internal/web"
	"turno/scheduling"
	"turno/scheduling/roster"
	"turno/ticketing"
)

// Roster is a stored roster of an office.
type Roster struct {
	ID          int64           `json:"id"`
	OfficeID    int64           `json:"office_id"`
	From        string          `json:"from"`
	To          string          `json:"to"`
	Status      string          `json:"status"`
	Version     int             `json:"version"`
	ParentID    *int64          `json:"parent_id,omitempty"`
	CreatedAt   time.Time       `json:"created_at"`
	PublishedAt *time.Time      `json:"published_at,omitempty"`
	Progress    json.RawMessage `json:"progress,omitempty"`
	Result      json.RawMessage `json:"result,omitempty"`
	Error       string          `json:"error,omitempty"`
	// QueuePosition is the roster's place in the solve queue while it is queued (1 is next), else 0.
	QueuePosition int `json:"queue_position,omitempty"`
	// TimeLimitSeconds is the solve's time limit (0 for rosters made before it was kept).
	TimeLimitSeconds int `json:"time_limit_seconds,omitempty"`
}

// Assignment is one staff member's shift on one day of a roster.
type Assignment struct {
	StaffID    int64  `json:"staff_id"`
	StaffCode  string `json:"staff_code"`
	StaffName  string `json:"staff_name"`
	Day        string `json:"day"`
	TemplateID int64  `json:"template_id"`
	Template   string `json:"template"`
	Starts     string `json:"starts"`
	Ends       string `json:"ends"`
	Group      string `json:"skill_group"`
}

// Change is a change made to a roster after it was solved (a substitution or a repair).
type Change struct {
	ID        int64  `json:"id"`
	StaffID   int64  `json:"staff_id"`
	StaffName string `json:"staff_name"`
	Day       string `json:"day"`
	Before    string `json:"before,omitempty"` // template code
	After     string `json:"after,omitempty"`
	// BeforeGroup and AfterGroup are the skill groups of the shifts before and after.
	BeforeGroup string    `json:"before_group,omitempty"`
	AfterGroup  string    `json:"after_group,omitempty"`
	Reason      string    `json:"reason"`
	AbsenceID   *int64    `json:"absence_id,omitempty"`
	ChangedAt   time.Time `json:"changed_at"`
}

// unsolved reports whether a roster in status has no result yet (queued, solving) or will have none
// (failed).
func unsolved(status string) bool {
	return status == "queued" || status == "solving" || status == "failed"
}

const rosterColumns = `id, office_id, starts_on, ends_on, status, version, parent_id, created_at, published_at, progress, result,
	coalesce(error, ''), ` + queuePositionSQL + `, coalesce(time_limit_ms, 0)`

func scanRoster(row pgx.Row) (*Roster, error) {
	var r Roster
	var from, to pgtype.Date
	if err := row.Scan(&r.ID, &r.OfficeID, &from, &to, &r.Status, &r.Version, &r.ParentID, &r.CreatedAt, &r.PublishedAt,
		&r.Progress, &r.Result, &r.Error, &r.QueuePosition, &r.TimeLimitSeconds); err != nil {
		return nil, err
	}
	r.From, r.To = from.Time.Format(time.DateOnly), to.Time.Format(time.DateOnly)
	r.TimeLimitSeconds = (r.TimeLimitSeconds + 999) / 1000 // scanned in milliseconds
	return &r, nil
}

// Roster returns a roster by id.
func (pl *Planner) Roster(ctx context.Context, id int64) (*Roster, error) {
	r, err := scanRoster(pl.pool.QueryRow(ctx, `SELECT `+rosterColumns+` FROM rosters WHERE id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, web.NotFound("unknown_roster", "no roster %d", id)
	}
	if err != nil {
		return nil, fmt.Errorf("plan: roster %d: %w", id, err)
	}
	return r, nil
}

// Rosters lists an office's rosters, newest period first, without progress and result.
func (pl *Planner) Rosters(ctx context.Context, officeID int64) ([]*Roster, error) {
	rows, err := pl.pool.Query(ctx, `SELECT id, office_id, starts_on, ends_on, status, version, parent_id, created_at,
			published_at, '[]'::jsonb, jsonb_build_object('objective', result->'objective', 'feasible', result->'feasible',
			'shortfall', result->'shortfall', 'uncovered', result->'uncovered'), coalesce(error, ''), `+queuePositionSQL+`,
			coalesce(time_limit_ms, 0)
		FROM rosters WHERE office_id = $1 ORDER BY starts_on DESC, id DESC LIMIT 200`, officeID)
	if err != nil {
		return nil, fmt.Errorf("plan: rosters: %w", err)
	}
	defer rows.Close()
	out := []*Roster{}
	for rows.Next() {
		r, err := scanRoster(rows)
		if err != nil {
			return nil, fmt.Errorf("plan: rosters: %w", err)
		}
		out = append(out, r)
	}
	return out, rows.Err()
}

// officeNames names what the roster tables refer to by id: an office, its staff and its shift templates
// (inactive ones included), read from their owners.
type officeNames struct {
	office    *ticketing.Office
	staff     map[int64]*ticketing.Staff
	templates map[int64]scheduling.ShiftTemplate
}

func (pl *Planner) namesOf(ctx context.Context, officeID int64) (*officeNames, error) {
	n := &officeNames{staff: map[int64]*ticketing.Staff{}, templates: map[int64]scheduling.ShiftTemplate{}}
	var err error
	if n.office, err = pl.tickets.OfficeByID(ctx, officeID); err != nil {
		return nil, err
	}
	staff, err := pl.tickets.StaffList(ctx, officeID)
	if err != nil {
		return nil, err
	}
	for _, st := range staff {
		n.staff[st.ID] = st
	}
	templates, err := pl.plans.ShiftTemplates(ctx, officeID)
	if err != nil {
		return nil, err
	}
	for _, t := range templates {
		n.templates[t.ID] = t
	}
	return n, nil
}

// staffName returns a staff member's code and full name ("" when unknown).
func (n *officeNames) staffName(id int64) (code, name string) {
	if st := n.staff[id]; st != nil {
		return st.Code, st.FullName
	}
	return "", ""
}

// Assignments lists a roster's assignments by day, start time and staff name.
func (pl *Planner) Assignments(ctx context.Context, ro *Roster) ([]Assignment, error) {
	rows, err := pl.pool.Query(ctx, `SELECT staff_id, day, template_id, skill_group FROM roster_assignments WHERE roster_id = $1`, ro.ID)
	if err != nil {
		return nil, fmt.Errorf("plan: assignments: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Assignment, error) {
		var a Assignment
		var day pgtype.Date
		err := row.Scan(&a.StaffID, &day, &a.TemplateID, &a.Group)
		a.Day = day.Time.Format(time.DateOnly)
		return a, err
	})
	if err != nil {
		return nil, fmt.Errorf("plan: assignments: %w", err)
	}
	names, err := pl.namesOf(ctx, ro.OfficeID)
	if err != nil {
		return nil, err
	}
	starts := map[int64]ticketing.TimeOfDay{}
	for i := range list {
		a := &list[i]
		a.StaffCode, a.StaffName = names.staffName(a.StaffID)
		t := names.templates[a.TemplateID]
		a.Template, a.Starts, a.Ends = t.Code, t.Starts.String(), t.Ends.String()
		starts[a.TemplateID] = t.Starts
	}
	slices.SortFunc(list, func(a, b Assignment) int {
		return cmp.Or(strings.Compare(a.Day, b.Day), cmp.Compare(starts[a.TemplateID], starts[b.TemplateID]),
			strings.Compare(a.StaffName, b.StaffName), cmp.Compare(a.StaffID, b.StaffID))
	})
	return append([]Assignment{}, list...), nil
}

// Changes lists the changes made to a roster, newest first.
func (pl *Planner) Changes(ctx context.Context, rosterID int64) ([]Change, error) {
	return pl.changes(ctx, `c.roster_id = $1`, rosterID)
}

// changes lists the changes matching where (on roster_changes c), newest first, with the names of the
// people and templates.
func (pl *Planner) changes(ctx context.Context, where string, args ...any) ([]Change, error) {
	rows, err := pl.pool.Query(ctx, `SELECT c.id, r.office_id, c.staff_id, c.day, c.before_template, c.after_template,
			coalesce(c.before_group, ''), coalesce(c.after_group, ''), c.reason, c.absence_id, c.changed_at
		FROM roster_changes c JOIN rosters r ON r.id = c.roster_id
		WHERE `+where+` ORDER BY c.changed_at DESC, c.id DESC LIMIT 500`, args...)
	if err != nil {
		return nil, fmt.Errorf("plan: changes: %w", err)
	}
	type change struct {
		Change
		officeID      int64
		before, after *int64
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (change, error) {
		var c change
		var day pgtype.Date
		err := row.Scan(&c.ID, &c.officeID, &c.StaffID, &day, &c.before, &c.after, &c.BeforeGroup, &c.AfterGroup,
			&c.Reason, &c.AbsenceID, &c.ChangedAt)
		c.Day = day.Time.Format(time.DateOnly)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("plan: changes: %w", err)
	}
	offices := map[int64]*officeNames{}
	out := make([]Change, 0, len(list))
	for _, c := range list {
		names := offices[c.officeID]
		if names == nil {
			if names, err = pl.namesOf(ctx, c.officeID); err != nil {
				return nil, err
			}
			offices[c.officeID] = names
		}
		_, c.StaffName = names.staffName(c.StaffID)
		if c.before != nil {
			c.Before = names.templates[*c.before].Code
		}
		if c.after != nil {
			c.After = names.templates[*c.after].Code
		}
		out = append(out, c.Change)
	}
	return out, nil
}

// appendProgress adds progress entries to a solving roster.
func (pl *Planner) appendProgress(ctx context.Context, id int64, entries []ProgressEntry) error {
	b, err := json.Marshal(entries)
	if err != nil {
		return err
	}
	_, err = pl.pool.Exec(ctx, `UPDATE rosters SET progress = progress || $2::jsonb WHERE id = $1 AND status = 'solving'`, id, b)
	if err != nil {
		return fmt.Errorf("plan: roster progress: %w", err)
	}
	return nil
}

// failRoster marks a solving roster failed.
func (pl *Planner) failRoster(ctx context.Context, id int64, cause error) error {
	_, err := pl.pool.Exec(ctx, `UPDATE rosters SET status = 'failed', error = $2, solving_until = NULL
		WHERE id = $1 AND status = 'solving'`, id, cause.Error())
	if err != nil {
		return fmt.Errorf("plan: fail roster: %w", err)
	}
	return nil
}

// FailOrphans marks failed the rosters left 'solving' past their deadline by a node that stopped. It
// returns how many it marked.
func (pl *Planner) FailOrphans(ctx context.Context) (int64, error) {
	tag, err := pl.pool.Exec(ctx, `UPDATE rosters SET status = 'failed', error = 'the server stopped while solving',
			solving_until = NULL
		WHERE status = 'solving' AND (solving_until IS NULL OR solving_until < now())`)
	if err != nil {
		return 0, fmt.Errorf("plan: fail orphaned rosters: %w", err)
	}
	return tag.RowsAffected(), nil
}

// cellsOf lists the assignments of a model roster as rows to store.
func (p *Problem) cellsOf(r roster.Roster) [][]any {
	var rows [][]any
	for e, row := range r {
		for d, s := range row {
			if s == roster.Off {
				continue
			}
			rows = append(rows, []any{p.In.Staff[e].ID, p.In.Date(d), p.In.Templates[p.ShiftTemplate[s]].ID, p.In.Groups[p.ShiftGroup[s]]})
		}
	}
	return rows
}

// writeAssignments replaces a roster's assignments within tx.
func writeAssignments(ctx context.Context, tx pgx.Tx, rosterID int64, cells [][]any) error {
	if _, err := tx.Exec(ctx, `DELETE FROM roster_assignments WHERE roster_id = $1`, rosterID); err != nil {
		return fmt.Errorf("plan: clear assignments: %w", err)
	}
	rows := make([][]any, len(cells))
	for i, c := range cells {
		rows[i] = append([]any{rosterID}, c...)
	}
	_, err := tx.CopyFrom(ctx, pgx.Identifier{"roster_assignments"}, []string{"roster_id", "staff_id", "day", "template_id", "skill_group"},
		pgx.CopyFromRows(rows))
	if err != nil {
		return fmt.Errorf("plan: write assignments: %w", err)
	}
	return nil
}

// finishRoster stores a solved roster as a draft.
func (pl *Planner) finishRoster(ctx context.Context, id int64, p *Problem, r roster.Roster, res *Result) error {
	b, err := json.Marshal(res)
	if err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, pl.pool, func(tx pgx.Tx) error {
		var status string
		if err := tx.QueryRow(ctx, `SELECT status FROM rosters WHERE id = $1 FOR UPDATE`, id).Scan(&status); err != nil {
			return fmt.Errorf("plan: lock roster: %w", err)
		}
		if status != "solving" {
			return fmt.Errorf("plan: roster %d is %s, no longer solving", id, status)
		}
		if err := writeAssignments(ctx, tx, id, p.cellsOf(r)); err != nil {
			return err
		}
		_, err := tx.Exec(ctx, `UPDATE rosters SET status = 'draft', result = $2, solving_until = NULL WHERE id = $1`, id, b)
		return err
	})
}

// Publish makes a draft roster the office's published roster for its period: the published rosters it
// overlaps become superseded, and it takes the next version number of the overlapping rosters. A draft
// that leaves slots with demand and nobody planned is published only with acceptGaps (the manager saw
// them and confirmed); otherwise it is a 409 uncovered_slots.
func (pl *Planner) Publish(ctx context.Context, id int64, acceptGaps bool) (*Roster, error) {
	err := pgx.BeginFunc(ctx, pl.pool, func(tx pgx.Tx) error {
		var officeID int64
		var status string
		var from, to pgtype.Date
		var uncovered int
		if err := tx.QueryRow(ctx, `SELECT office_id, status, starts_on, ends_on, coalesce((result->>'uncovered')::int, 0)
			FROM rosters WHERE id = $1 FOR UPDATE`, id).Scan(&officeID, &status, &from, &to, &uncovered); err != nil {
			return fmt.Errorf("plan: lock roster: %w", err)
		}
		if status != "draft" {
			return web.Conflict("not_draft", "only a draft can be published; this roster is %s", web.Term(status))
		}
		if uncovered > 0 && !acceptGaps {
			return web.Conflict("uncovered_slots", "the roster leaves %d slots with demand and nobody planned; publish with accept_gaps to confirm", uncovered)
		}
		// One publisher per office at a time: the office's lock orders concurrent publications.
		if _, err := tx.Exec(ctx, `SELECT pg_advisory_xact_lock(hashtextextended('turno.publish:' || $1::bigint, 0))`, officeID); err != nil {
			return fmt.Errorf("plan: lock office: %w", err)
		}
		var parent *int64
		var version int
		if err := tx.QueryRow(ctx, `SELECT (SELECT id FROM rosters WHERE office_id = $1 AND status = 'published'
				AND starts_on <= $3 AND ends_on >= $2 ORDER BY published_at DESC LIMIT 1),
			coalesce((SELECT max(version) FROM rosters WHERE office_id = $1 AND status IN ('published', 'superseded')
				AND starts_on <= $3 AND ends_on >= $2), 0) + 1`, officeID, from, to).Scan(&parent, &version); err != nil {
			return fmt.Errorf("plan: previous versions: %w", err)
		}
		if _, err := tx.Exec(ctx, `UPDATE rosters SET status = 'superseded' WHERE office_id = $1 AND status = 'published'
			AND starts_on <= $3 AND ends_on >= $2`, officeID, from, to); err != nil {
			return fmt.Errorf("plan: supersede: %w", err)
		}
		_, err := tx.Exec(ctx, `UPDATE rosters SET status = 'published', version = $2, parent_id = $3, published_at = now()
			WHERE id = $1`, id, version, parent)
		return err
	})
	if err != nil {
		return nil, err
	}
	return pl.Roster(ctx, id)
}

package plan

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgtype"

	"turno/internal/web"
	"turno/scheduling/roster"
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

const rosterColumns = `id, office_id, starts_on, ends_on, status, version, parent_id, created_at, published_at, progress, result, coalesce(error, '')`

func scanRoster(row pgx.Row) (*Roster, error) {
	var r Roster
	var from, to pgtype.Date
	if err := row.Scan(&r.ID, &r.OfficeID, &from, &to, &r.Status, &r.Version, &r.ParentID, &r.CreatedAt, &r.PublishedAt,
		&r.Progress, &r.Result, &r.Error); err != nil {
		return nil, err
	}
	r.From, r.To = from.Time.Format(time.DateOnly), to.Time.Format(time.DateOnly)
	return &r, nil
}

// Roster returns a roster by id.
func (pl *Planner) Roster(ctx context.Context, id int64) (*Roster, error) {
	r, err := scanRoster(pl.Pool.QueryRow(ctx, `SELECT `+rosterColumns+` FROM rosters WHERE id = $1`, id))
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
	rows, err := pl.Pool.Query(ctx, `SELECT id, office_id, starts_on, ends_on, status, version, parent_id, created_at,
			published_at, '[]'::jsonb, jsonb_build_object('objective', result->'objective', 'feasible', result->'feasible',
			'shortfall', result->'shortfall', 'uncovered', result->'uncovered'), coalesce(error, '')
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

// Assignments lists a roster's assignments by day and staff name.
func (pl *Planner) Assignments(ctx context.Context, rosterID int64) ([]Assignment, error) {
	rows, err := pl.Pool.Query(ctx, `SELECT a.staff_id, st.code, st.full_name, a.day, a.template_id, t.code,
			to_char(t.starts, 'HH24:MI'), to_char(t.ends, 'HH24:MI'), a.skill_group
		FROM roster_assignments a JOIN staff st ON st.id = a.staff_id JOIN shift_templates t ON t.id = a.template_id
		WHERE a.roster_id = $1 ORDER BY a.day, t.starts, st.full_name`, rosterID)
	if err != nil {
		return nil, fmt.Errorf("plan: assignments: %w", err)
	}
	defer rows.Close()
	out := []Assignment{}
	for rows.Next() {
		var a Assignment
		var day pgtype.Date
		if err := rows.Scan(&a.StaffID, &a.StaffCode, &a.StaffName, &day, &a.TemplateID, &a.Template, &a.Starts, &a.Ends, &a.Group); err != nil {
			return nil, fmt.Errorf("plan: assignments: %w", err)
		}
		a.Day = day.Time.Format(time.DateOnly)
		out = append(out, a)
	}
	return out, rows.Err()
}

// Changes lists the changes made to a roster, newest first.
func (pl *Planner) Changes(ctx context.Context, rosterID int64) ([]Change, error) {
	return pl.changes(ctx, `c.roster_id = $1`, rosterID)
}

func (pl *Planner) changes(ctx context.Context, where string, args ...any) ([]Change, error) {
	rows, err := pl.Pool.Query(ctx, `SELECT c.id, c.staff_id, st.full_name, c.day, coalesce(b.code, ''), coalesce(a.code, ''),
			coalesce(c.before_group, ''), coalesce(c.after_group, ''), c.reason, c.absence_id, c.changed_at
		FROM roster_changes c JOIN staff st ON st.id = c.staff_id
		LEFT JOIN shift_templates b ON b.id = c.before_template LEFT JOIN shift_templates a ON a.id = c.after_template
		WHERE `+where+` ORDER BY c.changed_at DESC, c.id DESC LIMIT 500`, args...)
	if err != nil {
		return nil, fmt.Errorf("plan: changes: %w", err)
	}
	defer rows.Close()
	out := []Change{}
	for rows.Next() {
		var c Change
		var day pgtype.Date
		if err := rows.Scan(&c.ID, &c.StaffID, &c.StaffName, &day, &c.Before, &c.After, &c.BeforeGroup, &c.AfterGroup,
			&c.Reason, &c.AbsenceID, &c.ChangedAt); err != nil {
			return nil, fmt.Errorf("plan: changes: %w", err)
		}
		c.Day = day.Time.Format(time.DateOnly)
		out = append(out, c)
	}
	return out, rows.Err()
}

// createRoster inserts a roster in status solving.
func (pl *Planner) createRoster(ctx context.Context, officeID int64, from, to time.Time, userID *int64, deadline time.Time) (int64, error) {
	var id int64
	err := pl.Pool.QueryRow(ctx, `INSERT INTO rosters (office_id, starts_on, ends_on, status, created_by, solving_until)
		VALUES ($1, $2, $3, 'solving', $4, $5) RETURNING id`, officeID, from, to, userID, deadline).Scan(&id)
	if err != nil {
		return 0, fmt.Errorf("plan: create roster: %w", err)
	}
	return id, nil
}

// appendProgress adds progress entries to a solving roster.
func (pl *Planner) appendProgress(ctx context.Context, id int64, entries []ProgressEntry) error {
	b, err := json.Marshal(entries)
	if err != nil {
		return err
	}
	_, err = pl.Pool.Exec(ctx, `UPDATE rosters SET progress = progress || $2::jsonb WHERE id = $1 AND status = 'solving'`, id, b)
	if err != nil {
		return fmt.Errorf("plan: roster progress: %w", err)
	}
	return nil
}

// failRoster marks a solving roster failed.
func (pl *Planner) failRoster(ctx context.Context, id int64, cause error) error {
	_, err := pl.Pool.Exec(ctx, `UPDATE rosters SET status = 'failed', error = $2, solving_until = NULL
		WHERE id = $1 AND status = 'solving'`, id, cause.Error())
	if err != nil {
		return fmt.Errorf("plan: fail roster: %w", err)
	}
	return nil
}

// FailOrphans marks failed the rosters left 'solving' past their deadline by a node that stopped. It
// returns how many it marked.
func (pl *Planner) FailOrphans(ctx context.Context) (int64, error) {
	tag, err := pl.Pool.Exec(ctx, `UPDATE rosters SET status = 'failed', error = 'the server stopped while solving',
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
	return pgx.BeginFunc(ctx, pl.Pool, func(tx pgx.Tx) error {
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
// overlaps become superseded, and it takes the next version number of the overlapping rosters.
func (pl *Planner) Publish(ctx context.Context, id int64) (*Roster, error) {
	err := pgx.BeginFunc(ctx, pl.Pool, func(tx pgx.Tx) error {
		var officeID int64
		var status string
		var from, to pgtype.Date
		if err := tx.QueryRow(ctx, `SELECT office_id, status, starts_on, ends_on FROM rosters WHERE id = $1 FOR UPDATE`, id).
			Scan(&officeID, &status, &from, &to); err != nil {
			return fmt.Errorf("plan: lock roster: %w", err)
		}
		if status != "draft" {
			return web.Conflict("not_draft", "only a draft can be published; this roster is %s", status)
		}
		// One publisher per office at a time: the office row lock orders concurrent publications.
		if _, err := tx.Exec(ctx, `SELECT 1 FROM offices WHERE id = $1 FOR UPDATE`, officeID); err != nil {
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

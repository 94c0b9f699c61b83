package scheduling

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"

	"turno/internal/web"
	"turno/ticketing"
)

// Preference is a staff member's wish to work (Wanted) or not on a date or a weekday, optionally only for
// one shift template. Weight (1–100) says how much it matters.
type Preference struct {
	ID       int64  `json:"id,omitempty"`
	Day      string `json:"day,omitempty"`      // YYYY-MM-DD; or
	Weekday  int    `json:"weekday,omitempty"`  // 1 = Monday … 7 = Sunday
	Template string `json:"template,omitempty"` // shift template code; empty: any shift
	Wanted   bool   `json:"wanted"`
	Weight   int    `json:"weight"`
	// StaffID and TemplateID (0: any shift) are filled when reading; requests name the template by code.
	StaffID    int64 `json:"-"`
	TemplateID int64 `json:"-"`
}

const preferenceQuery = `SELECT p.id, p.staff_id, coalesce(to_char(p.day, 'YYYY-MM-DD'), ''), coalesce(p.weekday, 0),
		coalesce(p.template_id, 0), coalesce(t.code, ''), p.wanted, p.weight
	FROM staff_preferences p LEFT JOIN shift_templates t ON t.id = p.template_id`

func (s *Store) preferences(ctx context.Context, what, where string, args ...any) ([]Preference, error) {
	rows, err := s.pool.Query(ctx, preferenceQuery+` WHERE `+where, args...)
	if err != nil {
		return nil, fmt.Errorf("scheduling: preferences of %s: %w", what, err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Preference, error) {
		var p Preference
		err := row.Scan(&p.ID, &p.StaffID, &p.Day, &p.Weekday, &p.TemplateID, &p.Template, &p.Wanted, &p.Weight)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("scheduling: preferences of %s: %w", what, err)
	}
	return append([]Preference{}, list...), nil
}

// Preferences lists a staff member's preferences, those for a weekday first.
func (s *Store) Preferences(ctx context.Context, staffID int64) ([]Preference, error) {
	return s.preferences(ctx, fmt.Sprintf("staff %d", staffID), `p.staff_id = $1 ORDER BY p.day NULLS FIRST, p.weekday, t.code`, staffID)
}

// OfficePreferences lists the preferences of an office's staff that can apply to the dates from..to
// (inclusive): every weekday preference and the dated ones in the period, in the order they were made.
func (s *Store) OfficePreferences(ctx context.Context, officeID int64, from, to time.Time) ([]Preference, error) {
	_, ids, err := s.staffOf(ctx, officeID)
	if err != nil {
		return nil, err
	}
	return s.preferences(ctx, fmt.Sprintf("office %d", officeID),
		`p.staff_id = ANY($1) AND (p.day IS NULL OR p.day BETWEEN $2 AND $3) ORDER BY p.id`, ids, from, to)
}

// SetPreferences validates prefs and replaces a staff member's preferences with them. Errors name the
// element, e.g. "preferences[2].day".
func (s *Store) SetPreferences(ctx context.Context, officeID, staffID int64, prefs []Preference) error {
	templates, err := s.ShiftTemplates(ctx, officeID)
	if err != nil {
		return err
	}
	byCode := map[string]int64{}
	for _, t := range templates {
		byCode[t.Code] = t.ID
	}
	type row struct {
		day      any
		weekday  any
		template any
		wanted   bool
		weight   int
	}
	rows := make([]row, 0, len(prefs))
	for i, p := range prefs {
		f := func(name string) string { return fmt.Sprintf("preferences[%d].%s", i, name) }
		var rw row
		switch {
		case (p.Day == "") == (p.Weekday == 0):
			return web.InvalidField(f("day"), "give either a day or a weekday")
		case p.Day != "":
			d, err := time.Parse(time.DateOnly, p.Day)
			if err != nil {
				return web.InvalidField(f("day"), "day must be a date like 2026-03-02")
			}
			rw.day = d
		case p.Weekday < 1 || p.Weekday > 7:
			return web.InvalidField(f("weekday"), "weekday must be between 1 (Monday) and 7 (Sunday)")
		default:
			rw.weekday = p.Weekday
		}
		if p.Template != "" {
			id, ok := byCode[p.Template]
			if !ok {
				return web.InvalidField(f("template"), "no shift template %q in this office", p.Template)
			}
			rw.template = id
		}
		if p.Weight == 0 {
			p.Weight = 1
		}
		if p.Weight < 1 || p.Weight > 100 {
			return web.InvalidField(f("weight"), "weight must be between 1 and 100")
		}
		rw.wanted, rw.weight = p.Wanted, p.Weight
		rows = append(rows, rw)
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `DELETE FROM staff_preferences WHERE staff_id = $1`, staffID); err != nil {
			return fmt.Errorf("scheduling: replace preferences: %w", err)
		}
		for _, rw := range rows {
			if _, err := tx.Exec(ctx, `INSERT INTO staff_preferences (staff_id, day, weekday, template_id, wanted, weight)
				VALUES ($1, $2, $3, $4, $5, $6)`, staffID, rw.day, rw.weekday, rw.template, rw.wanted, rw.weight); err != nil {
				return fmt.Errorf("scheduling: save preference: %w", err)
			}
		}
		return nil
	})
}

func (a *API) getPreferences(r *http.Request) (int, any, error) {
	st, err := a.staffParam(r)
	if err != nil {
		return 0, nil, err
	}
	return web.OK(a.Store.Preferences(r.Context(), st.ID))
}

func (a *API) putPreferences(r *http.Request) (int, any, error) {
	st, err := a.staffParam(r)
	if err != nil {
		return 0, nil, err
	}
	var prefs []Preference
	if err := web.Decode(r, &prefs, false); err != nil {
		return 0, nil, err
	}
	if err := a.Store.SetPreferences(r.Context(), ticketing.OfficeOf(r).ID, st.ID, prefs); err != nil {
		return 0, nil, err
	}
	return web.OK(a.Store.Preferences(r.Context(), st.ID))
}

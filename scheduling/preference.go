package scheduling

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"turno/internal/web"
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
}

// Preferences lists a staff member's preferences.
func Preferences(ctx context.Context, pool *pgxpool.Pool, staffID int64) ([]Preference, error) {
	rows, err := pool.Query(ctx, `
		SELECT p.id, coalesce(to_char(p.day, 'YYYY-MM-DD'), ''), coalesce(p.weekday, 0), coalesce(t.code, ''), p.wanted, p.weight
		FROM staff_preferences p LEFT JOIN shift_templates t ON t.id = p.template_id
		WHERE p.staff_id = $1 ORDER BY p.day NULLS FIRST, p.weekday, t.code`, staffID)
	if err != nil {
		return nil, fmt.Errorf("scheduling: preferences of staff %d: %w", staffID, err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (Preference, error) {
		var p Preference
		err := row.Scan(&p.ID, &p.Day, &p.Weekday, &p.Template, &p.Wanted, &p.Weight)
		return p, err
	})
	if err != nil {
		return nil, fmt.Errorf("scheduling: preferences of staff %d: %w", staffID, err)
	}
	return append([]Preference{}, list...), nil
}

// SetPreferences validates prefs and replaces a staff member's preferences with them. Errors name the
// element, e.g. "preferences[2].day".
func SetPreferences(ctx context.Context, pool *pgxpool.Pool, officeID, staffID int64, prefs []Preference) error {
	templates, err := ShiftTemplates(ctx, pool, officeID)
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
	return pgx.BeginFunc(ctx, pool, func(tx pgx.Tx) error {
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

func (a *API) getPreferences(w http.ResponseWriter, r *http.Request) {
	st, err := a.staffParam(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	list, err := Preferences(r.Context(), a.pool(), st.ID)
	reply(w, r, http.StatusOK, list, err)
}

func (a *API) putPreferences(w http.ResponseWriter, r *http.Request) {
	st, err := a.staffParam(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	var prefs []Preference
	if err := web.Decode(r, &prefs, false); err != nil {
		web.WriteError(w, r, err)
		return
	}
	if err := SetPreferences(r.Context(), a.pool(), st.OfficeID, st.ID, prefs); err != nil {
		web.WriteError(w, r, err)
		return
	}
	list, err := Preferences(r.Context(), a.pool(), st.ID)
	reply(w, r, http.StatusOK, list, err)
}

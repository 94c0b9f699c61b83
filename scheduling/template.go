package scheduling

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgtype"
	"github.com/jackc/pgx/v5/pgxpool"

	"turno/internal/web"
)

// ShiftTemplate is a kind of shift an office rosters, e.g. "M" 08:15–13:15 on weekdays.
type ShiftTemplate struct {
	ID       int64  `json:"id"`
	Code     string `json:"code"`
	Name     string `json:"name"`
	Starts   string `json:"starts"` // local "HH:MM"
	Ends     string `json:"ends"`
	Weekdays []int  `json:"weekdays"` // ISO weekdays it may be used on
	Active   bool   `json:"active"`
	Minutes  int    `json:"minutes"` // length, derived
}

var templateCode = regexp.MustCompile(`^[A-Za-z0-9_-]{1,16}$`)

// validate checks t and fills Minutes; errors are 422s naming the field.
func (t *ShiftTemplate) validate() error {
	if !templateCode.MatchString(t.Code) {
		return web.InvalidField("code", "code must be 1–16 letters, digits, _ or -")
	}
	if t.Name == "" || len(t.Name) > 100 {
		return web.InvalidField("name", "name is required (at most 100 characters)")
	}
	s, ok := parseClock(t.Starts)
	if !ok || s >= 24*time.Hour {
		return web.InvalidField("starts", "starts must be a time like 08:15")
	}
	e, ok := parseClock(t.Ends)
	if !ok {
		return web.InvalidField("ends", "ends must be a time like 13:15")
	}
	if e <= s {
		return web.InvalidField("ends", "the shift ends (%s) before it starts (%s)", t.Ends, t.Starts)
	}
	if len(t.Weekdays) == 0 {
		return web.InvalidField("weekdays", "choose at least one weekday")
	}
	seen := map[int]bool{}
	for _, wd := range t.Weekdays {
		if wd < 1 || wd > 7 || seen[wd] {
			return web.InvalidField("weekdays", "weekdays must be distinct numbers from 1 (Monday) to 7 (Sunday)")
		}
		seen[wd] = true
	}
	sort.Ints(t.Weekdays)
	t.Starts, t.Ends, t.Minutes = clock(s), clock(e), int((e-s)/time.Minute)
	return nil
}

// ShiftTemplates lists an office's shift templates by start time.
func ShiftTemplates(ctx context.Context, pool *pgxpool.Pool, officeID int64) ([]ShiftTemplate, error) {
	rows, err := pool.Query(ctx, `SELECT id, code, name, starts, ends, weekdays, active FROM shift_templates
		WHERE office_id = $1 ORDER BY active DESC, starts, ends, code`, officeID)
	if err != nil {
		return nil, fmt.Errorf("scheduling: list shift templates: %w", err)
	}
	defer rows.Close()
	out := []ShiftTemplate{}
	for rows.Next() {
		var t ShiftTemplate
		var s, e pgtype.Time
		var wds []int16
		if err := rows.Scan(&t.ID, &t.Code, &t.Name, &s, &e, &wds, &t.Active); err != nil {
			return nil, fmt.Errorf("scheduling: list shift templates: %w", err)
		}
		t.Starts, t.Ends, t.Minutes = clock(fromPG(s)), clock(fromPG(e)), int((fromPG(e)-fromPG(s))/time.Minute)
		for _, wd := range wds {
			t.Weekdays = append(t.Weekdays, int(wd))
		}
		out = append(out, t)
	}
	return out, rows.Err()
}

// SaveShiftTemplate validates t and creates it (ID 0) or updates the office's template with t.ID.
func SaveShiftTemplate(ctx context.Context, pool *pgxpool.Pool, officeID int64, t *ShiftTemplate) error {
	if err := t.validate(); err != nil {
		return err
	}
	s, _ := parseClock(t.Starts)
	e, _ := parseClock(t.Ends)
	var err error
	if t.ID == 0 {
		err = pool.QueryRow(ctx, `INSERT INTO shift_templates (office_id, code, name, starts, ends, weekdays, active)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, officeID, t.Code, t.Name, pgClock(s), pgClock(e), t.Weekdays, t.Active).Scan(&t.ID)
	} else {
		err = pool.QueryRow(ctx, `UPDATE shift_templates SET code = $3, name = $4, starts = $5, ends = $6, weekdays = $7, active = $8
			WHERE office_id = $1 AND id = $2 RETURNING id`, officeID, t.ID, t.Code, t.Name, pgClock(s), pgClock(e), t.Weekdays, t.Active).Scan(&t.ID)
		if errors.Is(err, pgx.ErrNoRows) {
			return web.NotFound("unknown_shift_template", "no shift template %d in this office", t.ID)
		}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return &web.Error{Status: http.StatusConflict, Code: "duplicate", Field: "code", Message: fmt.Sprintf("a shift template %q already exists", t.Code)}
	}
	if err != nil {
		return fmt.Errorf("scheduling: save shift template %q: %w", t.Code, err)
	}
	return nil
}

// shiftTemplate returns one template of an office, or a 404.
func shiftTemplate(ctx context.Context, pool *pgxpool.Pool, officeID, id int64) (ShiftTemplate, error) {
	list, err := ShiftTemplates(ctx, pool, officeID)
	if err != nil {
		return ShiftTemplate{}, err
	}
	for _, t := range list {
		if t.ID == id {
			return t, nil
		}
	}
	return ShiftTemplate{}, web.NotFound("unknown_shift_template", "no shift template %d in this office", id)
}

func (a *API) listTemplates(w http.ResponseWriter, r *http.Request) {
	list, err := ShiftTemplates(r.Context(), a.pool(), officeOf(r).ID)
	reply(w, r, http.StatusOK, list, err)
}

func (a *API) createTemplate(w http.ResponseWriter, r *http.Request) {
	t := ShiftTemplate{Active: true, Weekdays: []int{1, 2, 3, 4, 5, 6}}
	if err := web.Decode(r, &t, false); err != nil {
		web.WriteError(w, r, err)
		return
	}
	t.ID = 0
	reply(w, r, http.StatusCreated, &t, SaveShiftTemplate(r.Context(), a.pool(), officeOf(r).ID, &t))
}

func (a *API) updateTemplate(w http.ResponseWriter, r *http.Request) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		web.WriteError(w, r, web.NotFound("unknown_shift_template", "no shift template %q", chi.URLParam(r, "id")))
		return
	}
	// Fields left out of the body keep their values.
	t, err := shiftTemplate(r.Context(), a.pool(), officeOf(r).ID, id)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	if err := web.Decode(r, &t, false); err != nil {
		web.WriteError(w, r, err)
		return
	}
	t.ID = id
	reply(w, r, http.StatusOK, &t, SaveShiftTemplate(r.Context(), a.pool(), officeOf(r).ID, &t))
}

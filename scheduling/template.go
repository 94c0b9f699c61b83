package scheduling

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"regexp"
	"sort"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"turno/internal/web"
	"turno/ticketing"
)

// ShiftTemplate is a kind of shift an office rosters, e.g. "M" 08:15–13:15 on weekdays.
type ShiftTemplate struct {
	ID       int64               `json:"id"`
	Code     string              `json:"code"`
	Name     string              `json:"name"`
	Starts   ticketing.TimeOfDay `json:"starts"` // local time, "08:15" in JSON
	Ends     ticketing.TimeOfDay `json:"ends"`
	Weekdays []int               `json:"weekdays"` // ISO weekdays it may be used on
	Active   bool                `json:"active"`
	Minutes  int                 `json:"minutes"` // length, derived
}

// unsetTime marks a template time a request has not given: it is not Valid, so validate names the field.
const unsetTime = ticketing.TimeOfDay(-1)

var templateCode = regexp.MustCompile(`^[A-Za-z0-9_-]{1,16}$`)

// validate checks t and fills Minutes; errors are 422s naming the field.
func (t *ShiftTemplate) validate() error {
	if !templateCode.MatchString(t.Code) {
		return web.InvalidField("code", "code must be 1–16 letters, digits, _ or -")
	}
	if t.Name == "" || len(t.Name) > 100 {
		return web.InvalidField("name", "name is required (at most 100 characters)")
	}
	if !t.Starts.Valid() || t.Starts >= ticketing.EndOfDay {
		return web.InvalidField("starts", "starts must be a time like 08:15")
	}
	if !t.Ends.Valid() {
		return web.InvalidField("ends", "ends must be a time like 13:15")
	}
	if t.Ends <= t.Starts {
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
	t.Minutes = int(t.Ends - t.Starts)
	return nil
}

// ShiftTemplates lists an office's shift templates, the active ones first, by start time.
func (s *Store) ShiftTemplates(ctx context.Context, officeID int64) ([]ShiftTemplate, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, code, name, starts, ends, weekdays, active FROM shift_templates
		WHERE office_id = $1 ORDER BY active DESC, starts, ends, code`, officeID)
	if err != nil {
		return nil, fmt.Errorf("scheduling: list shift templates: %w", err)
	}
	list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (ShiftTemplate, error) {
		var t ShiftTemplate
		var wds []int16
		if err := row.Scan(&t.ID, &t.Code, &t.Name, &t.Starts, &t.Ends, &wds, &t.Active); err != nil {
			return t, err
		}
		t.Minutes = int(t.Ends - t.Starts)
		for _, wd := range wds {
			t.Weekdays = append(t.Weekdays, int(wd))
		}
		return t, nil
	})
	if err != nil {
		return nil, fmt.Errorf("scheduling: list shift templates: %w", err)
	}
	return append([]ShiftTemplate{}, list...), nil
}

// ShiftTemplate returns one template of an office, or a 404.
func (s *Store) ShiftTemplate(ctx context.Context, officeID, id int64) (ShiftTemplate, error) {
	list, err := s.ShiftTemplates(ctx, officeID)
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

// SaveShiftTemplate validates t and creates it (ID 0) or updates the office's template with t.ID. A code
// the office already has is a 409 on "code".
func (s *Store) SaveShiftTemplate(ctx context.Context, officeID int64, t *ShiftTemplate) error {
	if err := t.validate(); err != nil {
		return err
	}
	var err error
	if t.ID == 0 {
		err = s.pool.QueryRow(ctx, `INSERT INTO shift_templates (office_id, code, name, starts, ends, weekdays, active)
			VALUES ($1, $2, $3, $4, $5, $6, $7) RETURNING id`, officeID, t.Code, t.Name, t.Starts, t.Ends, t.Weekdays, t.Active).Scan(&t.ID)
	} else {
		err = s.pool.QueryRow(ctx, `UPDATE shift_templates SET code = $3, name = $4, starts = $5, ends = $6, weekdays = $7, active = $8
			WHERE office_id = $1 AND id = $2 RETURNING id`, officeID, t.ID, t.Code, t.Name, t.Starts, t.Ends, t.Weekdays, t.Active).Scan(&t.ID)
		if errors.Is(err, pgx.ErrNoRows) {
			return web.NotFound("unknown_shift_template", "no shift template %d in this office", t.ID)
		}
	}
	var pgErr *pgconn.PgError
	if errors.As(err, &pgErr) && pgErr.Code == "23505" {
		return web.Conflict("duplicate", "a shift template %q already exists", t.Code).On("code")
	}
	if err != nil {
		return fmt.Errorf("scheduling: save shift template %q: %w", t.Code, err)
	}
	return nil
}

func (a *API) listTemplates(r *http.Request) (int, any, error) {
	return web.OK(a.Store.ShiftTemplates(r.Context(), ticketing.OfficeOf(r).ID))
}

func (a *API) createTemplate(r *http.Request) (int, any, error) {
	t := ShiftTemplate{Starts: unsetTime, Ends: unsetTime, Active: true, Weekdays: []int{1, 2, 3, 4, 5, 6}}
	if err := web.Decode(r, &t, false); err != nil {
		return 0, nil, err
	}
	t.ID = 0
	return web.Created(&t, a.Store.SaveShiftTemplate(r.Context(), ticketing.OfficeOf(r).ID, &t))
}

// updateTemplate changes a template; fields left out of the body keep their values.
func (a *API) updateTemplate(r *http.Request) (int, any, error) {
	id, err := web.PathID(r, "id", "unknown_shift_template")
	if err != nil {
		return 0, nil, err
	}
	o := ticketing.OfficeOf(r)
	t, err := a.Store.ShiftTemplate(r.Context(), o.ID, id)
	if err != nil {
		return 0, nil, err
	}
	if err := web.Decode(r, &t, false); err != nil {
		return 0, nil, err
	}
	t.ID = id
	return web.OK(&t, a.Store.SaveShiftTemplate(r.Context(), o.ID, &t))
}

package scheduling

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/go-chi/chi/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"

	"turno/internal/web"
	"turno/ticketing"
)

// Contract is a staff member's working-time limits (table contracts).
type Contract struct {
	WeeklyMinutes         int `json:"weekly_minutes"`
	MaxDailyMinutes       int `json:"max_daily_minutes"`
	MaxDaysPerWeek        int `json:"max_days_per_week"`
	MinRestMinutes        int `json:"min_rest_minutes"`
	MaxSaturdaysPer4Weeks int `json:"max_saturdays_per_4_weeks"`
	// AllowedTemplates are shift template codes; empty means every template of the office.
	AllowedTemplates []string `json:"allowed_templates"`
}

// DefaultContract is a full-time contract of the Italian public administration: 36 hours a week over at most
// five days, at most 9 hours a day, 11 hours' rest, two Saturdays in four weeks.
var DefaultContract = Contract{WeeklyMinutes: 2160, MaxDailyMinutes: 540, MaxDaysPerWeek: 5, MinRestMinutes: 660, MaxSaturdaysPer4Weeks: 2}

// validate checks c's ranges and that the weekly minutes fit in the daily and weekly-day limits.
func (c *Contract) validate() error {
	f := func(name string) string { return "contract." + name }
	switch {
	case c.WeeklyMinutes < 0 || c.WeeklyMinutes > 3600:
		return web.InvalidField(f("weekly_minutes"), "weekly_minutes must be between 0 and 3600")
	case c.MaxDailyMinutes < 0 || c.MaxDailyMinutes > 1440:
		return web.InvalidField(f("max_daily_minutes"), "max_daily_minutes must be between 0 and 1440")
	case c.MaxDaysPerWeek < 0 || c.MaxDaysPerWeek > 7:
		return web.InvalidField(f("max_days_per_week"), "max_days_per_week must be between 0 and 7")
	case c.MinRestMinutes < 0 || c.MinRestMinutes > 1440:
		return web.InvalidField(f("min_rest_minutes"), "min_rest_minutes must be between 0 and 1440")
	case c.MaxSaturdaysPer4Weeks < 0 || c.MaxSaturdaysPer4Weeks > 4:
		return web.InvalidField(f("max_saturdays_per_4_weeks"), "max_saturdays_per_4_weeks must be between 0 and 4")
	case c.WeeklyMinutes > c.MaxDailyMinutes*c.MaxDaysPerWeek:
		return web.InvalidField(f("weekly_minutes"), "%d weekly minutes cannot be worked in %d days of at most %d minutes",
			c.WeeklyMinutes, c.MaxDaysPerWeek, c.MaxDailyMinutes)
	}
	return nil
}

// templateIDs resolves allowed template codes to ids of the office's templates (nil: every template).
func templateIDs(ctx context.Context, pool *pgxpool.Pool, officeID int64, codes []string) ([]int64, error) {
	if len(codes) == 0 {
		return nil, nil
	}
	list, err := ShiftTemplates(ctx, pool, officeID)
	if err != nil {
		return nil, err
	}
	byCode := map[string]int64{}
	for _, t := range list {
		byCode[t.Code] = t.ID
	}
	ids := make([]int64, 0, len(codes))
	for _, c := range codes {
		id, ok := byCode[c]
		if !ok {
			return nil, web.InvalidField("contract.allowed_templates", "no shift template %q in this office", c)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// SaveContract validates and stores the contract of a staff member of the office.
func SaveContract(ctx context.Context, pool *pgxpool.Pool, officeID, staffID int64, c Contract) error {
	if err := c.validate(); err != nil {
		return err
	}
	ids, err := templateIDs(ctx, pool, officeID, c.AllowedTemplates)
	if err != nil {
		return err
	}
	return saveContract(ctx, pool, staffID, c, ids)
}

func saveContract(ctx context.Context, pool *pgxpool.Pool, staffID int64, c Contract, ids []int64) error {
	_, err := pool.Exec(ctx, `
		INSERT INTO contracts (staff_id, weekly_minutes, max_daily_minutes, max_days_per_week, min_rest_minutes,
			max_saturdays_per_4_weeks, allowed_templates)
		VALUES ($1, $2, $3, $4, $5, $6, $7)
		ON CONFLICT (staff_id) DO UPDATE SET weekly_minutes = EXCLUDED.weekly_minutes,
			max_daily_minutes = EXCLUDED.max_daily_minutes, max_days_per_week = EXCLUDED.max_days_per_week,
			min_rest_minutes = EXCLUDED.min_rest_minutes, max_saturdays_per_4_weeks = EXCLUDED.max_saturdays_per_4_weeks,
			allowed_templates = EXCLUDED.allowed_templates`,
		staffID, c.WeeklyMinutes, c.MaxDailyMinutes, c.MaxDaysPerWeek, c.MinRestMinutes, c.MaxSaturdaysPer4Weeks, ids)
	if err != nil {
		return fmt.Errorf("scheduling: save contract of staff %d: %w", staffID, err)
	}
	return nil
}

// Contracts returns the contracts of an office's staff by staff id; staff without one are absent.
func Contracts(ctx context.Context, pool *pgxpool.Pool, officeID int64) (map[int64]Contract, error) {
	rows, err := pool.Query(ctx, `
		SELECT c.staff_id, c.weekly_minutes, c.max_daily_minutes, c.max_days_per_week, c.min_rest_minutes,
		       c.max_saturdays_per_4_weeks,
		       coalesce((SELECT array_agg(t.code ORDER BY t.starts, t.code) FROM shift_templates t WHERE t.id = ANY(c.allowed_templates)), '{}')
		FROM contracts c JOIN staff s ON s.id = c.staff_id WHERE s.office_id = $1`, officeID)
	if err != nil {
		return nil, fmt.Errorf("scheduling: list contracts: %w", err)
	}
	defer rows.Close()
	out := map[int64]Contract{}
	for rows.Next() {
		var id int64
		var c Contract
		if err := rows.Scan(&id, &c.WeeklyMinutes, &c.MaxDailyMinutes, &c.MaxDaysPerWeek, &c.MinRestMinutes,
			&c.MaxSaturdaysPer4Weeks, &c.AllowedTemplates); err != nil {
			return nil, fmt.Errorf("scheduling: list contracts: %w", err)
		}
		out[id] = c
	}
	return out, rows.Err()
}

// StaffDetail is a staff member with skills, contract and preferences.
type StaffDetail struct {
	*ticketing.Staff
	Contract    *Contract    `json:"contract"` // nil: none recorded yet
	Preferences []Preference `json:"preferences"`
}

// StaffInput creates or updates a staff member: identity, skills (service code → primary, secondary or
// learning) and, optionally, the contract.
type StaffInput struct {
	Code     string            `json:"code"`
	FullName string            `json:"full_name"`
	Email    string            `json:"email"`
	Active   bool              `json:"active"`
	Skills   map[string]string `json:"skills"`
	Contract *Contract         `json:"contract"`
}

// validate checks everything that can be checked before writing, so that a bad request writes nothing.
func (in *StaffInput) validate(ctx context.Context, store *ticketing.Store, officeID int64) ([]int64, error) {
	switch {
	case in.Code == "" || len(in.Code) > 32:
		return nil, web.InvalidField("code", "code is required (at most 32 characters)")
	case in.FullName == "" || len(in.FullName) > 200:
		return nil, web.InvalidField("full_name", "full_name is required (at most 200 characters)")
	case len(in.Email) > 200:
		return nil, web.InvalidField("email", "email is longer than 200 characters")
	}
	services, err := store.Services(ctx, officeID)
	if err != nil {
		return nil, err
	}
	known := map[string]bool{}
	for _, s := range services {
		known[s.Code] = true
	}
	for code, level := range in.Skills {
		if !known[code] {
			return nil, web.InvalidField("skills", "no service %q in this office", code)
		}
		if ticketing.SkillFactor(level) == 0 {
			return nil, web.InvalidField("skills", "skill level of %q must be primary, secondary or learning", code)
		}
	}
	if in.Contract == nil {
		return nil, nil
	}
	if err := in.Contract.validate(); err != nil {
		return nil, err
	}
	return templateIDs(ctx, store.Pool(), officeID, in.Contract.AllowedTemplates)
}

// staffNotFound is the error for a staff id that is not one of the office's (another office's staff
// included: their existence is not revealed).
func staffNotFound(id any) error {
	return &web.Error{Status: http.StatusNotFound, Code: "unknown_staff", Field: "staff",
		Message: fmt.Sprintf("no staff member %v in this office", id)}
}

// staffParam resolves {id} to a staff member of the request's office.
func (a *API) staffParam(r *http.Request) (*ticketing.Staff, error) {
	id, err := strconv.ParseInt(chi.URLParam(r, "id"), 10, 64)
	if err != nil {
		return nil, staffNotFound(chi.URLParam(r, "id"))
	}
	st, err := a.Store.StaffMember(r.Context(), officeOf(r).ID, id)
	var we *web.Error
	if errors.As(err, &we) && we.Status == http.StatusNotFound {
		return nil, staffNotFound(id)
	}
	return st, err
}

// StaffDetailOf loads a staff member's contract and preferences.
func StaffDetailOf(ctx context.Context, pool *pgxpool.Pool, st *ticketing.Staff) (*StaffDetail, error) {
	d := &StaffDetail{Staff: st}
	cs, err := Contracts(ctx, pool, st.OfficeID)
	if err != nil {
		return nil, err
	}
	if c, ok := cs[st.ID]; ok {
		d.Contract = &c
	}
	if d.Preferences, err = Preferences(ctx, pool, st.ID); err != nil {
		return nil, err
	}
	return d, nil
}

func (a *API) getStaff(w http.ResponseWriter, r *http.Request) {
	st, err := a.staffParam(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	d, err := StaffDetailOf(r.Context(), a.pool(), st)
	reply(w, r, http.StatusOK, d, err)
}

// createStaff adds a staff member with skills and a contract (DefaultContract when none is given).
func (a *API) createStaff(w http.ResponseWriter, r *http.Request) {
	in := StaffInput{Active: true}
	if err := web.Decode(r, &in, false); err != nil {
		web.WriteError(w, r, err)
		return
	}
	ctx, o := r.Context(), officeOf(r)
	if in.Contract == nil {
		c := DefaultContract
		in.Contract = &c
	}
	ids, err := in.validate(ctx, a.Store, o.ID)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	var exists bool
	if err := a.pool().QueryRow(ctx, `SELECT EXISTS (SELECT 1 FROM staff WHERE office_id = $1 AND code = $2)`, o.ID, in.Code).Scan(&exists); err != nil {
		web.WriteError(w, r, fmt.Errorf("scheduling: staff code: %w", err))
		return
	}
	if exists {
		web.WriteError(w, r, &web.Error{Status: http.StatusConflict, Code: "duplicate", Field: "code", Message: fmt.Sprintf("a staff member %q already exists", in.Code)})
		return
	}
	st := &ticketing.Staff{OfficeID: o.ID, Code: in.Code, FullName: in.FullName, Email: in.Email, Active: in.Active, Skills: in.Skills}
	if err := a.Store.SaveStaff(ctx, st); err != nil {
		web.WriteError(w, r, err)
		return
	}
	if err := saveContract(ctx, a.pool(), st.ID, *in.Contract, ids); err != nil {
		web.WriteError(w, r, err)
		return
	}
	a.writeStaff(w, r, http.StatusCreated, st.ID)
}

// updateStaff changes a staff member; fields left out keep their values, and skills, when given, replace
// the old ones.
func (a *API) updateStaff(w http.ResponseWriter, r *http.Request) {
	st, err := a.staffParam(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	ctx, o := r.Context(), officeOf(r)
	in := StaffInput{Code: st.Code, FullName: st.FullName, Email: st.Email, Active: st.Active, Skills: st.Skills}
	if err := web.Decode(r, &in, false); err != nil {
		web.WriteError(w, r, err)
		return
	}
	ids, err := in.validate(ctx, a.Store, o.ID)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	if in.Code != st.Code {
		// SaveStaff upserts by code, so a new code is given to the row first.
		_, err := a.pool().Exec(ctx, `UPDATE staff SET code = $3 WHERE id = $1 AND office_id = $2`, st.ID, o.ID, in.Code)
		var pgErr *pgconn.PgError
		if errors.As(err, &pgErr) && pgErr.Code == "23505" {
			web.WriteError(w, r, &web.Error{Status: http.StatusConflict, Code: "duplicate", Field: "code", Message: fmt.Sprintf("a staff member %q already exists", in.Code)})
			return
		}
		if err != nil {
			web.WriteError(w, r, fmt.Errorf("scheduling: rename staff %d: %w", st.ID, err))
			return
		}
	}
	upd := &ticketing.Staff{OfficeID: o.ID, Code: in.Code, FullName: in.FullName, Email: in.Email, Active: in.Active, Skills: in.Skills}
	if err := a.Store.SaveStaff(ctx, upd); err != nil {
		web.WriteError(w, r, err)
		return
	}
	if in.Contract != nil {
		if err := saveContract(ctx, a.pool(), st.ID, *in.Contract, ids); err != nil {
			web.WriteError(w, r, err)
			return
		}
	}
	a.writeStaff(w, r, http.StatusOK, st.ID)
}

func (a *API) putContract(w http.ResponseWriter, r *http.Request) {
	st, err := a.staffParam(r)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	var c Contract
	if err := web.Decode(r, &c, false); err != nil {
		web.WriteError(w, r, err)
		return
	}
	if err := SaveContract(r.Context(), a.pool(), st.OfficeID, st.ID, c); err != nil {
		web.WriteError(w, r, err)
		return
	}
	a.writeStaff(w, r, http.StatusOK, st.ID)
}

func (a *API) listContracts(w http.ResponseWriter, r *http.Request) {
	cs, err := Contracts(r.Context(), a.pool(), officeOf(r).ID)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	out := map[string]Contract{}
	for id, c := range cs {
		out[strconv.FormatInt(id, 10)] = c
	}
	web.JSON(w, http.StatusOK, out)
}

func (a *API) writeStaff(w http.ResponseWriter, r *http.Request, status int, id int64) {
	st, err := a.Store.StaffMember(r.Context(), officeOf(r).ID, id)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	d, err := StaffDetailOf(r.Context(), a.pool(), st)
	reply(w, r, status, d, err)
}

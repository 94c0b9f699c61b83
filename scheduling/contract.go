package scheduling

import (
	"context"
	"encoding/json"
	"fmt"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

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
	// HourlyCostCents is what an hour of this member's work costs, in euro cents; nil: the office's default
	// rate (ticketing.Office.HourlyCostCents). The per-agency accounting charges their minutes at it.
	HourlyCostCents *int `json:"hourly_cost_cents"`
}

// Store keeps the contract and preferences of the staff members ticketing's staff API serves.
var _ ticketing.StaffPlanning = (*Store)(nil)

// DefaultContract is a full-time contract of the Italian public administration: 36 hours a week over at most
// five days, at most 9 hours a day, 11 hours' rest, two Saturdays in four weeks.
var DefaultContract = Contract{WeeklyMinutes: 2160, MaxDailyMinutes: 540, MaxDaysPerWeek: 5, MinRestMinutes: 660, MaxSaturdaysPer4Weeks: 2}

// validate checks c's ranges and that the weekly minutes fit in the daily and weekly-day limits. Errors
// name the field as "contract.<field>", the way the staff API nests it.
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
	case c.HourlyCostCents != nil && (*c.HourlyCostCents < 0 || *c.HourlyCostCents > ticketing.MaxHourlyCostCents):
		return web.InvalidField(f("hourly_cost_cents"), "hourly_cost_cents must be between 0 and 100000")
	case c.WeeklyMinutes > c.MaxDailyMinutes*c.MaxDaysPerWeek:
		return web.InvalidField(f("weekly_minutes"), "%d weekly minutes cannot be worked in %d days of at most %d minutes",
			c.WeeklyMinutes, c.MaxDaysPerWeek, c.MaxDailyMinutes)
	}
	return nil
}

// Allowed reports whether the contract lets its holder work the template with code.
func (c Contract) Allowed(code string) bool {
	return len(c.AllowedTemplates) == 0 || slices.Contains(c.AllowedTemplates, code)
}

// Hours formats the weekly minutes as hours, e.g. "36 h" or "30 h 30".
func (c Contract) Hours() string {
	h, m := c.WeeklyMinutes/60, c.WeeklyMinutes%60
	if m == 0 {
		return fmt.Sprintf("%d h", h)
	}
	return fmt.Sprintf("%d h %02d", h, m)
}

// check validates c for an office and resolves its allowed template codes to ids (nil: every template).
func (s *Store) check(ctx context.Context, officeID int64, c *Contract) ([]int64, error) {
	if err := c.validate(); err != nil {
		return nil, err
	}
	if len(c.AllowedTemplates) == 0 {
		return nil, nil
	}
	list, err := s.ShiftTemplates(ctx, officeID)
	if err != nil {
		return nil, err
	}
	byCode := map[string]int64{}
	for _, t := range list {
		byCode[t.Code] = t.ID
	}
	ids := make([]int64, 0, len(c.AllowedTemplates))
	for _, code := range c.AllowedTemplates {
		id, ok := byCode[code]
		if !ok {
			return nil, web.InvalidField("contract.allowed_templates", "no shift template %q in this office", code)
		}
		ids = append(ids, id)
	}
	return ids, nil
}

// execer is a pool or a transaction.
type execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

func saveContract(ctx context.Context, db execer, staffID int64, c Contract, ids []int64) error {
	_, err := db.Exec(ctx, `
		INSERT INTO contracts (staff_id, weekly_minutes, max_daily_minutes, max_days_per_week, min_rest_minutes,
			max_saturdays_per_4_weeks, allowed_templates, hourly_cost_cents)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8)
		ON CONFLICT (staff_id) DO UPDATE SET weekly_minutes = EXCLUDED.weekly_minutes,
			max_daily_minutes = EXCLUDED.max_daily_minutes, max_days_per_week = EXCLUDED.max_days_per_week,
			min_rest_minutes = EXCLUDED.min_rest_minutes, max_saturdays_per_4_weeks = EXCLUDED.max_saturdays_per_4_weeks,
			allowed_templates = EXCLUDED.allowed_templates, hourly_cost_cents = EXCLUDED.hourly_cost_cents`,
		staffID, c.WeeklyMinutes, c.MaxDailyMinutes, c.MaxDaysPerWeek, c.MinRestMinutes, c.MaxSaturdaysPer4Weeks, ids, c.HourlyCostCents)
	if err != nil {
		return fmt.Errorf("scheduling: save contract of staff %d: %w", staffID, err)
	}
	return nil
}

// SaveContract validates and stores the contract of a staff member of the office (the caller has checked
// that the member is the office's).
func (s *Store) SaveContract(ctx context.Context, officeID, staffID int64, c Contract) error {
	ids, err := s.check(ctx, officeID, &c)
	if err != nil {
		return err
	}
	return saveContract(ctx, s.pool, staffID, c, ids)
}

const contractQuery = `SELECT c.staff_id, c.weekly_minutes, c.max_daily_minutes, c.max_days_per_week, c.min_rest_minutes,
		c.max_saturdays_per_4_weeks,
		coalesce((SELECT array_agg(t.code ORDER BY t.starts, t.code) FROM shift_templates t WHERE t.id = ANY(c.allowed_templates)), '{}'),
		c.hourly_cost_cents
	FROM contracts c WHERE c.staff_id = ANY($1)`

// contracts returns the contracts of the given staff members by staff id; those without one are absent.
func (s *Store) contracts(ctx context.Context, staffIDs []int64) (map[int64]Contract, error) {
	rows, err := s.pool.Query(ctx, contractQuery, staffIDs)
	if err != nil {
		return nil, fmt.Errorf("scheduling: contracts: %w", err)
	}
	defer rows.Close()
	out := map[int64]Contract{}
	for rows.Next() {
		var id int64
		var c Contract
		if err := rows.Scan(&id, &c.WeeklyMinutes, &c.MaxDailyMinutes, &c.MaxDaysPerWeek, &c.MinRestMinutes,
			&c.MaxSaturdaysPer4Weeks, &c.AllowedTemplates, &c.HourlyCostCents); err != nil {
			return nil, fmt.Errorf("scheduling: contracts: %w", err)
		}
		out[id] = c
	}
	return out, rows.Err()
}

// Contracts returns the contracts of an office's staff by staff id; staff without one are absent.
func (s *Store) Contracts(ctx context.Context, officeID int64) (map[int64]Contract, error) {
	_, ids, err := s.staffOf(ctx, officeID)
	if err != nil {
		return nil, err
	}
	return s.contracts(ctx, ids)
}

// staffOf returns an office's staff (from ticketing) and their ids, the keys of this store's rows.
func (s *Store) staffOf(ctx context.Context, officeID int64) ([]*ticketing.Staff, []int64, error) {
	staff, err := s.tickets.StaffList(ctx, officeID)
	if err != nil {
		return nil, nil, err
	}
	ids := make([]int64, len(staff))
	for i, st := range staff {
		ids[i] = st.ID
	}
	return staff, ids, nil
}

// Contract returns a staff member's contract, or nil when none is recorded.
func (s *Store) Contract(ctx context.Context, staffID int64) (*Contract, error) {
	cs, err := s.contracts(ctx, []int64{staffID})
	if err != nil {
		return nil, err
	}
	if c, ok := cs[staffID]; ok {
		return &c, nil
	}
	return nil, nil
}

// PrepareStaff validates the planning part of a staff request — the "contract", strictly decoded — before
// anything is written, and returns the step that stores it in the member's transaction. A new member
// (staffID 0) without a contract gets DefaultContract; an update without one keeps theirs. It makes Store a
// ticketing.StaffPlanning.
func (s *Store) PrepareStaff(ctx context.Context, officeID, staffID int64, fields map[string]json.RawMessage) (ticketing.StaffStep, error) {
	var in struct {
		Contract *Contract `json:"contract"`
	}
	if err := web.TakeFields(fields, &in); err != nil {
		return nil, err
	}
	if unknown := slices.Sorted(maps.Keys(fields)); len(unknown) > 0 {
		return nil, web.Invalid("malformed_json", "the request body is not valid JSON: unknown field %q", unknown[0])
	}
	if in.Contract == nil {
		if staffID != 0 {
			return nil, nil
		}
		c := DefaultContract
		in.Contract = &c
	}
	c := *in.Contract
	ids, err := s.check(ctx, officeID, &c)
	if err != nil {
		return nil, err
	}
	return func(ctx context.Context, tx pgx.Tx, staffID int64) error {
		return saveContract(ctx, tx, staffID, c, ids)
	}, nil
}

// StaffDetail returns the planning fields of a staff member's JSON: "contract" (null when none) and
// "preferences". It makes Store a ticketing.StaffPlanning.
func (s *Store) StaffDetail(ctx context.Context, st *ticketing.Staff) (map[string]any, error) {
	c, err := s.Contract(ctx, st.ID)
	if err != nil {
		return nil, err
	}
	prefs, err := s.Preferences(ctx, st.ID)
	if err != nil {
		return nil, err
	}
	return map[string]any{"contract": c, "preferences": prefs}, nil
}

// Plans summarises each staff member's contract for the skills matrix (ticketing.Manage.Plans), e.g.
// "36 h · 5 giorni · M,S"; a member without a contract is Missing.
func (s *Store) Plans(ctx context.Context, officeID int64, lang string) (map[int64]ticketing.PlanSummary, error) {
	staff, ids, err := s.staffOf(ctx, officeID)
	if err != nil {
		return nil, err
	}
	cs, err := s.contracts(ctx, ids)
	if err != nil {
		return nil, err
	}
	out := make(map[int64]ticketing.PlanSummary, len(staff))
	for _, st := range staff {
		c, ok := cs[st.ID]
		if !ok {
			out[st.ID] = ticketing.PlanSummary{Text: web.Translate(lang, "manage.staff.no_contract"), Missing: true}
			continue
		}
		text := fmt.Sprintf("%s · %d %s", c.Hours(), c.MaxDaysPerWeek, web.Translate(lang, "manage.staff.days"))
		if len(c.AllowedTemplates) > 0 {
			text += " · " + strings.Join(c.AllowedTemplates, ",")
		}
		out[st.ID] = ticketing.PlanSummary{Text: text}
	}
	return out, nil
}

func (a *API) putContract(r *http.Request) (int, any, error) {
	st, err := a.staffParam(r)
	if err != nil {
		return 0, nil, err
	}
	var c Contract
	if err := web.Decode(r, &c, false); err != nil {
		return 0, nil, err
	}
	if err := a.Store.SaveContract(r.Context(), st.OfficeID, st.ID, c); err != nil {
		return 0, nil, err
	}
	return a.staffDetail(r, st)
}

// staffDetail answers with a staff member and their planning fields, as ticketing's staff API does.
func (a *API) staffDetail(r *http.Request, st *ticketing.Staff) (int, any, error) {
	st, err := a.Tickets.StaffMember(r.Context(), st.OfficeID, st.ID)
	if err != nil {
		return 0, nil, err
	}
	extra, err := a.Store.StaffDetail(r.Context(), st)
	if err != nil {
		return 0, nil, err
	}
	return web.OK(struct {
		*ticketing.Staff
		Contract    any `json:"contract"`
		Preferences any `json:"preferences"`
	}{st, extra["contract"], extra["preferences"]}, nil)
}

// listContracts answers with the office's contracts by staff id.
func (a *API) listContracts(r *http.Request) (int, any, error) {
	cs, err := a.Store.Contracts(r.Context(), ticketing.OfficeOf(r).ID)
	if err != nil {
		return 0, nil, err
	}
	out := map[string]Contract{}
	for id, c := range cs {
		out[strconv.FormatInt(id, 10)] = c
	}
	return web.OK(out, nil)
}

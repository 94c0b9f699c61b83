package ticketing

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/jackc/pgx/v5"

	"turno/internal/web"
)

// Audiences: citizens and businesses, served in separate halls or at separate desks in many towns.
const (
	Citizen  = "citizen"
	Business = "business"
)

func validAudience(a string) bool { return a == Citizen || a == Business }

// Agency owns services: the town hall, the pension agency, a utility…
type Agency struct {
	ID       int64  `json:"id"`
	OfficeID int64  `json:"-"`
	Code     string `json:"code"`
	Name     string `json:"name"`
	// What the agency agreed to pay towards the counter, in euro cents: a fixed amount per month, an
	// amount per ticket, or both. The per-agency accounting sets them against the cost of its minutes.
	ContributionMonthlyCents   int64 `json:"contribution_monthly_cents"`
	ContributionPerTicketCents int64 `json:"contribution_per_ticket_cents"`
}

// Largest agreed contributions, as the schema bounds them (a billion euro a month, 100 000 euro a ticket).
const (
	MaxContributionMonthlyCents   = 100_000_000_000
	MaxContributionPerTicketCents = 10_000_000
)

// Service is a procedure citizens take a ticket for.
type Service struct {
	ID                      int64             `json:"id"`
	OfficeID                int64             `json:"-"`
	Agency                  string            `json:"agency"` // agency code
	AgencyName              string            `json:"agency_name"`
	Code                    string            `json:"code"`
	Audience                string            `json:"audience"`
	Category                string            `json:"category"` // the skill group staff are planned by
	Prefix                  string            `json:"prefix"`
	Names                   map[string]string `json:"names"`
	Descriptions            map[string]string `json:"descriptions"`
	WhatToBring             map[string]string `json:"what_to_bring"`
	ExpectedHandlingSeconds int               `json:"expected_handling_seconds"`
	WaitTargetSeconds       int               `json:"wait_target_seconds"`
	Active                  bool              `json:"active"`
	SortOrder               int               `json:"sort_order"`
}

// Name returns the service's name in lang, falling back to Italian.
func (s *Service) Name(lang string) string {
	if n := s.Names[lang]; n != "" {
		return n
	}
	return s.Names["it"]
}

// Desk is a numbered counter and the services it may serve.
type Desk struct {
	ID       int64    `json:"id"`
	OfficeID int64    `json:"-"`
	Number   int      `json:"number"`
	Name     string   `json:"name"`
	Audience string   `json:"audience"`
	Active   bool     `json:"active"`
	Services []string `json:"services"` // service codes
}

// PriorityCategory lets a ticket jump ahead by a bounded bonus (disability, pregnancy, elderly…).
type PriorityCategory struct {
	ID           int64             `json:"id"`
	Code         string            `json:"code"`
	Labels       map[string]string `json:"labels"`
	BonusSeconds int               `json:"bonus_seconds"`
	Active       bool              `json:"active"`
}

var (
	agencyCode   = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)
	serviceCode  = regexp.MustCompile(`^[a-z0-9_-]{1,40}$`)
	categoryCode = regexp.MustCompile(`^[a-z0-9_-]{0,40}$`)
	prefixCode   = regexp.MustCompile(`^[A-Z]{1,3}$`)
	priorityCode = regexp.MustCompile(`^[a-z0-9_-]{1,32}$`)
)

// SaveAgency creates or updates (by code) an agency of an office.
func (s *Store) SaveAgency(ctx context.Context, a *Agency) error {
	switch {
	case !agencyCode.MatchString(a.Code):
		return web.InvalidField("code", "code must be 1–32 lowercase letters, digits, _ or -")
	case a.Name == "" || len(a.Name) > 200:
		return web.InvalidField("name", "name is required (at most 200 characters)")
	case a.ContributionMonthlyCents < 0 || a.ContributionMonthlyCents > MaxContributionMonthlyCents:
		return web.InvalidField("contribution_monthly_cents", "contribution_monthly_cents must be between 0 and 100000000000")
	case a.ContributionPerTicketCents < 0 || a.ContributionPerTicketCents > MaxContributionPerTicketCents:
		return web.InvalidField("contribution_per_ticket_cents", "contribution_per_ticket_cents must be between 0 and 10000000")
	}
	err := s.pool.QueryRow(ctx, `
		INSERT INTO agencies (office_id, code, name, contribution_monthly_cents, contribution_per_ticket_cents)
		VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (office_id, code) DO UPDATE SET name = EXCLUDED.name,
			contribution_monthly_cents = EXCLUDED.contribution_monthly_cents,
			contribution_per_ticket_cents = EXCLUDED.contribution_per_ticket_cents
		RETURNING id`,
		a.OfficeID, a.Code, a.Name, a.ContributionMonthlyCents, a.ContributionPerTicketCents).Scan(&a.ID)
	return dbError(err, "save agency "+a.Code)
}

// Agencies lists an office's agencies by name.
func (s *Store) Agencies(ctx context.Context, officeID int64) ([]*Agency, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT id, office_id, code, name, contribution_monthly_cents, contribution_per_ticket_cents
		FROM agencies WHERE office_id = $1 ORDER BY name`, officeID)
	if err != nil {
		return nil, fmt.Errorf("ticketing: agencies: %w", err)
	}
	return collect(rows, func(row pgx.Row) (*Agency, error) {
		a := &Agency{}
		return a, row.Scan(&a.ID, &a.OfficeID, &a.Code, &a.Name, &a.ContributionMonthlyCents, &a.ContributionPerTicketCents)
	})
}

// Longest catalogue texts, in characters.
const (
	maxNameChars = 200  // a service's name, a priority category's label
	maxTextChars = 1000 // a service's description, what to bring
)

// checkTexts validates a catalogue text given by language (field is its request field): every language
// must be one of the kiosk's (web.CitizenLangs) and every text at most max characters. Texts are trimmed
// and empty ones removed, so sending "" for a language takes its text away and it falls back to Italian.
func checkTexts(field string, texts map[string]string, max int) error {
	for lang, s := range texts {
		if !web.IsCitizenLang(lang) {
			return web.InvalidField(field, "%s has a text in %q, which is not one of the kiosk's languages (it, en, es, fr, ro, sq, uk, zh, ar)", web.Term(field), lang)
		}
		s = strings.TrimSpace(s)
		if s == "" {
			delete(texts, lang)
			continue
		}
		if utf8.RuneCountInString(s) > max {
			return web.InvalidField(field, "%s in %s is longer than %d characters", web.Term(field), web.Term(lang), max)
		}
		texts[lang] = s
	}
	return nil
}

// Fallbacks lists, in the kiosk's order, the languages that have no text of their own in texts and so
// show the Italian one; none when there is no Italian text either (nothing to show).
func Fallbacks(texts map[string]string) []string {
	if texts["it"] == "" {
		return nil
	}
	var out []string
	for _, l := range web.CitizenLangs {
		if texts[l.Code] == "" {
			out = append(out, l.Code)
		}
	}
	return out
}

// NameFallbacks lists the languages that show the service's Italian name.
func (sv *Service) NameFallbacks() []string { return Fallbacks(sv.Names) }

// BringFallbacks lists the languages that show the Italian "what to bring".
func (sv *Service) BringFallbacks() []string { return Fallbacks(sv.WhatToBring) }

// LabelFallbacks lists the languages that show the category's Italian label.
func (p *PriorityCategory) LabelFallbacks() []string { return Fallbacks(p.Labels) }

// check names the first bad field of a service.
func (sv *Service) check() error {
	for _, t := range []struct {
		field string
		texts map[string]string
		max   int
	}{{"names", sv.Names, maxNameChars}, {"descriptions", sv.Descriptions, maxTextChars}, {"what_to_bring", sv.WhatToBring, maxTextChars}} {
		if err := checkTexts(t.field, t.texts, t.max); err != nil {
			return err
		}
	}
	switch {
	case !serviceCode.MatchString(sv.Code):
		return web.InvalidField("code", "code must be 1–40 lowercase letters, digits, _ or -")
	case sv.Agency == "":
		return web.InvalidField("agency", "agency is required")
	case !validAudience(sv.Audience):
		return web.InvalidField("audience", "audience must be citizen or business")
	case !categoryCode.MatchString(sv.Category):
		return web.InvalidField("category", "category (the skill group) must be lowercase letters, digits, _ or -")
	case !prefixCode.MatchString(sv.Prefix):
		return web.InvalidField("prefix", "prefix must be 1–3 capital letters")
	case sv.Names["it"] == "":
		return web.InvalidField("names", "an Italian name is required")
	case sv.ExpectedHandlingSeconds < 1 || sv.ExpectedHandlingSeconds > 86400:
		return web.InvalidField("expected_handling_seconds", "expected_handling_seconds must be between 1 and 86400")
	case sv.WaitTargetSeconds < 1 || sv.WaitTargetSeconds > 86400:
		return web.InvalidField("wait_target_seconds", "wait_target_seconds must be between 1 and 86400")
	case sv.SortOrder < -1_000_000 || sv.SortOrder > 1_000_000:
		return web.InvalidField("sort_order", "sort_order must be between -1000000 and 1000000")
	}
	return nil
}

// SaveService validates a service and creates or updates it (by code); its agency is named by code.
func (s *Store) SaveService(ctx context.Context, sv *Service) error {
	if err := sv.check(); err != nil {
		return err
	}
	if sv.Descriptions == nil {
		sv.Descriptions = map[string]string{}
	}
	if sv.WhatToBring == nil {
		sv.WhatToBring = map[string]string{}
	}
	err := s.pool.QueryRow(ctx, `
		INSERT INTO services (office_id, agency_id, code, audience, category, prefix, names, descriptions, what_to_bring,
			expected_handling_seconds, wait_target_seconds, active, sort_order)
		SELECT $1, a.id, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13
		FROM agencies a WHERE a.office_id = $1 AND a.code = $2
		ON CONFLICT (office_id, code) DO UPDATE SET agency_id = EXCLUDED.agency_id, audience = EXCLUDED.audience,
			category = EXCLUDED.category, prefix = EXCLUDED.prefix, names = EXCLUDED.names,
			descriptions = EXCLUDED.descriptions, what_to_bring = EXCLUDED.what_to_bring,
			expected_handling_seconds = EXCLUDED.expected_handling_seconds,
			wait_target_seconds = EXCLUDED.wait_target_seconds, active = EXCLUDED.active, sort_order = EXCLUDED.sort_order
		RETURNING id`,
		sv.OfficeID, sv.Agency, sv.Code, sv.Audience, sv.Category, sv.Prefix, sv.Names, sv.Descriptions, sv.WhatToBring,
		sv.ExpectedHandlingSeconds, sv.WaitTargetSeconds, sv.Active, sv.SortOrder).Scan(&sv.ID)
	if errors.Is(err, pgx.ErrNoRows) {
		return web.InvalidField("agency", "no agency %q in this office", sv.Agency)
	}
	return dbError(err, "save service "+sv.Code)
}

const serviceColumns = `s.id, s.office_id, a.code, a.name, s.code, s.audience, s.category, s.prefix, s.names, s.descriptions,
	s.what_to_bring, s.expected_handling_seconds, s.wait_target_seconds, s.active, s.sort_order`

func scanService(row pgx.Row) (*Service, error) {
	sv := &Service{}
	err := row.Scan(&sv.ID, &sv.OfficeID, &sv.Agency, &sv.AgencyName, &sv.Code, &sv.Audience, &sv.Category, &sv.Prefix,
		&sv.Names, &sv.Descriptions, &sv.WhatToBring, &sv.ExpectedHandlingSeconds, &sv.WaitTargetSeconds, &sv.Active,
		&sv.SortOrder)
	return sv, err
}

// Services lists an office's services (inactive ones too) in display order.
func (s *Store) Services(ctx context.Context, officeID int64) ([]*Service, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+serviceColumns+`
		FROM services s JOIN agencies a ON a.id = s.agency_id
		WHERE s.office_id = $1 ORDER BY s.audience <> 'citizen', s.sort_order, s.code`, officeID)
	if err != nil {
		return nil, fmt.Errorf("ticketing: list services: %w", err)
	}
	return collect(rows, scanService)
}

// ServiceByCode returns a service of an office; an unknown code is a 422 on the field "service".
func (s *Store) ServiceByCode(ctx context.Context, officeID int64, code string) (*Service, error) {
	sv, err := scanService(s.pool.QueryRow(ctx, `SELECT `+serviceColumns+`
		FROM services s JOIN agencies a ON a.id = s.agency_id WHERE s.office_id = $1 AND s.code = $2`, officeID, code))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, web.InvalidField("service", "no service %q in this office", code)
	}
	if err != nil {
		return nil, fmt.Errorf("ticketing: service %q: %w", code, err)
	}
	return sv, nil
}

// SkillGroups returns the skill groups of an office (the categories of its active services, "" left out)
// in order, with the mean expected handling time of each group's services in seconds.
func (s *Store) SkillGroups(ctx context.Context, officeID int64) ([]string, map[string]float64, error) {
	services, err := s.Services(ctx, officeID)
	if err != nil {
		return nil, nil, err
	}
	sum, n := map[string]float64{}, map[string]int{}
	var names []string
	for _, sv := range services {
		if !sv.Active || sv.Category == "" {
			continue
		}
		if n[sv.Category] == 0 {
			names = append(names, sv.Category)
		}
		sum[sv.Category] += float64(sv.ExpectedHandlingSeconds)
		n[sv.Category]++
	}
	slices.Sort(names)
	mean := make(map[string]float64, len(names))
	for _, g := range names {
		mean[g] = sum[g] / float64(n[g])
	}
	return names, mean, nil
}

// check names the first bad field of a desk; SaveDesk checks its services in its transaction.
func (d *Desk) check() error {
	switch {
	case d.Number < 1 || d.Number > 9999:
		return web.InvalidField("number", "number must be between 1 and 9999")
	case d.Name == "" || len(d.Name) > 100:
		return web.InvalidField("name", "name is required (at most 100 characters)")
	case !validAudience(d.Audience):
		return web.InvalidField("audience", "audience must be citizen or business")
	}
	return nil
}

// SaveDesk validates a desk, creates or updates it (by number) and replaces the set of services it may serve.
func (s *Store) SaveDesk(ctx context.Context, d *Desk) error {
	if err := d.check(); err != nil {
		return err
	}
	if d.Services == nil {
		d.Services = []string{}
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		err := tx.QueryRow(ctx, `
			INSERT INTO desks (office_id, number, name, audience, active) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (office_id, number) DO UPDATE SET name = EXCLUDED.name, audience = EXCLUDED.audience,
				active = EXCLUDED.active
			RETURNING id`, d.OfficeID, d.Number, d.Name, d.Audience, d.Active).Scan(&d.ID)
		if err != nil {
			return dbError(err, fmt.Sprintf("save desk %d", d.Number))
		}
		if _, err := tx.Exec(ctx, `DELETE FROM desk_services WHERE desk_id = $1`, d.ID); err != nil {
			return fmt.Errorf("ticketing: desk services: %w", err)
		}
		tag, err := tx.Exec(ctx, `
			INSERT INTO desk_services (desk_id, service_id)
			SELECT $1, id FROM services WHERE office_id = $2 AND code = ANY($3)`, d.ID, d.OfficeID, d.Services)
		if err != nil {
			return fmt.Errorf("ticketing: desk services: %w", err)
		}
		if int(tag.RowsAffected()) != len(d.Services) {
			return web.InvalidField("services", "some of the services %v are not in this office", d.Services)
		}
		return nil
	})
}

const deskColumns = `d.id, d.office_id, d.number, d.name, d.audience, d.active,
	coalesce((SELECT array_agg(s.code ORDER BY s.code) FROM desk_services ds JOIN services s ON s.id = ds.service_id
	          WHERE ds.desk_id = d.id), '{}')`

func scanDesk(row pgx.Row) (*Desk, error) {
	d := &Desk{}
	err := row.Scan(&d.ID, &d.OfficeID, &d.Number, &d.Name, &d.Audience, &d.Active, &d.Services)
	return d, err
}

// Desks lists an office's desks by number.
func (s *Store) Desks(ctx context.Context, officeID int64) ([]*Desk, error) {
	rows, err := s.pool.Query(ctx, `SELECT `+deskColumns+` FROM desks d WHERE d.office_id = $1 ORDER BY d.number`, officeID)
	if err != nil {
		return nil, fmt.Errorf("ticketing: list desks: %w", err)
	}
	return collect(rows, scanDesk)
}

// Desk returns a desk by id, or a 404 *web.Error.
func (s *Store) Desk(ctx context.Context, id int64) (*Desk, error) {
	d, err := scanDesk(s.pool.QueryRow(ctx, `SELECT `+deskColumns+` FROM desks d WHERE d.id = $1`, id))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, web.NotFound("unknown_desk", "no desk %d", id)
	}
	if err != nil {
		return nil, fmt.Errorf("ticketing: desk %d: %w", id, err)
	}
	return d, nil
}

// DeskByNumber returns the desk of an office with a number, or a 404 *web.Error.
func (s *Store) DeskByNumber(ctx context.Context, officeID int64, number int) (*Desk, error) {
	d, err := scanDesk(s.pool.QueryRow(ctx, `SELECT `+deskColumns+` FROM desks d WHERE d.office_id = $1 AND d.number = $2`, officeID, number))
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, web.NotFound("unknown_desk", "no desk %d in this office", number)
	}
	if err != nil {
		return nil, fmt.Errorf("ticketing: desk %d: %w", number, err)
	}
	return d, nil
}

// check names the first bad field of a priority category.
func (p *PriorityCategory) check() error {
	if err := checkTexts("labels", p.Labels, maxNameChars); err != nil {
		return err
	}
	switch {
	case !priorityCode.MatchString(p.Code):
		return web.InvalidField("code", "code must be 1–32 lowercase letters, digits, _ or -")
	case p.Labels["it"] == "":
		return web.InvalidField("labels", "an Italian label is required")
	case p.BonusSeconds < 0 || p.BonusSeconds > 86400:
		return web.InvalidField("bonus_seconds", "bonus_seconds must be between 0 and 86400")
	}
	return nil
}

// SavePriorityCategory validates a priority category and creates or updates it (by code).
func (s *Store) SavePriorityCategory(ctx context.Context, officeID int64, p *PriorityCategory) error {
	if err := p.check(); err != nil {
		return err
	}
	err := s.pool.QueryRow(ctx, `
		INSERT INTO priority_categories (office_id, code, labels, bonus_seconds, active) VALUES ($1, $2, $3, $4, $5)
		ON CONFLICT (office_id, code) DO UPDATE SET labels = EXCLUDED.labels, bonus_seconds = EXCLUDED.bonus_seconds,
			active = EXCLUDED.active
		RETURNING id`, officeID, p.Code, p.Labels, p.BonusSeconds, p.Active).Scan(&p.ID)
	return dbError(err, "save priority category "+p.Code)
}

// PriorityCategories lists an office's priority categories.
func (s *Store) PriorityCategories(ctx context.Context, officeID int64) ([]*PriorityCategory, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, code, labels, bonus_seconds, active FROM priority_categories
		WHERE office_id = $1 ORDER BY bonus_seconds DESC, code`, officeID)
	if err != nil {
		return nil, fmt.Errorf("ticketing: list priority categories: %w", err)
	}
	return collect(rows, func(row pgx.Row) (*PriorityCategory, error) {
		p := &PriorityCategory{}
		return p, row.Scan(&p.ID, &p.Code, &p.Labels, &p.BonusSeconds, &p.Active)
	})
}

// PriorityCategory returns an office's priority category by code, or a 404 *web.Error.
func (s *Store) PriorityCategory(ctx context.Context, officeID int64, code string) (*PriorityCategory, error) {
	list, err := s.PriorityCategories(ctx, officeID)
	if err != nil {
		return nil, err
	}
	for _, p := range list {
		if p.Code == code {
			return p, nil
		}
	}
	return nil, web.NotFound("unknown_priority", "no priority category %q in this office", code)
}

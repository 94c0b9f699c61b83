package insight

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"turno/internal/web"
	"turno/ticketing"
)

// StaffCosts gives the hourly cost of an office's staff from their contracts: cents of euro by staff id,
// for those whose contract sets a rate (the others cost the office's default). Scheduling implements it;
// cmd/turno wires it into Handler.Costs.
type StaffCosts interface {
	HourlyCosts(ctx context.Context, officeID int64) (map[int64]int, error)
}

// Statement is an office's per-agency accounting for one month (the office's local calendar month): one
// row per partner agency, and the totals, which are the sums of the rows and the office's whole month.
// Money is in euro cents, as integers.
type Statement struct {
	Month  string           `json:"month"` // YYYY-MM
	Office StatementOffice  `json:"office"`
	Rows   []StatementRow   `json:"rows"`
	Totals StatementFigures `json:"totals"`

	from time.Time // the month's first local day
}

// StatementOffice is the office a statement is about, with its default hourly rate.
type StatementOffice struct {
	Slug            string `json:"slug"`
	Name            string `json:"name"`
	TimeZone        string `json:"time_zone"`
	HourlyCostCents int    `json:"hourly_cost_cents"`
}

// StatementFigures are the figures of an agency's month, or of the office's (the totals).
//
// Tickets are the visits issued in the month whose first service is the agency's, whatever their outcome
// (served, no-show, cancelled, expired): the citizens who queued for it. Served are the segments operators
// served for its services (a visit transferred from another agency's service counts here for the segment
// served for this one). Seconds are the operators' time on those segments, each rounded to the second,
// and Minutes the same in minutes (to the hundredth). CostCents charges each segment's seconds at its
// operator's hourly rate, rounded to the cent (see docs/kpis.md, Agency accounting).
type StatementFigures struct {
	Tickets           int     `json:"tickets"`
	Served            int     `json:"served"`
	Seconds           int64   `json:"seconds"`
	Minutes           float64 `json:"minutes"`
	SharePct          float64 `json:"share_pct"` // of the office's operator time, to a tenth of a percent
	CostCents         int64   `json:"cost_cents"`
	ContributionCents int64   `json:"contribution_cents"`
	BalanceCents      int64   `json:"balance_cents"` // contribution − cost: negative when the office pays
}

// StatementRow is one agency's month: its figures, the agreed contribution terms and the breakdown by
// service.
type StatementRow struct {
	Agency                     string `json:"agency"` // the agency's code
	Name                       string `json:"name"`
	ContributionMonthlyCents   int64  `json:"contribution_monthly_cents"`
	ContributionPerTicketCents int64  `json:"contribution_per_ticket_cents"`
	StatementFigures
	Services []StatementService `json:"services"`
}

// StatementService is one service of an agency in the month: its tickets, served segments, time and cost.
type StatementService struct {
	Service   string  `json:"service"` // the service's code
	Name      string  `json:"name"`    // in Italian
	Tickets   int     `json:"tickets"`
	Served    int     `json:"served"`
	Seconds   int64   `json:"seconds"`
	Minutes   float64 `json:"minutes"`
	CostCents int64   `json:"cost_cents"`
}

// segmentCostSQL is one served segment's cost in cents: its whole seconds (rounded half up) times its
// operator's hourly rate in cents (the contract's, else the office's $3, also for segments without an
// operator), divided by 3600 and rounded half up — in integers, so that sums never drift.
const segmentCostSQL = `(floor(w.seconds + 0.5)::bigint * coalesce(r.cents, $3)::bigint * 2 + 3600) / 7200`

// agencyWorkSQL sums the served segments of an office's month [$2, $2 + 1 month) by agency and service.
const agencyWorkSQL = `
WITH r AS (SELECT * FROM unnest($4::bigint[], $5::int[]) AS r(staff_id, cents))
SELECT w.agency_id, w.service_id, count(*), sum(floor(w.seconds + 0.5))::bigint, sum(` + segmentCostSQL + `)::bigint
FROM visit_work w LEFT JOIN r ON r.staff_id = w.staff_id
WHERE w.office_id = $1 AND w.local_day >= $2 AND w.local_day < ($2::date + interval '1 month')::date
GROUP BY w.agency_id, w.service_id`

// agencyTicketsSQL counts the visits issued in an office's month by the agency and service they queued for.
const agencyTicketsSQL = `
SELECT v.agency_id, v.service_id, count(*)
FROM visits v
WHERE v.office_id = $1 AND v.local_day >= $2 AND v.local_day < ($2::date + interval '1 month')::date
GROUP BY v.agency_id, v.service_id`

// AgencyStatement computes an office's per-agency accounting for the month that begins on month (its
// first day; ParseMonth reads one), charging each operator's minutes at costs[staff id] cents an hour, or
// at the office's default rate for staff absent from costs and for segments without an operator. Every
// agency of the office has a row, by name, even without activity: its monthly contribution is still due.
func (s *Store) AgencyStatement(ctx context.Context, o *ticketing.Office, month time.Time, costs map[int64]int) (*Statement, error) {
	month = time.Date(month.Year(), month.Month(), 1, 0, 0, 0, 0, time.UTC)
	agencies, err := s.tickets.Agencies(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	services, err := s.tickets.Services(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	ids, rates := make([]int64, 0, len(costs)), make([]int32, 0, len(costs))
	for id, c := range costs {
		ids, rates = append(ids, id), append(rates, int32(c))
	}

	st := &Statement{
		Month:  month.Format("2006-01"),
		Office: StatementOffice{Slug: o.Slug, Name: o.Name, TimeZone: o.TimeZone, HourlyCostCents: o.HourlyCostCents},
		Rows:   []StatementRow{},
		from:   month,
	}
	rowIndex := map[int64]int{}
	for _, a := range agencies {
		rowIndex[a.ID] = len(st.Rows)
		st.Rows = append(st.Rows, StatementRow{Agency: a.Code, Name: a.Name, ContributionMonthlyCents: a.ContributionMonthlyCents,
			ContributionPerTicketCents: a.ContributionPerTicketCents, Services: []StatementService{}})
	}
	// row returns the agency's row (valid until the next call); an agency no longer in the catalogue still
	// gets one, so that the totals remain the office's.
	row := func(agencyID int64) *StatementRow {
		if i, ok := rowIndex[agencyID]; ok {
			return &st.Rows[i]
		}
		rowIndex[agencyID] = len(st.Rows)
		st.Rows = append(st.Rows, StatementRow{Agency: fmt.Sprintf("#%d", agencyID), Name: fmt.Sprintf("#%d", agencyID), Services: []StatementService{}})
		return &st.Rows[len(st.Rows)-1]
	}
	serviceByID := map[int64]*ticketing.Service{}
	for _, sv := range services {
		serviceByID[sv.ID] = sv
	}
	type key struct{ agency, service int64 }
	lines := map[key]*StatementService{}
	var order []key
	line := func(k key) *StatementService {
		if l, ok := lines[k]; ok {
			return l
		}
		l := &StatementService{Service: fmt.Sprintf("#%d", k.service), Name: fmt.Sprintf("#%d", k.service)}
		if sv := serviceByID[k.service]; sv != nil {
			l.Service, l.Name = sv.Code, sv.Name("it")
		}
		lines[k] = l
		order = append(order, k)
		return l
	}

	rows, err := s.reports.Query(ctx, agencyTicketsSQL, o.ID, month)
	if err != nil {
		return nil, fmt.Errorf("insight: agency tickets: %w", err)
	}
	for rows.Next() {
		var k key
		var n int
		if err := rows.Scan(&k.agency, &k.service, &n); err != nil {
			rows.Close()
			return nil, fmt.Errorf("insight: agency tickets: %w", err)
		}
		line(k).Tickets += n
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insight: agency tickets: %w", err)
	}
	rows, err = s.reports.Query(ctx, agencyWorkSQL, o.ID, month, o.HourlyCostCents, ids, rates)
	if err != nil {
		return nil, fmt.Errorf("insight: agency work: %w", err)
	}
	for rows.Next() {
		var k key
		var n int
		var secs, cost int64
		if err := rows.Scan(&k.agency, &k.service, &n, &secs, &cost); err != nil {
			rows.Close()
			return nil, fmt.Errorf("insight: agency work: %w", err)
		}
		l := line(k)
		l.Served, l.Seconds, l.CostCents = n, secs, cost
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insight: agency work: %w", err)
	}

	// Lines in the catalogue's display order (unknown services last), each added to its agency's row.
	rank := map[string]int{}
	for i, sv := range services {
		rank[sv.Code] = i + 1
	}
	slices.SortFunc(order, func(a, b key) int {
		ra, rb := rank[lines[a].Service], rank[lines[b].Service]
		if ra == 0 {
			ra = math.MaxInt
		}
		if rb == 0 {
			rb = math.MaxInt
		}
		return cmp.Or(cmp.Compare(ra, rb), cmp.Compare(a.service, b.service))
	})
	for _, k := range order {
		l := lines[k]
		l.Minutes = minutes(l.Seconds)
		r := row(k.agency)
		r.Services = append(r.Services, *l)
		r.Tickets += l.Tickets
		r.Served += l.Served
		r.Seconds += l.Seconds
		r.CostCents += l.CostCents
	}
	for i := range st.Rows {
		r := &st.Rows[i]
		r.ContributionCents = r.ContributionMonthlyCents + r.ContributionPerTicketCents*int64(r.Tickets)
		r.BalanceCents = r.ContributionCents - r.CostCents
		r.Minutes = minutes(r.Seconds)
		t := &st.Totals
		t.Tickets += r.Tickets
		t.Served += r.Served
		t.Seconds += r.Seconds
		t.CostCents += r.CostCents
		t.ContributionCents += r.ContributionCents
		t.BalanceCents += r.BalanceCents
	}
	st.Totals.Minutes = minutes(st.Totals.Seconds)
	for i := range st.Rows {
		st.Rows[i].SharePct = share(st.Rows[i].Seconds, st.Totals.Seconds)
	}
	st.Totals.SharePct = share(st.Totals.Seconds, st.Totals.Seconds)
	return st, nil
}

// minutes converts whole seconds to minutes, to the hundredth.
func minutes(secs int64) float64 { return math.Round(float64(secs)/60*100) / 100 }

// share is part of whole in percent, to a tenth; 0 when whole is 0.
func share(part, whole int64) float64 {
	if whole == 0 {
		return 0
	}
	return math.Round(float64(part)*1000/float64(whole)) / 10
}

// Row returns the statement's row of the agency with code, or nil.
func (st *Statement) Row(code string) *StatementRow {
	for i := range st.Rows {
		if st.Rows[i].Agency == code {
			return &st.Rows[i]
		}
	}
	return nil
}

// statementMonth reads the month of a statement request and refuses one that has not begun in the office:
// a 422 naming the field month.
func statementMonth(o *ticketing.Office, s string, now time.Time) (time.Time, error) {
	m, err := ParseMonth(s)
	if err != nil {
		return m, err
	}
	today := o.LocalDay(now)
	if m.After(time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC)) {
		return m, web.InvalidField("month", "month %s has not begun yet", s)
	}
	return m, nil
}

package insight

import (
	"context"
	"fmt"
	"math"
	"slices"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"turno/internal/web"
	"turno/ticketing"
)

// Group is how the statistics API groups visits.
type Group string

// The groups of the statistics API.
const (
	ByDay         Group = "day"
	ByHour        Group = "hour"
	ByWeekdayHour Group = "weekday_hour"
	ByService     Group = "service"
	ByAgency      Group = "agency"
	ByStaff       Group = "staff"
	ByDesk        Group = "desk"
)

// Groups lists every group, in the order the API documents them.
var Groups = []Group{ByDay, ByHour, ByWeekdayHour, ByService, ByAgency, ByStaff, ByDesk}

// MaxStatsDays is the longest period one statistics request may cover: a year and a bit, so that a
// year compared with the same weeks of the year before fits, and no request reads an unbounded history.
const MaxStatsDays = 400

// StatsNoneKey is the key of the row of visits that have no desk or operator (never called, or the operator
// anonymised by the purge) when grouping by desk or staff.
const StatsNoneKey = "none"

// StatsTotalKey is the key of the totals row.
const StatsTotalKey = "total"

// Query selects the visits a report is about: an office, local dates From to To (both included, at UTC
// midnight), optionally one service or agency (codes), grouped by Group.
type Query struct {
	Office  *ticketing.Office
	From    time.Time
	To      time.Time
	Group   Group
	Service string
	Agency  string
}

// Row is one group's KPIs (docs/kpis.md). Figures that have no data (a wait with no call) are null.
type Row struct {
	Key               string   `json:"key"`
	Label             string   `json:"label,omitempty"`
	Arrivals          int      `json:"arrivals"`
	Served            int      `json:"served"`
	NoShow            int      `json:"no_show"`
	Cancelled         int      `json:"cancelled"`
	Expired           int      `json:"expired"`
	Transferred       int      `json:"transferred"`
	WaitMeanSeconds   *float64 `json:"wait_mean_seconds"`
	WaitP50Seconds    *float64 `json:"wait_p50_seconds"`
	WaitP90Seconds    *float64 `json:"wait_p90_seconds"`
	WaitMaxSeconds    *float64 `json:"wait_max_seconds"`
	ServiceMeanSecs   *float64 `json:"service_mean_seconds"`
	ServiceP50Seconds *float64 `json:"service_p50_seconds"`
	ServiceP90Seconds *float64 `json:"service_p90_seconds"`
	WithinTargetPct   *float64 `json:"within_target_pct"`
	FeedbackCount     int      `json:"feedback_count"`
	FeedbackMean      *float64 `json:"feedback_mean"`
	// Appointments are the booked channel's figures: in the totals, and in each day's row by day.
	Appointments *AppointmentFigures `json:"appointments,omitempty"`
}

// Stats is a report: one row per group and the totals over all of them.
type Stats struct {
	Office string `json:"office"`
	From   string `json:"from"`
	To     string `json:"to"`
	Group  Group  `json:"group"`
	Rows   []Row  `json:"rows"`
	Totals Row    `json:"totals"`
}

// statsGroupKeys is the SQL expression each group keys a visit by: a number, which Stats turns into the
// row's key and label with the catalogue. A visit without desk or operator keys as 0.
var statsGroupKeys = map[Group]string{
	ByDay:         `(v.local_day - date '1970-01-01')::bigint`,
	ByHour:        `v.local_hour::bigint`,
	ByWeekdayHour: `(v.weekday * 100 + v.local_hour)::bigint`,
	ByService:     `v.service_id`,
	ByAgency:      `v.agency_id`,
	ByStaff:       `coalesce(v.staff_id, 0)`,
	ByDesk:        `coalesce(v.desk_id, 0)`,
}

// statsSQL counts, per group (%s is the group's key expression), what the KPIs of docs/kpis.md are made
// of, and hands over each group's waits and service times as arrays; Stats computes the means,
// percentiles and totals from them in Go. $1 office, $2 and $3 the local dates,
// $4 and $5 a service and an agency id (0: any). Aggregating in Go rather than with percentile_cont per
// group is what keeps a year of one office under a second: PostgreSQL sorts each group's waits and
// service times in its own tuplesort and the totals once more (measured on `turno bench stats` data: 560
// ms of a 670 ms year report), where a hash aggregate and one sort of each group's figures in Go take a
// fraction of that. Arrays, not a row per visit: 240,000 rows cost more to send than to count.
const statsSQL = `
SELECT %s AS k, ` + accColumns + `
FROM visits v LEFT JOIN feedback f ON f.last_ticket_id = v.last_ticket_id
WHERE v.office_id = $1 AND v.local_day BETWEEN $2::date AND $3::date
  AND ($4::bigint = 0 OR v.service_id = $4) AND ($5::bigint = 0 OR v.agency_id = $5)
GROUP BY k`

// accColumns are the aggregates of a group of visits (v) with their feedback (f) that a statsAcc is made
// of, in the order scan reads them. Every report that gives the KPIs of docs/kpis.md (the statistics API,
// the network comparison and export) selects them and computes the figures with statsAcc.row.
const accColumns = `count(*),
	count(*) FILTER (WHERE v.outcome = 'done'), count(*) FILTER (WHERE v.outcome = 'no_show'),
	count(*) FILTER (WHERE v.outcome = 'cancelled'), count(*) FILTER (WHERE v.outcome = 'expired'),
	count(*) FILTER (WHERE v.transfers > 0),
	coalesce(array_agg(v.wait_seconds) FILTER (WHERE v.wait_seconds IS NOT NULL), '{}'),
	coalesce(array_agg(v.service_seconds) FILTER (WHERE v.service_seconds IS NOT NULL), '{}'),
	count(*) FILTER (WHERE v.within_target), count(v.within_target),
	coalesce(sum(f.score), 0), count(f.score)`

// statsAcc gathers one group's visits.
type statsAcc struct {
	outcomes            [4]int // done, no_show, cancelled, expired
	arrivals, transfers int
	waits, services     []float64
	within, withinN     int
	scoreSum, scoreN    int
}

// scanAcc reads a row whose last columns are accColumns; keys receive the columns before them.
func scanAcc(row pgx.Row, keys ...any) (*statsAcc, error) {
	a := &statsAcc{}
	err := row.Scan(append(keys, &a.arrivals, &a.outcomes[0], &a.outcomes[1], &a.outcomes[2], &a.outcomes[3], &a.transfers,
		&a.waits, &a.services, &a.within, &a.withinN, &a.scoreSum, &a.scoreN)...)
	return a, err
}

// merge adds another group's visits to a (the totals are every group merged).
func (a *statsAcc) merge(b *statsAcc) {
	for i := range a.outcomes {
		a.outcomes[i] += b.outcomes[i]
	}
	a.arrivals += b.arrivals
	a.transfers += b.transfers
	a.waits = append(a.waits, b.waits...)
	a.services = append(a.services, b.services...)
	a.within += b.within
	a.withinN += b.withinN
	a.scoreSum += b.scoreSum
	a.scoreN += b.scoreN
}

func sum(xs []float64) float64 {
	var t float64
	for _, x := range xs {
		t += x
	}
	return t
}

// row turns the group's visits into its KPIs, rounded as the API gives them.
func (a *statsAcc) row() Row {
	r := Row{Arrivals: a.arrivals, Served: a.outcomes[0], NoShow: a.outcomes[1], Cancelled: a.outcomes[2],
		Expired: a.outcomes[3], Transferred: a.transfers, FeedbackCount: a.scoreN}
	if n := len(a.waits); n > 0 {
		slices.Sort(a.waits)
		r.WaitMeanSeconds = ptr(sum(a.waits) / float64(n))
		r.WaitP50Seconds, r.WaitP90Seconds = ptr(percentileCont(a.waits, 0.5)), ptr(percentileCont(a.waits, 0.9))
		r.WaitMaxSeconds = ptr(a.waits[n-1])
	}
	if n := len(a.services); n > 0 {
		slices.Sort(a.services)
		r.ServiceMeanSecs = ptr(sum(a.services) / float64(n))
		r.ServiceP50Seconds, r.ServiceP90Seconds = ptr(percentileCont(a.services, 0.5)), ptr(percentileCont(a.services, 0.9))
	}
	if a.withinN > 0 {
		r.WithinTargetPct = ptr(100 * float64(a.within) / float64(a.withinN))
	}
	if a.scoreN > 0 {
		r.FeedbackMean = ptr(float64(a.scoreSum) / float64(a.scoreN))
	}
	r.round()
	return r
}

// percentileCont is PostgreSQL's percentile_cont over sorted values: linear interpolation between the
// two values around position p × (n − 1), computed as PostgreSQL computes it.
func percentileCont(sorted []float64, p float64) float64 {
	pos := p * float64(len(sorted)-1)
	lo := math.Floor(pos)
	first, second := sorted[int(lo)], sorted[int(math.Ceil(pos))]
	return first + (second-first)*(pos-lo)
}

func ptr(f float64) *float64 { return &f }

// statsCatalogue names what a report's rows are about: services, agencies, staff and desks by id, and the
// order their rows come in.
type statsCatalogue struct {
	services map[int64]*ticketing.Service
	agencies map[int64]*ticketing.Agency
	staff    map[int64]*ticketing.Staff
	desks    map[int64]*ticketing.Desk
	order    map[int64]int // id → place in the owner's listing (services in display order, agencies and staff by name, desks by number)
}

// check validates a query and resolves its service and agency filters to ids. Figures per operator
// are refused while the office shows staff figures only aggregated.
func (q *Query) check(cat *statsCatalogue) (service, agency int64, err error) {
	if _, ok := statsGroupKeys[q.Group]; !ok {
		return 0, 0, web.InvalidField("group", "group must be one of day, hour, weekday_hour, service, agency, staff, desk")
	}
	if q.To.Before(q.From) {
		return 0, 0, web.InvalidField("to", "to must not be before from")
	}
	if days := int(q.To.Sub(q.From).Hours()/24) + 1; days > MaxStatsDays {
		return 0, 0, web.InvalidField("to", "the period has %d days; statistics cover at most %d days", days, MaxStatsDays)
	}
	if q.Group == ByStaff && q.Office.StaffFiguresAggregated {
		return 0, 0, web.Forbidden("staff_figures_aggregated",
			"this office shows figures about its staff only aggregated; a manager can change this in the office settings")
	}
	if q.Service != "" {
		for id, sv := range cat.services {
			if sv.Code == q.Service {
				service = id
			}
		}
		if service == 0 {
			return 0, 0, web.InvalidField("service", "no service %q in this office", q.Service)
		}
	}
	if q.Agency != "" {
		for id, a := range cat.agencies {
			if a.Code == q.Agency {
				agency = id
			}
		}
		if agency == 0 {
			return 0, 0, web.InvalidField("agency", "no agency %q in this office", q.Agency)
		}
	}
	return service, agency, nil
}

// loadCatalogue reads, through ticketing, what the rows of a group need to be named.
func (s *Store) loadCatalogue(ctx context.Context, officeID int64, g Group) (*statsCatalogue, error) {
	cat := &statsCatalogue{services: map[int64]*ticketing.Service{}, agencies: map[int64]*ticketing.Agency{},
		staff: map[int64]*ticketing.Staff{}, desks: map[int64]*ticketing.Desk{}, order: map[int64]int{}}
	services, err := s.tickets.Services(ctx, officeID)
	if err != nil {
		return nil, err
	}
	agencies, err := s.tickets.Agencies(ctx, officeID)
	if err != nil {
		return nil, err
	}
	for i, sv := range services {
		cat.services[sv.ID] = sv
		if g == ByService {
			cat.order[sv.ID] = i
		}
	}
	for i, a := range agencies {
		cat.agencies[a.ID] = a
		if g == ByAgency {
			cat.order[a.ID] = i
		}
	}
	switch g {
	case ByStaff:
		staff, err := s.tickets.StaffList(ctx, officeID)
		if err != nil {
			return nil, err
		}
		for i, st := range staff {
			cat.staff[st.ID], cat.order[st.ID] = st, i
		}
	case ByDesk:
		desks, err := s.tickets.Desks(ctx, officeID)
		if err != nil {
			return nil, err
		}
		for i, d := range desks {
			cat.desks[d.ID], cat.order[d.ID] = d, i
		}
	}
	return cat, nil
}

// name returns a group key's row key and label: dates, hours and weekday-hours in the office's local
// time, services and agencies by code with their (Italian) name, staff by code and name, desks by
// number and name.
func (cat *statsCatalogue) name(g Group, k int64) (key, label string) {
	switch g {
	case ByDay:
		return time.Unix(k*86400, 0).UTC().Format(time.DateOnly), ""
	case ByHour:
		return fmt.Sprintf("%02d", k), ""
	case ByWeekdayHour:
		return fmt.Sprintf("%d-%02d", k/100, k%100), ""
	case ByService:
		if sv := cat.services[k]; sv != nil {
			return sv.Code, sv.Name("it")
		}
	case ByAgency:
		if a := cat.agencies[k]; a != nil {
			return a.Code, a.Name
		}
	case ByStaff:
		if k == 0 {
			return StatsNoneKey, ""
		}
		if st := cat.staff[k]; st != nil {
			return st.Code, st.FullName
		}
	case ByDesk:
		if k == 0 {
			return StatsNoneKey, ""
		}
		if d := cat.desks[k]; d != nil {
			return strconv.Itoa(d.Number), d.Name
		}
	}
	return strconv.FormatInt(k, 10), "" // no longer in the statsCatalogue: its id
}

// Stats computes the KPIs of the visits q selects from the visits rollup, on the reports pool. Rows
// come in the group's natural order (days, hours and weekday-hours ascending; services in display
// order, agencies and staff by name, desks by number; the row without desk or operator last) and only
// for groups that have visits. Seconds and percentages are rounded to one decimal, feedback means to
// two. Bad queries are 422 *web.Errors naming the field; staff figures of an office that shows them
// only aggregated are a 403.
func (s *Store) Stats(ctx context.Context, q Query) (*Stats, error) {
	cat, err := s.loadCatalogue(ctx, q.Office.ID, q.Group)
	if err != nil {
		return nil, err
	}
	service, agency, err := q.check(cat)
	if err != nil {
		return nil, err
	}
	out := &Stats{Office: q.Office.Slug, From: q.From.Format(time.DateOnly), To: q.To.Format(time.DateOnly), Group: q.Group,
		Rows: []Row{}, Totals: Row{Key: StatsTotalKey}}
	var keys []int64
	groups := map[int64]*statsAcc{}
	var total statsAcc
	err = s.report(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, fmt.Sprintf(statsSQL, statsGroupKeys[q.Group]), q.Office.ID, q.From, q.To, service, agency)
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var k int64
			g, err := scanAcc(rows, &k)
			if err != nil {
				return err
			}
			groups[k] = g
			total.merge(g)
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("insight: stats: %w", err)
	}
	for k, g := range groups {
		r := g.row()
		r.Key, r.Label = cat.name(q.Group, k)
		out.Rows, keys = append(out.Rows, r), append(keys, k)
	}
	out.Totals = total.row()
	out.Totals.Key = StatsTotalKey
	sortStatsRows(q.Group, cat, out.Rows, keys)
	return out, nil
}

// sortStatsRows puts rows (with their group keys) in the group's order.
func sortStatsRows(g Group, cat *statsCatalogue, rows []Row, keys []int64) {
	idx := make([]int, len(rows))
	for i := range idx {
		idx[i] = i
	}
	rank := func(k int64) (int, int64) {
		switch g {
		case ByDay, ByHour, ByWeekdayHour:
			return 0, k
		}
		if k == 0 {
			return 2, 0 // no desk or operator: last
		}
		if o, ok := cat.order[k]; ok {
			return 0, int64(o)
		}
		return 1, k // gone from the statsCatalogue: after the ones that are in it
	}
	slices.SortStableFunc(idx, func(a, b int) int {
		ra, oa := rank(keys[a])
		rb, ob := rank(keys[b])
		if ra != rb {
			return ra - rb
		}
		return int(oa - ob)
	})
	sorted := make([]Row, len(rows))
	for i, j := range idx {
		sorted[i] = rows[j]
	}
	copy(rows, sorted)
}

// round rounds a row's seconds and percentage to 0.1, and its feedback mean to 0.01: finer figures
// would only show the noise of the clock.
func (r *Row) round() {
	for _, p := range []*float64{r.WaitMeanSeconds, r.WaitP50Seconds, r.WaitP90Seconds, r.WaitMaxSeconds,
		r.ServiceMeanSecs, r.ServiceP50Seconds, r.ServiceP90Seconds, r.WithinTargetPct} {
		if p != nil {
			*p = math.Round(*p*10) / 10
		}
	}
	if r.FeedbackMean != nil {
		*r.FeedbackMean = math.Round(*r.FeedbackMean*100) / 100
	}
}

// PurgeStaff forgets which operator called and served the visits issued before cutoff, in visits and
// visit_work: who served whom is personal data about workers, kept no longer than the tickets keep it
// (ticketing's purge anonymises tickets issued before the same cutoff). The figures stay, counted under
// no operator. It is a ticketing.PurgeStep and returns the rows changed.
func (s *Store) PurgeStaff(ctx context.Context, officeID int64, cutoff, _ time.Time) (int64, error) {
	var n int64
	tx, err := s.pool.Begin(ctx)
	if err != nil {
		return 0, fmt.Errorf("insight: purge staff: %w", err)
	}
	defer func() { _ = tx.Rollback(ctx) }()
	tag, err := tx.Exec(ctx, `UPDATE visit_work w SET staff_id = NULL FROM visits v
		WHERE v.last_ticket_id = w.last_ticket_id AND v.office_id = $1 AND v.issued_at < $2 AND w.staff_id IS NOT NULL`, officeID, cutoff)
	if err != nil {
		return 0, fmt.Errorf("insight: purge staff: %w", err)
	}
	n += tag.RowsAffected()
	tag, err = tx.Exec(ctx, `UPDATE visits SET staff_id = NULL WHERE office_id = $1 AND issued_at < $2 AND staff_id IS NOT NULL`,
		officeID, cutoff)
	if err != nil {
		return 0, fmt.Errorf("insight: purge staff: %w", err)
	}
	n += tag.RowsAffected()
	return n, tx.Commit(ctx)
}

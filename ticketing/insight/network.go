package insight

import (
	"context"
	"fmt"
	"maps"
	"math"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"time"

	"github.com/jackc/pgx/v5"

	"turno/internal/web"
	"turno/ticketing"
)

// ExportSchemaVersion is the version of the network export format (docs/kpis.md, "Network export, schema
// version 1"). An import refuses any other version.
const ExportSchemaVersion = 1

// Export is one office's month as it travels between installations for network benchmarking: the office's
// public label and time zone and the month's KPIs, with no personal data (no citizen, no operator, no
// ticket number).
type Export struct {
	SchemaVersion int          `json:"schema_version"`
	Installation  string       `json:"installation"`
	Office        ExportOffice `json:"office"`
	Month         string       `json:"month"` // YYYY-MM
	KPIs          ExportKPIs   `json:"kpis"`
}

// ExportOffice is what an export says about the office: its public name and its time zone.
type ExportOffice struct {
	Label    string `json:"label"`
	TimeZone string `json:"time_zone"`
}

// NetworkKPIs are the figures offices are compared by, defined as for the statistics API (docs/kpis.md):
// visits by their first issue's local day, outcomes of the visit's last ticket, wait from issue to the
// first call, service time over all served segments.
type NetworkKPIs struct {
	Arrivals          int      `json:"arrivals"`
	Served            int      `json:"served"`
	NoShow            int      `json:"no_show"`
	Cancelled         int      `json:"cancelled"`
	Expired           int      `json:"expired"`
	Transferred       int      `json:"transferred"`
	WaitMeanSeconds   *float64 `json:"wait_mean_seconds"`
	WaitP50Seconds    *float64 `json:"wait_p50_seconds"`
	WaitP90Seconds    *float64 `json:"wait_p90_seconds"`
	ServiceP50Seconds *float64 `json:"service_p50_seconds"`
	ServiceP90Seconds *float64 `json:"service_p90_seconds"`
	WithinTargetPct   *float64 `json:"within_target_pct"`
	FeedbackCount     int      `json:"feedback_count"`
	FeedbackMean      *float64 `json:"feedback_mean"`
}

// ExportKPIs are the month's totals and the same figures per ISO weekday of issue and per service
// category (the skill group of the visit's first service; categories are named by each installation).
type ExportKPIs struct {
	NetworkKPIs
	ByWeekday  []KeyedKPIs `json:"by_weekday"`
	ByCategory []KeyedKPIs `json:"by_category"`
}

// KeyedKPIs are the figures of one weekday ("1" = Monday … "7") or one category.
type KeyedKPIs struct {
	Key string `json:"key"`
	NetworkKPIs
}

// ParseMonth reads a month "YYYY-MM" (2000–2100) and returns its first day at UTC midnight; a missing or
// malformed one is a 422 naming the field month.
func ParseMonth(s string) (time.Time, error) {
	if s == "" {
		return time.Time{}, web.InvalidField("month", "month is required, as YYYY-MM")
	}
	m, err := time.Parse("2006-01", s)
	if err != nil || m.Year() < 2000 || m.Year() > 2100 {
		return time.Time{}, web.InvalidField("month", "month %q is not a month like 2026-10", s)
	}
	return m, nil
}

// networkSQL reads, per office, ISO weekday of issue and first service, the aggregates of a month's
// visits (local days [$2, $3)) that statsAcc computes the KPIs from, as the statistics API does: the same
// definitions, the same code.
const networkSQL = `
SELECT v.office_id, v.weekday, v.service_id, ` + accColumns + `
FROM visits v LEFT JOIN feedback f ON f.last_ticket_id = v.last_ticket_id
WHERE v.office_id = ANY($1) AND v.local_day >= $2 AND v.local_day < $3
GROUP BY 1, 2, 3`

// officeMonth is one office's month: the totals, and per weekday and category when asked for.
type officeMonth struct {
	totals     NetworkKPIs
	byWeekday  []KeyedKPIs
	byCategory []KeyedKPIs
}

// monthKPIs computes the month starting at month for each of offices, from the reports pool. detail adds
// the weekday and category breakdowns (which need the offices' catalogues).
func (s *Store) monthKPIs(ctx context.Context, offices []*ticketing.Office, month time.Time, detail bool) (map[int64]*officeMonth, error) {
	ids := make([]int64, len(offices))
	category := map[int64]string{}
	for i, o := range offices {
		ids[i] = o.ID
		if !detail {
			continue
		}
		svcs, err := s.tickets.Services(ctx, o.ID)
		if err != nil {
			return nil, err
		}
		for _, sv := range svcs {
			category[sv.ID] = sv.Category
		}
	}
	type groups struct {
		total      statsAcc
		byWeekday  map[int]*statsAcc
		byCategory map[string]*statsAcc
	}
	acc := map[int64]*groups{}
	for _, id := range ids {
		acc[id] = &groups{byWeekday: map[int]*statsAcc{}, byCategory: map[string]*statsAcc{}}
	}
	into := func(m map[string]*statsAcc, k string) *statsAcc {
		if m[k] == nil {
			m[k] = &statsAcc{}
		}
		return m[k]
	}
	err := s.report(ctx, func(tx pgx.Tx) error {
		rows, err := tx.Query(ctx, networkSQL, ids, month, month.AddDate(0, 1, 0))
		if err != nil {
			return err
		}
		defer rows.Close()
		for rows.Next() {
			var office, service int64
			var weekday int
			a, err := scanAcc(rows, &office, &weekday, &service)
			if err != nil {
				return err
			}
			g := acc[office]
			g.total.merge(a)
			if detail {
				if g.byWeekday[weekday] == nil {
					g.byWeekday[weekday] = &statsAcc{}
				}
				g.byWeekday[weekday].merge(a)
				into(g.byCategory, category[service]).merge(a)
			}
		}
		return rows.Err()
	})
	if err != nil {
		return nil, fmt.Errorf("insight: network month: %w", err)
	}
	out := map[int64]*officeMonth{}
	for id, g := range acc {
		m := &officeMonth{totals: g.total.row().network()}
		for wd := 1; wd <= 7; wd++ {
			if a := g.byWeekday[wd]; a != nil {
				m.byWeekday = append(m.byWeekday, KeyedKPIs{Key: strconv.Itoa(wd), NetworkKPIs: a.row().network()})
			}
		}
		cats := slices.Sorted(maps.Keys(g.byCategory))
		for _, c := range cats {
			m.byCategory = append(m.byCategory, KeyedKPIs{Key: c, NetworkKPIs: g.byCategory[c].row().network()})
		}
		out[id] = m
	}
	return out, nil
}

// network is the part of a statistics row the network export and comparison carry (already rounded).
func (r Row) network() NetworkKPIs {
	return NetworkKPIs{Arrivals: r.Arrivals, Served: r.Served, NoShow: r.NoShow, Cancelled: r.Cancelled,
		Expired: r.Expired, Transferred: r.Transferred, WaitMeanSeconds: r.WaitMeanSeconds,
		WaitP50Seconds: r.WaitP50Seconds, WaitP90Seconds: r.WaitP90Seconds, ServiceP50Seconds: r.ServiceP50Seconds,
		ServiceP90Seconds: r.ServiceP90Seconds, WithinTargetPct: r.WithinTargetPct, FeedbackCount: r.FeedbackCount,
		FeedbackMean: r.FeedbackMean}
}

// InstallationOf names this installation in exports and in the network comparison: the host of the
// public base URL.
func InstallationOf(baseURL string) string {
	if u, err := url.Parse(baseURL); err == nil && u.Host != "" {
		return u.Host
	}
	return baseURL
}

// Export returns an office's month in the network export format.
func (s *Store) Export(ctx context.Context, installation string, o *ticketing.Office, month time.Time) (*Export, error) {
	ms, err := s.monthKPIs(ctx, []*ticketing.Office{o}, month, true)
	if err != nil {
		return nil, err
	}
	m := ms[o.ID]
	e := &Export{SchemaVersion: ExportSchemaVersion, Installation: installation,
		Office: ExportOffice{Label: o.Name, TimeZone: o.TimeZone}, Month: month.Format("2006-01"),
		KPIs: ExportKPIs{NetworkKPIs: m.totals, ByWeekday: m.byWeekday, ByCategory: m.byCategory}}
	if e.KPIs.ByWeekday == nil {
		e.KPIs.ByWeekday = []KeyedKPIs{}
	}
	if e.KPIs.ByCategory == nil {
		e.KPIs.ByCategory = []KeyedKPIs{}
	}
	return e, nil
}

// SaveImports stores other installations' exports, replacing an earlier import of the same installation,
// office and month. The exports must have passed ValidateExport.
func (s *Store) SaveImports(ctx context.Context, exports []Export) error {
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		for _, e := range exports {
			month, _ := time.Parse("2006-01", e.Month)
			if _, err := tx.Exec(ctx, `
				INSERT INTO benchmark_imports (installation, office_label, month, schema_version, data)
				VALUES ($1, $2, $3, $4, $5)
				ON CONFLICT (installation, office_label, month)
				DO UPDATE SET schema_version = EXCLUDED.schema_version, data = EXCLUDED.data, imported_at = now()`,
				e.Installation, e.Office.Label, month, e.SchemaVersion, e); err != nil {
				return fmt.Errorf("insight: save import: %w", err)
			}
		}
		return nil
	})
}

// imports returns the exports imported for a month, except this installation's own (its offices are
// computed live).
func (s *Store) imports(ctx context.Context, installation string, month time.Time) ([]Export, error) {
	rows, err := s.reports.Query(ctx, `SELECT data FROM benchmark_imports WHERE month = $1 AND installation <> $2
		ORDER BY installation, office_label`, month, installation)
	if err != nil {
		return nil, fmt.Errorf("insight: imports: %w", err)
	}
	out, err := pgx.CollectRows(rows, pgx.RowTo[Export])
	if err != nil {
		return nil, fmt.Errorf("insight: imports: %w", err)
	}
	return out, nil
}

// Better says which way a KPI improves: "lower", "higher", or "" for a figure that is not ranked (the
// volume of an office, or service time, which depends on the mix of services more than on the office).
type Better string

// The directions of Better.
const (
	Lower     Better = "lower"
	Higher    Better = "higher"
	NotRanked Better = ""
)

// ComparedKPI is one column of the network comparison.
type ComparedKPI struct {
	Key    string `json:"key"`
	Better Better `json:"better"`
}

// comparedKPIs are the comparison's columns, in order, with the direction each improves in. Counts
// depend on an office's size, so the shares (no-show, expired) are ranked instead.
var comparedKPIs = []ComparedKPI{
	{"arrivals", NotRanked},
	{"served", NotRanked},
	{"no_show_pct", Lower},
	{"expired_pct", Lower},
	{"wait_mean_seconds", Lower},
	{"wait_p50_seconds", Lower},
	{"wait_p90_seconds", Lower},
	{"service_p50_seconds", NotRanked},
	{"service_p90_seconds", NotRanked},
	{"within_target_pct", Higher},
	{"feedback_mean", Higher},
}

// values flattens k into the comparison's columns.
func (k NetworkKPIs) values() map[string]*float64 {
	f := func(n int) *float64 { x := float64(n); return &x }
	share := func(n int) *float64 {
		if k.Arrivals == 0 {
			return nil
		}
		x := math.Round(1000*float64(n)/float64(k.Arrivals)) / 10
		return &x
	}
	return map[string]*float64{
		"arrivals": f(k.Arrivals), "served": f(k.Served), "no_show_pct": share(k.NoShow), "expired_pct": share(k.Expired),
		"wait_mean_seconds": k.WaitMeanSeconds, "wait_p50_seconds": k.WaitP50Seconds, "wait_p90_seconds": k.WaitP90Seconds,
		"service_p50_seconds": k.ServiceP50Seconds, "service_p90_seconds": k.ServiceP90Seconds,
		"within_target_pct": k.WithinTargetPct, "feedback_mean": k.FeedbackMean,
	}
}

// ComparedOffice is one office of the comparison: this installation's (Local, with its Slug) or imported.
type ComparedOffice struct {
	Installation string              `json:"installation"`
	Label        string              `json:"label"`
	Local        bool                `json:"local"`
	Slug         string              `json:"slug,omitempty"`
	Values       map[string]*float64 `json:"values"`
	Ranks        map[string]*int     `json:"ranks"`
}

// Comparison is the network benchmark of a month: the offices side by side, the network median of each
// KPI and each office's rank (1 = best).
type Comparison struct {
	Month   string              `json:"month"`
	KPIs    []ComparedKPI       `json:"kpis"`
	Offices []ComparedOffice    `json:"offices"`
	Median  map[string]*float64 `json:"median"`
}

// Compare puts offices side by side: for each KPI the median over the offices that have it and each
// office's rank among them (1 = best, ties share the better rank); an office without the figure has no
// rank.
func Compare(month string, offices []ComparedOffice) *Comparison {
	c := &Comparison{Month: month, KPIs: comparedKPIs, Offices: offices, Median: map[string]*float64{}}
	for i := range c.Offices {
		c.Offices[i].Ranks = map[string]*int{}
	}
	for _, k := range comparedKPIs {
		var vs []float64
		for _, o := range c.Offices {
			if v := o.Values[k.Key]; v != nil {
				vs = append(vs, *v)
			}
		}
		c.Median[k.Key] = median(vs)
		for i := range c.Offices {
			v := c.Offices[i].Values[k.Key]
			if k.Better == NotRanked || v == nil {
				c.Offices[i].Ranks[k.Key] = nil
				continue
			}
			rank := 1
			for _, w := range vs {
				if (k.Better == Lower && w < *v) || (k.Better == Higher && w > *v) {
					rank++
				}
			}
			c.Offices[i].Ranks[k.Key] = &rank
		}
	}
	return c
}

// median is the middle value (the mean of the two middle ones for an even count), nil for none.
func median(vs []float64) *float64 {
	if len(vs) == 0 {
		return nil
	}
	s := append([]float64(nil), vs...)
	sort.Float64s(s)
	m := s[len(s)/2]
	if len(s)%2 == 0 {
		m = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	m = math.Round(m*100) / 100
	return &m
}

// Network compares, for a month, every office of this installation (computed from its visits) with the
// offices imported from other installations.
func (s *Store) Network(ctx context.Context, installation string, month time.Time) (*Comparison, error) {
	offices, err := s.tickets.Offices(ctx)
	if err != nil {
		return nil, err
	}
	totals, err := s.monthTotals(ctx, offices, month)
	if err != nil {
		return nil, err
	}
	var out []ComparedOffice
	for _, o := range offices {
		out = append(out, ComparedOffice{Installation: installation, Label: o.Name, Local: true, Slug: o.Slug,
			Values: totals[o.ID].values()})
	}
	imported, err := s.imports(ctx, installation, month)
	if err != nil {
		return nil, err
	}
	for _, e := range imported {
		out = append(out, ComparedOffice{Installation: e.Installation, Label: e.Office.Label, Values: e.KPIs.NetworkKPIs.values()})
	}
	if out == nil {
		out = []ComparedOffice{}
	}
	return Compare(month.Format("2006-01"), out), nil
}

// monthTotals returns each office's totals of a month, from network_months where they were computed from
// as many visits and ratings as the month has now, else from the visits (and kept in network_months for
// the next request). Counting a month's visits reads only the office and day index; computing them
// reads and sorts every visit.
func (s *Store) monthTotals(ctx context.Context, offices []*ticketing.Office, month time.Time) (map[int64]NetworkKPIs, error) {
	ids := make([]int64, len(offices))
	for i, o := range offices {
		ids[i] = o.ID
	}
	end := month.AddDate(0, 1, 0)
	rows, err := s.reports.Query(ctx, `
		WITH v AS (SELECT office_id, count(*) AS n FROM visits
			WHERE office_id = ANY($1) AND local_day >= $2 AND local_day < $3 GROUP BY office_id),
		f AS (SELECT office_id, count(*) AS n FROM feedback
			WHERE office_id = ANY($1) AND local_day >= $2 AND local_day < $3 GROUP BY office_id)
		SELECT o.id, coalesce(v.n, 0), coalesce(f.n, 0), m.kpis
		FROM unnest($1::bigint[]) AS o(id)
		LEFT JOIN v ON v.office_id = o.id LEFT JOIN f ON f.office_id = o.id
		LEFT JOIN network_months m ON m.office_id = o.id AND m.month = $2 AND m.visits = coalesce(v.n, 0)
			AND m.ratings = coalesce(f.n, 0)`, ids, month, end)
	if err != nil {
		return nil, fmt.Errorf("insight: network months: %w", err)
	}
	out := map[int64]NetworkKPIs{}
	counts := map[int64][2]int64{}
	var stale []*ticketing.Office
	byID := map[int64]*ticketing.Office{}
	for _, o := range offices {
		byID[o.ID] = o
	}
	for rows.Next() {
		var id, visits, ratings int64
		var kpis *NetworkKPIs
		if err := rows.Scan(&id, &visits, &ratings, &kpis); err != nil {
			rows.Close()
			return nil, fmt.Errorf("insight: network months: %w", err)
		}
		switch {
		case kpis != nil:
			out[id] = *kpis
		case visits == 0:
			out[id] = NetworkKPIs{} // nothing to compute or keep
		default:
			stale, counts[id] = append(stale, byID[id]), [2]int64{visits, ratings}
		}
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("insight: network months: %w", err)
	}
	if len(stale) == 0 {
		return out, nil
	}
	ms, err := s.monthKPIs(ctx, stale, month, false)
	if err != nil {
		return nil, err
	}
	batch := &pgx.Batch{}
	for _, o := range stale {
		k := ms[o.ID].totals
		out[o.ID] = k
		c := counts[o.ID]
		batch.Queue(`INSERT INTO network_months (office_id, month, visits, ratings, kpis) VALUES ($1, $2, $3, $4, $5)
			ON CONFLICT (office_id, month) DO UPDATE SET visits = EXCLUDED.visits, ratings = EXCLUDED.ratings,
				kpis = EXCLUDED.kpis, computed_at = now()`, o.ID, month, c[0], c[1], k)
	}
	// The figures are kept on the primary (a replica is read only); with a replica they were computed from
	// its counts, which the next request compares again.
	if err := s.pool.SendBatch(ctx, batch).Close(); err != nil {
		return nil, fmt.Errorf("insight: keep network months: %w", err)
	}
	return out, nil
}

package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"math"
	"math/rand/v2"
	"net/http"
	"slices"
	"time"

	"turno/cmd/turno/demo"
	"turno/internal/auth"
	"turno/internal/database"
	"turno/migrations"
	"turno/ticketing"
	"turno/ticketing/insight"
)

// StatsOptions configure Stats: where the kept database lives, how many offices and days of history it
// holds, how busy each office is, and how many times each report is requested.
type StatsOptions struct {
	// Node is the command line that starts one app node ("turno serve"); Stats adds --addr.
	Node        []string
	DatabaseURL string
	Database    string // kept between runs, so the history is generated once
	Offices     int
	Days        int
	PerHour     float64 // mean arrivals per opening hour of each office
	Rounds      int     // passes over every office and group
	Groups      []string
}

// ParseStats reads the flags of "turno bench stats" (--database turno_bench_stats --offices 20 --days 365
// --per-hour 150 --rounds 3 --database-url URL). The caller sets Node.
func ParseStats(args []string) (StatsOptions, error) {
	fs := flag.NewFlagSet("bench stats", flag.ContinueOnError)
	opt := StatsOptions{Groups: []string{"day", "service", "weekday_hour", "agency"}}
	fs.StringVar(&opt.DatabaseURL, "database-url", databaseURL(), "PostgreSQL server (TEST_DATABASE_URL)")
	fs.StringVar(&opt.Database, "database", "turno_bench_stats", "database kept between runs: the history is generated once")
	fs.IntVar(&opt.Offices, "offices", 20, "offices, each with the demo catalogue")
	fs.IntVar(&opt.Days, "days", 365, "days of history before today")
	fs.Float64Var(&opt.PerHour, "per-hour", 150, "mean arrivals per opening hour of each office (150 × 20 offices × a year ≈ 5 million tickets)")
	fs.IntVar(&opt.Rounds, "rounds", 3, "passes over every office and group per measurement")
	if err := fs.Parse(args); err != nil {
		return StatsOptions{}, err
	}
	if opt.Offices < 1 || opt.Days < 31 || opt.PerHour <= 0 || opt.Rounds < 1 || opt.Database == "" {
		return StatsOptions{}, fmt.Errorf("bench stats: need --offices ≥ 1, --days ≥ 31, --per-hour > 0, --rounds ≥ 1 and --database")
	}
	return opt, nil
}

// Stats measures the reports on a large installation: it fills a kept database with Offices offices of the
// demo catalogue and Days days of history each (through ticketing.Store.ImportHistory, which records every
// visit as the live hall does), starts a node on it, and times through the real HTTP API the month report
// of every office in each group, the year report of every office, and the network comparison of a month,
// printing p50 and p95 of each beside its target.
func Stats(ctx context.Context, w io.Writer, opt StatsOptions) error {
	dsn := database.WithDatabase(opt.DatabaseURL, opt.Database)
	pool, err := database.Open(ctx, dsn) // creates the database the first time
	if err != nil {
		return fmt.Errorf("bench stats: %w", err)
	}
	defer pool.Close()
	if err := migrations.Up(ctx, pool); err != nil {
		return fmt.Errorf("bench stats: %w", err)
	}
	tickets := ticketing.NewStore(pool)
	tickets.Visits = insight.NewStore(pool, nil, tickets)
	today := time.Now().UTC().Truncate(24 * time.Hour)
	start := time.Now()
	added, err := seedStatsOffices(ctx, w, tickets, auth.NewStore(pool), opt, today)
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "history: %d offices × %d days, %d tickets added in %v\n",
		opt.Offices, opt.Days, added, time.Since(start).Round(time.Second))
	if added > 0 { // fresh statistics for the planner after a bulk load, as autovacuum would gather later
		if _, err := pool.Exec(ctx, `ANALYZE`); err != nil {
			return fmt.Errorf("bench stats: %w", err)
		}
	}

	node, err := startNodeWith(ctx, opt.Node, nil, dsn)
	if err != nil {
		return err
	}
	defer node.stop()
	c := &statsClient{base: "http://" + node.addr}
	if err := c.login(ctx); err != nil {
		return err
	}
	offices, err := tickets.Offices(ctx)
	if err != nil {
		return err
	}
	var slugs []string
	for _, o := range offices {
		if o.Slug != demo.OfficeSlug {
			slugs = append(slugs, o.Slug)
		}
	}
	month := time.Date(today.Year(), today.Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0)
	monthTo := month.AddDate(0, 1, -1)
	yearFrom, yearTo := today.AddDate(0, 0, -365), today.AddDate(0, 0, -1)
	day := func(t time.Time) string { return t.Format(time.DateOnly) }

	// One untimed pass warms the node's pool and the database's caches, as a running installation's are.
	for _, s := range slugs {
		if err := c.get(ctx, "/api/v1/offices/"+s+"/stats?group=day&from="+day(month)+"&to="+day(monthTo), nil); err != nil {
			return err
		}
	}
	// The comparison of a month is computed from the visits the first time it is asked for and kept
	// (network_months) until the month's visits or ratings change: the first request of each of the last
	// twelve months is timed apart. A database kept from an earlier run has them kept already.
	var netFirst []time.Duration
	for m := range 12 {
		var d time.Duration
		if err := c.get(ctx, "/api/v1/network?month="+month.AddDate(0, -m, 0).Format("2006-01"), &d); err != nil {
			return err
		}
		netFirst = append(netFirst, d)
	}
	var monthT, yearT, netT, pageT []time.Duration
	for range opt.Rounds {
		for _, s := range slugs {
			for _, g := range opt.Groups {
				var d time.Duration
				if err := c.get(ctx, "/api/v1/offices/"+s+"/stats?group="+g+"&from="+day(month)+"&to="+day(monthTo), &d); err != nil {
					return err
				}
				monthT = append(monthT, d)
			}
			for _, g := range []string{"day", "service"} {
				var d time.Duration
				if err := c.get(ctx, "/api/v1/offices/"+s+"/stats?group="+g+"&from="+day(yearFrom)+"&to="+day(yearTo), &d); err != nil {
					return err
				}
				yearT = append(yearT, d)
			}
		}
		for range 10 {
			var d, p time.Duration
			if err := c.get(ctx, "/api/v1/network?month="+month.Format("2006-01"), &d); err != nil {
				return err
			}
			if err := c.get(ctx, "/manage/network?month="+month.Format("2006-01"), &p); err != nil {
				return err
			}
			netT, pageT = append(netT, d), append(pageT, p)
		}
	}
	fmt.Fprintf(w, "month %s, year %s – %s, %d offices, groups %v, %d rounds\n", month.Format("2006-01"), day(yearFrom), day(yearTo),
		len(slugs), opt.Groups, opt.Rounds)
	fmt.Fprintf(w, "%-36s %6s %10s %10s %10s\n", "report", "n", "p50", "p95", "target p95")
	for _, r := range []struct {
		name   string
		ds     []time.Duration
		target time.Duration
	}{
		{"month report (office × group)", monthT, 300 * time.Millisecond},
		{"year report (office × day|service)", yearT, time.Second},
		{"network API, first request of a month", netFirst, time.Second},
		{"network API (month)", netT, time.Second},
		{"network page /manage/network (month)", pageT, time.Second},
	} {
		p50, p95 := percentile(r.ds, 0.50), percentile(r.ds, 0.95)
		verdict := "ok"
		if p95 >= r.target {
			verdict = "MISSED"
		}
		fmt.Fprintf(w, "%-36s %6d %10v %10v %10v %s\n", r.name, len(r.ds), p50.Round(100*time.Microsecond),
			p95.Round(100*time.Microsecond), r.target, verdict)
	}
	return nil
}

// percentile is the nearest-rank percentile of ds.
func percentile(ds []time.Duration, p float64) time.Duration {
	if len(ds) == 0 {
		return 0
	}
	s := slices.Clone(ds)
	slices.Sort(s)
	return s[max(0, int(math.Ceil(p*float64(len(s))))-1)]
}

// statsClient calls the node's API as the demo administrator.
type statsClient struct {
	base  string
	token string
}

func (c *statsClient) login(ctx context.Context) error {
	body, _ := json.Marshal(map[string]string{"username": "admin", "password": demo.Password})
	req, err := http.NewRequestWithContext(ctx, "POST", c.base+"/api/v1/login", bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("bench stats: login: %w", err)
	}
	defer res.Body.Close()
	var out struct{ Token string }
	if err := json.NewDecoder(res.Body).Decode(&out); err != nil || res.StatusCode != http.StatusOK {
		return fmt.Errorf("bench stats: login: %d %v", res.StatusCode, err)
	}
	c.token = out.Token
	return nil
}

// get requests path, reads the whole answer and, when took is not nil, sets how long that took.
func (c *statsClient) get(ctx context.Context, path string, took *time.Duration) error {
	req, err := http.NewRequestWithContext(ctx, "GET", c.base+path, nil)
	if err != nil {
		return err
	}
	req.Header.Set("Authorization", "Bearer "+c.token)
	t0 := time.Now()
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("bench stats: GET %s: %w", path, err)
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	if took != nil {
		*took = time.Since(t0)
	}
	if err != nil || res.StatusCode != http.StatusOK {
		return fmt.Errorf("bench stats: GET %s: %d %s", path, res.StatusCode, b)
	}
	return nil
}

// seedStatsOffices makes sure the demo office (the template, and the administrator's account) and the
// bench offices bench-01… exist, each a copy of the demo office's catalogue, desks, staff and hours, and
// gives every bench office the history it lacks. It returns how many tickets it added.
func seedStatsOffices(ctx context.Context, w io.Writer, s *ticketing.Store, a *auth.Store, opt StatsOptions, today time.Time) (int, error) {
	tmpl, err := demo.SeedOffice(ctx, s, a)
	if err != nil {
		return 0, err
	}
	added := 0
	for i := 1; i <= opt.Offices; i++ {
		slug := fmt.Sprintf("bench-%02d", i)
		o, err := s.Office(ctx, slug)
		if err != nil {
			if o, err = copyOffice(ctx, s, tmpl, slug, fmt.Sprintf("Sportello Polifunzionale %02d", i)); err != nil {
				return added, err
			}
		}
		n, err := statsHistory(ctx, s, o, opt, today)
		added += n
		if err != nil {
			return added, err
		}
		if n > 0 {
			fmt.Fprintf(w, "%s: %d tickets\n", slug, n)
		}
	}
	return added, nil
}

// copyOffice creates an office with the template's agencies, services, desks, staff and opening hours,
// through ticketing's own methods.
func copyOffice(ctx context.Context, s *ticketing.Store, tmpl *ticketing.Office, slug, name string) (*ticketing.Office, error) {
	o := &ticketing.Office{Slug: slug, Name: name, TimeZone: tmpl.TimeZone, Lang: tmpl.Lang, IssuingStopMinutes: 15, PatronDay: tmpl.PatronDay}
	if _, err := s.SaveOffice(ctx, o); err != nil {
		return nil, err
	}
	o, err := s.Office(ctx, slug)
	if err != nil {
		return nil, err
	}
	agencies, err := s.Agencies(ctx, tmpl.ID)
	if err != nil {
		return nil, err
	}
	for _, ag := range agencies {
		c := *ag
		c.ID, c.OfficeID = 0, o.ID
		if err := s.SaveAgency(ctx, &c); err != nil {
			return nil, err
		}
	}
	services, err := s.Services(ctx, tmpl.ID)
	if err != nil {
		return nil, err
	}
	for _, sv := range services {
		c := *sv
		c.ID, c.OfficeID = 0, o.ID
		if err := s.SaveService(ctx, &c); err != nil {
			return nil, err
		}
	}
	desks, err := s.Desks(ctx, tmpl.ID)
	if err != nil {
		return nil, err
	}
	for _, d := range desks {
		c := *d
		c.ID, c.OfficeID = 0, o.ID
		if err := s.SaveDesk(ctx, &c); err != nil {
			return nil, err
		}
	}
	staff, err := s.StaffList(ctx, tmpl.ID)
	if err != nil {
		return nil, err
	}
	for _, st := range staff {
		c := *st
		c.ID, c.OfficeID, c.Email = 0, o.ID, ""
		if err := s.SaveStaff(ctx, &c); err != nil {
			return nil, err
		}
	}
	hours, err := s.WeeklyHours(ctx, tmpl)
	if err != nil {
		return nil, err
	}
	if err := s.SetWeeklyHours(ctx, o.ID, hours.Hours); err != nil {
		return nil, err
	}
	return o, nil
}

// statsHistory writes the office's missing days of the last opt.Days, a month of days per ImportHistory
// call: arrivals spread over each opening interval at PerHour an hour (a morning peak), about 10 %
// no-shows, exponential waits and log-normal handling around each service's expected time, a desk that
// serves the service and an operator with the skill. Each day's random stream is seeded by office and
// date, so the history is the same on every run.
func statsHistory(ctx context.Context, s *ticketing.Store, o *ticketing.Office, opt StatsOptions, today time.Time) (int, error) {
	cal, err := s.Calendar(ctx, o)
	if err != nil {
		return 0, err
	}
	from := today.AddDate(0, 0, -opt.Days)
	done, err := s.TicketDays(ctx, o.ID, from, today)
	if err != nil {
		return 0, err
	}
	services, err := s.Services(ctx, o.ID)
	if err != nil {
		return 0, err
	}
	desks, err := s.Desks(ctx, o.ID)
	if err != nil {
		return 0, err
	}
	staff, err := s.StaffList(ctx, o.ID)
	if err != nil {
		return 0, err
	}
	deskFor, staffFor := map[string][]int64{}, map[string][]int64{}
	for _, d := range desks {
		for _, code := range d.Services {
			deskFor[code] = append(deskFor[code], d.ID)
		}
	}
	for _, st := range staff {
		for code := range st.Skills {
			staffFor[code] = append(staffFor[code], st.ID)
		}
	}
	for _, ids := range staffFor {
		slices.Sort(ids)
	}
	added := 0
	var batch []ticketing.PastTicket
	flush := func() error {
		if len(batch) == 0 {
			return nil
		}
		err := s.ImportHistory(ctx, o.ID, batch)
		added += len(batch)
		batch = batch[:0]
		return err
	}
	for day := from; day.Before(today); day = day.AddDate(0, 0, 1) {
		ivs := cal.Intervals(day)
		if len(ivs) == 0 || done[day] {
			continue
		}
		rng := rand.New(rand.NewPCG(uint64(day.Unix()), uint64(o.ID)))
		midnight := o.Midnight(day)
		numbers := map[string]int{}
		var tks []ticketing.PastTicket
		for _, iv := range ivs {
			opens, closes := iv.Opens.Duration(), iv.Closes.Duration()-10*time.Minute
			if closes <= opens {
				continue
			}
			n := int(opt.PerHour * (closes - opens).Hours() * (0.8 + 0.4*rng.Float64()))
			for range n {
				// Two uniform draws averaged put more arrivals mid-interval: the morning peak.
				at := opens + time.Duration((rng.Float64()+rng.Float64())/2*float64(closes-opens))
				sv := services[rng.IntN(len(services))]
				issued := midnight.Add(at).Truncate(time.Second)
				t := ticketing.PastTicket{Service: sv, Day: day, Status: ticketing.Done, Lang: "it", IssuedAt: issued,
					CalledAt: issued.Add(time.Duration(30+rng.ExpFloat64()*480) * time.Second)}
				if rng.Float64() < 0.10 {
					t.Status, t.FinishedAt = ticketing.NoShow, t.CalledAt.Add(2*time.Minute)
				} else {
					started := t.CalledAt.Add(time.Duration(20+rng.IntN(60)) * time.Second)
					handling := float64(sv.ExpectedHandlingSeconds) * math.Exp(0.35*rng.NormFloat64()-0.06)
					t.StartedAt, t.FinishedAt = &started, started.Add(time.Duration(max(60, handling))*time.Second)
				}
				if ds := deskFor[sv.Code]; len(ds) > 0 {
					t.DeskID = ds[rng.IntN(len(ds))]
				}
				if ss := staffFor[sv.Code]; len(ss) > 0 {
					t.StaffID = ss[rng.IntN(len(ss))]
				}
				tks = append(tks, t)
			}
		}
		slices.SortFunc(tks, func(a, b ticketing.PastTicket) int { return a.IssuedAt.Compare(b.IssuedAt) })
		for i := range tks {
			numbers[tks[i].Service.Prefix]++
			tks[i].Number = numbers[tks[i].Service.Prefix]
		}
		batch = append(batch, tks...)
		if len(batch) >= 20000 {
			if err := flush(); err != nil {
				return added, err
			}
		}
	}
	return added, flush()
}

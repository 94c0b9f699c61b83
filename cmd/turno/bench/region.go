package bench

import (
	"bufio"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"os"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"

	"turno/cmd/turno/demo"
	"turno/internal/auth"
	"turno/internal/database"
	"turno/migrations"
	"turno/ticketing"
)

// RegionOptions configure Region.
type RegionOptions struct {
	// Node is the command line that starts one app node ("turno serve"); Region adds --addr.
	Node []string
	// NodeEnv is added to each node's environment (NAME=value).
	NodeEnv []string
	// DatabaseURL is a PostgreSQL server where Region may create (and drop) a scratch database per run.
	DatabaseURL string
	// Offices, and per office: desks (each with a signed-in operator and a desk page), hall screens and
	// phones following a waiting ticket each.
	Offices, Desks, Screens, Phones int
	// Factor scales the demo's arrival rate at At.
	Factor float64
	// Weekday and Clock are the local time whose rate of the demo curve the kiosks follow (--at "mon 10:15").
	Weekday time.Weekday
	Clock   time.Duration
	// TimeScale multiplies the services' expected handling times; 0 chooses it so that the open desks serve
	// 90 % of what arrives (the queue stays about stable at any factor).
	TimeScale float64
	// Duration is the measured window, after Warmup.
	Duration, Warmup time.Duration
	// Nodes is how many nodes serve the one database; the clients are spread over them round-robin.
	Nodes int
	// Pull makes the clients behave as the pages did before pushed state: each event makes screens,
	// desk pages and phones ask the API. Without it they follow the pushed-state protocol.
	Pull bool
	// Runs is how many times the whole measurement is made, each on a fresh database and nodes.
	Runs int
	// Seed seeds the arrivals and handling times.
	Seed uint64
}

// ParseRegion reads the flags of "turno bench region". The caller sets Node from --node-binary (returned),
// empty for this binary.
func ParseRegion(args []string) (RegionOptions, string, error) {
	fs := flag.NewFlagSet("bench region", flag.ContinueOnError)
	opt := RegionOptions{}
	fs.IntVar(&opt.Offices, "offices", 1, "offices, each a copy of the demo catalogue")
	fs.IntVar(&opt.Desks, "desks", 10, "open desks per office, each with a signed-in operator and a desk page")
	fs.IntVar(&opt.Screens, "screens", 4, "hall screens (display devices) per office")
	fs.IntVar(&opt.Phones, "phones", 300, "phones per office, each following one waiting ticket")
	fs.Float64Var(&opt.Factor, "factor", 1, "scales the demo's arrival rate")
	at := fs.String("at", "mon 10:15", "weekday and local time whose rate of the demo curve the kiosks follow")
	fs.Float64Var(&opt.TimeScale, "time-scale", 0, "multiplies the services' expected handling times; 0: so that the desks serve 90% of the arrivals")
	fs.DurationVar(&opt.Duration, "duration", 60*time.Second, "measured window")
	fs.DurationVar(&opt.Warmup, "warmup", 10*time.Second, "load before the window, not measured")
	fs.IntVar(&opt.Nodes, "nodes", 1, "nodes (1 or 2) on the one scratch database; clients spread round-robin")
	clients := fs.String("clients", "push", "push: the pushed-state protocol; pull: the pages before it (an API request per event)")
	bin := fs.String("node-binary", "", "turno binary to run as the node (default: this one)")
	env := fs.String("node-env", "", "comma-separated NAME=value settings for the node(s)")
	fs.IntVar(&opt.Runs, "runs", 1, "runs, each on a fresh database and node(s); the medians close the report")
	fs.Uint64Var(&opt.Seed, "seed", 1, "seed of the arrivals and handling times")
	fs.StringVar(&opt.DatabaseURL, "database-url", databaseURL(), "PostgreSQL server for the scratch databases (TEST_DATABASE_URL)")
	if err := fs.Parse(args); err != nil {
		return RegionOptions{}, "", err
	}
	var err error
	if opt.Weekday, opt.Clock, err = parseAt(*at); err != nil {
		return RegionOptions{}, "", err
	}
	switch *clients {
	case "push":
	case "pull":
		opt.Pull = true
	default:
		return RegionOptions{}, "", fmt.Errorf("bench region: --clients must be push or pull, not %q", *clients)
	}
	for kv := range strings.SplitSeq(*env, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		if !strings.Contains(kv, "=") {
			return RegionOptions{}, "", fmt.Errorf("bench region: --node-env: %q is not NAME=value", kv)
		}
		opt.NodeEnv = append(opt.NodeEnv, kv)
	}
	if err := opt.check(); err != nil {
		return RegionOptions{}, "", err
	}
	return opt, *bin, nil
}

func (o RegionOptions) check() error {
	if o.Offices < 1 || o.Desks < 1 || o.Screens < 0 || o.Phones < 0 || o.Factor <= 0 || o.TimeScale < 0 ||
		o.Duration <= 0 || o.Warmup < 0 || o.Nodes < 1 || o.Nodes > 2 || o.Runs < 1 {
		return errors.New("bench region: need --offices, --desks, --factor, --duration and --runs positive, " +
			"--screens, --phones, --time-scale and --warmup not negative, --nodes 1 or 2")
	}
	return nil
}

// parseAt reads "mon 10:15".
func parseAt(s string) (time.Weekday, time.Duration, error) {
	day, clock, ok := strings.Cut(strings.ToLower(strings.TrimSpace(s)), " ")
	days := []string{"sun", "mon", "tue", "wed", "thu", "fri", "sat"}
	wd := slices.Index(days, day)
	t, err := time.Parse("15:04", strings.TrimSpace(clock))
	if !ok || wd < 0 || err != nil {
		return 0, 0, fmt.Errorf("bench region: --at %q is not a weekday and a time like \"mon 10:15\"", s)
	}
	return time.Weekday(wd), time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

// Region simulates a region's offices at a set hour against real nodes: it seeds a scratch database with
// Offices copies of the demo catalogue, each with Desks desks and their signed-in operators, a kiosk and
// Screens display devices, starts Nodes "turno serve" processes on it, issues a waiting ticket per phone
// and per desk, then connects every screen, desk page and phone as a WebSocket client and runs the load
// for Warmup + Duration: kiosks issue at the demo curve's rate × Factor, desks call, start and finish with
// log-normal handling times. It prints one table per run to w, and the medians over the runs.
func Region(ctx context.Context, w io.Writer, opt RegionOptions) error {
	if len(opt.Node) == 0 {
		return errors.New("bench region: need a node command")
	}
	if err := opt.check(); err != nil {
		return err
	}
	if opt.DatabaseURL == "" {
		opt.DatabaseURL = databaseURL()
	}
	limit, err := raiseFileLimit()
	if err != nil {
		return err
	}
	conns := opt.Offices * (opt.Screens + 2*opt.Desks + opt.Phones)
	if need := conns + 500; need > int(limit) {
		return fmt.Errorf("bench region: %d connections need an open-file limit of %d (have %d)", conns, need, limit)
	}
	mode := "push"
	if opt.Pull {
		mode = "pull"
	}
	rates := demo.ArrivalRates(opt.Weekday, opt.Clock)
	perHour := 0.0
	for _, r := range rates {
		perHour += r
	}
	fmt.Fprintf(w, "turno bench region: %d office(s) × %d desks, %d screens, %d phones; %d node(s) %v; clients %s; "+
		"demo curve at %s %s = %.1f arrivals/h per office × factor %g; %v + %v warm-up; node env %v; open-file limit %d\n",
		opt.Offices, opt.Desks, opt.Screens, opt.Phones, opt.Nodes, opt.Node, mode, opt.Weekday, fmtClock(opt.Clock),
		perHour, opt.Factor, opt.Duration, opt.Warmup, opt.NodeEnv, limit)
	// Four events a visit (issued, called, started, finished): too few of them make no figures.
	if expect := 4 * perHour / 3600 * opt.Factor * float64(opt.Offices) * opt.Duration.Seconds(); expect < 100 {
		fmt.Fprintf(w, "note: about %.0f events are to be expected in the window; raise --factor or --duration for figures\n", expect)
	}
	return repeat(w, opt.Runs, func(i int) (*regionResult, error) { return regionRun(ctx, opt, uint64(i)) }, printRegion, medianRegion)
}

func fmtClock(d time.Duration) string {
	return fmt.Sprintf("%02d:%02d", int(d.Hours()), int(d.Minutes())%60)
}

// regionResult is one run's figures.
type regionResult struct {
	timeScale                      float64
	events                         int
	eventsPerSec                   float64
	issue, call                    latency
	emptyCalls                     int
	screen, called, desk, phone    latency
	nodeCPU, pgCPU, simCPU         float64 // seconds in the window
	statements                     float64 // delta in the window, all nodes
	connections                    int
	rssPerConn                     float64 // bytes
	phonesAtEnd                    int
	httpErrors                     map[string]int // "GET /queue 500" → count
	drops, reconnects, dialFailure int
	refusals                       int // stream set-ups the node refused (busy, too many) before they got in
}

// latency is a set of timings summed up.
type latency struct {
	n             int
	p50, p99, max time.Duration
}

func summarize(ds []time.Duration) latency {
	if len(ds) == 0 {
		return latency{}
	}
	return latency{n: len(ds), p50: percentile(ds, 0.50), p99: percentile(ds, 0.99), max: slices.Max(ds)}
}

// errors returns the run's error count: HTTP answers other than 2xx, stream drops and failed dials.
func (r *regionResult) errors() int {
	n := r.drops + r.dialFailure
	for _, c := range r.httpErrors {
		n += c
	}
	return n
}

func (r *regionResult) per1000(cpu float64) float64 {
	if r.events == 0 {
		return 0
	}
	return cpu * 1000 / float64(r.events)
}

func (r *regionResult) perEvent(v float64) float64 {
	if r.events == 0 {
		return 0
	}
	return v / float64(r.events)
}

func printRegion(w io.Writer, r *regionResult) {
	lat := func(name string, l latency) {
		fmt.Fprintf(w, "  %-44s %8d %10s %10s %10s\n", name, l.n, ms(l.p50), ms(l.p99), ms(l.max))
	}
	fmt.Fprintf(w, "  %-44s %8s %10s %10s %10s\n", "latency", "n", "p50", "p99", "max")
	lat("issue (POST …/tickets)", r.issue)
	lat("call-next (POST …/next, a ticket called)", r.call)
	lat("event → screen (state with it)", r.screen)
	lat("ticket.called frame → screen", r.called)
	lat("event → desk page (state with it)", r.desk)
	lat("event → phone (position / own event)", r.phone)
	val := func(name, v string) { fmt.Fprintf(w, "  %-44s %s\n", name, v) }
	val("handling time scale", fmt.Sprintf("%.4g", r.timeScale))
	val("events in the window", fmt.Sprintf("%d (%.1f/s)", r.events, r.eventsPerSec))
	val("call-next with nothing to call", strconv.Itoa(r.emptyCalls))
	val("node CPU s per 1,000 events", fmt.Sprintf("%.3f (%.1f s)", r.per1000(r.nodeCPU), r.nodeCPU))
	val("DB statements per event", fmt.Sprintf("%.1f (%.0f)", r.perEvent(r.statements), r.statements))
	val("PostgreSQL CPU s per 1,000 events", fmt.Sprintf("%.3f (%.1f s)", r.per1000(r.pgCPU), r.pgCPU))
	val("simulator CPU s (this process)", fmt.Sprintf("%.1f", r.simCPU))
	val("memory per connection", fmt.Sprintf("%.1f KB (%d connections)", r.rssPerConn/1024, r.connections))
	val("phones following at the end", strconv.Itoa(r.phonesAtEnd))
	var errs []string
	for _, k := range slices.Sorted(maps.Keys(r.httpErrors)) {
		errs = append(errs, fmt.Sprintf("%s ×%d", k, r.httpErrors[k]))
	}
	if len(errs) == 0 {
		errs = []string{"none"}
	}
	val("HTTP errors", strings.Join(errs, ", "))
	val("stream drops / reconnects / dial failures", fmt.Sprintf("%d / %d / %d", r.drops, r.reconnects, r.dialFailure))
	val("stream set-ups refused, then retried", strconv.Itoa(r.refusals))
}

// medianRegion is, figure by figure, the median over the runs; the errors are summed.
func medianRegion(runs []*regionResult) *regionResult {
	pick := func(f func(*regionResult) float64) float64 {
		v := make([]float64, len(runs))
		for i, r := range runs {
			v[i] = f(r)
		}
		return median(v)
	}
	lat := func(f func(*regionResult) latency) latency {
		var n []int
		var p50, p99, mx []time.Duration
		for _, r := range runs {
			l := f(r)
			n, p50, p99, mx = append(n, l.n), append(p50, l.p50), append(p99, l.p99), append(mx, l.max)
		}
		return latency{n: median(n), p50: median(p50), p99: median(p99), max: median(mx)}
	}
	m := &regionResult{httpErrors: map[string]int{}}
	m.timeScale = pick(func(r *regionResult) float64 { return r.timeScale })
	m.events = int(pick(func(r *regionResult) float64 { return float64(r.events) }))
	m.eventsPerSec = pick(func(r *regionResult) float64 { return r.eventsPerSec })
	m.issue = lat(func(r *regionResult) latency { return r.issue })
	m.call = lat(func(r *regionResult) latency { return r.call })
	m.screen = lat(func(r *regionResult) latency { return r.screen })
	m.called = lat(func(r *regionResult) latency { return r.called })
	m.desk = lat(func(r *regionResult) latency { return r.desk })
	m.phone = lat(func(r *regionResult) latency { return r.phone })
	m.emptyCalls = int(pick(func(r *regionResult) float64 { return float64(r.emptyCalls) }))
	// Per-event figures are the medians of each run's ratio, scaled back to the median event count.
	m.nodeCPU = pick(func(r *regionResult) float64 { return r.per1000(r.nodeCPU) }) * float64(m.events) / 1000
	m.pgCPU = pick(func(r *regionResult) float64 { return r.per1000(r.pgCPU) }) * float64(m.events) / 1000
	m.statements = pick(func(r *regionResult) float64 { return r.perEvent(r.statements) }) * float64(m.events)
	m.simCPU = pick(func(r *regionResult) float64 { return r.simCPU })
	m.rssPerConn = pick(func(r *regionResult) float64 { return r.rssPerConn })
	m.connections = int(pick(func(r *regionResult) float64 { return float64(r.connections) }))
	m.phonesAtEnd = int(pick(func(r *regionResult) float64 { return float64(r.phonesAtEnd) }))
	for _, r := range runs {
		for k, v := range r.httpErrors {
			m.httpErrors[k] += v
		}
		m.drops, m.reconnects, m.dialFailure = m.drops+r.drops, m.reconnects+r.reconnects, m.dialFailure+r.dialFailure
		m.refusals += r.refusals
	}
	return m
}

// regionOffice is one simulated office: what the seed made and the simulation's handles on it.
type regionOffice struct {
	index      int
	id         int64
	slug       string
	kioskToken string
	screens    []string // display device tokens
	desks      []regionDesk
	services   []string           // codes the kiosk issues, each served by an open desk
	weights    []float64          // cumulative arrival rates per second, by services
	handling   map[string]float64 // expected handling seconds by code
	fresh      chan string        // codes of tickets waiting for a phone to follow them
}

// regionDesk is an open desk and its operator's session.
type regionDesk struct {
	id       int64
	token    string
	services []string
}

// seedRegion creates the offices: each a copy of the demo catalogue (copyOffice) issuing around the clock,
// with desks 7… added in the pattern of the demo's first desks up to Desks, an operator per desk (a staff
// member skilled in the desk's services, a user, a session), a kiosk and the screens' display devices.
func seedRegion(ctx context.Context, pool *pgxpool.Pool, opt RegionOptions) ([]*regionOffice, error) {
	s := ticketing.NewStore(pool)
	a := auth.NewStore(pool)
	a.Cost = 4 // bcrypt's least: hashing hundreds of operators' passwords at the real cost takes minutes
	tmpl, err := demo.SeedOffice(ctx, s, a)
	if err != nil {
		return nil, err
	}
	tmplDesks, err := s.Desks(ctx, tmpl.ID)
	if err != nil {
		return nil, err
	}
	slices.SortFunc(tmplDesks, func(x, y *ticketing.Desk) int { return x.Number - y.Number })
	rates := demo.ArrivalRates(opt.Weekday, opt.Clock)
	var out []*regionOffice
	for i := range opt.Offices {
		slug := fmt.Sprintf("region-%03d", i+1)
		o, err := copyOffice(ctx, s, tmpl, slug, fmt.Sprintf("Sportello Polifunzionale %03d", i+1))
		if err != nil {
			return nil, err
		}
		o.IssuingAlwaysOpen = true // the bench runs at any hour
		if _, err := s.SaveOffice(ctx, o); err != nil {
			return nil, err
		}
		ro := &regionOffice{index: i, id: o.ID, slug: slug, handling: map[string]float64{}, fresh: make(chan string, 4*opt.Phones+opt.Desks+64)}
		services, err := s.Services(ctx, o.ID)
		if err != nil {
			return nil, err
		}
		for _, sv := range services {
			ro.handling[sv.Code] = float64(sv.ExpectedHandlingSeconds)
		}
		desks, err := s.Desks(ctx, o.ID)
		if err != nil {
			return nil, err
		}
		slices.SortFunc(desks, func(x, y *ticketing.Desk) int { return x.Number - y.Number })
		for n := len(desks) + 1; n <= opt.Desks; n++ {
			like := tmplDesks[(n-1)%len(tmplDesks)]
			d := &ticketing.Desk{OfficeID: o.ID, Number: n, Name: fmt.Sprintf("Sportello %d", n), Audience: like.Audience,
				Active: true, Services: slices.Clone(like.Services)}
			if err := s.SaveDesk(ctx, d); err != nil {
				return nil, err
			}
			desks = append(desks, d)
		}
		served := map[string]bool{}
		for k, d := range desks[:opt.Desks] {
			st := &ticketing.Staff{OfficeID: o.ID, Code: fmt.Sprintf("R%02d", k+1), FullName: fmt.Sprintf("Operatore %d", k+1),
				Active: true, Skills: map[string]ticketing.SkillLevel{}}
			for _, code := range d.Services {
				st.Skills[code] = ticketing.Primary
				served[code] = true
			}
			if err := s.SaveStaff(ctx, st); err != nil {
				return nil, err
			}
			user := fmt.Sprintf("r%03d.op%d", i+1, k+1)
			if _, err := a.CreateUser(ctx, auth.NewUser{Username: user, Password: demo.Password, Role: auth.Operator,
				DisplayName: st.FullName, OfficeID: o.ID, StaffID: st.ID}, false); err != nil {
				return nil, err
			}
			token, _, err := a.Login(ctx, user, demo.Password)
			if err != nil {
				return nil, err
			}
			ro.desks = append(ro.desks, regionDesk{id: d.ID, token: token, services: d.Services})
		}
		// The kiosk offers what the open desks serve, in the proportions of the demo curve.
		sum := 0.0
		for _, code := range slices.Sorted(maps.Keys(rates)) {
			if served[code] {
				sum += rates[code] / 3600
				ro.services, ro.weights = append(ro.services, code), append(ro.weights, sum)
			}
		}
		if len(ro.services) == 0 {
			return nil, fmt.Errorf("bench region: no service of the demo curve at %s %s is served by the open desks", opt.Weekday, fmtClock(opt.Clock))
		}
		if _, ro.kioskToken, err = a.CreateDevice(ctx, o.ID, auth.Kiosk, "Totem"); err != nil {
			return nil, err
		}
		for k := range opt.Screens {
			_, tok, err := a.CreateDevice(ctx, o.ID, auth.Display, fmt.Sprintf("Tabellone %d", k+1))
			if err != nil {
				return nil, err
			}
			ro.screens = append(ro.screens, tok)
		}
		out = append(out, ro)
	}
	return out, nil
}

// rate is the office's arrivals per second (before the factor).
func (o *regionOffice) rate() float64 { return o.weights[len(o.weights)-1] }

// meanHandling is the expected handling time of an arrival, in seconds, weighted by the arrival rates.
func (o *regionOffice) meanHandling() float64 {
	sum, prev := 0.0, 0.0
	for i, code := range o.services {
		sum += (o.weights[i] - prev) * o.handling[code]
		prev = o.weights[i]
	}
	return sum / o.rate()
}

// procCPU returns the user + system CPU seconds a process has used (/proc/PID/stat), 0 when it is gone.
func procCPU(pid int) float64 {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/stat", pid))
	if err != nil {
		return 0
	}
	// The command name may hold spaces: the fields count from after its closing parenthesis.
	k := strings.LastIndexByte(string(b), ')')
	if k < 0 {
		return 0
	}
	f := strings.Fields(string(b[k+1:]))
	if len(f) < 13 {
		return 0
	}
	ut, _ := strconv.ParseFloat(f[11], 64)
	st, _ := strconv.ParseFloat(f[12], 64)
	return (ut + st) / 100 // USER_HZ, 100 on Linux
}

// selfCPU returns this process's user + system CPU seconds.
func selfCPU() float64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano()).Seconds()
}

// backendCPU returns, by process id, the CPU seconds of the PostgreSQL backends serving the scratch
// database (the server's background processes, shared with every other database, are left out).
func backendCPU(ctx context.Context, pool *pgxpool.Pool) (map[int]float64, error) {
	rows, err := pool.Query(ctx, `SELECT pid FROM pg_stat_activity WHERE datname = current_database()`)
	if err != nil {
		return nil, fmt.Errorf("bench region: backends: %w", err)
	}
	pids, err := pgx.CollectRows(rows, pgx.RowTo[int32])
	if err != nil {
		return nil, fmt.Errorf("bench region: backends: %w", err)
	}
	out := map[int]float64{}
	for _, p := range pids {
		out[int(p)] = procCPU(int(p))
	}
	return out, nil
}

// statementsOf scrapes turno_db_statements_total from a node's metrics address.
func statementsOf(ctx context.Context, addr string) (float64, error) {
	req, err := http.NewRequestWithContext(ctx, "GET", "http://"+addr+"/metrics", nil)
	if err != nil {
		return 0, err
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, fmt.Errorf("bench region: metrics: %w", err)
	}
	defer res.Body.Close()
	sc := bufio.NewScanner(res.Body)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "turno_db_statements_total "); ok {
			return strconv.ParseFloat(strings.TrimSpace(v), 64)
		}
	}
	return 0, errors.New("bench region: the node's metrics have no turno_db_statements_total (too old a binary?)")
}

// freeAddr returns a loopback address with a port free just now.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", err
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// lognormal draws a log-normal time with the given mean and sigma of the underlying normal.
func lognormal(norm float64, mean, sigma float64) time.Duration {
	return time.Duration(mean * math.Exp(sigma*norm-sigma*sigma/2) * float64(time.Second))
}

// openScratch creates the scratch database, migrates it and returns a pool on it.
func openScratch(ctx context.Context, url string) (string, *pgxpool.Pool, func(), error) {
	dsn, drop, err := scratchDatabase(ctx, url)
	if err != nil {
		return "", nil, nil, err
	}
	pool, err := database.Open(ctx, dsn)
	if err != nil {
		drop()
		return "", nil, nil, err
	}
	if err := migrations.Up(ctx, pool); err != nil {
		pool.Close()
		drop()
		return "", nil, nil, err
	}
	return dsn, pool, func() { pool.Close(); drop() }, nil
}

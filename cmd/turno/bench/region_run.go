package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"math/rand/v2"
	"net"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgxpool"
)

// The kinds of latency the clients record, each from an event's "at" in the log.
const (
	obsScreen = iota // a screen has a state that includes the event
	obsCalled        // a screen has the ticket.called frame itself
	obsDesk          // a desk page has a state that includes the event
	obsPhone         // a phone has its refreshed position, or its own ticket's event
	obsKinds
)

// obs is one observation: the client had what event seq of an office brought at got.
type obs struct {
	office int
	seq    int64
	got    time.Time
}

// sim is one run under way: the nodes, the offices and what the clients record.
type sim struct {
	opt     RegionOptions
	offices []*regionOffice
	nodes   []string // the nodes' HTTP addresses
	http    []*http.Client

	from, to time.Time // the measured window

	mu         sync.Mutex
	obs        [obsKinds][]obs
	issue      []time.Duration
	call       []time.Duration
	emptyCalls int
	httpErrors map[string]int

	drops, reconnects, dialFailures atomic.Int64
	refusals                        atomic.Int64 // stream set-ups refused with 503 or 429 and tried again
	following                       atomic.Int64
	seeds                           atomic.Uint64
}

func (s *sim) record(kind, office int, seq int64, got time.Time) {
	s.mu.Lock()
	s.obs[kind] = append(s.obs[kind], obs{office, seq, got})
	s.mu.Unlock()
}

func (s *sim) inWindow(t time.Time) bool { return !t.Before(s.from) && t.Before(s.to) }

// newRand returns a random stream of its own, derived from the seed.
func (s *sim) newRand() *rand.Rand {
	return rand.New(rand.NewPCG(s.opt.Seed, s.seeds.Add(1)))
}

// node is the base URL of the i-th client's node (round-robin).
func (s *sim) node(i int) string { return s.nodes[i%len(s.nodes)] }

// do sends one API request and decodes a 2xx answer's JSON into out (when not nil); an answer of another
// status is counted as an error. It returns the status (0 when there was no answer) and when the answer
// was read.
func (s *sim) do(ctx context.Context, client int, base, method, path, token, body string, out any) (int, time.Time, error) {
	var rd io.Reader
	if body != "" {
		rd = strings.NewReader(body)
	}
	req, err := http.NewRequestWithContext(ctx, method, base+path, rd)
	if err != nil {
		return 0, time.Time{}, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := s.http[client%len(s.http)].Do(req)
	if err != nil {
		if ctx.Err() == nil {
			s.countError(method, path, "no answer")
		}
		return 0, time.Time{}, err
	}
	b, err := io.ReadAll(res.Body)
	res.Body.Close()
	got := time.Now()
	if err != nil {
		return 0, got, err
	}
	if res.StatusCode >= 300 {
		if ctx.Err() == nil {
			s.countError(method, path, strconv.Itoa(res.StatusCode))
		}
		return res.StatusCode, got, fmt.Errorf("bench region: %s %s: %s %s", method, path, res.Status, b)
	}
	if out != nil && len(b) > 0 {
		if err := json.Unmarshal(b, out); err != nil {
			return res.StatusCode, got, err
		}
	}
	return res.StatusCode, got, nil
}

// countError counts an HTTP error by method, route (ids and codes left out) and status.
func (s *sim) countError(method, path, status string) {
	parts := strings.Split(path, "/")
	for i, p := range parts {
		if i > 0 && parts[i-1] == "tickets" || p != "" && (strings.IndexFunc(p, func(r rune) bool { return r >= '0' && r <= '9' }) >= 0 || len(p) > 20) {
			parts[i] = "…"
		}
	}
	s.mu.Lock()
	s.httpErrors[method+" "+strings.Join(parts, "/")+" "+status]++
	s.mu.Unlock()
}

// regionAddr is the k-th loopback source address of the streams: 127.20.0.1 upwards, at most 50 streams
// each, so that the node's per-address caps (100 streams, 256 connections) let them in as the many
// screens and phones they stand for.
func regionAddr(k int) net.IP { return net.IPv4(127, 20, byte(k/250), byte(1+k%250)) }

// httpClients are the API clients: 32 connection pools, each from an address of its own (127.21.0.x).
func httpClients() []*http.Client {
	out := make([]*http.Client, 32)
	for i := range out {
		d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 21, 0, byte(1+i))}, Timeout: 10 * time.Second}
		out[i] = &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{DialContext: d.DialContext,
			MaxIdleConnsPerHost: 64, MaxConnsPerHost: 128, IdleConnTimeout: 60 * time.Second}}
	}
	return out
}

func regionRun(ctx context.Context, opt RegionOptions, run uint64) (*regionResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dsn, pool, cleanup, err := openScratch(ctx, opt.DatabaseURL)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	offices, err := seedRegion(ctx, pool, opt)
	if err != nil {
		return nil, err
	}
	res := &regionResult{timeScale: opt.TimeScale}
	if res.timeScale == 0 {
		// The desks serve 90 % of what arrives: handling scaled so that desks ÷ (rate × handling) = 0.9.
		o := offices[0]
		res.timeScale = 0.9 * float64(opt.Desks) / (o.rate() * opt.Factor * o.meanHandling())
	}

	// The kiosks issue far more than a real one would at a high factor: lift the per-kiosk limit.
	var nodes []*benchNode
	var metricsAddrs []string
	defer func() {
		for _, n := range nodes {
			n.stop()
		}
	}()
	for range opt.Nodes {
		maddr, err := freeAddr()
		if err != nil {
			return nil, err
		}
		env := append([]string{"TURNO_ISSUE_PER_MINUTE=1000000", "TURNO_METRICS_ADDR=" + maddr}, opt.NodeEnv...)
		n, err := startNodeWith(ctx, opt.Node, nil, dsn, env...)
		if err != nil {
			return nil, err
		}
		nodes, metricsAddrs = append(nodes, n), append(metricsAddrs, maddr)
	}
	s := &sim{opt: opt, offices: offices, http: httpClients(), httpErrors: map[string]int{}}
	s.opt.Seed = opt.Seed*1000 + run
	for _, n := range nodes {
		s.nodes = append(s.nodes, "http://"+n.addr)
	}

	// Open the desks, and issue the waiting tickets the phones follow.
	client := 0
	for _, o := range offices {
		for _, d := range o.desks {
			if _, _, err := s.do(ctx, client, s.node(client), "POST", fmt.Sprintf("/api/v1/desks/%d/open", d.id), d.token, "{}", nil); err != nil {
				return nil, err
			}
			client++
		}
	}
	if err := s.prefill(ctx); err != nil {
		return nil, err
	}
	time.Sleep(time.Second)
	rss0, err := totalRSS(nodes)
	if err != nil {
		return nil, err
	}

	// Connect the screens, the desk pages and the phones.
	lctx, stopLoad := context.WithCancel(ctx)
	defer stopLoad()
	var wg sync.WaitGroup
	conns, err := s.connect(lctx, &wg)
	if err != nil {
		stopLoad()
		wg.Wait()
		return nil, err
	}
	time.Sleep(2 * time.Second)
	rss1, err := totalRSS(nodes)
	if err != nil {
		return nil, err
	}
	res.connections = conns
	if conns > 0 {
		res.rssPerConn = float64(rss1-rss0) / float64(conns)
	}

	// The load: kiosks and desks; the window opens after the warm-up.
	start := time.Now()
	s.from, s.to = start.Add(opt.Warmup), start.Add(opt.Warmup+opt.Duration)
	for _, o := range offices {
		wg.Go(func() { s.kiosk(lctx, o) })
		for _, d := range o.desks {
			k := client
			client++
			wg.Go(func() { s.desk(lctx, k, o, d, res.timeScale) })
		}
	}
	time.Sleep(time.Until(s.from))
	before, err := s.counters(ctx, pool, nodes, metricsAddrs)
	if err != nil {
		stopLoad()
		wg.Wait()
		return nil, err
	}
	time.Sleep(time.Until(s.to))
	after, err := s.counters(ctx, pool, nodes, metricsAddrs)
	// Late answers to the window's events still count: give the clients a moment before stopping.
	time.Sleep(2 * time.Second)
	res.phonesAtEnd = int(s.following.Load())
	stopLoad()
	wg.Wait()
	if err != nil {
		return nil, err
	}
	res.nodeCPU = after.node - before.node
	res.simCPU = after.self - before.self
	res.statements = after.statements - before.statements
	for pid, c := range after.pg {
		res.pgCPU += c - before.pg[pid]
	}
	return s.results(ctx, pool, res)
}

// counterSet is what is read at both ends of the window.
type counterSet struct {
	node, self float64
	statements float64
	pg         map[int]float64
}

func (s *sim) counters(ctx context.Context, pool *pgxpool.Pool, nodes []*benchNode, metrics []string) (counterSet, error) {
	c := counterSet{self: selfCPU()}
	for i, n := range nodes {
		c.node += procCPU(n.cmd.Process.Pid)
		v, err := statementsOf(ctx, metrics[i])
		if err != nil {
			return c, err
		}
		c.statements += v
	}
	var err error
	c.pg, err = backendCPU(ctx, pool)
	return c, err
}

// results reads the times of the events from the log and turns the observations into latencies.
func (s *sim) results(ctx context.Context, pool *pgxpool.Pool, res *regionResult) (*regionResult, error) {
	ids := make([]int64, len(s.offices))
	for i, o := range s.offices {
		ids[i] = o.id
	}
	rows, err := pool.Query(ctx, `SELECT office_id, seq, at FROM office_events WHERE office_id = ANY($1)`, ids)
	if err != nil {
		return nil, fmt.Errorf("bench region: read the events: %w", err)
	}
	index := map[int64]int{}
	for i, id := range ids {
		index[id] = i
	}
	at := make([]map[int64]time.Time, len(ids))
	for i := range at {
		at[i] = map[int64]time.Time{}
	}
	var office, seq int64
	var t time.Time
	_, err = pgx.ForEachRow(rows, []any{&office, &seq, &t}, func() error {
		at[index[office]][seq] = t
		if s.inWindow(t) {
			res.events++
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("bench region: read the events: %w", err)
	}
	res.eventsPerSec = float64(res.events) / s.opt.Duration.Seconds()
	// A refresh begun just before the load stopped may still be recording.
	s.mu.Lock()
	defer s.mu.Unlock()
	var lat [obsKinds][]time.Duration
	for k := range obsKinds {
		for _, o := range s.obs[k] {
			if t, ok := at[o.office][o.seq]; ok && s.inWindow(t) {
				lat[k] = append(lat[k], max(o.got.Sub(t), 0))
			}
		}
	}
	res.screen, res.called, res.desk, res.phone = summarize(lat[obsScreen]), summarize(lat[obsCalled]), summarize(lat[obsDesk]), summarize(lat[obsPhone])
	res.issue, res.call, res.emptyCalls, res.httpErrors = summarize(s.issue), summarize(s.call), s.emptyCalls, s.httpErrors
	res.drops, res.reconnects, res.dialFailure = int(s.drops.Load()), int(s.reconnects.Load()), int(s.dialFailures.Load())
	res.refusals = int(s.refusals.Load())
	return res, nil
}

// prefill issues, in each office, a waiting ticket for each phone to follow and one for each desk to call
// first (so that the desks' first calls do not leave phones without a ticket), four at a time.
func (s *sim) prefill(ctx context.Context) error {
	type job struct {
		o *regionOffice
		k int
	}
	jobs := make(chan job)
	errc := make(chan error, 4)
	var wg sync.WaitGroup
	for range 4 {
		wg.Go(func() {
			rng := s.newRand()
			for j := range jobs {
				code, _, err := s.issueOne(ctx, j.o, j.k, rng)
				if err != nil {
					errc <- err
					return
				}
				j.o.fresh <- code
			}
		})
	}
	var err error
feed:
	for _, o := range s.offices {
		for k := range s.opt.Phones + s.opt.Desks {
			select {
			case jobs <- job{o, k}:
			case err = <-errc:
				break feed
			}
		}
	}
	close(jobs)
	wg.Wait()
	close(errc)
	if err == nil {
		err = <-errc
	}
	return err
}

// issueOne takes a ticket at the office's kiosk for a service drawn by the arrival rates, and returns its
// code and how long the request took.
func (s *sim) issueOne(ctx context.Context, o *regionOffice, client int, rng *rand.Rand) (string, time.Duration, error) {
	x := rng.Float64() * o.rate()
	i, _ := slices.BinarySearch(o.weights, x)
	i = min(i, len(o.services)-1)
	var t struct{ Code string }
	t0 := time.Now()
	_, got, err := s.do(ctx, client, s.node(o.index+client), "POST", "/api/v1/offices/"+o.slug+"/tickets", o.kioskToken,
		`{"service":"`+o.services[i]+`"}`, &t)
	return t.Code, got.Sub(t0), err
}

// kiosk issues the office's arrivals: Poisson at the curve's rate × the factor, each request on its own so
// that a slow answer does not hold up the next arrival.
func (s *sim) kiosk(ctx context.Context, o *regionOffice) {
	rng := s.newRand()
	rate := o.rate() * s.opt.Factor
	next := time.Now()
	var wg sync.WaitGroup
	defer wg.Wait()
	for n := 0; ; n++ {
		next = next.Add(time.Duration(rng.ExpFloat64() / rate * float64(time.Second)))
		select {
		case <-ctx.Done():
			return
		case <-time.After(time.Until(next)):
		}
		r := s.newRand()
		wg.Go(func() {
			start := time.Now()
			code, took, err := s.issueOne(ctx, o, n, r)
			if err != nil {
				return
			}
			if s.inWindow(start) {
				s.mu.Lock()
				s.issue = append(s.issue, took)
				s.mu.Unlock()
			}
			select {
			case o.fresh <- code:
			default: // enough tickets to follow already
			}
		})
	}
}

// desk is an operator's loop: call the next ticket, start serving it, finish it after a log-normal handling
// time (the service's expected time × scale, sigma 0.5); with nothing to call, look again after 500 ms.
func (s *sim) desk(ctx context.Context, client int, o *regionOffice, d regionDesk, scale float64) {
	rng := s.newRand()
	base := s.node(client)
	path := fmt.Sprintf("/api/v1/desks/%d/", d.id)
	pause := func(t time.Duration) bool {
		select {
		case <-ctx.Done():
			return false
		case <-time.After(t):
			return true
		}
	}
	for ctx.Err() == nil {
		var t struct{ Service string }
		t0 := time.Now()
		status, got, err := s.do(ctx, client, base, "POST", path+"next", d.token, "{}", &t)
		if err != nil || status == http.StatusNoContent || t.Service == "" {
			if err == nil && s.inWindow(t0) {
				s.mu.Lock()
				s.emptyCalls++
				s.mu.Unlock()
			}
			if !pause(500 * time.Millisecond) {
				return
			}
			continue
		}
		if s.inWindow(t0) {
			s.mu.Lock()
			s.call = append(s.call, got.Sub(t0))
			s.mu.Unlock()
		}
		if _, _, err := s.do(ctx, client, base, "POST", path+"start", d.token, "{}", nil); err != nil {
			continue
		}
		if !pause(lognormal(rng.NormFloat64(), o.handling[t.Service]*scale, 0.5)) {
			return
		}
		_, _, _ = s.do(ctx, client, base, "POST", path+"finish", d.token, "{}", nil)
	}
}

// totalRSS is the nodes' resident memory together.
func totalRSS(nodes []*benchNode) (int64, error) {
	var total int64
	for _, n := range nodes {
		r, err := n.rss()
		if err != nil {
			return 0, err
		}
		total += r
	}
	return total, nil
}

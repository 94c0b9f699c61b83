package bench

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"turno/cmd/turno/demo"
)

// StormOptions configure Storm.
type StormOptions struct {
	// Node is the command line that starts one app node ("turno serve"); Storm adds --demo and --addr.
	Node []string
	// NodeEnv is added to the node's environment (NAME=value), e.g. to set the per-address caps.
	NodeEnv []string
	// DatabaseURL is a PostgreSQL server where Storm may create (and drop) a scratch database per run.
	DatabaseURL string
	// Requests is how many tickets the kiosks issue, and time, in each phase.
	Requests int
	// Kiosks is how many kiosks issue at once, each one ticket after the other.
	Kiosks int
	// Idle is how many idle WebSocket streams the second and third phases hold open.
	Idle int
	// Stormers is how many clients of the connect storm open and close streams at once, as fast as they can.
	Stormers int
	// Addresses is how many loopback source addresses the idle streams and the storm's clients spread
	// over (127.10.0.1 upwards), so that the per-address caps let them in as they would many clients.
	Addresses int
	// Runs is how many times the whole measurement is made, each on a fresh node and database; with more
	// than one, the medians over the runs close the report.
	Runs int
}

// ParseStorm reads the flags of "turno bench storm" (--requests 600 --kiosks 2 --idle 2000 --stormers 64
// --addresses 200 --runs 3 --database-url URL --node-env NAME=value,…). The caller sets Node.
func ParseStorm(args []string) (StormOptions, error) {
	fs := flag.NewFlagSet("bench storm", flag.ContinueOnError)
	opt := StormOptions{}
	fs.IntVar(&opt.Requests, "requests", 600, "tickets issued and timed per phase")
	fs.IntVar(&opt.Kiosks, "kiosks", 2, "kiosks issuing at once (from 127.0.0.2), each one ticket after the other")
	fs.IntVar(&opt.Idle, "idle", 2000, "idle WebSocket streams held open in the second and third phases")
	fs.IntVar(&opt.Stormers, "stormers", 64, "clients of the connect storm, each opening and closing streams as fast as it can")
	fs.IntVar(&opt.Addresses, "addresses", 200, "loopback source addresses the idle streams and the storm spread over")
	fs.IntVar(&opt.Runs, "runs", 1, "runs, each on a fresh node and database; the medians close the report")
	fs.StringVar(&opt.DatabaseURL, "database-url", databaseURL(), "PostgreSQL server for the scratch databases (TEST_DATABASE_URL)")
	env := fs.String("node-env", "", "comma-separated NAME=value settings for the node, e.g. TURNO_MAX_STREAMS_PER_ADDRESS=0")
	if err := fs.Parse(args); err != nil {
		return StormOptions{}, err
	}
	for _, kv := range strings.Split(*env, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		if !strings.Contains(kv, "=") {
			return StormOptions{}, fmt.Errorf("bench storm: --node-env: %q is not NAME=value", kv)
		}
		opt.NodeEnv = append(opt.NodeEnv, kv)
	}
	if opt.Requests < 1 || opt.Kiosks < 1 || opt.Idle < 0 || opt.Stormers < 1 || opt.Addresses < 1 || opt.Addresses > 250*250 || opt.Runs < 1 {
		return StormOptions{}, errors.New("bench storm: --requests, --kiosks, --stormers, --addresses (up to 62500) and --runs must be positive, --idle not negative")
	}
	return opt, nil
}

// stormPhase is one row of the report.
type stormPhase struct {
	name          string
	issued        int
	failed        int // issues that did not answer 201
	p50, p99, max time.Duration
	connects      float64 // storm streams opened (snapshot received) per second
	refused       int64   // storm handshakes refused (429 or a closed connection)
}

// Storm measures how a node's ticket issuing holds up against WebSocket load: the kiosks' issue latency
// (a real POST /api/v1/offices/demo/tickets with the demo kiosk token, from 127.0.0.2) with nothing else
// going on, with Idle idle streams open, and with those streams open while Stormers clients open and close
// streams as fast as they can. The node runs in its own process on a scratch database; the clients run in
// this process, on the same machine. It prints one table per run to w, and the medians over the runs.
func Storm(ctx context.Context, w io.Writer, opt StormOptions) error {
	if len(opt.Node) == 0 || opt.Requests < 1 || opt.Kiosks < 1 || opt.Stormers < 1 || opt.Addresses < 1 || opt.Runs < 1 {
		return errors.New("bench storm: need a node command, requests, kiosks, stormers, addresses and runs")
	}
	if opt.DatabaseURL == "" {
		opt.DatabaseURL = databaseURL()
	}
	limit, err := raiseFileLimit()
	if err != nil {
		return err
	}
	if need := opt.Idle + opt.Stormers + opt.Kiosks + 200; need > int(limit) {
		return fmt.Errorf("bench storm: %d idle streams need an open-file limit of %d (have %d)", opt.Idle, need, limit)
	}
	fmt.Fprintf(w, "turno bench storm: one node in its own process; %d kiosks on 127.0.0.2 issue %d tickets per phase; "+
		"%d idle streams and %d storm clients over %d addresses 127.10.x.y; node env %v; open-file limit %d\n",
		opt.Kiosks, opt.Requests, opt.Idle, opt.Stormers, opt.Addresses, opt.NodeEnv, limit)
	return repeat(w, opt.Runs, func(int) ([]stormPhase, error) { return stormRun(ctx, opt) }, printStorm, medianPhases)
}

// repeat makes runs measurements with run, prints each with print and, when there are several, their
// medians (medians).
func repeat[T any](w io.Writer, runs int, run func(i int) (T, error), print func(io.Writer, T), medians func([]T) T) error {
	var all []T
	for i := range runs {
		r, err := run(i)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "\nrun %d of %d\n", i+1, runs)
		print(w, r)
		all = append(all, r)
	}
	if runs > 1 {
		fmt.Fprintf(w, "\nmedians of %d runs\n", runs)
		print(w, medians(all))
	}
	return nil
}

func printStorm(w io.Writer, phases []stormPhase) {
	fmt.Fprintf(w, "%-34s %7s %7s %10s %10s %10s %12s %9s\n", "phase", "issued", "failed", "p50", "p99", "max", "connects/s", "refused")
	for _, p := range phases {
		rate := "-"
		if p.connects > 0 {
			rate = fmt.Sprintf("%.0f", p.connects)
		}
		fmt.Fprintf(w, "%-34s %7d %7d %10s %10s %10s %12s %9d\n", p.name, p.issued, p.failed, ms(p.p50), ms(p.p99), ms(p.max), rate, p.refused)
	}
}

// medianPhases is, phase by phase, the median of each figure over the runs.
func medianPhases(runs [][]stormPhase) []stormPhase {
	out := make([]stormPhase, len(runs[0]))
	for i := range out {
		var p50, p99, mx []time.Duration
		var issued, failed []int
		var connects []float64
		var refused []int64
		for _, r := range runs {
			p := r[i]
			p50, p99, mx = append(p50, p.p50), append(p99, p.p99), append(mx, p.max)
			issued, failed, connects, refused = append(issued, p.issued), append(failed, p.failed), append(connects, p.connects), append(refused, p.refused)
		}
		out[i] = stormPhase{name: runs[0][i].name, p50: median(p50), p99: median(p99), max: median(mx),
			issued: median(issued), failed: median(failed), connects: median(connects), refused: median(refused)}
	}
	return out
}

func median[T int | int64 | float64 | time.Duration](v []T) T {
	s := slices.Clone(v)
	slices.Sort(s)
	return s[len(s)/2]
}

// stormAddr is the k-th source address of the idle streams and the storm: 127.10.0.1, 127.10.0.2, …
func stormAddr(k int) net.IP {
	return net.IPv4(127, 10, byte(k/250), byte(1+k%250))
}

func stormRun(ctx context.Context, opt StormOptions) ([]stormPhase, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dsn, drop, err := scratchDatabase(ctx, opt.DatabaseURL)
	if err != nil {
		return nil, err
	}
	defer drop()
	// Kiosks issue far more than a real one would: lift the per-kiosk rate limit.
	env := append([]string{"TURNO_ISSUE_PER_MINUTE=100000000"}, opt.NodeEnv...)
	node, err := startNode(ctx, opt.Node, dsn, env...)
	if err != nil {
		return nil, err
	}
	defer node.stop()
	base := "http://" + node.addr

	kiosks := make([]*stormKiosk, opt.Kiosks)
	for i := range kiosks {
		kiosks[i] = newStormKiosk(base)
	}
	// The idle streams and the storm follow a ticket of another service than the kiosks issue, so that
	// the new tickets send them nothing: they stay idle but for the heartbeat.
	var followed struct{ Code string }
	if err := kiosks[0].issue(ctx, "certificati", &followed); err != nil {
		return nil, err
	}
	ticketURL := "ws://" + node.addr + "/ws/tickets/" + followed.Code + "/events"
	for range 50 { // warm up the node, its pool and the database's caches
		if err := kiosks[0].issue(ctx, "cie", nil); err != nil {
			return nil, err
		}
	}
	if err := stormDial(ctx, ticketURL, stormAddr(0)); err != nil {
		return nil, err
	}

	var phases []stormPhase
	phases = append(phases, measureIssue(ctx, "baseline", kiosks, opt.Requests))

	idle, err := openIdle(ctx, ticketURL, opt.Idle, opt.Addresses)
	defer func() {
		for _, c := range idle {
			c.Close()
		}
	}()
	if err != nil {
		return nil, err
	}
	phases = append(phases, measureIssue(ctx, fmt.Sprintf("%d idle streams", len(idle)), kiosks, opt.Requests))

	sctx, stopStorm := context.WithCancel(ctx)
	storm := startStorm(sctx, ticketURL, opt.Stormers, opt.Addresses)
	time.Sleep(time.Second) // let the storm get going
	p := measureIssue(ctx, fmt.Sprintf("%d idle + storm (%d clients)", len(idle), opt.Stormers), kiosks, opt.Requests)
	stopStorm()
	p.connects, p.refused = storm.wait()
	phases = append(phases, p)
	return phases, nil
}

// stormKiosk is one kiosk: a keep-alive HTTP client from 127.0.0.2 with the demo kiosk token.
type stormKiosk struct {
	base   string
	client *http.Client
}

func newStormKiosk(base string) *stormKiosk {
	d := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, 2)}, Timeout: 10 * time.Second}
	return &stormKiosk{base: base, client: &http.Client{Timeout: 60 * time.Second,
		Transport: &http.Transport{DialContext: d.DialContext, MaxIdleConnsPerHost: 1}}}
}

// issue takes a ticket for service and decodes it into out (when not nil).
func (k *stormKiosk) issue(ctx context.Context, service string, out any) error {
	req, err := http.NewRequestWithContext(ctx, "POST", k.base+"/api/v1/offices/"+demo.OfficeSlug+"/tickets",
		strings.NewReader(`{"service":"`+service+`"}`))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("Authorization", "Bearer "+demo.KioskToken)
	res, err := k.client.Do(req)
	if err != nil {
		return fmt.Errorf("bench storm: issue: %w", err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusCreated {
		return fmt.Errorf("bench storm: issue: %s %s", res.Status, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

// measureIssue has the kiosks issue n tickets in all, each kiosk one after the other, and times each
// from just before the request to the end of the answer.
func measureIssue(ctx context.Context, name string, kiosks []*stormKiosk, n int) stormPhase {
	var mu sync.Mutex
	var lat []time.Duration
	failed := 0
	var next atomic.Int64
	var wg sync.WaitGroup
	for _, k := range kiosks {
		wg.Go(func() {
			for next.Add(1) <= int64(n) && ctx.Err() == nil {
				start := time.Now()
				err := k.issue(ctx, "cie", nil)
				d := time.Since(start)
				mu.Lock()
				if err != nil {
					failed++
				} else {
					lat = append(lat, d)
				}
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	p := stormPhase{name: name, issued: len(lat), failed: failed}
	if len(lat) > 0 {
		slices.Sort(lat)
		p.p50, p.p99, p.max = lat[len(lat)/2], lat[len(lat)*99/100], lat[len(lat)-1]
	}
	return p
}

// stormDialer opens streams from a given local address.
func stormDialer(from net.IP) *websocket.Dialer {
	nd := &net.Dialer{LocalAddr: &net.TCPAddr{IP: from}}
	return &websocket.Dialer{NetDialContext: nd.DialContext, ReadBufferSize: 1024, WriteBufferSize: 256, HandshakeTimeout: 30 * time.Second}
}

// stormDial opens one stream, reads its snapshot and closes it.
func stormDial(ctx context.Context, url string, from net.IP) error {
	c, _, err := stormDialer(from).DialContext(ctx, url, nil)
	if err != nil {
		return fmt.Errorf("bench storm: open a stream from %s: %w", from, err)
	}
	defer c.Close()
	_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
	if _, _, err := c.ReadMessage(); err != nil {
		return fmt.Errorf("bench storm: snapshot: %w", err)
	}
	return nil
}

// openIdle opens n streams spread over the addresses, 32 at a time, and keeps reading them (so that they
// answer the node's pings) until they are closed.
func openIdle(ctx context.Context, url string, n, addresses int) ([]*websocket.Conn, error) {
	conns := make([]*websocket.Conn, n)
	var next atomic.Int64
	var wg sync.WaitGroup
	var once sync.Once
	var firstErr error
	for range 32 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n || ctx.Err() != nil {
					return
				}
				c, _, err := stormDialer(stormAddr(i%addresses)).DialContext(ctx, url, nil)
				if err != nil {
					once.Do(func() { firstErr = fmt.Errorf("bench storm: idle stream %d: %w", i, err) })
					return
				}
				conns[i] = c
				go func() {
					for {
						if _, _, err := c.NextReader(); err != nil {
							return
						}
					}
				}()
			}
		})
	}
	wg.Wait()
	out := conns[:0]
	for _, c := range conns {
		if c != nil {
			out = append(out, c)
		}
	}
	return out, firstErr
}

// storm is the connect storm under way.
type storm struct {
	start   time.Time
	opened  atomic.Int64
	refused atomic.Int64
	wg      sync.WaitGroup
}

// startStorm starts clients that each open a stream, read its snapshot and close it, again and again from
// the next address, until ctx ends.
func startStorm(ctx context.Context, url string, clients, addresses int) *storm {
	s := &storm{start: time.Now()}
	var k atomic.Int64
	for range clients {
		s.wg.Go(func() {
			for ctx.Err() == nil {
				from := stormAddr(int(k.Add(1)) % addresses)
				c, _, err := stormDialer(from).DialContext(ctx, url, nil)
				if err != nil {
					if ctx.Err() == nil {
						s.refused.Add(1)
					}
					continue
				}
				_ = c.SetReadDeadline(time.Now().Add(30 * time.Second))
				if _, _, err := c.ReadMessage(); err == nil {
					s.opened.Add(1)
				}
				c.Close()
			}
		})
	}
	return s
}

// wait waits for the storm's clients to stop and returns the streams opened per second and the refused
// handshakes.
func (s *storm) wait() (float64, int64) {
	s.wg.Wait()
	return float64(s.opened.Load()) / time.Since(s.start).Seconds(), s.refused.Load()
}

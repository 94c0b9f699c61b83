package bench

import (
	"bufio"
	"bytes"
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"

	"turno/cmd/turno/demo"
	"turno/internal/database"
)

// DefaultDatabaseURL is the PostgreSQL server the benchmarks make their scratch databases on when neither
// a flag nor TEST_DATABASE_URL names one: the local server's maintenance database.
const DefaultDatabaseURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// databaseURL is TEST_DATABASE_URL or DefaultDatabaseURL.
func databaseURL() string {
	if u := os.Getenv("TEST_DATABASE_URL"); u != "" {
		return u
	}
	return DefaultDatabaseURL
}

// DisplaysOptions configure Displays.
type DisplaysOptions struct {
	// Node is the command line that starts one app node ("turno serve"); Displays adds --demo and --addr.
	Node []string
	// DatabaseURL is a PostgreSQL server where Displays may create (and drop) a scratch database per run.
	DatabaseURL string
	// Clients is the number of WebSocket clients of each run.
	Clients []int
	// Calls is how many calls each run measures.
	Calls int
}

// ParseDisplays reads the flags of "turno bench displays" (--clients 1000,10000 --calls 20
// --database-url URL). The caller sets Node.
func ParseDisplays(args []string) (DisplaysOptions, error) {
	fs := flag.NewFlagSet("bench displays", flag.ContinueOnError)
	clients := fs.String("clients", "1000,10000", "comma-separated client counts, one run each")
	calls := fs.Int("calls", 20, "calls measured per run")
	dbURL := fs.String("database-url", databaseURL(), "PostgreSQL server for the scratch databases (TEST_DATABASE_URL)")
	if err := fs.Parse(args); err != nil {
		return DisplaysOptions{}, err
	}
	opt := DisplaysOptions{DatabaseURL: *dbURL, Calls: *calls}
	for _, v := range strings.Split(*clients, ",") {
		n, err := strconv.Atoi(strings.TrimSpace(v))
		if err != nil || n < 1 {
			return DisplaysOptions{}, fmt.Errorf("bench displays: --clients: %q is not a positive number", v)
		}
		opt.Clients = append(opt.Clients, n)
	}
	return opt, nil
}

// Displays measures the fan-out of one node: for each client count it starts a fresh node in its own
// process on a scratch database, connects that many display clients to it, reads the node's resident memory
// before and after (the memory of an idle connection), then makes calls through the API and times each
// client's receipt of each call, from just before the request is sent. It prints one line per run to w.
func Displays(ctx context.Context, w io.Writer, opt DisplaysOptions) error {
	if len(opt.Node) == 0 || len(opt.Clients) == 0 || opt.Calls <= 0 {
		return errors.New("bench displays: need a node command, client counts and calls")
	}
	if opt.DatabaseURL == "" {
		opt.DatabaseURL = databaseURL()
	}
	limit, err := raiseFileLimit()
	if err != nil {
		return err
	}
	fmt.Fprintf(w, "turno bench displays: one node in its own process; clients in this process on 127.0.0.x; "+
		"%d calls per run; open-file limit %d\n", opt.Calls, limit)
	fmt.Fprintf(w, "%8s %10s %12s %10s %10s %10s %14s %8s\n",
		"clients", "connect", "rss/idle", "p50", "p99", "max", "all-have-it", "dropped")
	for _, n := range opt.Clients {
		if n+100 > int(limit) {
			return fmt.Errorf("bench displays: %d clients need an open-file limit of %d (have %d)", n, n+100, limit)
		}
		r, err := benchRun(ctx, opt, n)
		if err != nil {
			return err
		}
		fmt.Fprintf(w, "%8d %10s %9.1f KB %10s %10s %10s %14s %8d\n", n, r.connect.Round(time.Millisecond),
			r.rssPerConn/1024, ms(r.p50), ms(r.p99), ms(r.max), ms(r.allMedian), r.dropped)
	}
	return nil
}

func ms(d time.Duration) string { return fmt.Sprintf("%.1fms", float64(d)/float64(time.Millisecond)) }

type benchResult struct {
	connect       time.Duration
	rssPerConn    float64 // bytes
	p50, p99, max time.Duration
	allMedian     time.Duration // median over calls of the time until the last client had it
	dropped       int
}

// raiseFileLimit lifts this process's open-file limit (inherited by the node it starts) as far as allowed.
func raiseFileLimit() (uint64, error) {
	var lim syscall.Rlimit
	if err := syscall.Getrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("bench displays: open-file limit: %w", err)
	}
	want := max(lim.Max, 1<<16)
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &syscall.Rlimit{Cur: want, Max: want}); err == nil {
		return want, nil
	}
	lim.Cur = lim.Max
	if err := syscall.Setrlimit(syscall.RLIMIT_NOFILE, &lim); err != nil {
		return 0, fmt.Errorf("bench displays: raise open-file limit: %w", err)
	}
	return lim.Cur, nil
}

func benchRun(ctx context.Context, opt DisplaysOptions, n int) (*benchResult, error) {
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	dsn, drop, err := scratchDatabase(ctx, opt.DatabaseURL)
	if err != nil {
		return nil, err
	}
	defer drop()
	// The clients come from 8 addresses only: lift the per-address caps.
	node, err := startNode(ctx, opt.Node, dsn, "TURNO_MAX_STREAMS_PER_ADDRESS=0", "TURNO_MAX_CONNS_PER_ADDRESS=0")
	if err != nil {
		return nil, err
	}
	defer node.stop()
	api := &benchAPI{base: "http://" + node.addr}
	if err := api.setup(ctx); err != nil {
		return nil, err
	}
	// Warm up the node's code paths and pools before the baseline.
	warm, err := dialBench(ctx, node.addr, 0, -1)
	if err != nil {
		return nil, err
	}
	if err := api.round(ctx); err != nil {
		return nil, err
	}
	warm.conn.Close()
	time.Sleep(2 * time.Second)
	rss0, err := node.rss()
	if err != nil {
		return nil, err
	}

	// The first client takes a snapshot; the others resume from its seq, as reconnecting screens do.
	start := time.Now()
	first, err := dialBench(ctx, node.addr, 0, -1)
	if err != nil {
		return nil, err
	}
	clients := make([]*benchClient, n)
	clients[0] = first
	var next atomic.Int64
	next.Store(1)
	var wg sync.WaitGroup
	errc := make(chan error, 1)
	for range 32 {
		wg.Go(func() {
			for {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				c, err := dialBench(ctx, node.addr, i, first.seq)
				if err != nil {
					select {
					case errc <- err:
					default:
					}
					return
				}
				clients[i] = c
			}
		})
	}
	wg.Wait()
	select {
	case err := <-errc:
		closeBench(clients)
		return nil, err
	default:
	}
	res := &benchResult{connect: time.Since(start)}
	defer closeBench(clients)
	time.Sleep(3 * time.Second)
	rss1, err := node.rss()
	if err != nil {
		return nil, err
	}
	res.rssPerConn = float64(rss1-rss0) / float64(n)

	sink := &benchSink{clients: clients}
	for _, c := range clients {
		go c.read(sink)
	}
	var all []time.Duration
	var worst []time.Duration
	for range opt.Calls {
		// A ticket to call: wait until every client has its ticket.issued, so the call is timed alone.
		sink.expect("ticket.issued", n)
		if err := api.issue(ctx); err != nil {
			return nil, err
		}
		if err := sink.wait(ctx); err != nil {
			return nil, err
		}
		lat := sink.expect("ticket.called", n)
		if err := api.next(ctx); err != nil {
			return nil, err
		}
		if err := sink.wait(ctx); err != nil {
			return nil, err
		}
		all = append(all, lat...)
		worst = append(worst, slices.Max(lat))
		sink.expect("ticket.started", n)
		if err := api.start(ctx); err != nil {
			return nil, err
		}
		if err := sink.wait(ctx); err != nil {
			return nil, err
		}
	}
	slices.Sort(all)
	slices.Sort(worst)
	res.p50, res.p99, res.max = all[len(all)/2], all[len(all)*99/100], all[len(all)-1]
	res.allMedian = worst[len(worst)/2]
	res.dropped = int(sink.dropped.Load())
	return res, nil
}

// scratchDatabase creates an empty database on the server of url and returns its URL and a function that
// drops it.
func scratchDatabase(ctx context.Context, url string) (string, func(), error) {
	b := make([]byte, 4)
	_, _ = rand.Read(b)
	name := "turno_bench_" + hex.EncodeToString(b)
	dsn := database.WithDatabase(url, name)
	pool, err := database.Open(ctx, dsn) // creates it
	if err != nil {
		return "", nil, fmt.Errorf("bench displays: create scratch database: %w", err)
	}
	pool.Close()
	drop := func() {
		admin, err := database.Open(context.Background(), url)
		if err != nil {
			return
		}
		defer admin.Close()
		_, _ = admin.Exec(context.Background(), "DROP DATABASE IF EXISTS "+pgx.Identifier{name}.Sanitize()+" WITH (FORCE)")
	}
	return dsn, drop, nil
}

// benchNode is an app node running in its own process.
type benchNode struct {
	cmd    *exec.Cmd
	addr   string
	stderr *bytes.Buffer
}

// startNode starts a node (turno serve --demo) on the database dsn, with env added to its environment, and
// waits until it answers.
func startNode(ctx context.Context, argv []string, dsn string, env ...string) (*benchNode, error) {
	return startNodeWith(ctx, argv, []string{"--demo"}, dsn, env...)
}

// startNodeWith starts a node with extra arguments besides --addr (startNode's --demo, or none for a
// database the harness fills itself).
func startNodeWith(ctx context.Context, argv, extra []string, dsn string, env ...string) (*benchNode, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	addr := l.Addr().String()
	l.Close()
	args := append(append(slices.Clone(argv[1:]), extra...), "--addr", addr)
	cmd := exec.CommandContext(ctx, argv[0], args...)
	cmd.Env = append(append(os.Environ(), "DATABASE_URL="+dsn, "TURNO_LOG_LEVEL=warn"), env...)
	n := &benchNode{cmd: cmd, addr: addr, stderr: &bytes.Buffer{}}
	cmd.Stderr = &limitedWriter{w: n.stderr, n: 64 << 10}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("bench: start node: %w", err)
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		res, err := http.Get("http://" + addr + "/healthz")
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return n, nil
			}
		}
		if time.Now().After(deadline) || ctx.Err() != nil {
			n.stop()
			return nil, fmt.Errorf("bench: node did not start: %s", n.stderr.String())
		}
		time.Sleep(100 * time.Millisecond)
	}
}

func (n *benchNode) stop() {
	_ = n.cmd.Process.Signal(os.Interrupt)
	done := make(chan struct{})
	go func() { _ = n.cmd.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second):
		_ = n.cmd.Process.Kill()
		<-done
	}
}

// rss returns the node's resident memory in bytes.
func (n *benchNode) rss() (int64, error) {
	f, err := os.Open(fmt.Sprintf("/proc/%d/status", n.cmd.Process.Pid))
	if err != nil {
		return 0, fmt.Errorf("bench displays: read node memory: %w", err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), "VmRSS:"); ok {
			kb, err := strconv.ParseInt(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), 10, 64)
			return kb * 1024, err
		}
	}
	return 0, errors.New("bench displays: no VmRSS in /proc status")
}

type limitedWriter struct {
	w io.Writer
	n int
}

func (l *limitedWriter) Write(p []byte) (int, error) {
	if l.n > 0 {
		k := min(len(p), l.n)
		l.n -= k
		_, _ = l.w.Write(p[:k])
	}
	return len(p), nil
}

// benchAPI drives desk 1 of the demo office through the JSON API.
type benchAPI struct {
	base   string
	token  string
	deskID int64
}

func (a *benchAPI) do(ctx context.Context, method, path, body string, out any) error {
	req, err := http.NewRequestWithContext(ctx, method, a.base+path, strings.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	if a.token != "" {
		req.Header.Set("Authorization", "Bearer "+a.token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return fmt.Errorf("bench displays: %s %s: %w", method, path, err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode >= 300 {
		return fmt.Errorf("bench displays: %s %s: %s %s", method, path, res.Status, b)
	}
	if out != nil {
		return json.Unmarshal(b, out)
	}
	return nil
}

func (a *benchAPI) setup(ctx context.Context) error {
	var login struct{ Token string }
	if err := a.do(ctx, "POST", "/api/v1/login", `{"username":"op1","password":"`+demo.Password+`"}`, &login); err != nil {
		return err
	}
	a.token = login.Token
	var desks []struct {
		ID     int64
		Number int
	}
	if err := a.do(ctx, "GET", "/api/v1/offices/"+demo.OfficeSlug+"/desks", "", &desks); err != nil {
		return err
	}
	for _, d := range desks {
		if d.Number == 1 {
			a.deskID = d.ID
		}
	}
	if a.deskID == 0 {
		return errors.New("bench displays: the demo office has no desk 1")
	}
	return a.do(ctx, "POST", fmt.Sprintf("/api/v1/desks/%d/open", a.deskID), "{}", nil)
}

func (a *benchAPI) issue(ctx context.Context) error {
	return a.do(ctx, "POST", "/api/v1/offices/"+demo.OfficeSlug+"/tickets", `{"service":"cie"}`, nil)
}

func (a *benchAPI) next(ctx context.Context) error {
	return a.do(ctx, "POST", fmt.Sprintf("/api/v1/desks/%d/next", a.deskID), "{}", nil)
}

func (a *benchAPI) start(ctx context.Context) error {
	return a.do(ctx, "POST", fmt.Sprintf("/api/v1/desks/%d/start", a.deskID), "{}", nil)
}

// round issues a ticket, calls it and starts serving it.
func (a *benchAPI) round(ctx context.Context) error {
	if err := a.issue(ctx); err != nil {
		return err
	}
	if err := a.next(ctx); err != nil {
		return err
	}
	return a.start(ctx)
}

// benchClient is one display connection of the benchmark.
type benchClient struct {
	i    int
	conn *websocket.Conn
	seq  int64 // the snapshot's seq, for the first client
}

var benchDialer = websocket.Dialer{ReadBufferSize: 1024, WriteBufferSize: 256, HandshakeTimeout: 30 * time.Second}

// dialBench connects client i as the demo display, from source address 127.0.0.(1+i%8) so that 10,000
// connections do not exhaust one address's ephemeral ports. since < 0 asks for a snapshot.
func dialBench(ctx context.Context, addr string, i int, since int64) (*benchClient, error) {
	d := benchDialer
	nd := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.IPv4(127, 0, 0, byte(1+i%8))}}
	d.NetDialContext = nd.DialContext
	u := "ws://" + addr + "/ws/offices/" + demo.OfficeSlug + "/events"
	if since >= 0 {
		u += "?since=" + strconv.FormatInt(since, 10)
	}
	h := http.Header{"Authorization": {"Bearer " + demo.DisplayToken}}
	conn, _, err := d.DialContext(ctx, u, h)
	if err != nil {
		return nil, fmt.Errorf("bench displays: client %d: %w", i, err)
	}
	c := &benchClient{i: i, conn: conn}
	if since < 0 {
		_, b, err := conn.ReadMessage()
		if err != nil {
			conn.Close()
			return nil, fmt.Errorf("bench displays: snapshot: %w", err)
		}
		var snap struct{ Seq int64 }
		if err := json.Unmarshal(b, &snap); err != nil {
			conn.Close()
			return nil, fmt.Errorf("bench displays: snapshot: %w", err)
		}
		c.seq = snap.Seq
	}
	return c, nil
}

func closeBench(clients []*benchClient) {
	for _, c := range clients {
		if c != nil {
			c.conn.Close()
		}
	}
}

// benchSink collects, for the event type being waited for, when each client received it.
type benchSink struct {
	clients []*benchClient

	mu      sync.RWMutex // guards the fields below against expect; got only reads them
	typ     string
	t0      time.Time
	lat     []time.Duration
	left    atomic.Int64
	done    chan struct{}
	dropped atomic.Int64
}

// expect starts waiting for every client to receive an event of type typ, timing from now; the returned
// slice is filled in as they do.
func (s *benchSink) expect(typ string, n int) []time.Duration {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.typ, s.t0, s.lat, s.done = typ, time.Now(), make([]time.Duration, n), make(chan struct{})
	s.left.Store(int64(n))
	return s.lat
}

// got records that client i received an event of type typ at at. Each client writes only its own slot.
func (s *benchSink) got(i int, typ string, at time.Time) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if typ != s.typ || s.lat[i] != 0 {
		return
	}
	s.lat[i] = max(at.Sub(s.t0), 1)
	if s.left.Add(-1) == 0 {
		close(s.done)
	}
}

func (s *benchSink) wait(ctx context.Context) error {
	s.mu.Lock()
	done, typ := s.done, s.typ
	s.mu.Unlock()
	select {
	case <-done:
		return nil
	case <-time.After(60 * time.Second):
		return fmt.Errorf("bench displays: %d clients did not receive %s within 60s (%d dropped)", s.left.Load(), typ, s.dropped.Load())
	case <-ctx.Done():
		return ctx.Err()
	}
}

var typeKey = []byte(`"type":"`)

// read records the type of every event the client receives; it does no more work than that, since the
// clients share the machine with the node.
func (c *benchClient) read(s *benchSink) {
	buf := make([]byte, 0, 2048)
	for {
		_, r, err := c.conn.NextReader()
		if err != nil {
			s.dropped.Add(1)
			return
		}
		b := buf[:0]
		for {
			if len(b) == cap(b) {
				b = append(b, 0)[:len(b)]
			}
			k, err := r.Read(b[len(b):cap(b)])
			b = b[:len(b)+k]
			if err == io.EOF {
				break
			}
			if err != nil {
				s.dropped.Add(1)
				return
			}
		}
		buf = b
		at := time.Now()
		k := bytes.Index(b, typeKey)
		if k < 0 {
			continue
		}
		rest := b[k+len(typeKey):]
		end := bytes.IndexByte(rest, '"')
		if end < 0 {
			continue
		}
		s.got(c.i, string(rest[:end]), at)
	}
}

package faulttest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5"

	"turno/cmd/turno/demo"
	"turno/internal/auth"
	"turno/internal/database"
	"turno/ticketing"
)

var (
	binOnce sync.Once
	binPath string
	binErr  error
	binDir  string
)

func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		_ = os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// turnoBinary builds the turno command of this tree once per test run.
func turnoBinary(t *testing.T) string {
	t.Helper()
	binOnce.Do(func() {
		binDir, binErr = os.MkdirTemp("", "turno-faulttest-bin-")
		if binErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "turno")
		out, err := exec.Command("go", "build", "-o", binPath, "turno/cmd/turno").CombinedOutput()
		if err != nil {
			binErr = fmt.Errorf("build turno: %v\n%s", err, out)
		}
	})
	if binErr != nil {
		t.Fatal(binErr)
	}
	return binPath
}

// node is a `turno serve` process.
type node struct {
	name    string
	addr    string // host:port
	cmd     *exec.Cmd
	log     *lockedBuffer
	done    chan struct{} // closed when the process has exited
	exitErr error
}

// startNode runs `turno serve` on dsn with args and extra environment, and waits until it answers
// /healthz. Its log is shown when the test fails; it is stopped (SIGTERM, then SIGKILL) when the test ends.
func startNode(t *testing.T, name, dsn string, env []string, args ...string) *node {
	t.Helper()
	n := &node{name: name, addr: freeAddr(t), log: &lockedBuffer{}, done: make(chan struct{})}
	n.cmd = exec.Command(turnoBinary(t), append([]string{"serve", "--addr", n.addr}, args...)...)
	n.cmd.Env = append(os.Environ(), append([]string{"DATABASE_URL=" + dsn, "TURNO_LOG_LEVEL=warn",
		"TURNO_ISSUE_PER_MINUTE=1000000", "TURNO_SHUTDOWN_TIMEOUT=3s"}, env...)...)
	n.cmd.Stdout, n.cmd.Stderr = n.log, n.log
	if err := n.cmd.Start(); err != nil {
		t.Fatal(err)
	}
	go func() { n.exitErr = n.cmd.Wait(); close(n.done) }()
	t.Cleanup(func() {
		n.stop()
		if t.Failed() {
			t.Logf("log of node %s:\n%s", n.name, n.log.tail(12000))
		}
	})
	deadline := time.Now().Add(90 * time.Second)
	for {
		res, err := http.Get(n.url("/healthz"))
		if err == nil {
			res.Body.Close()
			if res.StatusCode == http.StatusOK {
				return n
			}
		}
		select {
		case <-n.done:
			t.Fatalf("node %s exited before answering: %v\n%s", name, n.exitErr, n.log.tail(8000))
		case <-time.After(100 * time.Millisecond):
		}
		if time.Now().After(deadline) {
			t.Fatalf("node %s did not answer /healthz within 90 s\n%s", name, n.log.tail(8000))
		}
	}
}

func (n *node) url(path string) string { return "http://" + n.addr + path }

// stop ends the process: SIGTERM, and SIGKILL if it has not exited 15 s later.
func (n *node) stop() {
	select {
	case <-n.done:
		return
	default:
	}
	_ = n.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-n.done:
	case <-time.After(15 * time.Second):
		_ = n.cmd.Process.Kill()
		<-n.done
	}
}

// kill ends the process with SIGKILL, as a crash would, and waits until it is gone.
func (n *node) kill(t *testing.T) {
	t.Helper()
	if err := n.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	<-n.done
}

func freeAddr(t *testing.T) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// lockedBuffer collects a process's output.
type lockedBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// tail is the last n bytes of the output.
func (l *lockedBuffer) tail(n int) string {
	s := l.String()
	if len(s) > n {
		s = "…" + s[len(s)-n:]
	}
	return s
}

// client is an HTTP client for the test's requests.
var client = &http.Client{Timeout: 15 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: 64}}

// answer is an HTTP answer: status, the Retry-After header and the body.
type answer struct {
	status     int
	retryAfter string
	body       []byte
	at         time.Time
}

// call sends a JSON request with a bearer token (and an Idempotency-Key when key is not "").
func call(method, url, token, key, body string) (answer, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return answer{}, err
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if key != "" {
		req.Header.Set("Idempotency-Key", key)
	}
	res, err := client.Do(req)
	if err != nil {
		return answer{}, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return answer{status: res.StatusCode, retryAfter: res.Header.Get("Retry-After"), body: b, at: time.Now()}, err
}

// mustCall is call that fails the test on a transport error or a status other than want.
func mustCall(t *testing.T, want int, method, url, token, body string, out any) {
	t.Helper()
	a, err := call(method, url, token, "", body)
	if err != nil {
		t.Fatalf("%s %s: %v", method, url, err)
	}
	if a.status != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, url, a.status, want, a.body)
	}
	if out != nil {
		if err := json.Unmarshal(a.body, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, url, a.body, err)
		}
	}
}

// seedOffice seeds the demo office (its catalogue, desks, staff, users, kiosk and display) into the
// migrated database dsn, without the planning data and history `turno serve --demo` adds, which the tests
// do not need and which take seconds to make.
func seedOffice(t *testing.T, dsn string) {
	t.Helper()
	ctx := context.Background()
	pool, err := database.Open(ctx, dsn)
	if err != nil {
		t.Fatal(err)
	}
	defer pool.Close()
	if _, err := demo.SeedOffice(ctx, ticketing.NewStore(pool), auth.NewStore(pool)); err != nil {
		t.Fatalf("seed the demo office: %v", err)
	}
}

// login signs a demo user in and returns the token.
func login(t *testing.T, n *node, username string) string {
	t.Helper()
	var res struct{ Token string }
	body, _ := json.Marshal(map[string]string{"username": username, "password": demo.Password})
	mustCall(t, http.StatusOK, "POST", n.url("/api/v1/login"), "", string(body), &res)
	return res.Token
}

// ticket is a ticket as the API returns it.
type ticket struct {
	ID     int64  `json:"id"`
	Number string `json:"number"`
}

// services returns the codes of the demo office's services.
func services(t *testing.T, n *node) []string {
	t.Helper()
	var list []struct {
		Code string `json:"code"`
	}
	mustCall(t, http.StatusOK, "GET", n.url("/api/v1/offices/demo/services"), "", "", &list)
	var codes []string
	for _, s := range list {
		codes = append(codes, s.Code)
	}
	if len(codes) == 0 {
		t.Fatal("the demo office has no services")
	}
	return codes
}

// event is a stream message.
type event struct {
	Seq    int64  `json:"seq"`
	Type   string `json:"type"`
	Ticket *struct {
		ID int64 `json:"id"`
	} `json:"ticket"`
}

// display follows the demo office's events like a hall screen: it connects, and after a drop it
// reconnects (to the node next returns) with since=<last seq>. It records every event and every
// refused connection.
type display struct {
	t    *testing.T
	next func() *node // the node to connect to

	mu       sync.Mutex
	snapshot int64   // seq of the first snapshot
	events   []event // in order of arrival
	last     int64
	connects int
	refused  []answer // handshakes refused with a status
	problems []string // anything a screen should never see
	conn     *websocket.Conn
	stopped  bool
}

// follow connects the display and keeps it following in a goroutine until stop.
func follow(t *testing.T, next func() *node) *display {
	d := &display{t: t, next: next, snapshot: -1}
	first := make(chan struct{})
	go d.run(first)
	select {
	case <-first:
	case <-time.After(20 * time.Second):
		t.Fatal("the display did not connect within 20 s")
	}
	return d
}

func (d *display) run(first chan struct{}) {
	for {
		d.mu.Lock()
		stopped, since, haveSnapshot := d.stopped, d.last, d.snapshot >= 0
		d.mu.Unlock()
		if stopped {
			return
		}
		path := "/ws/offices/demo/events"
		if haveSnapshot {
			path += fmt.Sprintf("?since=%d", since)
		}
		n := d.next()
		h := http.Header{"Authorization": {"Bearer " + demo.DisplayToken}}
		dialer := websocket.Dialer{HandshakeTimeout: 5 * time.Second}
		c, res, err := dialer.Dial("ws://"+n.addr+path, h)
		if err != nil {
			if res != nil {
				b, _ := io.ReadAll(res.Body)
				d.mu.Lock()
				d.refused = append(d.refused, answer{status: res.StatusCode, retryAfter: res.Header.Get("Retry-After"), body: b, at: time.Now()})
				d.mu.Unlock()
			}
			time.Sleep(100 * time.Millisecond)
			continue
		}
		d.mu.Lock()
		d.conn, d.connects = c, d.connects+1
		d.mu.Unlock()
		for {
			_ = c.SetReadDeadline(time.Now().Add(45 * time.Second))
			_, b, err := c.ReadMessage()
			if err != nil {
				break
			}
			var e event
			if err := json.Unmarshal(b, &e); err != nil {
				d.problem("undecodable message %s", b)
				continue
			}
			d.mu.Lock()
			switch {
			case e.Type == "heartbeat", strings.HasSuffix(e.Type, ".state"):
				// A state frame (docs/displays.md) is not an event: it repeats the seq it is as new as.
			case e.Type == "snapshot":
				if d.snapshot >= 0 {
					d.problems = append(d.problems, fmt.Sprintf("a second snapshot (seq %d) after reconnecting with since=%d", e.Seq, d.last))
				} else {
					d.snapshot, d.last = e.Seq, e.Seq
					close(first)
				}
			default:
				d.events = append(d.events, e)
				d.last = max(d.last, e.Seq)
			}
			d.mu.Unlock()
		}
		_ = c.Close()
	}
}

func (d *display) problem(format string, args ...any) {
	d.mu.Lock()
	defer d.mu.Unlock()
	d.problems = append(d.problems, fmt.Sprintf(format, args...))
}

// lastSeq is the last seq the display has.
func (d *display) lastSeq() int64 {
	d.mu.Lock()
	defer d.mu.Unlock()
	return d.last
}

// stop ends the display.
func (d *display) stop() {
	d.mu.Lock()
	d.stopped = true
	c := d.conn
	d.mu.Unlock()
	if c != nil {
		_ = c.Close()
	}
}

// waitFor waits until the display has every event up to seq.
func (d *display) waitFor(t *testing.T, seq int64, within time.Duration) {
	t.Helper()
	deadline := time.Now().Add(within)
	for d.lastSeq() < seq {
		if time.Now().After(deadline) {
			t.Fatalf("the display has events up to %d after %v, want %d", d.lastSeq(), within, seq)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// checkDense checks that the display received every seq after its snapshot up to last, in order, each
// once, and returns how many times it saw each ticket's events by type.
func (d *display) checkDense(t *testing.T, last int64) map[string]map[int64]int {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	for _, p := range d.problems {
		t.Error("display: " + p)
	}
	seen := map[string]map[int64]int{}
	want := d.snapshot + 1
	for _, e := range d.events {
		if e.Seq != want {
			t.Fatalf("the display got seq %d where %d was next (snapshot %d, %d events)", e.Seq, want, d.snapshot, len(d.events))
		}
		want++
		if e.Ticket != nil {
			if seen[e.Type] == nil {
				seen[e.Type] = map[int64]int{}
			}
			seen[e.Type][e.Ticket.ID]++
		}
	}
	if want-1 != last {
		t.Fatalf("the display's events end at seq %d, the log at %d", want-1, last)
	}
	return seen
}

// lastEventSeq is the demo office's last event seq in the database (the table office_events is the log).
func lastEventSeq(ctx context.Context, t *testing.T, conn *pgx.Conn) int64 {
	t.Helper()
	var seq int64
	if err := conn.QueryRow(ctx, `SELECT coalesce(max(e.seq), 0) FROM office_events e JOIN offices o ON o.id = e.office_id
		WHERE o.slug = 'demo'`).Scan(&seq); err != nil {
		t.Fatal(err)
	}
	return seq
}

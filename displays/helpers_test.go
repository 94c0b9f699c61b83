package displays

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"
	"github.com/gorilla/websocket"

	"turno/ticketing"
	"turno/ticketing/ticketingtest"
)

// testNode is one app node: its own hub, LISTEN connection and HTTP server, on the test's database.
type testNode struct {
	hub *Hub
	srv *httptest.Server
}

func newTestNode(t *testing.T, env *ticketingtest.Env, opt Options) *testNode {
	return newTestNodeOn(t, env, opt, nil)
}

// newTestNodeOn is newTestNode with the server's connections passed through wrap (nil: as they are).
func newTestNodeOn(t *testing.T, env *ticketingtest.Env, opt Options, wrap func(net.Conn) net.Conn) *testNode {
	t.Helper()
	var wrapL func(net.Listener) net.Listener
	if wrap != nil {
		wrapL = func(l net.Listener) net.Listener { return &wrapListener{Listener: l, wrap: wrap} }
	}
	return newTestNodeListening(t, env, opt, wrapL)
}

// newTestNodeListening is newTestNode with the server's listener wrapped by wrap (nil: as it is).
func newTestNodeListening(t *testing.T, env *ticketingtest.Env, opt Options, wrap func(net.Listener) net.Listener) *testNode {
	t.Helper()
	return startTestNode(t, env, env.Store, opt, wrap)
}

// startTestNode starts a hub and its streams on store (which may use a pool other than env's) behind a
// server whose listener wrap wraps (nil: as it is).
func startTestNode(t *testing.T, env *ticketingtest.Env, store *ticketing.Store, opt Options, wrap func(net.Listener) net.Listener) *testNode {
	t.Helper()
	hub := NewHub(store, opt)
	srv := httptest.NewUnstartedServer(env.Router(func(r chi.Router) {
		(&Server{Store: store, Auth: env.Auth, Hub: hub}).Routes(r)
	}))
	if wrap != nil {
		srv.Listener = wrap(srv.Listener)
	}
	srv.Start()
	t.Cleanup(srv.Close)
	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	wg.Go(func() { hub.Run(ctx) })
	wg.Go(func() { hub.Listen(ctx, env.Pool.Config().ConnConfig) })
	t.Cleanup(func() { cancel(); wg.Wait() })
	waitFor(t, "the LISTEN connection", func() bool { return hub.Stats().Listening })
	return &testNode{hub: hub, srv: srv}
}

type wrapListener struct {
	net.Listener
	wrap func(net.Conn) net.Conn
}

func (l *wrapListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err != nil {
		return nil, err
	}
	return l.wrap(c), nil
}

// waitFor polls cond until it holds, failing the test after 10 s.
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	// A liveness deadline, not a speed claim: generous, because make test runs packages side by side on a
	// shared 2-core machine, where thousands of events to several readers once took longer than 10 s.
	deadline := time.Now().Add(30 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(10 * time.Millisecond)
	}
}

func wsURL(srv *httptest.Server, path string) string {
	return "ws" + strings.TrimPrefix(srv.URL, "http") + path
}

// dial opens a stream; token is a bearer token ("" for none).
func dial(t *testing.T, srv *httptest.Server, path, token string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	c, res, err := websocket.DefaultDialer.Dial(wsURL(srv, path), h)
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, res, err
}

func mustDial(t *testing.T, srv *httptest.Server, path, token string) *websocket.Conn {
	t.Helper()
	c, res, err := dial(t, srv, path, token)
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		t.Fatalf("dial %s: %v (status %d)", path, err, status)
	}
	return c
}

// msg is a stream message decoded loosely.
type msg struct {
	Seq    int64               `json:"seq"`
	Type   ticketing.EventType `json:"type"`
	Ticket *msgTicket          `json:"ticket"`
	Desk   *msgDesk            `json:"desk"`
	To     *msgTicket          `json:"to"`
	Calls  []msg               `json:"calls"`
	Queue  json.RawMessage     `json:"queue"`
	raw    []byte
}

type msgTicket struct {
	ID      int64            `json:"id"`
	Number  string           `json:"number"`
	Service string           `json:"service"`
	Status  ticketing.Status `json:"status"`
}

type msgDesk struct {
	Number int `json:"number"`
}

// read returns the next message that is neither a heartbeat nor a state frame (queue.state, desk.state,
// ticket.state), which come after batches of events at times of the hub's choosing.
func read(t *testing.T, c *websocket.Conn) msg {
	t.Helper()
	for {
		if m := readFrame(t, c); !isState(m) {
			return m
		}
	}
}

// readFrame returns the next message that is not a heartbeat, state frames included.
func readFrame(t *testing.T, c *websocket.Conn) msg {
	t.Helper()
	for {
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, b, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("read stream: %v", err)
		}
		var m msg
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("decode %s: %v", b, err)
		}
		m.raw = b
		if m.Type != "heartbeat" {
			return m
		}
	}
}

// isState reports whether m is a state frame.
func isState(m msg) bool { return strings.HasSuffix(string(m.Type), ".state") }

// call makes an API request and decodes the JSON answer into out (when not nil), failing on a status
// other than want.
func call(t *testing.T, method, url, token, body string, want int, out any) {
	t.Helper()
	res := ticketingtest.Do(t, method, url, token, body)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != want {
		t.Fatalf("%s %s: status %d, want %d: %s", method, url, res.StatusCode, want, b)
	}
	if out != nil {
		if err := json.Unmarshal(b, out); err != nil {
			t.Fatalf("%s %s: decode %s: %v", method, url, b, err)
		}
	}
}

// openDesk signs user in to desk number on node and returns the user's token and the desk id.
func openDesk(t *testing.T, env *ticketingtest.Env, srv *httptest.Server, user string, number int) (string, int64) {
	t.Helper()
	token := env.Login(t, user)
	id := env.DeskID(t, number)
	call(t, "POST", fmt.Sprintf("%s/api/v1/desks/%d/open", srv.URL, id), token, "{}", http.StatusOK, nil)
	return token, id
}

// issue takes a ticket for a service directly in the store.
func issue(t *testing.T, env *ticketingtest.Env, service string) *ticketing.Ticket {
	t.Helper()
	tk, _, err := env.Store.Issue(context.Background(), ticketing.IssueRequest{OfficeID: env.Office.ID, Service: service})
	if err != nil {
		t.Fatalf("issue %s: %v", service, err)
	}
	return tk
}

// next calls the next ticket at a desk through a node's API.
func next(t *testing.T, srv *httptest.Server, token string, desk int64) msgTicket {
	t.Helper()
	var tk msgTicket
	call(t, "POST", fmt.Sprintf("%s/api/v1/desks/%d/next", srv.URL, desk), token, "{}", http.StatusOK, &tk)
	return tk
}

// dialerFrom is a WebSocket dialer whose connections leave from the local address ip (127.0.0.x: every
// loopback address is this machine, so tests can be several clients).
func dialerFrom(ip string) *websocket.Dialer {
	nd := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &websocket.Dialer{NetDialContext: nd.DialContext, HandshakeTimeout: 10 * time.Second}
}

// dialFrom opens a stream from the local address ip; token is a bearer token ("" for none).
func dialFrom(t *testing.T, srv *httptest.Server, ip, path, token string) (*websocket.Conn, *http.Response, error) {
	t.Helper()
	h := http.Header{}
	if token != "" {
		h.Set("Authorization", "Bearer "+token)
	}
	c, res, err := dialerFrom(ip).Dial(wsURL(srv, path), h)
	if err == nil {
		t.Cleanup(func() { c.Close() })
	}
	return c, res, err
}

// clientFrom is an HTTP client whose connections leave from the local address ip.
func clientFrom(ip string) *http.Client {
	nd := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP(ip)}}
	return &http.Client{Timeout: 30 * time.Second, Transport: &http.Transport{DialContext: nd.DialContext}}
}

// waitClosed reads c until the server closes it and returns the close frame's code and text (1006 and ""
// when the connection ended without one), failing the test when c is still open after within.
func waitClosed(t *testing.T, c *websocket.Conn, within time.Duration) (int, string) {
	t.Helper()
	deadline := time.Now().Add(within)
	_ = c.SetReadDeadline(deadline)
	for {
		_, _, err := c.ReadMessage()
		if err == nil {
			continue // events and heartbeats sent before the end
		}
		var ce *websocket.CloseError
		if errors.As(err, &ce) {
			return ce.Code, ce.Text
		}
		var ne net.Error
		if errors.As(err, &ne) && ne.Timeout() {
			t.Fatalf("the stream is still open after %v", within)
		}
		return websocket.CloseAbnormalClosure, ""
	}
}

// stillOpen checks that c is open and live: an event appended now reaches it.
func stillOpen(t *testing.T, env *ticketingtest.Env, c *websocket.Conn, what string) {
	t.Helper()
	tk := issue(t, env, "cie")
	_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
	for {
		_, b, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("%s: %v", what, err)
		}
		var m msg
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatalf("%s: decode %s: %v", what, b, err)
		}
		if m.Type == ticketing.EventIssued && m.Ticket != nil && m.Ticket.ID == tk.ID {
			return
		}
	}
}

package displays

import (
	"encoding/json"
	"io"
	"net"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"turno/cmd/turno/demo"
	"turno/internal/web"
	"turno/ticketing/ticketingtest"
)

// One address holds at most MaxStreamsPerAddress streams, office and ticket streams alike; more are
// refused with a 429 JSON error before the upgrade. Another address is not affected, and a stream that
// ends gives its place back.
func TestStreamCapPerAddress(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	n := newTestNode(t, env, Options{MaxStreamsPerAddress: 3})
	tk := issue(t, env, "cie")
	ticketPath := "/ws/tickets/" + tk.Code + "/events"

	var held []*websocket.Conn
	for range 2 {
		c, _, err := dialFrom(t, n.srv, "127.0.0.1", officePath, demo.DisplayToken)
		if err != nil {
			t.Fatal(err)
		}
		held = append(held, c)
	}
	c, _, err := dialFrom(t, n.srv, "127.0.0.1", ticketPath, "")
	if err != nil {
		t.Fatal(err)
	}
	held = append(held, c)

	refusedWith429 := func(path, token string) {
		t.Helper()
		_, res, err := dialFrom(t, n.srv, "127.0.0.1", path, token)
		if err == nil || res == nil || res.StatusCode != http.StatusTooManyRequests {
			t.Fatalf("a fourth stream from 127.0.0.1 to %s: %v %v; want 429", path, res, err)
		}
		var body struct{ Error web.Error }
		b, _ := io.ReadAll(res.Body)
		if json.Unmarshal(b, &body) != nil || body.Error.Code != "too_many_streams" || res.Header.Get("Retry-After") == "" {
			t.Fatalf("429 answer %s (Retry-After %q)", b, res.Header.Get("Retry-After"))
		}
	}
	refusedWith429(officePath, demo.DisplayToken)
	refusedWith429(ticketPath, "") // anonymous ticket streams count against the same cap
	if _, _, err := dialFrom(t, n.srv, "127.0.0.2", ticketPath, ""); err != nil {
		t.Fatalf("another address was refused: %v", err)
	}
	if got := n.hub.Stats().Refused; got != 2 {
		t.Fatalf("Refused = %d, want 2", got)
	}

	held[0].Close()
	waitFor(t, "the closed stream to give its place back", func() bool {
		c, _, err := dialFrom(t, n.srv, "127.0.0.1", officePath, demo.DisplayToken)
		if err == nil {
			read(t, c) // the snapshot: the server is done with the handshake
			c.Close()
		}
		return err == nil
	})
}

// stormSockets is how many sockets the storm test opens from one address (issue 15: 3,000).
const stormSockets = 3000

// 3,000 sockets from one address: as WebSocket streams, at most MaxStreamsPerAddress are accepted; as bare
// TCP connections, at most the listener's cap is held. Meanwhile a kiosk on another address issues
// tickets as usual and a display there connects.
func TestConnectStormCapped(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	const maxStreams, maxConns = 50, 200
	var limiter *web.ConnLimiter
	n := newTestNodeListening(t, env, Options{MaxStreamsPerAddress: maxStreams}, func(l net.Listener) net.Listener {
		var err error
		if limiter, err = web.LimitConnsPerAddress(l, maxConns); err != nil {
			t.Fatal(err)
		}
		return limiter
	})
	tk := issue(t, env, "certificati")
	ticketURL := wsURL(n.srv, "/ws/tickets/"+tk.Code+"/events")
	addr := strings.TrimPrefix(n.srv.URL, "http://")

	// The kiosk on 127.0.0.2 issues a ticket every 50 ms for as long as the storm lasts (after a first one,
	// which warms the server's and the database's caches up).
	kiosk := clientFrom("127.0.0.2")
	kioskIssue := func() (*http.Response, error) {
		req, _ := http.NewRequest("POST", n.srv.URL+"/api/v1/offices/"+demo.OfficeSlug+"/tickets", strings.NewReader(`{"service":"cie"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+demo.KioskToken)
		return kiosk.Do(req)
	}
	if res, err := kioskIssue(); err != nil || res.StatusCode != http.StatusCreated {
		t.Fatalf("the kiosk's first ticket: %v %v", res, err)
	} else {
		res.Body.Close()
	}
	stop := make(chan struct{})
	var kioskWG sync.WaitGroup
	var mu sync.Mutex
	var issued []time.Duration
	var kioskErr error
	kioskWG.Go(func() {
		for {
			select {
			case <-stop:
				return
			case <-time.After(50 * time.Millisecond):
			}
			start := time.Now()
			res, err := kioskIssue()
			if err == nil {
				_, _ = io.Copy(io.Discard, res.Body)
				res.Body.Close()
				if res.StatusCode != http.StatusCreated {
					err = &statusError{res.Status}
				}
			}
			mu.Lock()
			if err != nil && kioskErr == nil {
				kioskErr = err
			}
			issued = append(issued, time.Since(start))
			mu.Unlock()
		}
	})
	var maxHeld atomic.Int64
	sample := func() {
		if o := int64(limiter.Open("127.0.0.1")); o > maxHeld.Load() {
			maxHeld.Store(o)
		}
	}

	// 1. WebSocket streams, anonymous (the attacker's case), 32 at a time, every accepted one kept open.
	var accepted, refused, failed atomic.Int64
	var conns sync.Map
	var next atomic.Int64
	var wg sync.WaitGroup
	d := dialerFrom("127.0.0.1")
	for range 32 {
		wg.Go(func() {
			for next.Add(1) <= stormSockets {
				c, res, err := d.Dial(ticketURL, nil)
				sample()
				switch {
				case err == nil:
					accepted.Add(1)
					conns.Store(c, true)
				case res != nil && res.StatusCode == http.StatusTooManyRequests:
					refused.Add(1)
				default:
					failed.Add(1) // refused at accept: closed before an answer could be read
				}
			}
		})
	}
	wg.Wait()
	t.Logf("%d WebSocket attempts from 127.0.0.1: %d accepted, %d refused with 429, %d cut at accept; hub has %d clients",
		stormSockets, accepted.Load(), refused.Load(), failed.Load(), n.hub.Stats().Clients)
	if accepted.Load() > maxStreams || n.hub.Stats().Clients > maxStreams+1 {
		t.Fatalf("%d streams accepted from one address (hub: %d clients), cap %d", accepted.Load(), n.hub.Stats().Clients, maxStreams)
	}
	if accepted.Load() == 0 {
		t.Fatal("no stream was accepted at all")
	}
	other, _, err := dialFrom(t, n.srv, "127.0.0.2", officePath, demo.DisplayToken)
	if err != nil {
		t.Fatalf("a display on 127.0.0.2 could not connect: %v", err)
	}
	read(t, other)
	conns.Range(func(c, _ any) bool { c.(*websocket.Conn).Close(); return true })
	waitFor(t, "the streams to end", func() bool { return limiter.Open("127.0.0.1") == 0 })

	// 2. Bare TCP connections that send nothing, all kept open by the client.
	refusedBefore := limiter.Refused()
	nd := &net.Dialer{LocalAddr: &net.TCPAddr{IP: net.ParseIP("127.0.0.1")}, Timeout: 5 * time.Second}
	var raw []net.Conn
	for i := 0; i < stormSockets; i++ {
		c, err := nd.Dial("tcp", addr)
		if err != nil {
			t.Fatalf("dial %d: %v", i, err)
		}
		raw = append(raw, c)
		if i%100 == 0 {
			sample()
		}
	}
	defer func() {
		for _, c := range raw {
			c.Close()
		}
	}()
	waitFor(t, "the listener to decide on every connection", func() bool {
		return limiter.Open("127.0.0.1") == maxConns && limiter.Refused()-refusedBefore == stormSockets-maxConns
	})
	sample()
	// Those the server closed read a 429 and EOF; those it holds stay silent. All are read at once, with a
	// deadline long enough for a close still on its way not to pass for a held connection.
	var held atomic.Int64
	var reads sync.WaitGroup
	deadline := time.Now().Add(5 * time.Second)
	for _, c := range raw {
		reads.Add(1)
		go func() {
			defer reads.Done()
			_ = c.SetReadDeadline(deadline)
			if _, err := io.Copy(io.Discard, c); err != nil {
				if ne, ok := err.(net.Error); ok && ne.Timeout() {
					held.Add(1)
				}
			}
		}()
	}
	reads.Wait()
	open := int(held.Load())
	t.Logf("%d TCP connections from 127.0.0.1: %d held by the server, %d refused; at most %d held at any time",
		stormSockets, open, limiter.Refused()-refusedBefore, maxHeld.Load())
	if open > maxConns || maxHeld.Load() > maxConns {
		t.Fatalf("%d connections held (at most %d at once) from one address, cap %d", open, maxHeld.Load(), maxConns)
	}
	stillOpen(t, env, other, "the display on 127.0.0.2")

	close(stop)
	kioskWG.Wait()
	mu.Lock()
	defer mu.Unlock()
	if kioskErr != nil {
		t.Fatalf("the kiosk on 127.0.0.2: %v", kioskErr)
	}
	if len(issued) == 0 {
		t.Fatal("the kiosk issued nothing")
	}
	var worst time.Duration
	for _, d := range issued {
		worst = max(worst, d)
	}
	t.Logf("the kiosk on 127.0.0.2 issued %d tickets meanwhile, slowest %v", len(issued), worst.Round(time.Millisecond))
	if worst > 5*time.Second {
		t.Fatalf("a kiosk issue took %v during the storm", worst)
	}
}

// statusError is a kiosk answer other than 201.
type statusError struct{ status string }

func (e *statusError) Error() string { return "kiosk issue answered " + e.status }

// Streams are set up MaxConnecting at a time; one that waits ConnectWait for its turn gets 503 with
// Retry-After, and streams are set up again once a turn is free.
func TestSetupTurns(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	n := newTestNode(t, env, Options{MaxConnecting: 1, ConnectWait: 200 * time.Millisecond})
	n.hub.setup <- struct{}{} // a setup that does not end
	_, res, err := dial(t, n.srv, officePath, demo.DisplayToken)
	if err == nil || res == nil || res.StatusCode != http.StatusServiceUnavailable || res.Header.Get("Retry-After") == "" {
		t.Fatalf("a stream while every turn is taken: %v %v; want 503 with Retry-After", res, err)
	}
	if got := n.hub.Stats().Busy; got != 1 {
		t.Fatalf("Busy = %d, want 1", got)
	}
	<-n.hub.setup
	for range 3 {
		read(t, mustDial(t, n.srv, officePath, demo.DisplayToken))
	}
}

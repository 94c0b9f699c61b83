package displays

import (
	"context"
	"fmt"
	"net"
	"net/http"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"turno/cmd/turno/demo"
	"turno/internal/auth"
	"turno/ticketing"
	"turno/ticketing/ticketingtest"
)

const officePath = "/ws/offices/" + demo.OfficeSlug + "/events"

// A call made on node A reaches a display on node B with its seq; after the display was away for three
// calls, it reconnects with since and gets exactly those three, in order, and then the next live event.
func TestCrossNodeAndResume(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	a := newTestNode(t, env, Options{})
	b := newTestNode(t, env, Options{})
	ctx := context.Background()

	// Four operators at desks 1–4, all of whom serve "certificati", and four tickets for it.
	tokens, desks := make([]string, 5), make([]int64, 5)
	for i := 1; i <= 4; i++ {
		tokens[i], desks[i] = openDesk(t, env, a.srv, fmt.Sprintf("op%d", i), i)
	}
	for range 4 {
		issue(t, env, "certificati")
	}

	display := mustDial(t, b.srv, officePath, demo.DisplayToken)
	snap := read(t, display)
	if snap.Type != "snapshot" {
		t.Fatalf("first message is %q, want a snapshot", snap.Type)
	}
	if want, _ := env.Store.LastEventSeq(ctx, env.Office.ID); snap.Seq != want {
		t.Fatalf("snapshot seq %d, want the office's last seq %d", snap.Seq, want)
	}

	called := next(t, a.srv, tokens[1], desks[1])
	ev := read(t, display)
	logged, err := env.Store.Events(ctx, env.Office.ID, 0, 1000)
	if err != nil {
		t.Fatal(err)
	}
	var dbSeq int64
	for _, e := range logged {
		if e.Type == ticketing.EventCalled && e.TicketID == called.ID {
			dbSeq = e.Seq
		}
	}
	if ev.Type != ticketing.EventCalled || ev.Ticket.ID != called.ID || ev.Seq != dbSeq || ev.Seq != snap.Seq+1 {
		t.Fatalf("node B got %s seq %d ticket %+v; want ticket.called seq %d (snapshot %d) of ticket %d",
			ev.Type, ev.Seq, ev.Ticket, dbSeq, snap.Seq, called.ID)
	}
	if ev.Desk == nil || ev.Desk.Number != 1 {
		t.Fatalf("call event desk %+v, want desk 1", ev.Desk)
	}

	display.Close()
	last := ev.Seq
	var missed []int64
	for i := 2; i <= 4; i++ {
		missed = append(missed, next(t, a.srv, tokens[i], desks[i]).ID)
	}

	display = mustDial(t, b.srv, fmt.Sprintf("%s?since=%d", officePath, last), demo.DisplayToken)
	for i, id := range missed {
		ev := read(t, display)
		if ev.Type != ticketing.EventCalled || ev.Seq != last+int64(i)+1 || ev.Ticket.ID != id {
			t.Fatalf("replayed event %d: %s seq %d ticket %v; want ticket.called seq %d ticket %d",
				i, ev.Type, ev.Seq, ev.Ticket, last+int64(i)+1, id)
		}
	}
	// Exactly three: the next message is the next live event, not a repeat.
	call(t, "POST", fmt.Sprintf("%s/api/v1/desks/%d/recall", a.srv.URL, desks[1]), tokens[1], "{}", http.StatusOK, nil)
	ev = read(t, display)
	if ev.Type != ticketing.EventRecalled || ev.Seq != last+4 || ev.Ticket.ID != called.ID {
		t.Fatalf("after the replay got %s seq %d; want ticket.recalled seq %d", ev.Type, ev.Seq, last+4)
	}
}

// A client that never reads is dropped; 100 others receive every event, in order, meanwhile.
func TestSlowClientDropped(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	// Small kernel buffers on the node's side of every connection, as over a real network, so that a
	// client that does not read soon makes the node's writes wait.
	// 101 streams from one address: no per-address cap here. The write timeout is long, so that the slow
	// client is dropped for the frames piling up in its queue, not for a write (the first queue.state
	// frame does not fit its buffers) that timed out.
	n := newTestNodeOn(t, env, Options{SendQueue: 16, WriteTimeout: 30 * time.Second, MaxStreamsPerAddress: -1}, func(c net.Conn) net.Conn {
		_ = c.(*net.TCPConn).SetWriteBuffer(4096)
		return c
	})
	ctx := context.Background()
	start, err := env.Store.LastEventSeq(ctx, env.Office.ID)
	if err != nil {
		t.Fatal(err)
	}
	since := fmt.Sprintf("%s?since=%d", officePath, start)

	// The slow client shrinks its receive buffer before connecting and then never reads.
	d := websocket.Dialer{NetDialContext: (&net.Dialer{Control: func(_, _ string, c syscall.RawConn) error {
		return c.Control(func(fd uintptr) { _ = syscall.SetsockoptInt(int(fd), syscall.SOL_SOCKET, syscall.SO_RCVBUF, 1024) })
	}}).DialContext}
	slow, _, err := d.Dial(wsURL(n.srv, since), http.Header{"Authorization": {"Bearer " + demo.DisplayToken}})
	if err != nil {
		t.Fatal(err)
	}
	defer slow.Close()

	const readers = 100
	var mu sync.Mutex
	got := make([][]int64, readers)
	conns := make([]*websocket.Conn, readers)
	var wg sync.WaitGroup
	for i := range readers {
		c := mustDial(t, n.srv, since, demo.DisplayToken)
		conns[i] = c
		wg.Go(func() {
			for {
				_, b, err := c.ReadMessage()
				if err != nil {
					return
				}
				var m msg
				if _, err := fmt.Sscanf(string(b[strings.Index(string(b), `"seq":`):]), `"seq":%d`, &m.Seq); err != nil {
					continue
				}
				if strings.Contains(string(b), `"type":"heartbeat"`) || strings.Contains(string(b), `"type":"queue.state"`) {
					continue
				}
				mu.Lock()
				got[i] = append(got[i], m.Seq)
				mu.Unlock()
			}
		})
	}
	waitFor(t, "102 subscribers", func() bool { return n.hub.Stats().Clients == readers+1 })

	// Append events until the slow client's buffers and queue overflow, then a few more.
	for i := 0; n.hub.Stats().Dropped == 0; i++ {
		if i == 5000 {
			t.Fatal("the slow client was never dropped")
		}
		issue(t, env, "certificati")
	}
	for range 5 {
		issue(t, env, "certificati")
	}
	end, err := env.Store.LastEventSeq(ctx, env.Office.ID)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, "every reader to get every event", func() bool {
		mu.Lock()
		defer mu.Unlock()
		for _, g := range got {
			if len(g) == 0 || g[len(g)-1] < end {
				return false
			}
		}
		return true
	})
	mu.Lock()
	for i, g := range got {
		if len(g) != int(end-start) {
			t.Fatalf("reader %d got %d events, want %d", i, len(g), end-start)
		}
		for k, seq := range g {
			if seq != start+int64(k)+1 {
				t.Fatalf("reader %d: event %d has seq %d, want %d", i, k, seq, start+int64(k)+1)
			}
		}
	}
	mu.Unlock()
	if st := n.hub.Stats(); st.Dropped != 1 || st.Clients != readers {
		t.Fatalf("hub stats %+v; want exactly the slow client dropped and %d clients left", st, readers)
	}
	t.Logf("%d readers got all %d events; the slow client was dropped", readers, end-start)

	// The slow client's connection was closed: reading what reached it ends in an error before the end.
	var lastSeen int64
	for {
		_ = slow.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, b, err := slow.ReadMessage()
		if err != nil {
			if ne, ok := err.(net.Error); ok && ne.Timeout() {
				t.Fatal("the slow client's connection is still open")
			}
			break
		}
		_, _ = fmt.Sscanf(string(b[strings.Index(string(b), `"seq":`):]), `"seq":%d`, &lastSeen)
	}
	if lastSeen >= end {
		t.Fatalf("the slow client got every event (up to %d); it should have been dropped", lastSeen)
	}
	for _, c := range conns {
		c.Close()
	}
	wg.Wait()
}

// Killing the LISTEN connection loses no event: the node reconnects and reads what it missed from the
// table. The poll is off, so only the reconnection can deliver.
func TestListenerReconnects(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	n := newTestNode(t, env, Options{PollInterval: time.Hour})
	ctx := context.Background()
	display := mustDial(t, n.srv, officePath, demo.DisplayToken)
	snap := read(t, display)

	issue(t, env, "cie")
	if ev := read(t, display); ev.Seq != snap.Seq+1 {
		t.Fatalf("got seq %d, want %d", ev.Seq, snap.Seq+1)
	}

	var killed bool
	if err := env.Pool.QueryRow(ctx, `SELECT pg_terminate_backend(pid) FROM pg_stat_activity
		WHERE application_name = $1 AND datname = current_database()`, ListenerName).Scan(&killed); err != nil || !killed {
		t.Fatalf("terminate the listener: %v (terminated %v)", err, killed)
	}
	for range 3 {
		issue(t, env, "cie")
	}
	for i := range 3 {
		if ev := read(t, display); ev.Seq != snap.Seq+2+int64(i) || ev.Type != ticketing.EventIssued {
			t.Fatalf("after the kill got %s seq %d, want ticket.issued seq %d", ev.Type, ev.Seq, snap.Seq+2+int64(i))
		}
	}
	waitFor(t, "the listener to reconnect", func() bool { s := n.hub.Stats(); return s.Listening && s.Reconnects >= 1 })
	issue(t, env, "cie")
	if ev := read(t, display); ev.Seq != snap.Seq+5 {
		t.Fatalf("after reconnecting got seq %d, want %d", ev.Seq, snap.Seq+5)
	}
}

// A stream without since starts with a snapshot: the recent calls, one per ticket, newest first, and the
// waiting counts.
func TestSnapshot(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	n := newTestNode(t, env, Options{})
	token, desk := openDesk(t, env, n.srv, "op1", 1)
	issue(t, env, "cie")
	issue(t, env, "cie")
	issue(t, env, "certificati")
	first := next(t, n.srv, token, desk)
	call(t, "POST", fmt.Sprintf("%s/api/v1/desks/%d/start", n.srv.URL, desk), token, "{}", http.StatusOK, nil)
	second := next(t, n.srv, token, desk)
	call(t, "POST", fmt.Sprintf("%s/api/v1/desks/%d/recall", n.srv.URL, desk), token, "{}", http.StatusOK, nil)

	op := env.Login(t, "op2") // staff of the office may follow it too
	snap := read(t, mustDial(t, n.srv, officePath, op))
	if snap.Type != "snapshot" || len(snap.Calls) != 2 {
		t.Fatalf("snapshot %s", snap.raw)
	}
	if snap.Calls[0].Ticket.ID != second.ID || snap.Calls[0].Type != ticketing.EventRecalled || snap.Calls[1].Ticket.ID != first.ID {
		t.Fatalf("snapshot calls %s; want %d (recalled) then %d", snap.raw, second.ID, first.ID)
	}
	if !strings.Contains(string(snap.Queue), `"service":"certificati"`) || !strings.Contains(string(snap.Queue), `"waiting":1`) {
		t.Fatalf("snapshot queue %s", snap.Queue)
	}
}

// Who may follow an office's stream: its displays and staff; not kiosks, other offices' displays,
// anonymous callers, or pages of other sites.
func TestStreamAccess(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	n := newTestNode(t, env, Options{})
	ctx := context.Background()
	other := &ticketing.Office{Slug: "altra", Name: "Altra sede", TimeZone: "Europe/Rome"}
	if _, err := env.Store.SaveOffice(ctx, other); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Auth.EnsureDevice(ctx, other.ID, auth.Display, "Altro tabellone", "other-display"); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, path, token, origin string
		want                      int
	}{
		{"display", officePath, demo.DisplayToken, "", http.StatusSwitchingProtocols},
		{"operator", officePath, env.Login(t, "op3"), "", http.StatusSwitchingProtocols},
		{"same origin", officePath, demo.DisplayToken, n.srv.URL, http.StatusSwitchingProtocols},
		{"kiosk", officePath, demo.KioskToken, "", http.StatusForbidden},
		{"other office's display", officePath, "other-display", "", http.StatusForbidden},
		{"anonymous", officePath, "", "", http.StatusUnauthorized},
		{"other origin", officePath, demo.DisplayToken, "https://evil.example", http.StatusForbidden},
		{"bad since", officePath + "?since=x", demo.DisplayToken, "", http.StatusUnprocessableEntity},
		{"unknown office", "/ws/offices/nessuna/events", demo.DisplayToken, "", http.StatusNotFound},
		{"unknown ticket", "/ws/tickets/nope/events", "", "", http.StatusNotFound},
	} {
		t.Run(tc.name, func(t *testing.T) {
			h := http.Header{}
			if tc.token != "" {
				h.Set("Authorization", "Bearer "+tc.token)
			}
			if tc.origin != "" {
				h.Set("Origin", tc.origin)
			}
			c, res, err := websocket.DefaultDialer.Dial(wsURL(n.srv, tc.path), h)
			if c != nil {
				c.Close()
			}
			if res == nil {
				t.Fatalf("no response: %v", err)
			}
			if res.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", res.StatusCode, tc.want)
			}
		})
	}
}

// The phone page follows its own ticket, through a transfer, and learns of nothing else but its own
// position and estimate; no public code is ever sent.
func TestTicketStream(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	n := newTestNode(t, env, Options{})
	t1 := issue(t, env, "certificati")
	mine := issue(t, env, "certificati")
	other := issue(t, env, "enel-bonus")
	token1, desk1 := openDesk(t, env, n.srv, "op1", 1)
	token3, desk3 := openDesk(t, env, n.srv, "op3", 3)
	token4, desk4 := openDesk(t, env, n.srv, "op4", 4)

	phone := mustDial(t, n.srv, "/ws/tickets/"+mine.Code+"/events", "")
	snap := read(t, phone)
	if snap.Type != "snapshot" || snap.Ticket == nil || snap.Ticket.ID != mine.ID || snap.Ticket.Status != ticketing.Waiting {
		t.Fatalf("snapshot %s", snap.raw)
	}
	// Soon after it connects, the phone is told where its ticket stands, as the API says it.
	var api struct {
		Position *int `json:"position"`
	}
	call(t, "GET", n.srv.URL+"/api/v1/tickets/"+mine.Code, "", "", http.StatusOK, &api)
	if m := readFrame(t, phone); m.Type != "ticket.state" || m.Ticket.ID != mine.ID || api.Position == nil ||
		!strings.Contains(string(m.raw), fmt.Sprintf(`"position":%d,`, *api.Position)) {
		t.Fatalf("first state %s, API position %v", m.raw, api.Position)
	}

	// Desk 1 calls t1 and starts it (same service: the phone's position moves), then calls mine, which
	// finishes t1 and calls mine (in full). Desk 4 calls the enel-bonus ticket (another service: nothing).
	if got := next(t, n.srv, token1, desk1); got.ID != t1.ID {
		t.Fatalf("desk 1 called %d, want %d", got.ID, t1.ID)
	}
	call(t, "POST", fmt.Sprintf("%s/api/v1/desks/%d/start", n.srv.URL, desk1), token1, "{}", http.StatusOK, nil)
	if got := next(t, n.srv, token1, desk1); got.ID != mine.ID {
		t.Fatalf("desk 1 called %d, want %d", got.ID, mine.ID)
	}
	if got := next(t, n.srv, token4, desk4); got.ID != other.ID {
		t.Fatalf("desk 4 called %d, want %d", got.ID, other.ID)
	}
	// Transferred to tributi, the case goes on as a new ticket, which desk 3 calls.
	var moved msgTicket
	call(t, "POST", fmt.Sprintf("%s/api/v1/desks/%d/transfer", n.srv.URL, desk1), token1, `{"service":"tributi"}`, http.StatusOK, &moved)
	if got := next(t, n.srv, token3, desk3); got.ID != moved.ID {
		t.Fatalf("desk 3 called %d, want the transferred ticket %d", got.ID, moved.ID)
	}

	want := []ticketing.EventType{
		"ticket.called",      // mine
		"ticket.transferred", // mine → moved
		"ticket.called",      // moved, at desk 3
	}
	for i := 0; i < len(want); {
		m := readFrame(t, phone)
		if strings.Contains(string(m.raw), `"code"`) || strings.Contains(string(m.raw), mine.Code) {
			t.Fatalf("message carries a code: %s", m.raw)
		}
		if isState(m) {
			// Only the phone's own ticket, as it is now, and only while it waits.
			if m.Type != "ticket.state" || m.Ticket == nil || (m.Ticket.ID != mine.ID && m.Ticket.ID != moved.ID) ||
				m.Ticket.Status != ticketing.Waiting || m.Ticket.Number != "" {
				t.Fatalf("state tells of another ticket: %s", m.raw)
			}
			continue
		}
		if m.Type != want[i] {
			t.Fatalf("message %d is %s, want %s: %s", i, m.Type, want[i], m.raw)
		}
		switch want[i] {
		case "ticket.transferred":
			if m.Ticket.ID != mine.ID || m.To == nil || m.To.ID != moved.ID {
				t.Fatalf("transfer %s", m.raw)
			}
		case "ticket.called":
			if (i == 0 && m.Ticket.ID != mine.ID) || (i == 2 && (m.Ticket.ID != moved.ID || m.Desk.Number != 3)) {
				t.Fatalf("call %s", m.raw)
			}
		}
		i++
	}
}

// Every client gets a heartbeat each ping interval, and the clients are pinged in slices spread over the
// interval rather than all at once.
func TestHeartbeatsInSlots(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	n := newTestNode(t, env, Options{PingInterval: 500 * time.Millisecond})
	const clients = 2 * pingSlots
	conns := make([]*websocket.Conn, clients)
	for i := range conns {
		conns[i] = mustDial(t, n.srv, officePath, demo.DisplayToken)
	}
	var wg sync.WaitGroup
	for i, c := range conns {
		wg.Go(func() {
			_ = c.SetReadDeadline(time.Now().Add(20 * time.Second))
			for {
				_, b, err := c.ReadMessage()
				if err != nil {
					t.Errorf("client %d got no heartbeat: %v", i, err)
					return
				}
				if strings.Contains(string(b), `"type":"heartbeat"`) {
					return
				}
			}
		})
	}
	wg.Wait()
	slots := map[int]int{}
	n.hub.mu.Lock()
	for _, f := range n.hub.feeds {
		f.mu.Lock()
		for c := range f.clients {
			slots[c.pingSlot]++
		}
		f.mu.Unlock()
	}
	n.hub.mu.Unlock()
	if len(slots) != pingSlots {
		t.Errorf("%d clients in %d ping slots (%v), want all %d slots used", clients, len(slots), slots, pingSlots)
	}
}

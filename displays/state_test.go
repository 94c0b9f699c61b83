package displays

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"reflect"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/jackc/pgx/v5/pgxpool"

	"turno/cmd/turno/demo"
	"turno/internal/database"
	"turno/ticketing"
	"turno/ticketing/ticketingtest"
)

// No drift: what the pushed state frames make screens, desk pages and phones show is exactly what the API
// answers, after a burst of concurrent issues and desk actions, and after clients reconnect with since.

// driftServices are the services the tests issue tickets for: desks 1–4 of the demo office serve them in
// different combinations (desk 4 only certificati), and op3 at desk 3 has a secondary skill for
// certificati.
var driftServices = []string{"cie", "certificati", "tributi"}

// driftNow is the frozen clock: a Wednesday morning, so that waits and estimates are the same for the
// state frames and for the API answers compared with them.
var driftNow = time.Date(2026, 3, 4, 9, 0, 0, 0, time.UTC)

// watcherKind is what a watched stream is.
type watcherKind int

const (
	screenStream watcherKind = iota // a hall screen: the office stream of a display device
	deskStream                      // a desk page: the office stream with ?desk=
	phoneStream                     // a phone: the ticket stream
)

// watcher is one stream as a page keeps it: it applies event frames and snapshots in seq order, and state
// frames as the pages do (a screen or a desk page every one not older than the last of its kind, a phone
// one only when it is as new as its last event). It records every frame and every breach of the protocol it sees.
type watcher struct {
	name   string
	kind   watcherKind
	srv    *httptest.Server
	path   string // the stream's path without since
	token  string // the bearer token ("" for a phone)
	deskID int64  // deskStream: its desk
	code   string // phoneStream: the ticket's public code
	ticket int64  // phoneStream: the ticket followed at first

	mu       sync.Mutex
	conn     *websocket.Conn
	done     chan struct{}  // closed when the current connection's reader ends
	gen      int            // connection number; frames of an older connection are not applied
	first    int64          // the seq of the first snapshot: every event after it is to be received
	started  bool           // first is set
	last     int64          // the seq of the last event frame or snapshot applied: the since to reconnect with
	events   []gotEvent     // event frames, in the order applied, over every connection
	frames   [][]byte       // every frame but heartbeats
	states   map[string]int // state frames applied on the current connection, by type
	queueSeq int64          // the latest queue.state applied
	queue    json.RawMessage
	deskSeq  int64 // the latest desk.state applied
	// deskEvent is the seq of the last event about the desk (deskStream): the node owes the page a
	// desk.state at least as new, and never sends an older one.
	deskEvent int64
	desk      json.RawMessage
	waiting   json.RawMessage
	tickSeq   int64 // the latest ticket.state applied
	tick      json.RawMessage
	bad       []string
}

// gotEvent is an event frame as a watcher got it.
type gotEvent struct {
	seq int64
	typ string
}

// stateFrame is any stream frame, decoded loosely.
type stateFrame struct {
	Type     string          `json:"type"`
	Seq      int64           `json:"seq"`
	Ticket   json.RawMessage `json:"ticket"`
	Services json.RawMessage `json:"services"`
	State    json.RawMessage `json:"state"`
	Waiting  json.RawMessage `json:"waiting"`
	Desk     *struct {
		ID int64 `json:"id"`
	} `json:"desk"`
}

// connect opens the watcher's stream (with since when resume) and starts reading it.
func (w *watcher) connect(resume bool) error {
	w.mu.Lock()
	path := w.path
	if resume {
		sep := "?"
		if strings.Contains(path, "?") {
			sep = "&"
		}
		path += fmt.Sprintf("%ssince=%d", sep, w.last)
	}
	w.mu.Unlock()
	h := http.Header{}
	if w.token != "" {
		h.Set("Authorization", "Bearer "+w.token)
	}
	c, res, err := websocket.DefaultDialer.Dial(wsURL(w.srv, path), h)
	if err != nil {
		status := 0
		if res != nil {
			status = res.StatusCode
		}
		return fmt.Errorf("%s: dial %s: %v (status %d)", w.name, path, err, status)
	}
	w.mu.Lock()
	w.gen++
	w.conn, w.done, w.states = c, make(chan struct{}), map[string]int{}
	gen, done := w.gen, w.done
	w.mu.Unlock()
	go w.read(c, gen, done)
	return nil
}

// disconnect closes the stream from the client's side and waits until its reader has stopped.
func (w *watcher) disconnect() {
	w.mu.Lock()
	c, done := w.conn, w.done
	w.mu.Unlock()
	if c == nil {
		return
	}
	_ = c.Close()
	<-done
}

func (w *watcher) read(c *websocket.Conn, gen int, done chan struct{}) {
	defer close(done)
	for {
		_, b, err := c.ReadMessage()
		if err != nil {
			return
		}
		w.apply(gen, b)
	}
}

// apply applies one frame of connection gen.
func (w *watcher) apply(gen int, b []byte) {
	var f stateFrame
	err := json.Unmarshal(b, &f)
	w.mu.Lock()
	defer w.mu.Unlock()
	if gen != w.gen {
		return
	}
	if err != nil {
		w.bad = append(w.bad, fmt.Sprintf("undecodable frame %s: %v", b, err))
		return
	}
	if f.Type == "heartbeat" {
		return
	}
	w.frames = append(w.frames, b)
	// A screen or a desk page applies every state not older than the last of its kind; a phone only one as
	// new as the last event of its ticket, which may have ended its wait (docs/displays.md).
	state := func(ok bool, prev int64) bool {
		if !ok {
			w.bad = append(w.bad, fmt.Sprintf("a %s stream got a %s frame: %s", w.kindName(), f.Type, b))
			return false
		}
		if f.Seq < prev || w.kind == phoneStream && f.Seq < w.last {
			return false
		}
		w.states[f.Type]++
		return true
	}
	switch f.Type {
	case "snapshot":
		if !w.started {
			w.first, w.started = f.Seq, true
		}
		w.last = f.Seq
	case "queue.state":
		if state(w.kind != phoneStream, w.queueSeq) {
			w.queueSeq, w.queue = f.Seq, f.Services
		}
	case "desk.state":
		if w.kind == deskStream && f.Seq < w.deskEvent {
			w.bad = append(w.bad, fmt.Sprintf("desk.state of seq %d after the event of seq %d about the desk", f.Seq, w.deskEvent))
		}
		if state(w.kind == deskStream, w.deskSeq) {
			w.deskSeq, w.desk, w.waiting = f.Seq, f.State, f.Waiting
		}
	case "ticket.state":
		if state(w.kind == phoneStream, w.tickSeq) {
			w.tickSeq, w.tick = f.Seq, f.Ticket
		}
	case "queue.changed":
		w.bad = append(w.bad, fmt.Sprintf("got a queue.changed hint, which the pushed state replaced: %s", b))
	default:
		if f.Seq <= w.last {
			w.bad = append(w.bad, fmt.Sprintf("event seq %d (%s) after seq %d: twice or out of order", f.Seq, f.Type, w.last))
			return
		}
		w.events = append(w.events, gotEvent{seq: f.Seq, typ: f.Type})
		w.last = f.Seq
		if w.kind == deskStream && f.Desk != nil && f.Desk.ID == w.deskID {
			w.deskEvent = f.Seq
		}
	}
}

func (w *watcher) kindName() string {
	return [...]string{"screen", "desk page", "phone"}[w.kind]
}

// scene is the demo office with desks 1–4 open, 20 waiting tickets, two screens, the four desk pages and a
// phone following each of the 20 tickets, all on one node.
type scene struct {
	env      *ticketingtest.Env
	node     *testNode
	tokens   map[int64]string // desk id → its operator's token
	desks    []int64          // desks 1–4
	watchers []*watcher
}

const followedTickets = 20

func newScene(t *testing.T) *scene {
	t.Helper()
	env := ticketingtest.New(t)
	env.SetNow(driftNow)
	node := newTestNode(t, env, Options{})
	sc := &scene{env: env, node: node, tokens: map[int64]string{}}
	for i := 1; i <= 4; i++ {
		token, id := openDesk(t, env, node.srv, fmt.Sprintf("op%d", i), i)
		sc.tokens[id] = token
		sc.desks = append(sc.desks, id)
	}
	// The followed tickets are issued a minute apart, so that they wait for different times.
	var followed []ticketing.Ticket
	for i := range followedTickets {
		var tk ticketing.Ticket
		call(t, "POST", node.srv.URL+"/api/v1/offices/"+demo.OfficeSlug+"/tickets", demo.KioskToken,
			fmt.Sprintf(`{"service":%q}`, driftServices[i%len(driftServices)]), http.StatusCreated, &tk)
		followed = append(followed, tk)
		env.Advance(time.Minute)
	}
	for i := range 2 {
		sc.watchers = append(sc.watchers, &watcher{name: fmt.Sprintf("screen %d", i+1), kind: screenStream, srv: node.srv,
			path: officePath, token: demo.DisplayToken})
	}
	for i, id := range sc.desks {
		sc.watchers = append(sc.watchers, &watcher{name: fmt.Sprintf("desk page %d", i+1), kind: deskStream, srv: node.srv,
			path: fmt.Sprintf("%s?desk=%d", officePath, id), token: sc.tokens[id], deskID: id})
	}
	for _, tk := range followed {
		sc.watchers = append(sc.watchers, &watcher{name: "phone of " + tk.Number, kind: phoneStream, srv: node.srv,
			path: "/ws/tickets/" + tk.Code + "/events", code: tk.Code, ticket: tk.ID})
	}
	t.Cleanup(func() {
		for _, w := range sc.watchers {
			w.disconnect()
		}
	})
	if !sc.connectAll(t, false) {
		t.FailNow()
	}
	sc.awaitFirstStates(t)
	return sc
}

// awaitFirstStates checks that every client gets its state soon after connecting, with no event since:
// the queue on screens and desk pages, the desk on desk pages, the ticket's position on phones.
func (sc *scene) awaitFirstStates(t *testing.T) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		var missing []*watcher
		for _, w := range sc.watchers {
			w.mu.Lock()
			if w.kind != phoneStream && w.queueSeq == 0 || w.kind == deskStream && w.deskSeq == 0 || w.kind == phoneStream && w.tickSeq == 0 {
				missing = append(missing, w)
			}
			w.mu.Unlock()
		}
		if len(missing) == 0 {
			return
		}
		if time.Now().After(deadline) {
			for _, w := range missing {
				t.Errorf("%s has no state after connecting; it got: %s", w.name, w.trace())
			}
			return
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// connectAll (re)connects every watcher at once, with since when resume, and reports whether all could.
func (sc *scene) connectAll(t *testing.T, resume bool) bool {
	t.Helper()
	var wg sync.WaitGroup
	errs := make(chan error, len(sc.watchers))
	for _, w := range sc.watchers {
		wg.Go(func() {
			if err := w.connect(resume); err != nil {
				errs <- err
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	return len(errs) == 0
}

// disconnectAll closes every watcher's stream at once.
func (sc *scene) disconnectAll() {
	var wg sync.WaitGroup
	for _, w := range sc.watchers {
		wg.Go(w.disconnect)
	}
	wg.Wait()
}

// apiCall makes a request without failing the test (it may run on any goroutine) and returns the status
// and body.
func apiCall(method, url, token, body string) (int, []byte, error) {
	req, err := http.NewRequest(method, url, strings.NewReader(body))
	if err != nil {
		return 0, nil, err
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, nil, err
	}
	defer res.Body.Close()
	b, err := io.ReadAll(res.Body)
	return res.StatusCode, b, err
}

// burst issues tickets from 8 goroutines and works the four desks from a goroutine each, all at once:
// each desk calls the next ticket rounds times, and each time serves and finishes it, marks it a no-show,
// transfers it to another service, or recalls it before serving it, in turns. Every completed request adds
// one to ops.
func (sc *scene) burst(t *testing.T, issues, rounds int, ops *atomic.Int64) {
	url := sc.node.srv.URL
	var wg sync.WaitGroup
	const issuers = 8
	for g := range issuers {
		wg.Go(func() {
			for i := g; i < issues; i += issuers {
				body := fmt.Sprintf(`{"service":%q}`, driftServices[i%len(driftServices)])
				if i%5 == 0 {
					// A priority jumps ahead of some of the followed tickets.
					body = fmt.Sprintf(`{"service":%q,"priority":"over75"}`, driftServices[i%len(driftServices)])
				}
				if status, b, err := apiCall("POST", url+"/api/v1/offices/"+demo.OfficeSlug+"/tickets", demo.KioskToken, body); err != nil || status != http.StatusCreated {
					t.Errorf("issue %s: %d %s %v", body, status, b, err)
					return
				}
				ops.Add(1)
			}
		})
	}
	for d, desk := range sc.desks {
		wg.Go(func() {
			token := sc.tokens[desk]
			act := func(action, body string) ([]byte, bool) {
				status, b, err := apiCall("POST", fmt.Sprintf("%s/api/v1/desks/%d/%s", url, desk, action), token, body)
				if err != nil || (status != http.StatusOK && !(action == "next" && status == http.StatusNoContent)) {
					t.Errorf("desk %d %s: %d %s %v", d+1, action, status, b, err)
					return nil, false
				}
				ops.Add(1)
				return b, status == http.StatusOK
			}
			for r := range rounds {
				b, ok := act("next", "{}")
				if !ok {
					continue // nothing this desk may call now
				}
				var tk ticketing.Ticket
				if err := json.Unmarshal(b, &tk); err != nil {
					t.Errorf("desk %d next: %s: %v", d+1, b, err)
					return
				}
				var steps [][2]string
				switch (d + r) % 4 {
				case 0:
					steps = [][2]string{{"start", "{}"}, {"finish", "{}"}}
				case 1:
					steps = [][2]string{{"no-show", "{}"}}
				case 2:
					to := driftServices[0]
					for i, s := range driftServices {
						if s == tk.Service {
							to = driftServices[(i+1)%len(driftServices)]
						}
					}
					steps = [][2]string{{"transfer", fmt.Sprintf(`{"service":%q}`, to)}}
				case 3:
					steps = [][2]string{{"recall", "{}"}, {"start", "{}"}, {"finish", "{}"}}
				}
				for _, s := range steps {
					if _, ok := act(s[0], s[1]); !ok {
						return
					}
				}
			}
		})
	}
	wg.Wait()
}

// settle waits until every office stream has applied a queue.state as new as the office's last event, and
// returns that seq.
func (sc *scene) settle(t *testing.T) int64 {
	t.Helper()
	final, err := sc.env.Store.LastEventSeq(context.Background(), sc.env.Office.ID)
	if err != nil {
		t.Fatal(err)
	}
	waitFor(t, fmt.Sprintf("every screen and desk page to apply a queue.state of seq %d", final), func() bool {
		for _, w := range sc.watchers {
			w.mu.Lock()
			behind := w.kind != phoneStream && w.queueSeq < final
			w.mu.Unlock()
			if behind {
				return false
			}
		}
		return true
	})
	return final
}

// jsonOf decodes b into a generic value (nil for none).
func jsonOf(b []byte) any {
	if len(b) == 0 {
		return nil
	}
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		return fmt.Sprintf("undecodable %s", b)
	}
	return v
}

// compact is v as JSON, for messages.
func compact(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

// numbersOf returns the ticket numbers of a waiting list, for messages.
func numbersOf(v any) []string {
	list, _ := v.([]any)
	out := []string{}
	for _, x := range list {
		n, _ := pick(x, "number")["number"].(string)
		out = append(out, n)
	}
	return out
}

// without returns m less the key (m must be a JSON object).
func without(v any, key string) any {
	m, ok := v.(map[string]any)
	if !ok {
		return v
	}
	out := make(map[string]any, len(m))
	for k, x := range m {
		if k != key {
			out[k] = x
		}
	}
	return out
}

// pick returns the keys of a JSON object v (missing ones as nil).
func pick(v any, keys ...string) map[string]any {
	m, _ := v.(map[string]any)
	out := make(map[string]any, len(keys))
	for _, k := range keys {
		out[k] = m[k]
	}
	return out
}

// positionKeys are the fields a ticket.state shares with GET /api/v1/tickets/{code}.
var positionKeys = []string{"id", "status", "position", "estimated_wait_seconds", "estimate"}

// checkMatchesAPI compares what every watcher shows with the API's answers, which no longer change once
// the burst is over and the clock is frozen, and returns the phones whose ticket still waits. Frames of the last reading may still be on their way to
// desk pages and phones (an unchanged desk or ticket state is not sent again, so there is no seq to wait
// for), so it polls until they match or the deadline passes, and then reports every difference.
func (sc *scene) checkMatchesAPI(t *testing.T) (waiting map[*watcher]bool) {
	t.Helper()
	url := sc.node.srv.URL
	var queue struct {
		Services json.RawMessage `json:"services"`
	}
	call(t, "GET", url+"/api/v1/offices/"+demo.OfficeSlug+"/queue", "", "", http.StatusOK, &queue)
	wantQueue := jsonOf(queue.Services)
	wantDesk, wantWaiting := map[int64]any{}, map[int64]any{}
	for _, id := range sc.desks {
		var state, waiting json.RawMessage
		call(t, "GET", fmt.Sprintf("%s/api/v1/desks/%d", url, id), sc.tokens[id], "", http.StatusOK, &state)
		call(t, "GET", fmt.Sprintf("%s/api/v1/desks/%d/waiting", url, id), sc.tokens[id], "", http.StatusOK, &waiting)
		wantDesk[id], wantWaiting[id] = without(jsonOf(state), "server_time"), jsonOf(waiting)
	}
	wantTicket := map[string]any{}
	waiting = map[*watcher]bool{}
	for _, w := range sc.watchers {
		if w.kind == phoneStream {
			var tk json.RawMessage
			call(t, "GET", url+"/api/v1/tickets/"+w.code, "", "", http.StatusOK, &tk)
			wantTicket[w.code] = jsonOf(tk)
			waiting[w] = pick(wantTicket[w.code], "status")["status"] == string(ticketing.Waiting)
		}
	}

	diffs := func() map[*watcher][]string {
		out := map[*watcher][]string{}
		for _, w := range sc.watchers {
			w.mu.Lock()
			switch w.kind {
			case screenStream:
				if got := jsonOf(w.queue); !reflect.DeepEqual(got, wantQueue) {
					out[w] = append(out[w], fmt.Sprintf("%s shows services %s (seq %d); the API answers %s", w.name, w.queue, w.queueSeq, queue.Services))
				}
			case deskStream:
				if got := without(jsonOf(w.desk), "server_time"); !reflect.DeepEqual(got, wantDesk[w.deskID]) {
					out[w] = append(out[w], fmt.Sprintf("%s shows the desk's state %s (seq %d); the API answers %s",
						w.name, compact(without(got, "desk")), w.deskSeq, compact(without(wantDesk[w.deskID], "desk"))))
				}
				if w.deskSeq < w.deskEvent {
					out[w] = append(out[w], fmt.Sprintf("%s has had no desk.state since the event of seq %d about its desk (the last was of seq %d)",
						w.name, w.deskEvent, w.deskSeq))
				}
				if got := jsonOf(w.waiting); !reflect.DeepEqual(got, wantWaiting[w.deskID]) {
					out[w] = append(out[w], fmt.Sprintf("%s shows the waiting list %v (seq %d); the API answers %v",
						w.name, numbersOf(got), w.deskSeq, numbersOf(wantWaiting[w.deskID])))
				}
			case phoneStream:
				if !waiting[w] {
					break // its own events tell what became of it (checkEvents)
				}
				want, got := pick(wantTicket[w.code], positionKeys...), pick(jsonOf(w.tick), positionKeys...)
				if !reflect.DeepEqual(got, want) {
					out[w] = append(out[w], fmt.Sprintf("%s shows %s (seq %d); the API answers %s", w.name, w.tick, w.tickSeq, compact(want)))
				}
			}
			w.mu.Unlock()
		}
		return out
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		d := diffs()
		if len(d) == 0 {
			return waiting
		}
		if time.Now().After(deadline) {
			for _, w := range sc.watchers {
				for _, s := range d[w] {
					t.Error(s)
				}
				if len(d[w]) > 0 {
					t.Logf("%s got: %s", w.name, w.trace())
				}
			}
			return waiting
		}
		time.Sleep(10 * time.Millisecond)
	}
}

// trace lists the frames the watcher got as type:seq, and marks the state frames it ignored, for a
// failure's message.
func (w *watcher) trace() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	var out []string
	last := int64(0)
	for _, b := range w.frames {
		var f stateFrame
		_ = json.Unmarshal(b, &f)
		s := fmt.Sprintf("%s:%d", f.Type, f.Seq)
		switch {
		case f.Type == "ticket.state":
			if f.Seq < last {
				s += "(ignored)"
			}
		default:
			last = f.Seq
		}
		out = append(out, s)
	}
	return strings.Join(out, " ")
}

// loggedEvents returns the office's whole event log.
func (sc *scene) loggedEvents(t *testing.T) []ticketing.Event {
	t.Helper()
	evs, err := sc.env.Store.Events(context.Background(), sc.env.Office.ID, 0, 100000)
	if err != nil {
		t.Fatal(err)
	}
	return evs
}

// checkEvents checks that every watcher got every event it is owed exactly once, in order, and no
// breach of the protocol: a screen or desk page every event after its first snapshot, a phone every event
// of its ticket (and of what the ticket became through transfers) after it. It returns how many phones
// got their ticket's ticket.called event.
func (sc *scene) checkEvents(t *testing.T, log []ticketing.Event) (calledPhones int) {
	t.Helper()
	for _, w := range sc.watchers {
		w.mu.Lock()
		for _, b := range w.bad {
			t.Errorf("%s: %s", w.name, b)
		}
		var want []int64
		called := false
		chain := map[int64]bool{w.ticket: true}
		for _, e := range log {
			if w.kind == phoneStream {
				if !chain[e.TicketID] {
					continue
				}
				if e.Type == ticketing.EventTransferred && e.To != nil {
					chain[e.To.ID] = true
				}
			}
			if e.Seq > w.first {
				want = append(want, e.Seq)
			}
		}
		got := make([]int64, len(w.events))
		for i, e := range w.events {
			got[i] = e.seq
			called = called || e.typ == string(ticketing.EventCalled)
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s got the events %v; it is owed %v", w.name, got, want)
		}
		if w.kind == phoneStream && called {
			calledPhones++
		}
		w.mu.Unlock()
	}
	return calledPhones
}

// checkPhonesPrivate checks that no frame a phone got names another ticket: no other ticket's id or
// number under a "ticket" or "to" object, no other ticket's number or public code anywhere.
func (sc *scene) checkPhonesPrivate(t *testing.T, log []ticketing.Event) {
	t.Helper()
	numbers := map[int64]string{}
	next := map[int64]int64{}
	for _, e := range log {
		for _, tk := range []*ticketing.TicketSummary{e.Ticket, e.To} {
			if tk != nil {
				numbers[tk.ID] = tk.Number
			}
		}
		if e.Type == ticketing.EventTransferred && e.To != nil {
			next[e.TicketID] = e.To.ID
		}
	}
	codes := map[int64]string{}
	rows, err := sc.env.Pool.Query(context.Background(), `SELECT id, code FROM tickets WHERE office_id = $1`, sc.env.Office.ID)
	if err != nil {
		t.Fatal(err)
	}
	for rows.Next() {
		var id int64
		var code string
		if err := rows.Scan(&id, &code); err != nil {
			t.Fatal(err)
		}
		codes[id] = code
	}
	rows.Close()
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	for _, w := range sc.watchers {
		if w.kind != phoneStream {
			continue
		}
		own := map[int64]bool{}
		for id := w.ticket; id != 0 && !own[id]; id = next[id] {
			own[id] = true
		}
		w.mu.Lock()
		for _, b := range w.frames {
			var refs []ticketRef
			ticketRefs(jsonOf(b), "", &refs)
			for _, r := range refs {
				if !own[r.id] || r.number != "" && r.number != numbers[w.ticket] {
					t.Errorf("%s got a frame naming ticket %d %q: %s", w.name, r.id, r.number, b)
				}
			}
			for id, code := range codes {
				if own[id] {
					continue
				}
				number := numbers[id]
				if bytes.Contains(b, []byte(code)) || number != "" && number != numbers[w.ticket] && bytes.Contains(b, []byte(`"`+number+`"`)) {
					t.Errorf("%s got a frame naming ticket %d (%s): %s", w.name, id, numbers[id], b)
				}
			}
		}
		w.mu.Unlock()
	}
}

// ticketRef is a ticket named in a frame.
type ticketRef struct {
	id     int64
	number string
}

// ticketRefs collects the tickets v names: every object under a "ticket" or "to" key.
func ticketRefs(v any, key string, out *[]ticketRef) {
	switch x := v.(type) {
	case map[string]any:
		if key == "ticket" || key == "to" {
			id, _ := x["id"].(float64)
			number, _ := x["number"].(string)
			*out = append(*out, ticketRef{id: int64(id), number: number})
		}
		for k, y := range x {
			ticketRefs(y, k, out)
		}
	case []any:
		for _, y := range x {
			ticketRefs(y, key, out)
		}
	}
}

// After a burst of issues, calls, finishes, no-shows and transfers from many goroutines, every screen,
// desk page and phone shows exactly what the API answers, got every event it is owed once, and no phone
// learnt anything of another ticket.
func TestPushedStateMatchesAPI(t *testing.T) {
	t.Parallel()
	sc := newScene(t)
	var ops atomic.Int64
	sc.burst(t, 40, 4, &ops)
	if t.Failed() {
		t.FailNow()
	}
	final := sc.settle(t)
	sc.checkMatchesAPI(t)
	log := sc.loggedEvents(t)
	called := sc.checkEvents(t, log)
	sc.checkPhonesPrivate(t, log)
	if called == 0 {
		t.Error("no followed ticket was called: the burst did not exercise ticket.called")
	}
	t.Logf("%d requests, last seq %d; %d of %d phones saw their ticket called", ops.Load(), final, called, followedTickets)
}

// Clients disconnect in the middle of a burst, miss events, and reconnect with the seq of the last event
// they applied while events keep coming: each gets the events it missed once (none twice, none missing),
// then a state frame, and once the burst settles shows what the API answers.
func TestPushedStateAfterReconnect(t *testing.T) {
	t.Parallel()
	sc := newScene(t)
	var ops atomic.Int64
	first := make(chan struct{})
	go func() {
		defer close(first)
		sc.burst(t, 20, 2, &ops)
	}()
	// Disconnect once the burst is under way (or, should it have failed early, over).
	underWay := func() bool {
		select {
		case <-first:
			return true
		default:
			return ops.Load() >= 12
		}
	}
	for !underWay() {
		time.Sleep(5 * time.Millisecond)
	}
	sc.disconnectAll()
	<-first
	// Events that no client can have seen live.
	for range 3 {
		issue(t, sc.env, "certificati")
	}
	second := make(chan struct{})
	go func() {
		defer close(second)
		sc.burst(t, 20, 2, &ops)
	}()
	sc.connectAll(t, true)
	<-second
	if t.Failed() {
		t.FailNow()
	}
	sc.settle(t)
	waiting := sc.checkMatchesAPI(t)
	log := sc.loggedEvents(t)
	sc.checkEvents(t, log)
	sc.checkPhonesPrivate(t, log)

	// A state frame followed the replay on every new connection: the office's queue on screens and desk
	// pages, the desk's state on desk pages, the ticket's position on phones whose ticket still waits.
	for _, w := range sc.watchers {
		w.mu.Lock()
		if w.gen != 2 {
			t.Errorf("%s: %d connections, want 2", w.name, w.gen)
		}
		var want []string
		switch {
		case w.kind == screenStream:
			want = []string{"queue.state"}
		case w.kind == deskStream:
			want = []string{"queue.state", "desk.state"}
		case waiting[w]:
			want = []string{"ticket.state"}
		}
		for _, typ := range want {
			if w.states[typ] == 0 {
				t.Errorf("%s: no %s applied since it reconnected", w.name, typ)
			}
		}
		w.mu.Unlock()
	}
}

// countedNode is a node whose hub and streams (not the API, which does not depend on how many clients
// follow the office) use a pool of their own, whose statements are counted.
func countedNode(t *testing.T, env *ticketingtest.Env, opt Options) (*testNode, *database.StatementCounter) {
	t.Helper()
	count := &database.StatementCounter{}
	cfg := env.Pool.Config().Copy()
	cfg.ConnConfig.Tracer = count
	pool, err := pgxpool.NewWithConfig(context.Background(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(pool.Close)
	store := ticketing.NewStore(pool)
	store.Now = env.Now
	return startTestNode(t, env, store, opt, nil), count
}

// hubIdle reports whether the hub has nothing left to do: no office whose new events are still to be
// read, none marked for a state reading or being read.
func hubIdle(h *Hub) bool {
	h.wakeMu.Lock()
	dirty := len(h.dirty) > 0 || h.allDirty
	h.wakeMu.Unlock()
	h.states.mu.Lock()
	busy := len(h.states.pending) > 0 || len(h.states.running) > 0
	h.states.mu.Unlock()
	return !dirty && !busy
}

// callCost is what desk actions cost a node whose office is followed by one screen and a number of phones.
type callCost struct {
	statements []int64 // database statements of the hub and streams, per action
	readings   []int64 // state readings, per action
}

// costOfCalls opens desk 1, issues 53 tickets, follows the youngest phones of them (and the office, on a
// screen), and measures three calls, each followed by a no-show, one action at a time.
func costOfCalls(t *testing.T, phones int) callCost {
	t.Helper()
	env := ticketingtest.New(t)
	env.SetNow(driftNow)
	// No poll and no periodic rights check: they would add statements that no call causes.
	node, count := countedNode(t, env, Options{PollInterval: time.Hour, RightsInterval: time.Hour, MaxStreamsPerAddress: -1})
	token, desk := openDesk(t, env, node.srv, "op1", 1)
	// Three more tickets than phones at most: the three calls take the oldest, the followed ones keep waiting.
	var tickets []*ticketing.Ticket
	for range 53 {
		tickets = append(tickets, issue(t, env, "certificati"))
		env.Advance(10 * time.Second)
	}
	screen := &watcher{name: "screen", kind: screenStream, srv: node.srv, path: officePath, token: demo.DisplayToken}
	watchers := []*watcher{screen}
	for _, tk := range tickets[len(tickets)-phones:] {
		watchers = append(watchers, &watcher{name: "phone of " + tk.Number, kind: phoneStream, srv: node.srv,
			path: "/ws/tickets/" + tk.Code + "/events", code: tk.Code, ticket: tk.ID})
	}
	t.Cleanup(func() {
		for _, w := range watchers {
			w.disconnect()
		}
	})
	for _, w := range watchers {
		if err := w.connect(false); err != nil {
			t.Fatal(err)
		}
	}
	ctx := context.Background()
	// settled waits until the screen has applied a state as new as seq, every phone one as new as
	// phoneSeq, and the hub is idle.
	settled := func(seq, phoneSeq int64) {
		t.Helper()
		deadline := time.Now().Add(30 * time.Second)
		for {
			var behind []string
			for _, w := range watchers {
				w.mu.Lock()
				if w.kind == screenStream && w.queueSeq < seq || w.kind == phoneStream && w.tickSeq < phoneSeq {
					behind = append(behind, w.name)
				}
				w.mu.Unlock()
			}
			idle := hubIdle(node.hub)
			if len(behind) == 0 && idle {
				return
			}
			if time.Now().After(deadline) {
				for _, w := range watchers {
					t.Logf("%s got: %s", w.name, w.trace())
				}
				t.Fatalf("timed out waiting for the states of seq %d (behind: %v) and the hub idle (%v)", seq, behind, idle)
			}
			time.Sleep(10 * time.Millisecond)
		}
	}
	last, err := env.Store.LastEventSeq(ctx, env.Office.ID)
	if err != nil {
		t.Fatal(err)
	}
	settled(last, 1) // every phone has its first ticket.state
	var cost callCost
	// measure runs one desk action, a batch of one event, and counts what it cost once the node settled;
	// after a call every phone's position has moved, so every phone must have got its new state too.
	measure := func(action string, phonesMove bool) {
		t.Helper()
		before, reads := count.Load(), node.hub.Stats().StatesRead
		call(t, "POST", fmt.Sprintf("%s/api/v1/desks/%d/%s", node.srv.URL, desk, action), token, "{}", http.StatusOK, nil)
		seq, err := env.Store.LastEventSeq(ctx, env.Office.ID)
		if err != nil {
			t.Fatal(err)
		}
		phoneSeq := int64(1)
		if phonesMove {
			phoneSeq = seq
		}
		settled(seq, phoneSeq)
		cost.statements = append(cost.statements, count.Load()-before)
		cost.readings = append(cost.readings, node.hub.Stats().StatesRead-reads)
	}
	for range 3 {
		measure("next", true)
		measure("no-show", false)
	}
	for _, w := range watchers {
		w.mu.Lock()
		for _, b := range w.bad {
			t.Errorf("%s: %s", w.name, b)
		}
		w.mu.Unlock()
	}
	return cost
}

// The state is read once per batch of an office's events, not once per client: a call followed by one
// phone costs the node the same database statements as one followed by fifty. The count is exact: a pgx
// tracer on the pool of the hub and the streams counts every statement they send (the API's statements
// go through another pool and do not depend on the clients anyway), and each call is measured only once
// the node is idle again.
func TestPushedStateCostPerBatch(t *testing.T) {
	t.Parallel()
	one := costOfCalls(t, 1)
	fifty := costOfCalls(t, 50)
	t.Logf("statements per call, no-show, call…: 1 phone %v, 50 phones %v; state readings %v and %v", one.statements, fifty.statements, one.readings, fifty.readings)
	if !reflect.DeepEqual(one.statements, fifty.statements) {
		t.Errorf("statements per call: %v with 1 phone, %v with 50", one.statements, fifty.statements)
	}
	if !reflect.DeepEqual(one.readings, fifty.readings) {
		t.Errorf("state readings per call: %v with 1 phone, %v with 50", one.readings, fifty.readings)
	}
	for _, n := range one.statements {
		if n == 0 {
			t.Errorf("a call cost the hub no statement at all: %v; the counter does not see the hub's pool", one.statements)
		}
	}
}

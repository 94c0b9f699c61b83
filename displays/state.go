package displays

import (
	"bytes"
	"context"
	"encoding/json"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"turno/ticketing"
)

// Pushed state. After each batch of an office's events the hub reads the office's live state once
// (ticketing.Store.LiveState: the queue, the state and waiting list of the desks whose pages follow the
// office on this node, the position of the tickets whose phones follow them here) and hands each client
// the frame it shows, encoded once: queue.state to every office stream, desk.state to a desk page when its
// desk changed, ticket.state to a phone when its ticket's position or estimate changed. Clients then have
// no reason to ask the API after an event, which made every event cost a query per screen, desk and phone.
//
// A state frame carries the seq S of the last event the node had handed out when it began reading the
// state: the state is at least as new as S, and S never goes back. Events after S may reach a client before
// the frame. A screen or a desk page applies it anyway (its counts and lists come only from states, and the
// batch that brought those events brings a newer state); a phone ignores it when it has had a later event of
// its own ticket, which may have ended its wait.

// queueStateFrame is the frame every office stream gets: the queue as GET /api/v1/offices/{o}/queue says it.
type queueStateFrame struct {
	Type     string                `json:"type"` // "queue.state"
	Seq      int64                 `json:"seq"`
	At       time.Time             `json:"at"`
	Services []ticketing.QueueLine `json:"services"`
}

// deskStateFrame is what a desk page gets: GET /api/v1/desks/{id} as state, GET …/waiting as waiting.
type deskStateFrame struct {
	Type string    `json:"type"` // "desk.state"
	Seq  int64     `json:"seq"`
	At   time.Time `json:"at"`
	*ticketing.LiveDesk
}

// ticketStateFrame is what a phone gets while its ticket waits: its position and estimate.
type ticketStateFrame struct {
	Type   string                    `json:"type"` // "ticket.state"
	Seq    int64                     `json:"seq"`
	At     time.Time                 `json:"at"`
	Ticket *ticketing.TicketPosition `json:"ticket"`
}

// stateFrames are one reading of an office's state, encoded for its clients.
type stateFrames struct {
	seq     int64
	queue   *websocket.PreparedMessage
	desks   map[int64]keyedFrame
	tickets map[int64]keyedFrame
}

// keyedFrame is a frame and what it says without its time, so that a client is sent it only when that
// changed since its last one.
type keyedFrame struct {
	key []byte
	pm  *websocket.PreparedMessage
}

// follows is what a client follows besides the office's queue: its desk (a desk page) or its ticket (a
// phone), which the hub reads the state of.
type follows struct {
	queue  bool  // an office stream: every queue.state
	desk   int64 // a desk page's desk
	ticket int64 // a phone's ticket, as it is now (see ticketFilter)
}

// stateWork is the hub's queue of offices whose state is to be read, each read at most once at a time: an
// office marked while its state is being read is read again once that is done.
type stateWork struct {
	mu      sync.Mutex
	pending map[int64]bool // marked, waiting for a worker
	running map[int64]bool // being read
	wake    chan struct{}
}

func newStateWork() *stateWork {
	return &stateWork{pending: map[int64]bool{}, running: map[int64]bool{}, wake: make(chan struct{}, 1)}
}

// mark asks for a new reading of an office's state.
func (w *stateWork) mark(officeID int64) {
	w.mu.Lock()
	w.pending[officeID] = true
	w.mu.Unlock()
	w.poke()
}

// poke wakes a worker.
func (w *stateWork) poke() { signal(w.wake) }

// take returns an office to read that is not being read already, and false when there is none.
func (w *stateWork) take() (int64, bool) {
	w.mu.Lock()
	defer w.mu.Unlock()
	for id := range w.pending {
		if !w.running[id] {
			delete(w.pending, id)
			w.running[id] = true
			return id, true
		}
	}
	return 0, false
}

// done ends a reading; a mark that came meanwhile wakes a worker again.
func (w *stateWork) done(officeID int64) {
	w.mu.Lock()
	delete(w.running, officeID)
	again := w.pending[officeID]
	w.mu.Unlock()
	if again {
		w.poke()
	}
}

// runStates reads the marked offices' states with StateWorkers workers until ctx ends.
func (h *Hub) runStates(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	for range h.opt.StateWorkers {
		wg.Go(func() {
			for {
				id, ok := h.states.take()
				if !ok {
					select {
					case <-ctx.Done():
						return
					case <-h.states.wake:
					}
					continue
				}
				// Another office may be marked too: let another worker look while this one reads.
				h.states.poke()
				h.pushState(ctx, id)
				h.states.done(id)
			}
		})
	}
}

// pushState reads an office's state for the clients that follow it on this node and hands each its frames.
func (h *Hub) pushState(ctx context.Context, officeID int64) {
	h.mu.Lock()
	f := h.feeds[officeID]
	h.mu.Unlock()
	if f == nil {
		return
	}
	f.mu.Lock()
	seq := f.last
	var lq ticketing.LiveQuery
	desks, tickets := map[int64]bool{}, map[int64]bool{}
	for c := range f.clients {
		fl := c.follows()
		if fl.desk != 0 && !desks[fl.desk] {
			desks[fl.desk] = true
			lq.Desks = append(lq.Desks, fl.desk)
		}
		if fl.ticket != 0 && !tickets[fl.ticket] {
			tickets[fl.ticket] = true
			lq.Tickets = append(lq.Tickets, fl.ticket)
		}
	}
	f.mu.Unlock()
	fs, err := h.readState(ctx, officeID, seq, lq)
	if err != nil {
		if ctx.Err() == nil {
			h.opt.Log.Warn("displays: read live state", "office", officeID, "err", err)
		}
		return // the next batch of events, or the next poll that finds one, tries again
	}
	h.statesRead.Add(1)
	f.mu.Lock()
	defer f.mu.Unlock()
	for c := range f.clients {
		c.deliverState(fs)
	}
}

// readState reads and encodes an office's state as of seq.
func (h *Hub) readState(ctx context.Context, officeID, seq int64, lq ticketing.LiveQuery) (*stateFrames, error) {
	o, err := h.store.OfficeByID(ctx, officeID)
	if err != nil {
		return nil, err
	}
	st, err := h.store.LiveState(ctx, o, lq)
	if err != nil {
		return nil, err
	}
	fs := &stateFrames{seq: seq, desks: make(map[int64]keyedFrame, len(st.Desks)), tickets: make(map[int64]keyedFrame, len(st.Tickets))}
	if fs.queue, err = prepare(queueStateFrame{Type: "queue.state", Seq: seq, At: st.At, Services: st.Queue}); err != nil {
		return nil, err
	}
	for id, d := range st.Desks {
		// What the desk page shows, less the server's clock, which changes at every reading.
		bare := *d.State
		bare.ServerTime = time.Time{}
		if fs.desks[id], err = keyed(ticketing.LiveDesk{State: &bare, Waiting: d.Waiting},
			deskStateFrame{Type: "desk.state", Seq: seq, At: st.At, LiveDesk: d}); err != nil {
			return nil, err
		}
	}
	for id, t := range st.Tickets {
		if fs.tickets[id], err = keyed(t, ticketStateFrame{Type: "ticket.state", Seq: seq, At: st.At, Ticket: t}); err != nil {
			return nil, err
		}
	}
	return fs, nil
}

// keyed encodes frame, keyed by the encoding of what it says.
func keyed(what, frame any) (keyedFrame, error) {
	key, err := json.Marshal(what)
	if err != nil {
		return keyedFrame{}, err
	}
	pm, err := prepare(frame)
	return keyedFrame{key: key, pm: pm}, err
}

// stateSent is what a client was last sent of the state, so that unchanged desk and ticket states are not
// sent again.
type stateSent struct {
	any  bool  // a reading has been queued
	seq  int64 // the seq of the last reading queued
	desk []byte
	// deskSeq is the seq of the last desk state sent.
	deskSeq int64
	ticket  []byte
}

// deliverState hands the client its frames of a state reading. A client still being set up gets the
// newest reading when it goes live.
func (c *client) deliverState(fs *stateFrames) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if c.starting {
		c.pendingState = fs
		return
	}
	if len(c.queue) >= c.hub.opt.SendQueue {
		c.drop()
		return
	}
	c.queueState(fs)
}

// queueState queues the client's frames of fs. c.mu is held. Readings of an office are made one at a time
// with a seq that never goes back, so an office stream applies every state it gets (it may be older than
// the last event the stream has shown, never older than the last state); a connect storm must not send
// every client of the office a frame per newcomer.
func (c *client) queueState(fs *stateFrames) {
	if c.phone != nil && fs.seq < c.shown {
		// The phone has had a later event of its ticket and would ignore this state, which may say it still
		// waits; the batch that brought that event brings a newer one. Nothing is recorded as sent, so that
		// one is not taken for a repeat.
		return
	}
	// A reading as of the seq the client has had one of was made for a client that connected since: the
	// queue is sent again to none, the desk's and the ticket's state only if they differ (the newcomer's).
	sameSeq := c.sent.any && c.sent.seq == fs.seq
	c.sent.any, c.sent.seq = true, fs.seq
	fl := c.followsLocked()
	if fl.queue && fs.queue != nil && !sameSeq {
		c.push(fs.queue)
	}
	if kf, ok := fs.desks[fl.desk]; ok && fl.desk != 0 && c.deskDue(kf, fs.seq) {
		c.sent.desk, c.sent.deskSeq = kf.key, fs.seq
		c.push(kf.pm)
	}
	if kf, ok := fs.tickets[fl.ticket]; ok && fl.ticket != 0 && !bytes.Equal(kf.key, c.sent.ticket) {
		c.sent.ticket = kf.key
		c.push(kf.pm)
	}
}

// deskDue reports whether a desk page is to be sent its desk's state kf, of a reading as of seq. Never one
// older than the last event about its desk, which the page drops; after such an event the next one even
// when it looks unchanged, which the page waits for; otherwise only one that changed. c.mu is held.
func (c *client) deskDue(kf keyedFrame, seq int64) bool {
	if seq < c.deskEvent {
		return false
	}
	return c.sent.deskSeq < c.deskEvent || !bytes.Equal(kf.key, c.sent.desk)
}

// follows returns what the client follows.
func (c *client) follows() follows {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.followsLocked()
}

func (c *client) followsLocked() follows {
	fl := follows{queue: c.phone == nil && !c.noQueue, desk: c.desk}
	if c.phone != nil {
		fl.ticket = c.phone.current
	}
	return fl
}

// Package displays streams each office's event log to WebSocket clients (hall displays, operator desks and
// the citizen's phone) and serves the hall display page.
//
// Every app node keeps one LISTEN connection. A notification (or a poll, as fallback) makes the node read
// the new rows of office_events and fan them out to its own clients, each frame encoded once. The event
// table is the source of truth, so a client that reconnects to any node with the last seq it saw misses
// nothing and sees nothing twice.
package displays

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"

	"turno/ticketing"
)

// Options tune a Hub. Zero fields take the defaults in parentheses.
type Options struct {
	// PollInterval is how often the node compares each followed office's last event seq with what it has
	// sent, in case a notification was lost (3s).
	PollInterval time.Duration
	// PingInterval is how often each client gets a ping and a heartbeat; a client silent for two intervals
	// is dropped (30s).
	PingInterval time.Duration
	// WriteTimeout bounds one write to a client (10s).
	WriteTimeout time.Duration
	// SendQueue is how many frames may wait for a client: a client that still has that many when new
	// events arrive is dropped as slow (64).
	SendQueue int
	// MaxBackfill is the largest gap a reconnecting client is replayed; beyond it the client gets a fresh
	// snapshot instead (500).
	MaxBackfill int
	// Rights answers the periodic re-check of the rights of the node's office streams (auth.Store); nil
	// leaves only the notifications on auth.RightsChannel to end streams whose right ended.
	Rights Rights
	// RightsInterval is how often the node re-checks, in two queries, that the devices and sessions its
	// office streams were opened with still hold, in case a notification was lost (20s).
	RightsInterval time.Duration
	// MaxStreamsPerAddress is how many streams one client address (web.ClientIP, by web.AddressKey) may
	// hold at a time on this node; more are refused with 429 before the upgrade. Zero takes the default
	// (100); a negative value lifts the cap.
	MaxStreamsPerAddress int
	// MaxConnecting is how many streams may be in their setup at once on this node (the queries that read
	// the snapshot or the events to replay); more wait their turn for up to ConnectWait and are then
	// refused with 503. It keeps a connect storm, or every screen reconnecting after a restart, from taking
	// the database pool and the processors from the kiosks and desks. Zero takes the default (two per
	// processor, GOMAXPROCS×2: half of the default database pool); a negative value lifts the bound.
	MaxConnecting int
	// ConnectWait is how long a stream may wait for its turn to be set up (10s).
	ConnectWait time.Duration
	// StateWorkers is how many offices' live states (state.go) the node reads at once (GOMAXPROCS): each
	// reading holds a database connection for a few short queries, and the kiosks and desks need the rest
	// of the pool.
	StateWorkers int
	// Log receives the hub's warnings (slog.Default()).
	Log *slog.Logger
}

// DefaultMaxStreamsPerAddress is the default of Options.MaxStreamsPerAddress: room for the screens, the
// desks and the phones on the hall's Wi-Fi of one office behind one NAT, far below what exhausts a node.
const DefaultMaxStreamsPerAddress = 100

func (o *Options) defaults() {
	if o.PollInterval <= 0 {
		o.PollInterval = 3 * time.Second
	}
	if o.PingInterval <= 0 {
		o.PingInterval = 30 * time.Second
	}
	if o.WriteTimeout <= 0 {
		o.WriteTimeout = 10 * time.Second
	}
	if o.SendQueue <= 0 {
		o.SendQueue = 64
	}
	if o.MaxBackfill <= 0 {
		o.MaxBackfill = 500
	}
	if o.RightsInterval <= 0 {
		o.RightsInterval = 20 * time.Second
	}
	if o.MaxStreamsPerAddress == 0 {
		o.MaxStreamsPerAddress = DefaultMaxStreamsPerAddress
	}
	if o.MaxConnecting == 0 {
		o.MaxConnecting = 2 * runtime.GOMAXPROCS(0)
	}
	if o.ConnectWait <= 0 {
		o.ConnectWait = 10 * time.Second
	}
	if o.StateWorkers <= 0 {
		o.StateWorkers = runtime.GOMAXPROCS(0)
	}
	if o.Log == nil {
		o.Log = slog.Default()
	}
}

// Hub is one node's fan-out: the subscribers of each office, and the reader that takes new events from the
// table and hands each, encoded once, to every subscriber without ever waiting for one.
type Hub struct {
	store *ticketing.Store
	opt   Options

	mu     sync.Mutex
	feeds  map[int64]*feed // by office id; an office is here while it has subscribers
	closed bool

	wakeMu   sync.Mutex
	dirty    map[int64]bool // offices with news not read yet
	allDirty bool           // after a (re)connect of the LISTEN connection: read every office
	wake     chan struct{}

	rightsMu   sync.Mutex
	held       map[*client]credential // the office streams and the rights they were opened with
	notices    map[string]time.Time   // rights announced ended lately, when
	rightsWake chan struct{}

	addrMu  sync.Mutex
	streams map[string]int // open streams by client address key

	setup chan struct{} // a token per stream being set up (MaxConnecting); nil: no bound

	states     *stateWork // offices whose live state is to be read and pushed (state.go)
	statesRead atomic.Int64
	clientSeq  atomic.Int64 // spreads the clients over the ping slots

	dropped   atomic.Int64
	refused   atomic.Int64
	busy      atomic.Int64
	listening atomic.Bool
	reconnect atomic.Int64
}

// feed is one office's subscribers on this node and the newest seq they have been handed.
type feed struct {
	officeID int64

	mu      sync.Mutex
	last    int64 // every event up to last has been handed to the clients; only the reader advances it
	clients map[*client]struct{}
}

// NewHub returns a hub reading store's events. Run it with Run.
func NewHub(store *ticketing.Store, opt Options) *Hub {
	opt.defaults()
	var setup chan struct{}
	if opt.MaxConnecting > 0 {
		setup = make(chan struct{}, opt.MaxConnecting)
	}
	return &Hub{store: store, opt: opt, feeds: map[int64]*feed{}, dirty: map[int64]bool{}, wake: make(chan struct{}, 1),
		held: map[*client]credential{}, notices: map[string]time.Time{}, rightsWake: make(chan struct{}, 1),
		streams: map[string]int{}, setup: setup, states: newStateWork()}
}

// Stats is a snapshot of a hub's counters.
type Stats struct {
	Clients    int   // connected clients
	Offices    int   // offices with at least one client
	Dropped    int64 // clients dropped because they could not keep up
	Refused    int64 // streams refused because their address held MaxStreamsPerAddress already
	Busy       int64 // streams refused because they waited ConnectWait for their turn to be set up
	Listening  bool  // the LISTEN connection is up
	Reconnects int64 // times the LISTEN connection was re-established after a failure
	StatesRead int64 // live states read and pushed (state.go): one per batch of events per office, not per client
}

// Stats returns the hub's counters.
func (h *Hub) Stats() Stats {
	h.mu.Lock()
	defer h.mu.Unlock()
	s := Stats{Offices: len(h.feeds), Dropped: h.dropped.Load(), Refused: h.refused.Load(), Busy: h.busy.Load(), Listening: h.listening.Load(),
		Reconnects: h.reconnect.Load(), StatesRead: h.statesRead.Load()}
	for _, f := range h.feeds {
		f.mu.Lock()
		s.Clients += len(f.clients)
		f.mu.Unlock()
	}
	return s
}

var errHubClosed = errors.New("displays: hub closed")

// subscribe adds c to its office's feed and returns the seq up to which the feed has handed out events: c
// must be given the events up to it from the table, and receives the later ones live. dbLast is the
// office's last seq read from the table before the call; it starts a feed that does not exist yet.
func (h *Hub) subscribe(officeID int64, c *client, dbLast int64) (int64, error) {
	h.mu.Lock()
	if h.closed {
		h.mu.Unlock()
		return 0, errHubClosed
	}
	f := h.feeds[officeID]
	if f == nil {
		f = &feed{officeID: officeID, last: dbLast, clients: map[*client]struct{}{}}
		h.feeds[officeID] = f
		// An event may have been announced between reading dbLast and now, while no feed was here to note
		// it: look at the table once rather than wait for the next poll.
		defer h.notify(officeID, dbLast+1)
	}
	f.mu.Lock()
	h.mu.Unlock()
	defer f.mu.Unlock()
	f.clients[c] = struct{}{}
	c.feed = f
	// The new client gets the office's state soon, read once for every client that connects meanwhile.
	h.states.mark(officeID)
	return f.last, nil
}

// unsubscribe removes c; the last client of an office removes its feed.
func (h *Hub) unsubscribe(c *client) {
	f := c.feed
	if f == nil {
		return
	}
	h.mu.Lock()
	defer h.mu.Unlock()
	f.mu.Lock()
	defer f.mu.Unlock()
	delete(f.clients, c)
	if len(f.clients) == 0 && h.feeds[f.officeID] == f {
		delete(h.feeds, f.officeID)
	}
}

// notify records that an office has events up to seq; the reader fetches them.
func (h *Hub) notify(officeID, seq int64) {
	h.mu.Lock()
	f := h.feeds[officeID]
	h.mu.Unlock()
	if f == nil {
		return // nobody here follows this office
	}
	f.mu.Lock()
	behind := seq > f.last
	f.mu.Unlock()
	if !behind {
		return
	}
	h.wakeMu.Lock()
	h.dirty[officeID] = true
	h.wakeMu.Unlock()
	h.poke()
}

// notifyAll makes the reader catch up every followed office (after the LISTEN connection came back).
func (h *Hub) notifyAll() {
	h.wakeMu.Lock()
	h.allDirty = true
	h.wakeMu.Unlock()
	h.poke()
}

func (h *Hub) poke() { signal(h.wake) }

// signal wakes the goroutine that waits on ch, a channel of one slot: a wake-up already pending is enough,
// however often it is signalled meanwhile.
func signal(ch chan struct{}) {
	select {
	case ch <- struct{}{}:
	default:
	}
}

// Run reads and fans out events until ctx ends: it wakes on notifications (see Listen), polls every
// PollInterval, and pings clients every PingInterval. Beside it, the rights of the office streams are
// re-checked every RightsInterval. When ctx ends it disconnects every client.
func (h *Hub) Run(ctx context.Context) {
	var wg sync.WaitGroup
	defer wg.Wait()
	wg.Go(func() { h.watchRights(ctx) })
	wg.Go(func() { h.runStates(ctx) })
	poll := time.NewTicker(h.opt.PollInterval)
	defer poll.Stop()
	ping := time.NewTicker(h.opt.PingInterval / pingSlots)
	defer ping.Stop()
	slot := 0
	for {
		select {
		case <-ctx.Done():
			h.shutdown()
			return
		case <-h.wake:
		case <-poll.C:
			if err := h.poll(ctx); err != nil && ctx.Err() == nil {
				h.opt.Log.Warn("displays: poll", "err", err)
			}
		case <-ping.C:
			h.pingSlot(slot)
			slot = (slot + 1) % pingSlots
			continue
		}
		h.catchUp(ctx)
	}
}

// poll marks the followed offices whose log has grown past what this node has sent: the fallback for a
// lost notification, one cheap query for all offices.
func (h *Hub) poll(ctx context.Context) error {
	ids, lasts := h.followed()
	if len(ids) == 0 {
		return nil
	}
	seqs, err := h.store.LastEventSeqs(ctx, ids)
	if err != nil {
		return err
	}
	h.wakeMu.Lock()
	defer h.wakeMu.Unlock()
	for id, seq := range seqs {
		if seq > lasts[id] {
			h.dirty[id] = true
		}
	}
	return nil
}

// followed returns the offices with subscribers and the seq each feed is at.
func (h *Hub) followed() ([]int64, map[int64]int64) {
	h.mu.Lock()
	defer h.mu.Unlock()
	ids := make([]int64, 0, len(h.feeds))
	lasts := make(map[int64]int64, len(h.feeds))
	for id, f := range h.feeds {
		f.mu.Lock()
		ids, lasts[id] = append(ids, id), f.last
		f.mu.Unlock()
	}
	return ids, lasts
}

// catchUp reads the new events of every office marked dirty and hands them out. It runs only on Run's
// goroutine, which is the only one that advances a feed's last seq: so no event is handed out twice.
func (h *Hub) catchUp(ctx context.Context) {
	h.wakeMu.Lock()
	dirty, all := h.dirty, h.allDirty
	h.dirty, h.allDirty = map[int64]bool{}, false
	h.wakeMu.Unlock()
	if all {
		ids, _ := h.followed()
		for _, id := range ids {
			dirty[id] = true
		}
	}
	for id := range dirty {
		if err := h.catchUpOffice(ctx, id); err != nil {
			if ctx.Err() != nil {
				return
			}
			h.opt.Log.Warn("displays: read events", "office", id, "err", err)
			// Try again at the next wake-up or poll.
			h.wakeMu.Lock()
			h.dirty[id] = true
			h.wakeMu.Unlock()
		}
	}
}

const readBatch = 500

func (h *Hub) catchUpOffice(ctx context.Context, officeID int64) error {
	for {
		h.mu.Lock()
		f := h.feeds[officeID]
		h.mu.Unlock()
		if f == nil {
			return nil
		}
		f.mu.Lock()
		from := f.last
		f.mu.Unlock()
		evs, err := h.store.Events(ctx, officeID, from, readBatch)
		if err != nil {
			return err
		}
		if len(evs) == 0 {
			return nil
		}
		out := newEvents(evs)
		f.mu.Lock()
		if f.last == from { // always true: only this goroutine advances it
			for c := range f.clients {
				c.deliver(out)
			}
			f.last = out[len(out)-1].Seq
		}
		f.mu.Unlock()
		h.states.mark(officeID)
		if len(evs) < readBatch {
			return nil
		}
	}
}

// pingSlots is how many slices the clients are pinged in, one slice after the other across PingInterval:
// pinging ten thousand streams at once queued a write for each in one burst, and the API's requests
// waited for the processors behind it (issue p99 of 260–410 ms with 150 offices; turno bench region).
const pingSlots = 10

// pingSlot queues a ping and a heartbeat {"seq":n,"type":"heartbeat"} for the clients of one slot, so each
// client gets one every PingInterval. The heartbeat lets a browser, which cannot see pings, tell a live
// quiet stream from a dead one.
func (h *Hub) pingSlot(slot int) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for _, f := range h.feeds {
		f.mu.Lock()
		var hb *websocket.PreparedMessage
		for c := range f.clients {
			if c.pingSlot != slot {
				continue
			}
			if hb == nil {
				var err error
				if hb, err = prepare(heartbeat{Seq: f.last, Type: "heartbeat"}); err != nil {
					break
				}
			}
			c.ping(hb)
		}
		f.mu.Unlock()
	}
}

// shutdown refuses new subscribers and disconnects every client; they reconnect to another node.
func (h *Hub) shutdown() {
	h.mu.Lock()
	h.closed = true
	var all []*client
	for _, f := range h.feeds {
		f.mu.Lock()
		for c := range f.clients {
			all = append(all, c)
		}
		f.mu.Unlock()
	}
	h.mu.Unlock()
	for _, c := range all {
		c.close()
	}
}

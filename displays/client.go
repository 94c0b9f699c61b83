package displays

import (
	"io"
	"sync"
	"sync/atomic"
	"time"

	"github.com/gorilla/websocket"
)

// client is one WebSocket subscriber. An idle client costs one goroutine (its read loop) and a few
// hundred bytes: frames wait in a small queue and a writer goroutine exists only while there is something
// to write, so the hub hands a frame over without ever blocking, and a client whose queue overflows is
// dropped.
type client struct {
	hub  *Hub
	conn *websocket.Conn
	feed *feed // set by Hub.subscribe
	// phone, for a phone's stream, chooses what it gets of each event (under mu, since it follows its
	// ticket through transfers); without it the client gets every event in full.
	phone *ticketFilter
	// desk is the desk whose state a desk page's stream gets (state.go); 0 for none.
	desk    int64
	noQueue bool // the stream gets no queue.state
	// addr is the client address whose stream place the client holds (see Hub.admit); "" for none.
	addr string
	// pingSlot is the slice of the ping interval in which the client is pinged (Hub.pingSlot).
	pingSlot int
	// ending is set by end: a close frame is on its way and the read loop only waits for the answer.
	ending atomic.Bool

	mu       sync.Mutex
	queue    []*websocket.PreparedMessage
	pending  []*event // events handed out while the client is still being replayed the table
	starting bool     // true until start: live events wait in pending
	writing  bool     // a writer goroutine is running
	pingDue  bool
	closed   bool
	floor    int64 // the highest seq the client has been given (or said it has); nothing at or below is sent
	// shown is the seq of the last event frame (or snapshot) the client was sent: a phone ignores a state
	// older than it, so it is not sent (state.go).
	shown int64
	// deskEvent is the seq of the last event about the desk (desk) the client was sent: its page counts on a
	// desk.state at least as new as that event, sent even if the state looks unchanged (state.go).
	deskEvent int64
	// pendingState is the newest state reading handed out while the client was still being set up.
	pendingState *stateFrames
	sent         stateSent // what the client was last sent of its desk's or ticket's state
}

// view is what a stream shows: a phone's ticket (phone), a desk page's desk (desk), or, with neither, a
// screen's or a staff page's office; noQueue leaves out the queue (a feedback tablet shows none).
type view struct {
	phone   *ticketFilter
	desk    int64
	noQueue bool
}

func newClient(h *Hub, conn *websocket.Conn, v view, addr string) *client {
	return &client{hub: h, conn: conn, phone: v.phone, desk: v.desk, noQueue: v.noQueue, addr: addr, starting: true,
		pingSlot: int(h.clientSeq.Add(1) % pingSlots)}
}

// start queues what the client gets first (a snapshot, or the events it missed, read from the table) and
// then the live events handed out meanwhile, and lets the client go live. floor is the seq the client
// already has: the snapshot's, or the since it asked for.
func (c *client) start(floor int64, first *websocket.PreparedMessage, replay []*event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	c.floor, c.shown = floor, floor
	if first != nil {
		c.push(first)
	}
	for _, ev := range replay {
		c.queueEvent(ev)
	}
	for _, ev := range c.pending {
		c.queueEvent(ev)
	}
	if c.pendingState != nil {
		c.queueState(c.pendingState)
	}
	c.pending, c.pendingState, c.starting = nil, nil, false
}

// deliver hands the client the live events of one read from the table. It never blocks: the hub calls it
// for every client in turn. A client still holding SendQueue frames from before is too slow and is dropped;
// the events of one read count as one arrival, so a burst (a catch-up after a lost connection) does not
// drop clients that are keeping up.
func (c *client) deliver(evs []*event) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed {
		return
	}
	if c.starting {
		if len(c.pending) >= c.hub.opt.MaxBackfill {
			c.drop()
			return
		}
		c.pending = append(c.pending, evs...)
		return
	}
	if len(c.queue) >= c.hub.opt.SendQueue {
		c.drop()
		return
	}
	for _, ev := range evs {
		c.queueEvent(ev)
	}
}

// queueEvent queues what the client gets of ev, once.
func (c *client) queueEvent(ev *event) {
	if ev.Seq <= c.floor {
		return
	}
	c.floor = ev.Seq
	var pm *websocket.PreparedMessage
	if c.phone != nil {
		pm = c.phone.pick(ev)
	} else {
		var err error
		if pm, err = ev.message(); err != nil {
			c.hub.opt.Log.Error("displays: encode event", "seq", ev.Seq, "err", err)
			return
		}
	}
	if pm != nil {
		c.shown = ev.Seq
		if c.desk != 0 && ev.about(c.desk) {
			c.deskEvent = ev.Seq
		}
		c.push(pm)
	}
}

func (c *client) push(pm *websocket.PreparedMessage) {
	c.queue = append(c.queue, pm)
	c.startWriter()
}

// ping queues a ping and the feed's heartbeat frame.
func (c *client) ping(heartbeat *websocket.PreparedMessage) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.closed || c.starting {
		return
	}
	if len(c.queue) >= c.hub.opt.SendQueue {
		c.drop()
		return
	}
	c.pingDue = true
	c.push(heartbeat)
}

func (c *client) startWriter() {
	if !c.writing && !c.closed {
		c.writing = true
		go c.writeLoop()
	}
}

// writeLoop writes the queued frames and exits when the queue is empty.
func (c *client) writeLoop() {
	for {
		c.mu.Lock()
		batch, ping := c.queue, c.pingDue
		if c.closed || (len(batch) == 0 && !ping) {
			c.writing, c.queue = false, nil
			c.mu.Unlock()
			return
		}
		c.queue, c.pingDue = nil, false
		c.mu.Unlock()
		for _, pm := range batch {
			_ = c.conn.SetWriteDeadline(time.Now().Add(c.hub.opt.WriteTimeout))
			if err := c.conn.WritePreparedMessage(pm); err != nil {
				c.close()
				return
			}
		}
		if ping {
			if err := c.conn.WriteControl(websocket.PingMessage, nil, time.Now().Add(c.hub.opt.WriteTimeout)); err != nil {
				c.close()
				return
			}
		}
	}
}

// readLoop reads (and discards) what the client sends, so pongs and close frames are processed, and ends
// the client when the connection fails or stays silent for two ping intervals. When it returns, the
// connection is closed and the client has left the hub.
func (c *client) readLoop() {
	defer func() {
		c.close()
		_ = c.conn.Close() // an ended client (see end) is marked closed before its connection is
		c.hub.unsubscribe(c)
		c.hub.unhold(c)
		c.hub.leave(c.addr)
	}()
	wait := 2 * c.hub.opt.PingInterval
	c.conn.SetReadLimit(512)
	_ = c.conn.SetReadDeadline(time.Now().Add(wait))
	c.conn.SetPongHandler(func(string) error {
		if c.ending.Load() {
			return nil // keep the short deadline end set
		}
		return c.conn.SetReadDeadline(time.Now().Add(wait))
	})
	for {
		_, r, err := c.conn.NextReader()
		if err != nil {
			return
		}
		if c.ending.Load() {
			return
		}
		_ = c.conn.SetReadDeadline(time.Now().Add(wait))
		if _, err := io.Copy(io.Discard, r); err != nil {
			return
		}
	}
}

// drop ends a client that cannot keep up. c.mu is held.
func (c *client) drop() {
	c.hub.dropped.Add(1)
	c.closeLocked()
}

func (c *client) close() {
	c.mu.Lock()
	c.closeLocked()
	c.mu.Unlock()
}

// closeGrace is how long an ended client has to answer the close frame before its connection is closed.
const closeGrace = 2 * time.Second

// end ends the client with a close frame carrying code and reason, so the page can tell why and stop
// reconnecting. Nothing more is sent to it. The connection closes when the client answers the close
// frame, or after closeGrace: closing at once could turn the close frame into a reset the client never
// reads.
func (c *client) end(code int, reason string) {
	c.mu.Lock()
	if c.closed {
		c.mu.Unlock()
		return
	}
	c.closed = true
	c.queue, c.pending, c.pendingState = nil, nil, nil
	c.ending.Store(true)
	c.mu.Unlock()
	go func() {
		// WriteControl may run beside a write of the write loop still under way; it waits its turn.
		msg := websocket.FormatCloseMessage(code, reason)
		if err := c.conn.WriteControl(websocket.CloseMessage, msg, time.Now().Add(c.hub.opt.WriteTimeout)); err != nil {
			_ = c.conn.Close()
			return
		}
		_ = c.conn.SetReadDeadline(time.Now().Add(closeGrace))
	}()
}

// closeLocked closes the connection without waiting: the read loop then fails and unsubscribes the client.
func (c *client) closeLocked() {
	if c.closed {
		return
	}
	c.closed = true
	c.queue, c.pending, c.pendingState = nil, nil, nil
	_ = c.conn.Close()
}

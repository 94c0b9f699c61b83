package bench

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/gorilla/websocket"
)

// frame is what the clients read of every frame: its type and seq, and a ticket's status in a ticket
// stream's snapshot.
type frame struct {
	Type   string `json:"type"`
	Seq    int64  `json:"seq"`
	Ticket *struct {
		Status string `json:"status"`
	} `json:"ticket"`
}

// streamsPerAddress is how many streams share a loopback source address (the node's default cap is 100).
const streamsPerAddress = 50

// connect starts every screen, desk page and phone, and returns once each has connected (or failed to)
// with the number of streams open.
func (s *sim) connect(ctx context.Context, wg *sync.WaitGroup) (int, error) {
	var ready sync.WaitGroup
	k := 0
	for _, o := range s.offices {
		for _, tok := range o.screens {
			c := &officeClient{s: s, o: o, client: k, token: tok}
			k++
			ready.Add(1)
			wg.Go(func() { c.run(ctx, ready.Done) })
		}
		for i := range o.desks {
			c := &officeClient{s: s, o: o, client: k, token: o.desks[i].token, desk: &o.desks[i]}
			k++
			ready.Add(1)
			wg.Go(func() { c.run(ctx, ready.Done) })
		}
		for range s.opt.Phones {
			p := &phone{s: s, o: o, client: k}
			k++
			ready.Add(1)
			wg.Go(func() { p.run(ctx, ready.Done) })
		}
	}
	ready.Wait()
	if n := s.dialFailures.Load(); n > 0 {
		return 0, fmt.Errorf("bench region: %d of %d streams could not connect", n, k)
	}
	return k, nil
}

// dial opens a stream of client k from its source address.
func (s *sim) dial(ctx context.Context, k int, path, token string) (*websocket.Conn, error) {
	u := "ws" + strings.TrimPrefix(s.node(k), "http") + path
	var h http.Header
	if token != "" {
		h = http.Header{"Authorization": {"Bearer " + token}}
	}
	// A node refuses streams beyond its set-up bound (503 busy) or an address's cap (429) and the pages try
	// again with back-off (events.js): so does the simulator, for up to two minutes, counting each refusal.
	deadline := time.Now().Add(2 * time.Minute)
	for wait := 500 * time.Millisecond; ; wait = min(2*wait, 8*time.Second) {
		c, res, err := stormDialer(regionAddr(k/streamsPerAddress)).DialContext(ctx, u, h)
		if err == nil || res == nil || (res.StatusCode != http.StatusServiceUnavailable && res.StatusCode != http.StatusTooManyRequests) ||
			time.Now().After(deadline) {
			return c, err
		}
		s.refusals.Add(1)
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(wait/2 + time.Duration(s.jitter()*float64(wait/2))):
		}
	}
}

// officeClient is a hall screen (a display device) or a desk page (an operator, ?desk=ID in push mode)
// on the office's stream.
type officeClient struct {
	s      *sim
	o      *regionOffice
	client int
	token  string
	desk   *regionDesk // nil for a screen

	mu        sync.Mutex
	lastEvent int64       // seq of the last event frame or snapshot
	covered   int64       // the client shows every event up to this seq
	timer     *time.Timer // pull: the coming refresh
}

func (c *officeClient) kind() int {
	if c.desk != nil {
		return obsDesk
	}
	return obsScreen
}

// run keeps the client's stream open until ctx ends, reconnecting with since after a drop; ready is
// called once the first connection is made or has failed.
func (c *officeClient) run(ctx context.Context, ready func()) {
	path := "/ws/offices/" + c.o.slug + "/events"
	if c.desk != nil && !c.s.opt.Pull {
		path += "?desk=" + strconv.FormatInt(c.desk.id, 10)
	}
	first := true
	for ctx.Err() == nil {
		p := path
		if !first {
			c.mu.Lock()
			p += sep(p) + "since=" + strconv.FormatInt(c.lastEvent, 10)
			c.mu.Unlock()
		}
		conn, err := c.s.dial(ctx, c.client, p, c.token)
		if err != nil {
			if ctx.Err() != nil {
				break
			}
			c.s.dialFailures.Add(1)
			if first {
				ready()
				return
			}
			time.Sleep(time.Second)
			continue
		}
		if !first {
			c.s.reconnects.Add(1)
		}
		// Pages pull once on every (re)connect.
		go c.refresh(ctx)
		if first {
			ready()
			first = false
		}
		c.read(ctx, conn)
		if ctx.Err() != nil {
			return
		}
		c.s.drops.Add(1)
	}
	if first {
		ready()
	}
}

func sep(path string) string {
	if strings.Contains(path, "?") {
		return "&"
	}
	return "?"
}

// readFrames hands each frame of conn, and when it came, to handle until the stream ends, ctx ends or
// handle returns true; it reports whether handle did. It closes conn.
func readFrames(ctx context.Context, conn *websocket.Conn, handle func(f frame, at time.Time) bool) bool {
	stop := context.AfterFunc(ctx, func() { conn.Close() })
	defer stop()
	defer conn.Close()
	for {
		_, b, err := conn.ReadMessage()
		if err != nil {
			return false
		}
		now := time.Now()
		var f frame
		if json.Unmarshal(b, &f) != nil {
			continue
		}
		if handle(f, now) {
			return true
		}
	}
}

// read handles the stream's frames until it ends.
func (c *officeClient) read(ctx context.Context, conn *websocket.Conn) {
	readFrames(ctx, conn, func(f frame, now time.Time) bool {
		c.mu.Lock()
		switch {
		case f.Type == "heartbeat":
		case f.Type == "snapshot":
			c.lastEvent, c.covered = max(c.lastEvent, f.Seq), max(c.covered, f.Seq)
		case f.Type == "queue.state" || f.Type == "desk.state":
			// A screen or a desk page applies every state: they come in seq order (docs/displays.md).
			if !c.s.opt.Pull && (f.Type == "queue.state" || c.desk != nil) {
				c.cover(f.Seq, now)
			}
		case f.Seq > 0:
			c.lastEvent = max(c.lastEvent, f.Seq)
			if c.desk == nil && f.Type == "ticket.called" {
				c.s.record(obsCalled, c.o.index, f.Seq, now)
			}
			if c.s.opt.Pull {
				c.pullSoon(ctx, f.Type)
			}
		}
		c.mu.Unlock()
		return false
	})
}

// cover records that the client now shows the events up to seq. The caller holds c.mu.
func (c *officeClient) cover(seq int64, at time.Time) {
	for q := c.covered + 1; q <= seq; q++ {
		c.s.record(c.kind(), c.o.index, q, at)
	}
	c.covered = max(c.covered, seq)
}

// pullSoon schedules the refresh the pages before pushed state made after an event: a screen asks for the
// queue 300–1500 ms after a ticket event (display.js, one request pending at a time), a desk page for its
// desk, the queue and its waiting list 100 ms after the last of a burst of events (desk.js). The caller
// holds c.mu.
func (c *officeClient) pullSoon(ctx context.Context, typ string) {
	if c.desk == nil {
		if !strings.HasPrefix(typ, "ticket.") || c.timer != nil {
			return
		}
		wait := 300*time.Millisecond + time.Duration(c.s.jitter()*1200)*time.Millisecond
		c.timer = time.AfterFunc(wait, func() {
			c.mu.Lock()
			c.timer = nil
			c.mu.Unlock()
			c.refresh(ctx)
		})
		return
	}
	if c.timer != nil {
		c.timer.Stop()
	}
	c.timer = time.AfterFunc(100*time.Millisecond, func() { c.refresh(ctx) })
}

// refresh asks the API for what the page shows and, when the answers are in, covers the events that had
// arrived when it asked.
func (c *officeClient) refresh(ctx context.Context) {
	c.mu.Lock()
	upto := c.lastEvent
	c.mu.Unlock()
	paths := []string{"/api/v1/offices/" + c.o.slug + "/queue"}
	token := ""
	if c.desk != nil {
		id := strconv.FormatInt(c.desk.id, 10)
		paths = append(paths, "/api/v1/desks/"+id, "/api/v1/desks/"+id+"/waiting")
		token = c.desk.token
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	var last time.Time
	failed := false
	for _, p := range paths {
		wg.Go(func() {
			_, got, err := c.s.do(ctx, c.client, c.s.node(c.client), "GET", p, token, "", nil)
			mu.Lock()
			if err != nil {
				failed = true
			}
			if got.After(last) {
				last = got
			}
			mu.Unlock()
		})
	}
	wg.Wait()
	if failed || ctx.Err() != nil {
		return
	}
	c.mu.Lock()
	// A pulled answer never overrides a newer state the client has meanwhile.
	if upto > c.covered {
		c.cover(upto, last)
	}
	c.mu.Unlock()
}

// jitter is a uniform number in [0, 1) for the clients' random delays.
func (s *sim) jitter() float64 {
	return s.newRand().Float64()
}

// phone follows one waiting ticket after another: it takes a ticket from the office's fresh ones, opens
// the ticket's stream and reads it until the ticket is called, then follows the next.
type phone struct {
	s      *sim
	o      *regionOffice
	client int
}

func (p *phone) run(ctx context.Context, ready func()) {
	var once sync.Once
	defer once.Do(ready)
	for ctx.Err() == nil {
		var code string
		select {
		case code = <-p.o.fresh:
		case <-ctx.Done():
			return
		}
		p.s.following.Add(1)
		p.follow(ctx, code, func() { once.Do(ready) })
		p.s.following.Add(-1)
	}
}

// follow reads the stream of the ticket code until it leaves the queue (or ctx ends), reconnecting with
// since after a drop.
func (p *phone) follow(ctx context.Context, code string, ready func()) {
	path := "/ws/tickets/" + code + "/events"
	var last, connectSeq int64 = -1, 0
	var wg sync.WaitGroup
	defer wg.Wait()
	for ctx.Err() == nil {
		u := path
		if last >= 0 {
			u += "?since=" + strconv.FormatInt(last, 10)
		}
		conn, err := p.s.dial(ctx, p.client, u, "")
		if err != nil {
			if ctx.Err() == nil {
				p.s.dialFailures.Add(1)
			}
			ready()
			return
		}
		if last >= 0 {
			p.s.reconnects.Add(1)
		}
		ready()
		wg.Go(func() { p.get(ctx, code, -1) }) // a page pulls once on (re)connect
		if p.read(ctx, conn, code, &last, &connectSeq, &wg) || ctx.Err() != nil {
			return
		}
		p.s.drops.Add(1)
	}
}

// read handles a ticket stream's frames; it returns true once the ticket has left the queue.
func (p *phone) read(ctx context.Context, conn *websocket.Conn, code string, last, connectSeq *int64, wg *sync.WaitGroup) bool {
	return readFrames(ctx, conn, func(f frame, now time.Time) bool {
		switch {
		case f.Type == "heartbeat":
		case f.Type == "snapshot":
			*last, *connectSeq = max(*last, f.Seq), f.Seq
			if f.Ticket != nil && f.Ticket.Status != "waiting" {
				return true // called before the phone looked
			}
		case f.Type == "ticket.state":
			// The state sent on connect answers no event; one older than the phone's last event is ignored
			// (docs/displays.md).
			if !p.s.opt.Pull && f.Seq > *connectSeq && f.Seq >= *last {
				p.s.record(obsPhone, p.o.index, f.Seq, now)
			}
		case f.Seq > 0:
			if f.Type != "queue.changed" {
				*last = max(*last, f.Seq)
			}
			gone := strings.HasPrefix(f.Type, "ticket.") && f.Type != "ticket.transferred" && f.Type != "ticket.issued"
			switch {
			case p.s.opt.Pull && gone:
				p.get(ctx, code, f.Seq)
			case p.s.opt.Pull:
				wg.Go(func() { p.get(ctx, code, f.Seq) })
			case f.Type != "queue.changed":
				p.s.record(obsPhone, p.o.index, f.Seq, now) // its own event: the frame is what the page shows
			}
			if gone {
				return true
			}
		}
		return false
	})
}

// get asks for the ticket as phone.js does, and records that the phone shows event seq (when ≥ 0) once
// the answer is in.
func (p *phone) get(ctx context.Context, code string, seq int64) {
	_, got, err := p.s.do(ctx, p.client, p.s.node(p.client), "GET", "/api/v1/tickets/"+code, "", "", nil)
	if err == nil && seq >= 0 {
		p.s.record(obsPhone, p.o.index, seq, got)
	}
}

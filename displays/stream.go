package displays

import (
	"context"
	"embed"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"

	"github.com/go-chi/chi/v5"
	"github.com/gorilla/websocket"

	"turno/internal/auth"
	"turno/internal/web"
	"turno/ticketing"
)

// Server serves one node's event streams, the hall display page and display settings.
type Server struct {
	Store *ticketing.Store
	Auth  *auth.Store
	Hub   *Hub
}

//go:embed static
var staticFiles embed.FS

// Routes mounts the streams, the display page with its script and style (under /display/static/) and the
// display settings endpoint on r, which must run auth.Store.Authenticate.
func (s *Server) Routes(r chi.Router) {
	sub, _ := fs.Sub(staticFiles, "static")
	r.Get("/display/static/*", http.StripPrefix("/display/static/", http.FileServer(http.FS(sub))).ServeHTTP)
	// The stream needs a caller; mayFollow then checks which callers may follow the office.
	r.With(s.Store.InOffice(ticketing.SignedIn)).Get("/ws/offices/{office}/events", s.officeEvents)
	r.Get("/ws/tickets/{code}/events", s.ticketEvents)
	// The page explains itself to a caller it refuses, so it only needs the office resolved.
	r.With(s.Store.InOffice(ticketing.Anyone)).Get("/display/{office}", s.displayPage)
	r.With(s.Store.InOffice(ticketing.Managers)).Method(http.MethodPatch, "/api/v1/offices/{office}/devices/{device}", web.Endpoint(s.patchDevice))
	s.liveRoutes(r) // live.go: the live floor view and its floor
}

// upgrader keeps an idle connection small: a 256-byte read buffer (clients send only pongs), no write
// buffer of its own (prepared frames and control frames are written directly; anything else borrows one
// from the pool).
var upgrader = websocket.Upgrader{
	ReadBufferSize:  256,
	WriteBufferSize: 1024,
	WriteBufferPool: &sync.Pool{},
	CheckOrigin:     sameOrigin,
	Error: func(w http.ResponseWriter, r *http.Request, status int, reason error) {
		web.WriteError(w, r, web.Errorf(status, "websocket", "the WebSocket handshake failed: %s", reason.Error()))
	},
}

// sameOrigin accepts clients without an Origin header (not browsers) and pages of this very host; a page of
// another site may not open a stream with the visitor's cookies.
func sameOrigin(r *http.Request) bool {
	origin := r.Header.Get("Origin")
	if origin == "" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && strings.EqualFold(u.Host, r.Host)
}

// mayFollow reports whether the caller may follow an office's stream: a display or a feedback tablet (which
// waits for the finish at its desk) of that office, or a staff user who works in it. Kiosks issue tickets;
// they do not read the stream.
func mayFollow(p auth.Principal, officeID int64) error {
	switch {
	case p.Device != nil:
		if (p.Device.Kind != auth.Display && p.Device.Kind != auth.Feedback) || p.Device.OfficeID != officeID {
			return web.Forbidden("forbidden", "this device may not follow this office's events")
		}
	case p.User != nil:
		if !auth.WorksIn(p.User, officeID) {
			return web.Forbidden("forbidden", "you do not work in this office")
		}
	default:
		return web.Unauthorized("sign in or use a display token")
	}
	return nil
}

// parseSince reads the optional since query parameter.
func parseSince(r *http.Request) (int64, bool, error) {
	v := r.URL.Query().Get("since")
	if v == "" {
		return 0, false, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, false, web.InvalidField("since", "since must be a non-negative event seq")
	}
	return n, true, nil
}

// officeEvents streams an office's events: on connect the events after since (or a snapshot), then live.
// The stream ends when the right it was opened with ends (see Hub.hold).
func (s *Server) officeEvents(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	o := ticketing.OfficeOf(r)
	p := auth.FromContext(ctx)
	if err := mayFollow(p, o.ID); err != nil {
		web.WriteError(w, r, err)
		return
	}
	desk, err := s.deskOf(r, p, o)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	cred, _ := credentialOf(p) // mayFollow let only a device or a user through
	slot, leave := s.Hub.enter(w, r)
	if slot == nil {
		return
	}
	defer leave()
	// A feedback tablet waits for the finish at its desk and shows no queue.
	feedback := p.Device != nil && p.Device.Kind == auth.Feedback
	c, last := s.stream(w, r, o.ID, view{desk: desk, noQueue: feedback}, slot, &cred)
	if c == nil {
		return
	}
	snap, err := s.officeSnapshot(ctx, o, last)
	if err != nil {
		s.Hub.opt.Log.Error("displays: snapshot", "office", o.Slug, "err", err)
		c.close()
		return
	}
	c.start(last, snap, nil)
}

// deskOf reads the optional desk query parameter of a desk page's stream: a desk of the office, followed by
// a staff user (who works in the office: mayFollow has checked), never by a device. 0 when absent.
func (s *Server) deskOf(r *http.Request, p auth.Principal, o *ticketing.Office) (int64, error) {
	v := r.URL.Query().Get("desk")
	if v == "" {
		return 0, nil
	}
	id, err := strconv.ParseInt(v, 10, 64)
	if err != nil || id < 1 {
		return 0, web.InvalidField("desk", "desk must be a desk id")
	}
	if p.User == nil {
		return 0, web.Forbidden("forbidden", "only staff follow a desk")
	}
	d, err := s.Store.Desk(r.Context(), id)
	if err != nil {
		return 0, err
	}
	if d.OfficeID != o.ID {
		return 0, web.NotFound("unknown_desk", "no desk %d in this office", id)
	}
	return id, nil
}

// stream upgrades the request to a WebSocket and subscribes it to an office's events, as v shows them. The stream takes the caller's place (slot) over; cred, when not nil, is the right it
// lives by. When the client asked for the events after ?since= and they can be replayed, it starts the
// client with them and returns nil. Otherwise it returns the client, still to be started with a snapshot
// as of last. It answers errors itself and returns nil then too.
func (s *Server) stream(w http.ResponseWriter, r *http.Request, officeID int64, v view,
	slot *streamSlot, cred *credential) (c *client, last int64) {
	ctx := r.Context()
	since, hasSince, err := parseSince(r)
	if err != nil {
		web.WriteError(w, r, err)
		return nil, 0
	}
	dbLast, err := s.Store.LastEventSeq(ctx, officeID)
	if err != nil {
		web.WriteError(w, r, err)
		return nil, 0
	}
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return nil, 0 // the upgrader has answered
	}
	c = newClient(s.Hub, conn, v, slot.take())
	if cred != nil {
		// Before subscribing, so that a right that ends from now on ends the stream before its first event.
		s.Hub.hold(c, *cred)
	}
	if last, err = s.Hub.subscribe(officeID, c, dbLast); err != nil {
		_ = conn.Close()
		s.Hub.unhold(c)
		s.Hub.leave(c.addr)
		return nil, 0
	}
	go c.readLoop()
	if hasSince && since <= dbLast && last-since <= int64(s.Hub.opt.MaxBackfill) {
		replay, err := s.replay(ctx, officeID, since, last)
		if err != nil {
			s.Hub.opt.Log.Error("displays: replay", "office", officeID, "err", err)
			c.close()
			return nil, 0
		}
		c.start(since, nil, replay)
		return nil, 0
	}
	// No since, a gap too long to replay, or a since from another log (the database was reset): a snapshot.
	return c, last
}

// replay reads the events in (after, upto] from the table.
func (s *Server) replay(ctx context.Context, officeID, after, upto int64) ([]*event, error) {
	var out []*event
	for after < upto {
		evs, err := s.Store.Events(ctx, officeID, after, int(min(upto-after, readBatch)))
		if err != nil {
			return nil, err
		}
		if len(evs) == 0 {
			break
		}
		for _, e := range evs {
			if e.Seq > upto {
				return out, nil
			}
			out = append(out, newEvent(e))
		}
		after = evs[len(evs)-1].Seq
	}
	return out, nil
}

// officeSnapshot is the first message of a stream opened without since.
type officeSnapshot struct {
	Type  string                `json:"type"` // "snapshot"
	Seq   int64                 `json:"seq"`  // the state is as of this event; live events follow it
	Calls []ticketing.Event     `json:"calls"`
	Queue []ticketing.QueueLine `json:"queue"`
}

// snapshotCalls is how many recent calls (one per ticket, newest first) a snapshot carries: enough for the
// big box and the longest list of last calls a screen may show (Settings.Calls, up to 10).
const snapshotCalls = 11

func (s *Server) officeSnapshot(ctx context.Context, o *ticketing.Office, seq int64) (*websocket.PreparedMessage, error) {
	calls, err := s.Store.RecentCalls(ctx, o, seq, snapshotCalls)
	if err != nil {
		return nil, err
	}
	// The queue is read after seq was fixed, so it is at least as new as seq: a later event may be applied
	// to it twice by the page, which refreshes the counts on events anyway.
	queue, err := s.Store.Queue(ctx, o)
	if err != nil {
		return nil, err
	}
	return prepare(officeSnapshot{Type: "snapshot", Seq: seq, Calls: calls, Queue: queue})
}

package displays

import (
	"net/http"
	"strconv"
	"time"

	"turno/internal/web"
)

// streamSlot is one of a client address's places for a stream, taken before any work is done for the
// request. The handler releases it when the stream does not start; a stream that starts takes it over and
// its read loop gives it back when the connection ends.
type streamSlot struct {
	hub  *Hub
	addr string // "" once given back or taken over
}

// admit takes a stream place for the request's client address (web.ClientIP, so behind trusted proxies it
// is the real client's), or answers 429 and returns nil when the address holds MaxStreamsPerAddress
// streams already. Refusing before the upgrade costs no database query and no goroutine.
func (h *Hub) admit(w http.ResponseWriter, r *http.Request) *streamSlot {
	addr := web.AddressKey(web.ClientIP(r))
	if max := h.opt.MaxStreamsPerAddress; max > 0 {
		h.addrMu.Lock()
		if h.streams[addr] >= max {
			h.addrMu.Unlock()
			h.refused.Add(1)
			w.Header().Set("Retry-After", strconv.Itoa(int(h.opt.PingInterval.Seconds())))
			web.WriteError(w, r, web.Errorf(http.StatusTooManyRequests, "too_many_streams",
				"too many open streams from your address (at most %d)", max))
			return nil
		}
		h.streams[addr]++
		h.addrMu.Unlock()
	}
	return &streamSlot{hub: h, addr: addr}
}

// release gives the place back unless a stream took it over.
func (s *streamSlot) release() {
	if s == nil || s.addr == "" {
		return
	}
	s.hub.leave(s.addr)
	s.addr = ""
}

// take hands the place over to a stream, which gives it back with Hub.leave.
func (s *streamSlot) take() string {
	a := s.addr
	s.addr = ""
	return a
}

// leave gives back a place of addr.
func (h *Hub) leave(addr string) {
	if h.opt.MaxStreamsPerAddress <= 0 || addr == "" {
		return
	}
	h.addrMu.Lock()
	defer h.addrMu.Unlock()
	if h.streams[addr] <= 1 {
		delete(h.streams, addr)
		return
	}
	h.streams[addr]--
}

// setupTurn waits, up to ConnectWait, for a turn to set up a stream (see Options.MaxConnecting) and
// returns the function that ends it. When the wait is over it answers 503 itself and returns nil; a
// client that leaves meanwhile gets nothing.
func (h *Hub) setupTurn(w http.ResponseWriter, r *http.Request) func() {
	if h.setup == nil {
		return func() {}
	}
	done := func() { <-h.setup }
	select {
	case h.setup <- struct{}{}:
		return done
	default:
	}
	t := time.NewTimer(h.opt.ConnectWait)
	defer t.Stop()
	select {
	case h.setup <- struct{}{}:
		return done
	case <-t.C:
		h.busy.Add(1)
		w.Header().Set("Retry-After", "5")
		web.WriteError(w, r, &web.Error{Status: http.StatusServiceUnavailable, Code: "busy",
			Message: "too many streams are connecting; try again in a few seconds"})
		return nil
	case <-r.Context().Done():
		return nil
	}
}

// enter admits a new stream for the request's address and waits for its set-up turn. It returns the
// stream's slot and the function the handler defers to give back what the set-up held (the slot stays
// taken when the stream has taken it over); nil when it has answered the refusal itself.
func (h *Hub) enter(w http.ResponseWriter, r *http.Request) (*streamSlot, func()) {
	slot := h.admit(w, r)
	if slot == nil {
		return nil, nil
	}
	done := h.setupTurn(w, r)
	if done == nil {
		slot.release()
		return nil, nil
	}
	return slot, func() { done(); slot.release() }
}

package displays

import (
	"encoding/json"
	"fmt"
	"sync"

	"github.com/gorilla/websocket"

	"turno/ticketing"
)

// event is one entry of the log as the hub hands it out: the typed event the writer appended, the few
// fields the filters read, and its frames, encoded once, on first use, for every client that gets them.
type event struct {
	ticketing.Event
	toID int64 // ticket.transferred: the new ticket

	fullOnce sync.Once
	full     *websocket.PreparedMessage
	fullErr  error
}

func newEvent(e ticketing.Event) *event {
	ev := &event{Event: e}
	if e.To != nil {
		ev.toID = e.To.ID
	}
	return ev
}

// about reports whether the event is about desk id, as a desk page reads it: its "desk" is that desk.
func (ev *event) about(id int64) bool {
	return ev.Desk != nil && ev.Desk.ID == id
}

// newEvents wraps a batch read from the log.
func newEvents(evs []ticketing.Event) []*event {
	out := make([]*event, len(evs))
	for i, e := range evs {
		out[i] = newEvent(e)
	}
	return out
}

// message returns the event's frame: the typed event as JSON, {"seq","type","at","ticket":{...},"desk":{...}}.
func (e *event) message() (*websocket.PreparedMessage, error) {
	e.fullOnce.Do(func() { e.full, e.fullErr = prepare(e.Event) })
	return e.full, e.fullErr
}

// heartbeat is the frame that comes with every ping: {"seq":n,"type":"heartbeat"}.
type heartbeat struct {
	Seq  int64  `json:"seq"`
	Type string `json:"type"` // "heartbeat"
}

// prepare encodes v as a single text frame.
func prepare(v any) (*websocket.PreparedMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("displays: encode: %w", err)
	}
	return websocket.NewPreparedMessage(websocket.TextMessage, b)
}

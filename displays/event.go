package displays

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"turno/ticketing"
)

// event is one entry of the log as the hub hands it out: the typed event the writer appended, the few
// fields the filters read, and its frames, encoded once, on first use, for every client that gets them.
type event struct {
	ticketing.Event
	service   string // the ticket's service code ("" for a desk event)
	toID      int64  // ticket.transferred: the new ticket
	toService string

	fullOnce sync.Once
	full     *websocket.PreparedMessage
	fullErr  error

	queueOnce sync.Once
	queue     *websocket.PreparedMessage
}

func newEvent(e ticketing.Event) *event {
	ev := &event{Event: e}
	if e.Ticket != nil {
		ev.service = e.Ticket.Service
	}
	if e.To != nil {
		ev.toID, ev.toService = e.To.ID, e.To.Service
	}
	return ev
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

// queueChanged is what a phone following another ticket of the same service gets: a hint that its position
// may have moved, with nothing about the other ticket.
type queueChanged struct {
	Seq  int64     `json:"seq"`
	Type string    `json:"type"` // "queue.changed"
	At   time.Time `json:"at"`
}

// queueMessage returns the event's queue.changed frame.
func (e *event) queueMessage() *websocket.PreparedMessage {
	e.queueOnce.Do(func() {
		e.queue, _ = prepare(queueChanged{Seq: e.Seq, Type: "queue.changed", At: e.At})
	})
	return e.queue
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

package displays

import (
	"encoding/json"
	"fmt"
	"sync"
	"time"

	"github.com/gorilla/websocket"

	"turno/ticketing"
)

// event is one row of the log as the hub hands it out: decoded just enough to filter it, with its frames
// encoded once, on first use, for every client that gets them.
type event struct {
	seq       int64
	typ       string
	ticketID  int64
	service   string // the ticket's service code
	toID      int64  // ticket.transferred: the new ticket
	toService string

	src ticketing.Event

	fullOnce sync.Once
	full     *websocket.PreparedMessage
	fullErr  error

	queueOnce sync.Once
	queue     *websocket.PreparedMessage
}

// eventData is the part of an event's data the filters read.
type eventData struct {
	Ticket *struct {
		Service string `json:"service"`
	} `json:"ticket"`
	To *struct {
		ID      int64  `json:"id"`
		Service string `json:"service"`
	} `json:"to"`
}

func newEvent(e ticketing.Event) (*event, error) {
	ev := &event{seq: e.Seq, typ: e.Type, ticketID: e.TicketID, src: e}
	if len(e.Data) > 0 {
		var d eventData
		if err := json.Unmarshal(e.Data, &d); err != nil {
			return nil, fmt.Errorf("displays: decode event %d/%d: %w", e.OfficeID, e.Seq, err)
		}
		if d.Ticket != nil {
			ev.service = d.Ticket.Service
		}
		if d.To != nil {
			ev.toID, ev.toService = d.To.ID, d.To.Service
		}
	}
	return ev, nil
}

// message returns the event's frame: {"seq","type","at","ticket":{...},"desk":{...}}.
func (e *event) message() (*websocket.PreparedMessage, error) {
	e.fullOnce.Do(func() {
		var b []byte
		if b, e.fullErr = json.Marshal(e.src); e.fullErr == nil {
			e.full, e.fullErr = websocket.NewPreparedMessage(websocket.TextMessage, b)
		}
	})
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
		b, _ := json.Marshal(queueChanged{Seq: e.seq, Type: "queue.changed", At: e.src.At})
		e.queue, _ = websocket.NewPreparedMessage(websocket.TextMessage, b)
	})
	return e.queue
}

// prepare encodes v as a single text frame.
func prepare(v any) (*websocket.PreparedMessage, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, fmt.Errorf("displays: encode: %w", err)
	}
	return websocket.NewPreparedMessage(websocket.TextMessage, b)
}

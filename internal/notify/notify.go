// Package notify is Turno's notifications outbox: e-mail over SMTP, SMS through an HTTP gateway and Web
// Push to phone pages. A part that has something to tell a citizen writes a Message in the transaction of
// what causes it (Enqueue); the outbox worker delivers it afterwards, retrying with back-off, so no
// delivery ever blocks or fails the ticket path, and a message is sent once even when enqueued twice.
//
// It owns the tables notifications, push_subscriptions and vapid_keys. It knows nothing of offices'
// domain: the message's words are the caller's.
package notify

import (
	"context"
	"crypto/ecdsa"
	"fmt"
	"sync"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"
	"github.com/jackc/pgx/v5/pgxpool"
)

// Channel is how a message travels.
type Channel string

// The channels.
const (
	Email Channel = "email"
	SMS   Channel = "sms"
	Push  Channel = "push"
)

// Attachment is a file sent with an e-mail (a booking's .ics).
type Attachment struct {
	Name string
	Type string // MIME type, e.g. "text/calendar; method=PUBLISH"
	Data []byte
}

// Message is one notification to one recipient.
type Message struct {
	OfficeID int64
	Channel  Channel
	// Kind says what the message is about (booking_confirmed, reminder, turn_near, booking_cancelled…):
	// what managers see on the delivery status page, never its words.
	Kind string
	// DedupeKey makes enqueueing idempotent: a second message with the same key is dropped. Callers build
	// it from what the message is about, e.g. "reminder:24:BOOKINGCODE:email".
	DedupeKey string
	// Recipient is the e-mail address, the phone number (E.164) or the push subscription (JSON).
	Recipient  string
	Subject    string
	Body       string
	Attachment *Attachment
}

// Execer is a transaction or a pool: where a message is written.
type Execer interface {
	Exec(ctx context.Context, sql string, args ...any) (pgconn.CommandTag, error)
}

var _ Execer = pgx.Tx(nil)

// Store is the outbox on a PostgreSQL pool.
type Store struct {
	pool *pgxpool.Pool

	// AllowLoopbackPush lets Subscribe accept push endpoints on http://127.0.0.1 or http://localhost: for
	// tests, whose push service is a local HTTP server. Production endpoints are https only.
	AllowLoopbackPush bool

	vapidMu sync.Mutex
	vapid   *ecdsa.PrivateKey // the installation's VAPID key, loaded (or made) once
}

// NewStore returns the outbox on pool.
func NewStore(pool *pgxpool.Pool) *Store { return &Store{pool: pool} }

// Enqueue writes m to the outbox through db (the caller's transaction, so the message exists exactly when
// what caused it commits). It reports whether the message is new: false when one with the same DedupeKey
// was enqueued before.
func Enqueue(ctx context.Context, db Execer, m Message) (bool, error) {
	switch m.Channel {
	case Email, SMS, Push:
	default:
		return false, fmt.Errorf("notify: unknown channel %q", m.Channel)
	}
	if m.DedupeKey == "" || m.Recipient == "" || m.Kind == "" {
		return false, fmt.Errorf("notify: a message needs a kind, a dedupe key and a recipient")
	}
	var name, typ string
	var data []byte
	if a := m.Attachment; a != nil {
		name, typ, data = a.Name, a.Type, a.Data
	}
	var office *int64
	if m.OfficeID != 0 {
		office = &m.OfficeID
	}
	tag, err := db.Exec(ctx, `
		INSERT INTO notifications (office_id, channel, kind, dedupe_key, recipient, subject, body,
			attachment_name, attachment_type, attachment)
		VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10)
		ON CONFLICT (dedupe_key) DO NOTHING`,
		office, string(m.Channel), m.Kind, m.DedupeKey, m.Recipient, m.Subject, m.Body, name, typ, data)
	if err != nil {
		return false, fmt.Errorf("notify: enqueue: %w", err)
	}
	if tag.RowsAffected() == 0 {
		return false, nil
	}
	// Wakes the workers when what enqueued it commits (NOTIFY is transactional); their poll is the fallback.
	if _, err := db.Exec(ctx, `SELECT pg_notify('`+wakeChannel+`', '')`); err != nil {
		return false, fmt.Errorf("notify: enqueue: %w", err)
	}
	return true, nil
}

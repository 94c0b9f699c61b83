package notify

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"regexp"
	"strings"
	"sync"
	"time"

	"github.com/jackc/pgx/v5"
)

// wakeChannel is the PostgreSQL NOTIFY channel Enqueue signals and the workers listen on.
const wakeChannel = "turno_outbox"

// Sender delivers one message through one channel. It returns nil once the message is handed over (the
// SMTP server accepted it, the gateway or the push service answered 2xx); an error wrapped by Permanent
// when retrying cannot help; any other error to be retried later. Its errors must not carry the
// recipient or the message's words: the worker scrubs what it can, but the sender knows best.
type Sender interface {
	Send(ctx context.Context, id int64, m Message) error
}

// Senders are the configured senders by channel. A message whose channel has none fails at once, with
// "channel not configured" on the status page.
type Senders map[Channel]Sender

// Has reports whether ch has a sender.
func (s Senders) Has(ch Channel) bool { return s[ch] != nil }

// permanentError is a failure that retrying cannot mend.
type permanentError struct{ err error }

func (e permanentError) Error() string { return e.err.Error() }
func (e permanentError) Unwrap() error { return e.err }

// Permanent marks err as a failure that retrying cannot mend (a rejected address, a 4xx answer): the
// message is marked failed at once.
func Permanent(err error) error {
	if err == nil {
		return nil
	}
	return permanentError{err}
}

// IsPermanent reports whether err was marked by Permanent.
func IsPermanent(err error) bool {
	var p permanentError
	return errors.As(err, &p)
}

// retryAfterError asks for the next attempt no sooner than after (a gateway's 429 with Retry-After).
type retryAfterError struct {
	err   error
	after time.Duration
}

func (e retryAfterError) Error() string { return e.err.Error() }
func (e retryAfterError) Unwrap() error { return e.err }

// ErrSubscriptionGone is returned (wrapped, permanent) by the push sender when the push service says the
// subscription no longer exists (404 or 410); the worker then deletes it.
var ErrSubscriptionGone = errors.New("the push subscription is gone")

// Worker delivers the outbox's due messages. Any number of workers, on any number of nodes, may run on one
// database: a message is claimed by one of them at a time (FOR UPDATE SKIP LOCKED), with a lease that
// keeps the others off it while it is sent outside any transaction, and its result is written only by the
// worker whose claim is still current (the attempt number fences it).
type Worker struct {
	Store   *Store
	Senders Senders
	Log     *slog.Logger // nil: slog.Default()

	Poll        time.Duration // how often the due messages are looked for without a wake-up; 0: 5 s
	Batch       int           // messages claimed at once; 0: 16
	Parallel    int           // messages of a batch sent at once; 0: 4
	SendTimeout time.Duration // one delivery's time limit; 0: 30 s
	// Lease is how long a claimed message is kept from the other workers. It must exceed the time a
	// batch can take (SendTimeout × Batch / Parallel), or a slow delivery could be sent twice; 0: 5 min.
	Lease       time.Duration
	RetryBase   time.Duration // the first retry's delay, doubled at each further one; 0: 30 s
	RetryMax    time.Duration // the longest delay between two attempts; 0: 1 h
	MaxAttempts int           // attempts before a message is marked failed; 0: 8
}

// Run delivers the outbox's messages through senders until ctx ends, with the default settings.
func (s *Store) Run(ctx context.Context, senders Senders) {
	(&Worker{Store: s, Senders: senders}).Run(ctx)
}

func (w *Worker) log() *slog.Logger {
	if w.Log != nil {
		return w.Log
	}
	return slog.Default()
}

// Run delivers due messages until ctx ends: at every wake-up (a NOTIFY from Enqueue) and every Poll, it
// claims and sends batches until none is due.
func (w *Worker) Run(ctx context.Context) {
	wake := make(chan struct{}, 1)
	var listening sync.WaitGroup
	listening.Go(func() { w.listen(ctx, wake) })
	defer listening.Wait()
	tick := time.NewTicker(cmp.Or(w.Poll, 5*time.Second))
	defer tick.Stop()
	for {
		for {
			n, err := w.RunOnce(ctx)
			if err != nil {
				if ctx.Err() == nil {
					w.log().Warn("notify: outbox", "err", err)
				}
				break
			}
			if n == 0 {
				break
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-tick.C:
		case <-wake:
		}
	}
}

// listen keeps a LISTEN connection and signals wake at each notification, reconnecting after a failure.
// A missed notification costs at most one Poll.
func (w *Worker) listen(ctx context.Context, wake chan<- struct{}) {
	cfg := w.Store.pool.Config().ConnConfig.Copy()
	cfg.RuntimeParams["application_name"] = "turno-outbox-listener"
	for ctx.Err() == nil {
		err := func() error {
			conn, err := pgx.ConnectConfig(ctx, cfg)
			if err != nil {
				return err
			}
			defer conn.Close(context.Background())
			if _, err := conn.Exec(ctx, "LISTEN "+wakeChannel); err != nil {
				return err
			}
			for {
				if _, err := conn.WaitForNotification(ctx); err != nil {
					return err
				}
				select {
				case wake <- struct{}{}:
				default:
				}
			}
		}()
		if ctx.Err() != nil {
			return
		}
		w.log().Debug("notify: outbox listener", "err", err)
		select {
		case <-ctx.Done():
		case <-time.After(cmp.Or(w.Poll, 5*time.Second)):
		}
	}
}

// claimed is a message a worker holds the lease of.
type claimed struct {
	id      int64
	attempt int
	Message
}

// RunOnce claims one batch of due messages and sends them. It returns how many it claimed.
func (w *Worker) RunOnce(ctx context.Context) (int, error) {
	batch, err := w.claim(ctx)
	if err != nil || len(batch) == 0 {
		return 0, err
	}
	sem := make(chan struct{}, cmp.Or(w.Parallel, 4))
	var wg sync.WaitGroup
	for _, c := range batch {
		sem <- struct{}{}
		wg.Add(1)
		go func() {
			defer func() { <-sem; wg.Done() }()
			w.deliver(ctx, c)
		}()
	}
	wg.Wait()
	return len(batch), nil
}

// claim takes up to Batch due messages in one statement: each gets its attempt counted and its next
// attempt pushed past the lease, so no other worker takes it while this one sends it.
func (w *Worker) claim(ctx context.Context) ([]claimed, error) {
	lease := cmp.Or(w.Lease, 5*time.Minute)
	rows, err := w.Store.pool.Query(ctx, `
		UPDATE notifications n SET attempts = n.attempts + 1, next_attempt_at = now() + $2 * interval '1 second'
		WHERE n.id IN (SELECT id FROM notifications WHERE status = 'pending' AND next_attempt_at <= now()
			ORDER BY next_attempt_at, id LIMIT $1 FOR UPDATE SKIP LOCKED)
		RETURNING n.id, n.attempts, coalesce(n.office_id, 0), n.channel, n.kind, n.dedupe_key, coalesce(n.recipient, ''),
			n.subject, n.body, n.attachment_name, n.attachment_type, n.attachment`,
		cmp.Or(w.Batch, 16), lease.Seconds())
	if err != nil {
		return nil, fmt.Errorf("notify: claim: %w", err)
	}
	return pgx.CollectRows(rows, func(r pgx.CollectableRow) (claimed, error) {
		var c claimed
		var ch, name, typ string
		var data []byte
		err := r.Scan(&c.id, &c.attempt, &c.OfficeID, &ch, &c.Kind, &c.DedupeKey, &c.Recipient,
			&c.Subject, &c.Body, &name, &typ, &data)
		c.Channel = Channel(ch)
		if data != nil || name != "" {
			c.Attachment = &Attachment{Name: name, Type: typ, Data: data}
		}
		return c, err
	})
}

// deliver sends one claimed message and records the outcome.
func (w *Worker) deliver(ctx context.Context, c claimed) {
	var err error
	switch sender := w.Senders[c.Channel]; {
	case c.Recipient == "":
		err = Permanent(errors.New("no recipient (purged)"))
	case sender == nil:
		err = Permanent(errors.New("channel not configured"))
	default:
		sctx, cancel := context.WithTimeout(ctx, cmp.Or(w.SendTimeout, 30*time.Second))
		err = sender.Send(sctx, c.id, c.Message)
		cancel()
	}
	if ctx.Err() != nil && err != nil {
		return // stopping: the lease runs out and another attempt follows
	}
	log := w.log().With("notification", c.id, "channel", string(c.Channel), "kind", c.Kind, "attempt", c.attempt)
	// The outcome is written even when ctx ends now: a message handed over must not be sent again.
	wctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 10*time.Second)
	defer cancel()
	if err == nil {
		if werr := w.Store.mark(wctx, c, "sent", 0, ""); werr != nil {
			log.Error("notify: sent, but not recorded", "err", werr)
		}
		return
	}
	msg := scrub(err.Error(), c.Recipient)
	if errors.Is(err, ErrSubscriptionGone) {
		if derr := w.Store.forgetEndpoint(wctx, c.Recipient); derr != nil {
			log.Error("notify: gone push subscription not deleted", "err", derr)
		}
	}
	var ra retryAfterError
	switch {
	case IsPermanent(err) || c.attempt >= cmp.Or(w.MaxAttempts, 8):
		log.Warn("notify: delivery failed", "err", msg)
		err = w.Store.mark(wctx, c, "failed", 0, msg)
	case errors.As(err, &ra) && ra.after > w.backoff(c.attempt):
		log.Info("notify: delivery deferred", "err", msg, "retry_in", ra.after)
		err = w.Store.mark(wctx, c, "pending", min(ra.after, cmp.Or(w.RetryMax, time.Hour)), msg)
	default:
		log.Info("notify: delivery to be retried", "err", msg, "retry_in", w.backoff(c.attempt))
		err = w.Store.mark(wctx, c, "pending", w.backoff(c.attempt), msg)
	}
	if err != nil {
		log.Error("notify: outcome not recorded", "err", err)
	}
}

// backoff is the delay after the attempt-th failed attempt: RetryBase × 2^(attempt-1), at most RetryMax.
func (w *Worker) backoff(attempt int) time.Duration {
	base, most := cmp.Or(w.RetryBase, 30*time.Second), cmp.Or(w.RetryMax, time.Hour)
	d := base
	for i := 1; i < attempt && d < most; i++ {
		d *= 2
	}
	return min(d, most)
}

// mark records the outcome of an attempt, if the claim is still the current one (a worker whose lease ran
// out must not overwrite the outcome of the one that took the message over).
func (s *Store) mark(ctx context.Context, c claimed, status string, retryIn time.Duration, lastError string) error {
	var err error
	switch status {
	case "sent":
		_, err = s.pool.Exec(ctx, `UPDATE notifications SET status = 'sent', sent_at = now(), last_error = ''
			WHERE id = $1 AND attempts = $2 AND status = 'pending'`, c.id, c.attempt)
	case "failed":
		_, err = s.pool.Exec(ctx, `UPDATE notifications SET status = 'failed', last_error = $3
			WHERE id = $1 AND attempts = $2 AND status = 'pending'`, c.id, c.attempt, lastError)
	default:
		_, err = s.pool.Exec(ctx, `UPDATE notifications SET next_attempt_at = now() + $3 * interval '1 second', last_error = $4
			WHERE id = $1 AND attempts = $2 AND status = 'pending'`, c.id, c.attempt, retryIn.Seconds(), lastError)
	}
	if err != nil {
		return fmt.Errorf("notify: record outcome of %d: %w", c.id, err)
	}
	return nil
}

var (
	emailLike = regexp.MustCompile(`[^\s<>"'@,;:()]+@[^\s<>"'@,;:()]+`)
	phoneLike = regexp.MustCompile(`\+?\d[\d ()-]{7,}\d`)
)

// scrub returns an error message fit for the status page and the logs: without the recipient, anything
// that looks like an e-mail address or a phone number, control characters, and at most 300 bytes.
func scrub(msg, recipient string) string {
	if recipient != "" {
		msg = strings.ReplaceAll(msg, recipient, "[recipient]")
	}
	msg = emailLike.ReplaceAllString(msg, "[address]")
	msg = phoneLike.ReplaceAllString(msg, "[number]")
	msg = strings.Map(func(r rune) rune {
		if r < ' ' || r == 0x7f {
			return ' '
		}
		return r
	}, msg)
	if len(msg) > 300 {
		msg = strings.ToValidUTF8(msg[:300], "") + "…"
	}
	return msg
}

// Config is what the senders are made of: the settings TURNO_SMTP_URL, TURNO_SMTP_FROM, TURNO_SMS_URL and
// TURNO_SMS_TOKEN, and the public base URL (the Web Push contact when there is no sender address).
type Config struct {
	SMTPURL, SMTPFrom string
	SMSURL, SMSToken  string
	BaseURL           string
}

// NewSenders returns the senders of the configured channels: e-mail with an SMTP URL, SMS with a gateway
// URL, and Web Push always (its keys live in the database).
func NewSenders(s *Store, c Config) (Senders, error) {
	senders := Senders{}
	subject := c.BaseURL
	if c.SMTPURL != "" {
		if c.SMTPFrom == "" {
			return nil, errors.New("notify: TURNO_SMTP_URL needs TURNO_SMTP_FROM, the sender's address")
		}
		e, err := NewEmailSender(c.SMTPURL, c.SMTPFrom)
		if err != nil {
			return nil, fmt.Errorf("notify: TURNO_SMTP_URL: %w", err)
		}
		senders[Email] = e
		subject = "mailto:" + e.from.Address
	}
	if c.SMSURL != "" {
		sms, err := NewSMSSender(c.SMSURL, c.SMSToken)
		if err != nil {
			return nil, fmt.Errorf("notify: TURNO_SMS_URL: %w", err)
		}
		senders[SMS] = sms
	}
	senders[Push] = NewPushSender(s, subject)
	return senders, nil
}

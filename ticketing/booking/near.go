package booking

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"turno/internal/notify"
	"turno/internal/web"
	"turno/ticketing"
)

// "Your turn is near": a citizen following a ticket on the phone page may ask to be told, by Web Push, when
// N tickets or fewer are ahead (POST /api/v1/tickets/{code}/alerts, notices.go, stores the subscription
// with the outbox under the topic "ticket:CODE"). The TurnWatcher hears of the office's ticket events
// after they commit (a ticketing.Observer) and, off the ticket's path, looks at the positions of the
// office's subscribed tickets: each whose position has come down to its threshold gets one push.

// topicPrefix is the topic of a ticket's push subscriptions, before its code.
const topicPrefix = "ticket:"

// TurnWatcher sends "your turn is near". Observe never blocks: it wakes the office's goroutine, which
// checks the positions once for every burst of events (events that arrive while it checks make one more
// check, not one each). Several nodes may check the same office at once: each push's dedupe key and the
// subscription's notified mark make it go once.
type TurnWatcher struct {
	store *Store
	ctx   context.Context
	log   *slog.Logger

	mu      sync.Mutex
	offices map[int64]chan struct{} // the wake-up of each office's goroutine
}

// TurnWatcher returns the store's watcher of "your turn is near", whose goroutines run until ctx ends.
// cmd/turno makes it once and hands it to the ticketing store as one of its observers; the alerts API
// wakes it when a citizen subscribes.
func (s *Store) TurnWatcher(ctx context.Context, log *slog.Logger) *TurnWatcher {
	if log == nil {
		log = slog.Default()
	}
	w := &TurnWatcher{store: s, ctx: ctx, log: log, offices: map[int64]chan struct{}{}}
	s.turns = w
	return w
}

// Observe implements ticketing.Observer: an event that may move waiting tickets forward wakes the check
// of its office. An issued ticket moves nobody forward.
func (w *TurnWatcher) Observe(e ticketing.ObservedEvent) {
	if e.Type == ticketing.EventIssued {
		return
	}
	w.Poke(e.OfficeID)
}

// Poke asks for a check of an office's subscribed tickets soon, without waiting for it.
func (w *TurnWatcher) Poke(officeID int64) {
	w.mu.Lock()
	wake, ok := w.offices[officeID]
	if !ok {
		wake = make(chan struct{}, 1)
		w.offices[officeID] = wake
		go w.run(officeID, wake)
	}
	w.mu.Unlock()
	select {
	case wake <- struct{}{}:
	default: // a check is already due: it will see this event's effect too
	}
}

// run checks an office each time it is woken, until the watcher's context ends.
func (w *TurnWatcher) run(officeID int64, wake <-chan struct{}) {
	for {
		select {
		case <-w.ctx.Done():
			return
		case <-wake:
		}
		if _, err := w.Check(w.ctx, officeID); err != nil && w.ctx.Err() == nil {
			w.log.Error("booking: turn-near check failed", "office", officeID, "err", err)
		}
	}
}

// Check enqueues "your turn is near" for every subscription of the office's waiting tickets whose position
// is at most its threshold (the citizen's, else the office's TurnNearAhead) and that has not been told yet.
// It returns how many pushes it enqueued.
func (w *TurnWatcher) Check(ctx context.Context, officeID int64) (int, error) {
	s := w.store
	if s.Outbox == nil {
		return 0, nil
	}
	// A ticket lives one day, so older subscriptions are not looked at (the outbox's purge deletes them);
	// subscriptions are stamped by the database's clock, not the store's.
	topics, err := s.Outbox.PendingTopics(ctx, officeID, topicPrefix, time.Now().Add(-24*time.Hour))
	if err != nil {
		return 0, err
	}
	if len(topics) == 0 {
		return 0, nil
	}
	st, err := s.SettingsOf(ctx, officeID)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, topic := range topics {
		n, err := w.checkTicket(ctx, topic, st.TurnNearAhead)
		if err != nil {
			return sent, err
		}
		sent += n
	}
	return sent, nil
}

// checkTicket looks at one subscribed ticket's position and tells its subscriptions that are due.
func (w *TurnWatcher) checkTicket(ctx context.Context, topic string, officeAhead int) (int, error) {
	s := w.store
	code := strings.TrimPrefix(topic, topicPrefix)
	t, err := s.tickets.TicketByCode(ctx, code)
	if err != nil {
		if isNotFound(err) {
			return 0, nil // purged: its subscriptions go with the outbox's purge
		}
		return 0, err
	}
	if t.Status != ticketing.Waiting || t.Position == nil {
		return 0, nil
	}
	subs, err := s.Outbox.Subscriptions(ctx, topic)
	if err != nil {
		return 0, err
	}
	sent := 0
	for _, sub := range subs {
		ahead := officeAhead
		if sub.Ahead != nil {
			ahead = *sub.Ahead
		}
		if sub.NotifiedAt != nil || *t.Position > ahead {
			continue
		}
		lang := mailLang(t.Lang)
		body := mailText(lang, "near.next")
		if *t.Position > 0 {
			body = mailText(lang, "near.body")
		}
		body = strings.NewReplacer("{n}", strconv.Itoa(*t.Position), "{number}", t.Number).Replace(body)
		url := strings.TrimRight(s.BaseURL, "/") + "/t/" + code
		// Enqueued before it is marked: a failure between the two retries the push, which its dedupe
		// key then drops, rather than losing it.
		added, err := notify.EnqueuePush(ctx, s.pool, t.OfficeID, sub.Subscription, KindTurnNear,
			fmt.Sprintf("near:%s:%d", code, sub.ID), mailText(lang, "near.title"), body, url)
		if err != nil {
			return sent, err
		}
		if _, err := s.Outbox.MarkNotified(ctx, sub.ID); err != nil {
			return sent, err
		}
		sent += count(added)
	}
	return sent, nil
}

// isNotFound reports whether err is a 404 of the web layer (an unknown ticket, a purged one).
func isNotFound(err error) bool {
	var we *web.Error
	return errors.As(err, &we) && we.Status == http.StatusNotFound
}

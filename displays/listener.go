package displays

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"turno/internal/auth"
	"turno/ticketing"
)

// ListenerName is the application_name of the LISTEN connection, to find it in pg_stat_activity.
const ListenerName = "turno-displays-listener"

// Listen keeps one connection, outside any pool, listening on ticketing.NotifyChannel and wakes the hub on
// each notification, until ctx ends. On the same connection it listens on auth.RightsChannel and ends the
// streams whose right a notification names. When the connection fails it reconnects with back-off and,
// once listening again, makes the hub read every followed office from the table and re-check its streams'
// rights: notifications sent while it was away are lost, the events and the rights are not.
func (h *Hub) Listen(ctx context.Context, cfg *pgx.ConnConfig) {
	cfg = cfg.Copy()
	if cfg.RuntimeParams == nil {
		cfg.RuntimeParams = map[string]string{}
	}
	cfg.RuntimeParams["application_name"] = ListenerName
	attempt, connected := 0, false
	for ctx.Err() == nil {
		listened, err := h.listenOnce(ctx, cfg, connected)
		h.listening.Store(false)
		if ctx.Err() != nil {
			return
		}
		if listened {
			connected, attempt = true, 0
		}
		delay := min(100*time.Millisecond<<attempt, 10*time.Second)
		delay = delay/2 + rand.N(delay/2+1)
		attempt = min(attempt+1, 8)
		h.opt.Log.Warn("displays: LISTEN connection lost; reconnecting", "err", err, "in", delay)
		select {
		case <-ctx.Done():
			return
		case <-time.After(delay):
		}
	}
}

// listenCheck is how long the listener waits for a notification before checking that its connection is
// still alive.
const listenCheck = 30 * time.Second

// listenOnce connects, listens and hands notifications to the hub until the connection fails or ctx
// ends. It reports whether it got as far as listening.
func (h *Hub) listenOnce(ctx context.Context, cfg *pgx.ConnConfig, again bool) (bool, error) {
	conn, err := pgx.ConnectConfig(ctx, cfg)
	if err != nil {
		return false, fmt.Errorf("displays: connect listener: %w", err)
	}
	defer conn.Close(context.Background())
	for _, ch := range []string{ticketing.NotifyChannel, auth.RightsChannel} {
		if _, err := conn.Exec(ctx, "LISTEN "+pgx.Identifier{ch}.Sanitize()); err != nil {
			return false, fmt.Errorf("displays: listen on %s: %w", ch, err)
		}
	}
	h.listening.Store(true)
	if again {
		h.reconnect.Add(1)
	}
	h.notifyAll()  // catch up on whatever happened while not listening
	h.pokeRights() // and on the rights that ended meanwhile
	for {
		wctx, cancel := context.WithTimeout(ctx, listenCheck)
		n, err := conn.WaitForNotification(wctx)
		cancel()
		if ctx.Err() != nil {
			return true, nil
		}
		if err != nil {
			if !pgconn.Timeout(err) && !errors.Is(err, context.DeadlineExceeded) {
				return true, fmt.Errorf("displays: wait for notification: %w", err)
			}
			// Quiet for a while: make sure the connection still works.
			pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
			err := conn.Ping(pctx)
			cancel()
			if err != nil {
				return true, fmt.Errorf("displays: listener ping: %w", err)
			}
			continue
		}
		if n.Channel == auth.RightsChannel {
			h.rightEnded(n.Payload)
			continue
		}
		office, seq, ok := parsePayload(n.Payload)
		if !ok {
			h.opt.Log.Warn("displays: bad notification payload", "payload", n.Payload)
			continue
		}
		h.notify(office, seq)
	}
}

// parsePayload reads "officeID:seq".
func parsePayload(p string) (office, seq int64, ok bool) {
	a, b, found := strings.Cut(p, ":")
	if !found {
		return 0, 0, false
	}
	office, err1 := strconv.ParseInt(a, 10, 64)
	seq, err2 := strconv.ParseInt(b, 10, 64)
	return office, seq, err1 == nil && err2 == nil
}

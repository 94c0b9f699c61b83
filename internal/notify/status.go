package notify

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"
)

// Delivery is one message as managers see it: what it was about, how it travels, where it stands, and
// its recipient masked ("m***@e***.it", "+39 *** *** 12", a push service's host), never in full.
type Delivery struct {
	ID            int64      `json:"id"`
	Channel       Channel    `json:"channel"`
	Kind          string     `json:"kind"`
	To            string     `json:"to"` // masked; empty once purged
	Status        string     `json:"status"`
	Attempts      int        `json:"attempts"`
	LastError     string     `json:"last_error,omitempty"`
	CreatedAt     time.Time  `json:"created_at"`
	SentAt        *time.Time `json:"sent_at,omitempty"`
	NextAttemptAt *time.Time `json:"next_attempt_at,omitempty"` // pending messages only
}

// Recent returns an office's latest messages, newest first, at most limit (1 to 500).
func (s *Store) Recent(ctx context.Context, officeID int64, limit int) ([]Delivery, error) {
	limit = max(1, min(limit, 500))
	rows, err := s.pool.Query(ctx, `SELECT id, channel, kind, coalesce(recipient, ''), status, attempts, last_error,
			created_at, sent_at, CASE WHEN status = 'pending' THEN next_attempt_at END
		FROM notifications WHERE office_id = $1 ORDER BY created_at DESC, id DESC LIMIT $2`, officeID, limit)
	if err != nil {
		return nil, fmt.Errorf("notify: recent: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Delivery, error) {
		var d Delivery
		var ch, to string
		err := r.Scan(&d.ID, &ch, &d.Kind, &to, &d.Status, &d.Attempts, &d.LastError, &d.CreatedAt, &d.SentAt, &d.NextAttemptAt)
		d.Channel = Channel(ch)
		d.To = Mask(d.Channel, to)
		return d, err
	})
	if err != nil {
		return nil, fmt.Errorf("notify: recent: %w", err)
	}
	return out, nil
}

// Count is how many of an office's messages of one kind and channel are in one status.
type Count struct {
	Kind    string  `json:"kind"`
	Channel Channel `json:"channel"`
	Status  string  `json:"status"`
	N       int     `json:"n"`
}

// Counts returns how many of an office's messages created since since are in each status, per kind and
// channel, ordered by kind, channel and status.
func (s *Store) Counts(ctx context.Context, officeID int64, since time.Time) ([]Count, error) {
	rows, err := s.pool.Query(ctx, `SELECT kind, channel, status, count(*)::int FROM notifications
		WHERE office_id = $1 AND created_at >= $2 GROUP BY kind, channel, status ORDER BY kind, channel, status`, officeID, since)
	if err != nil {
		return nil, fmt.Errorf("notify: counts: %w", err)
	}
	out, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Count, error) {
		var c Count
		var ch string
		err := r.Scan(&c.Kind, &ch, &c.Status, &c.N)
		c.Channel = Channel(ch)
		return c, err
	})
	if err != nil {
		return nil, fmt.Errorf("notify: counts: %w", err)
	}
	return out, nil
}

// Mask returns a recipient fit for a manager's screen: an e-mail address as its first letters
// ("m***@e***.it"), a phone number as its country code and last two digits ("+39 *** *** 12"), a push
// subscription as its push service's host. Empty stays empty.
func Mask(ch Channel, recipient string) string {
	if recipient == "" {
		return ""
	}
	switch ch {
	case Email:
		local, domain, ok := strings.Cut(recipient, "@")
		if !ok {
			return "***"
		}
		name, tld := domain, ""
		if i := strings.LastIndexByte(domain, '.'); i > 0 {
			name, tld = domain[:i], domain[i:]
		}
		return first(local) + "***@" + first(name) + "***" + tld
	case SMS:
		digits := strings.TrimPrefix(recipient, "+")
		if len(digits) < 6 {
			return "***"
		}
		return "+" + countryCode(digits) + " *** *** " + digits[len(digits)-2:]
	case Push:
		var sub Subscription
		if json.Unmarshal([]byte(recipient), &sub) == nil {
			if u, err := url.Parse(sub.Endpoint); err == nil && u.Hostname() != "" {
				return u.Hostname()
			}
		}
		return "push"
	}
	return "***"
}

// first returns the first character of s.
func first(s string) string {
	for _, r := range s {
		return string(r)
	}
	return ""
}

// countryCode returns the country calling code at the start of an E.164 number's digits: one digit for
// North America (1) and Russia (7), two for most of Europe (39, 33, 44…), three otherwise (355 Albania,
// 380 Ukraine…): the ITU's zones 1 and 7 are one digit, and the two-digit codes are those of the list.
func countryCode(digits string) string {
	switch digits[0] {
	case '1', '7':
		return digits[:1]
	}
	two := map[string]bool{"20": true, "27": true, "30": true, "31": true, "32": true, "33": true, "34": true,
		"36": true, "39": true, "40": true, "41": true, "43": true, "44": true, "45": true, "46": true, "47": true,
		"48": true, "49": true, "51": true, "52": true, "53": true, "54": true, "55": true, "56": true, "57": true,
		"58": true, "60": true, "61": true, "62": true, "63": true, "64": true, "65": true, "66": true, "81": true,
		"82": true, "84": true, "86": true, "90": true, "91": true, "92": true, "93": true, "94": true, "95": true, "98": true}
	if two[digits[:2]] {
		return digits[:2]
	}
	return digits[:3]
}

// Purge clears the recipient, subject, body and attachment of an office's messages created before
// cutoff (a message still pending then is given up as failed), and deletes its push subscriptions made
// before cutoff. The rows stay, anonymous, for the counts. It returns how many rows it changed or deleted.
func (s *Store) Purge(ctx context.Context, officeID int64, cutoff time.Time) (int64, error) {
	var n int64
	err := pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		tag, err := tx.Exec(ctx, `UPDATE notifications SET recipient = NULL, subject = '', body = '',
				attachment = NULL, attachment_name = '', attachment_type = '',
				last_error = CASE WHEN status = 'pending' THEN 'expired before delivery' ELSE last_error END,
				status = CASE WHEN status = 'pending' THEN 'failed' ELSE status END
			WHERE office_id = $1 AND created_at < $2
			  AND (recipient IS NOT NULL OR subject <> '' OR body <> '' OR attachment IS NOT NULL)`, officeID, cutoff)
		if err != nil {
			return err
		}
		n = tag.RowsAffected()
		tag, err = tx.Exec(ctx, `DELETE FROM push_subscriptions WHERE office_id = $1 AND created_at < $2`, officeID, cutoff)
		n += tag.RowsAffected()
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("notify: purge: %w", err)
	}
	return n, nil
}

package notify

import (
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/x509"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/url"
	"strings"
	"time"

	"github.com/jackc/pgx/v5"

	"turno/internal/web"
)

// Subscription is a browser's PushSubscription, as its toJSON() gives it.
type Subscription struct {
	Endpoint string           `json:"endpoint"`
	Keys     SubscriptionKeys `json:"keys"`
}

// SubscriptionKeys are a subscription's keys, base64url: the browser's P-256 public key (uncompressed
// point) and its 16-byte authentication secret.
type SubscriptionKeys struct {
	P256dh string `json:"p256dh"`
	Auth   string `json:"auth"`
}

// Subscriber is a stored subscription to a topic ("ticket:CODE", "booking:CODE").
type Subscriber struct {
	ID           int64
	OfficeID     int64
	Topic        string
	Subscription Subscription
	// Ahead is the "your turn is near" threshold the citizen chose (nil: the office's).
	Ahead      *int
	NotifiedAt *time.Time // when MarkNotified last ran for it
	CreatedAt  time.Time
}

// maxPerTopic is how many subscriptions one topic keeps (a citizen's phone and a companion's, a browser
// re-subscribing…); the oldest beyond it are dropped, so a page cannot grow the table without bound.
const maxPerTopic = 5

// b64 decodes base64url with or without padding, as browsers and libraries write it either way.
func b64(s string) ([]byte, error) {
	return base64.RawURLEncoding.DecodeString(strings.TrimRight(s, "="))
}

// check validates a subscription: an https endpoint (http on the loopback only when allowLoopback) and
// keys that are a P-256 point and a 16-byte secret.
func (sub Subscription) check(allowLoopback bool) error {
	if err := sub.checkEndpoint(allowLoopback); err != nil {
		return err
	}
	_, _, err := sub.keys()
	return err
}

// checkEndpoint validates the endpoint: an https URL of a public host (http on the loopback only when
// allowLoopback).
func (sub Subscription) checkEndpoint(allowLoopback bool) error {
	u, err := url.Parse(sub.Endpoint)
	ok := err == nil && len(sub.Endpoint) <= 2048 && u.Host != "" && u.User == nil && u.Fragment == ""
	if ok {
		switch host := u.Hostname(); {
		case u.Scheme == "https":
			ok = !privateHost(host)
		case u.Scheme == "http" && allowLoopback:
			ok = host == "localhost" || net.ParseIP(host).IsLoopback()
		default:
			ok = false
		}
	}
	if !ok {
		return web.InvalidField("endpoint", "the push subscription's endpoint must be an https URL")
	}
	return nil
}

// keys decodes the subscription's keys: the browser's public key and the auth secret.
func (sub Subscription) keys() (*ecdh.PublicKey, []byte, error) {
	point, err1 := b64(sub.Keys.P256dh)
	secret, err2 := b64(sub.Keys.Auth)
	if err1 != nil || err2 != nil || len(secret) != 16 {
		return nil, nil, web.InvalidField("keys", "the push subscription's keys are not valid")
	}
	pub, err := ecdh.P256().NewPublicKey(point)
	if err != nil {
		return nil, nil, web.InvalidField("keys", "the push subscription's keys are not valid")
	}
	return pub, secret, nil
}

// privateHost reports whether host is an address (or name) of this machine or a private network, which
// no push service has: posting there would let a page make the server reach inside its network.
func privateHost(host string) bool {
	h := strings.ToLower(strings.TrimSuffix(host, "."))
	if h == "localhost" || strings.HasSuffix(h, ".localhost") || strings.HasSuffix(h, ".local") || strings.HasSuffix(h, ".internal") {
		return true
	}
	ip := net.ParseIP(h)
	return ip != nil && !publicIP(ip)
}

// publicIP reports whether ip is a global unicast address outside the private ranges.
func publicIP(ip net.IP) bool {
	return ip.IsGlobalUnicast() && !ip.IsPrivate() && !ip.IsLoopback() && !ip.IsLinkLocalUnicast()
}

// Subscribe stores sub as following topic in an office, with the citizen's "turn is near" threshold ahead
// (nil: the office's). Subscribing again replaces the keys and the threshold; a changed threshold may be
// notified again. A bad subscription is a *web.Error naming its field (endpoint, keys, ahead, topic).
func (s *Store) Subscribe(ctx context.Context, officeID int64, topic string, sub Subscription, ahead *int) error {
	if topic == "" || len(topic) > 100 {
		return fmt.Errorf("notify: subscribe: a topic needs 1 to 100 characters")
	}
	if ahead != nil && (*ahead < 1 || *ahead > 50) {
		return web.InvalidField("ahead", "ahead must be a whole number from 1 to 50")
	}
	if err := sub.check(s.AllowLoopbackPush); err != nil {
		return err
	}
	return pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `
			INSERT INTO push_subscriptions (office_id, topic, endpoint, p256dh, auth, ahead)
			VALUES ($1, $2, $3, $4, $5, $6)
			ON CONFLICT (topic, endpoint) DO UPDATE SET p256dh = EXCLUDED.p256dh, auth = EXCLUDED.auth,
				ahead = EXCLUDED.ahead, created_at = now(),
				notified_at = CASE WHEN push_subscriptions.ahead IS NOT DISTINCT FROM EXCLUDED.ahead
					THEN push_subscriptions.notified_at END`,
			officeID, topic, sub.Endpoint, sub.Keys.P256dh, sub.Keys.Auth, ahead); err != nil {
			return fmt.Errorf("notify: subscribe: %w", err)
		}
		if _, err := tx.Exec(ctx, `DELETE FROM push_subscriptions WHERE topic = $1 AND id NOT IN
			(SELECT id FROM push_subscriptions WHERE topic = $1 ORDER BY created_at DESC, id DESC LIMIT $2)`,
			topic, maxPerTopic); err != nil {
			return fmt.Errorf("notify: subscribe: %w", err)
		}
		return nil
	})
}

// Unsubscribe removes the subscription of endpoint from topic. Removing one that does not exist is no error.
func (s *Store) Unsubscribe(ctx context.Context, topic, endpoint string) error {
	if _, err := s.pool.Exec(ctx, `DELETE FROM push_subscriptions WHERE topic = $1 AND endpoint = $2`, topic, endpoint); err != nil {
		return fmt.Errorf("notify: unsubscribe: %w", err)
	}
	return nil
}

// Subscriptions returns the subscriptions to topic, oldest first.
func (s *Store) Subscriptions(ctx context.Context, topic string) ([]Subscriber, error) {
	rows, err := s.pool.Query(ctx, `SELECT id, office_id, topic, endpoint, p256dh, auth, ahead, notified_at, created_at
		FROM push_subscriptions WHERE topic = $1 ORDER BY created_at, id`, topic)
	if err != nil {
		return nil, fmt.Errorf("notify: subscriptions: %w", err)
	}
	subs, err := pgx.CollectRows(rows, func(r pgx.CollectableRow) (Subscriber, error) {
		var x Subscriber
		err := r.Scan(&x.ID, &x.OfficeID, &x.Topic, &x.Subscription.Endpoint, &x.Subscription.Keys.P256dh,
			&x.Subscription.Keys.Auth, &x.Ahead, &x.NotifiedAt, &x.CreatedAt)
		return x, err
	})
	if err != nil {
		return nil, fmt.Errorf("notify: subscriptions: %w", err)
	}
	return subs, nil
}

// PendingTopics returns an office's topics starting with prefix that have a subscription made since
// since and not yet notified (MarkNotified): the tickets a "your turn is near" watcher must look at.
func (s *Store) PendingTopics(ctx context.Context, officeID int64, prefix string, since time.Time) ([]string, error) {
	rows, err := s.pool.Query(ctx, `SELECT DISTINCT topic FROM push_subscriptions
		WHERE office_id = $1 AND notified_at IS NULL AND starts_with(topic, $2) AND created_at > $3 ORDER BY topic`,
		officeID, prefix, since)
	if err != nil {
		return nil, fmt.Errorf("notify: pending topics: %w", err)
	}
	topics, err := pgx.CollectRows(rows, pgx.RowTo[string])
	if err != nil {
		return nil, fmt.Errorf("notify: pending topics: %w", err)
	}
	return topics, nil
}

// MarkNotified records that the subscription id was notified, so a caller sends "your turn is near" once.
// It reports whether it was not marked before (false: another caller, or an earlier call, got there first).
func (s *Store) MarkNotified(ctx context.Context, id int64) (bool, error) {
	tag, err := s.pool.Exec(ctx, `UPDATE push_subscriptions SET notified_at = now() WHERE id = $1 AND notified_at IS NULL`, id)
	if err != nil {
		return false, fmt.Errorf("notify: mark notified: %w", err)
	}
	return tag.RowsAffected() == 1, nil
}

// pushPayload is what a push message carries to the page's service worker.
type pushPayload struct {
	Title string `json:"title"`
	Body  string `json:"body"`
	URL   string `json:"url,omitempty"`
}

// maxPushPayload is the largest payload a push message may carry: one aes128gcm record of 4096 bytes
// less the tag and the padding delimiter, with room to spare for the services that count the header too.
const maxPushPayload = 3800

// EnqueuePush writes a Web Push message to sub through db: its title, body and the page to open. The
// message's Body is the JSON payload the service worker receives: {"title","body","url"}.
func EnqueuePush(ctx context.Context, db Execer, officeID int64, sub Subscription, kind, dedupe, title, body, url string) (bool, error) {
	recipient, err := json.Marshal(sub)
	if err != nil {
		return false, fmt.Errorf("notify: push recipient: %w", err)
	}
	payload, err := json.Marshal(pushPayload{Title: title, Body: body, URL: url})
	if err != nil {
		return false, fmt.Errorf("notify: push payload: %w", err)
	}
	if len(payload) > maxPushPayload {
		return false, fmt.Errorf("notify: a push payload may have at most %d bytes, not %d", maxPushPayload, len(payload))
	}
	return Enqueue(ctx, db, Message{OfficeID: officeID, Channel: Push, Kind: kind, DedupeKey: dedupe,
		Recipient: string(recipient), Subject: title, Body: string(payload)})
}

// forgetEndpoint deletes every subscription of the endpoint in a push message's recipient: the push
// service said it is gone.
func (s *Store) forgetEndpoint(ctx context.Context, recipient string) error {
	var sub Subscription
	if err := json.Unmarshal([]byte(recipient), &sub); err != nil || sub.Endpoint == "" {
		return nil
	}
	if _, err := s.pool.Exec(ctx, `DELETE FROM push_subscriptions WHERE endpoint = $1`, sub.Endpoint); err != nil {
		return fmt.Errorf("notify: forget push endpoint: %w", err)
	}
	return nil
}

// VAPIDPublicKey returns the installation's VAPID public key (base64url of the uncompressed P-256 point):
// the applicationServerKey a page subscribes with. The key pair is made by the first node that needs it.
func (s *Store) VAPIDPublicKey(ctx context.Context) (string, error) {
	k, err := s.vapidKey(ctx)
	if err != nil {
		return "", err
	}
	return vapidPublic(k)
}

func vapidPublic(k *ecdsa.PrivateKey) (string, error) {
	pub, err := k.PublicKey.ECDH()
	if err != nil {
		return "", fmt.Errorf("notify: vapid public key: %w", err)
	}
	return base64.RawURLEncoding.EncodeToString(pub.Bytes()), nil
}

// vapidKey loads the VAPID key pair, making and storing it first when there is none. Nodes racing to make
// it agree on the one stored first (INSERT … ON CONFLICT DO NOTHING, then SELECT).
func (s *Store) vapidKey(ctx context.Context) (*ecdsa.PrivateKey, error) {
	s.vapidMu.Lock()
	defer s.vapidMu.Unlock()
	if s.vapid != nil {
		return s.vapid, nil
	}
	k, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		return nil, fmt.Errorf("notify: vapid key: %w", err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		return nil, fmt.Errorf("notify: vapid key: %w", err)
	}
	pub, err := vapidPublic(k)
	if err != nil {
		return nil, err
	}
	if _, err := s.pool.Exec(ctx, `INSERT INTO vapid_keys (private_key, public_key) VALUES ($1, $2) ON CONFLICT (id) DO NOTHING`, der, pub); err != nil {
		return nil, fmt.Errorf("notify: store vapid key: %w", err)
	}
	if err := s.pool.QueryRow(ctx, `SELECT private_key FROM vapid_keys`).Scan(&der); err != nil {
		return nil, fmt.Errorf("notify: load vapid key: %w", err)
	}
	parsed, err := x509.ParsePKCS8PrivateKey(der)
	if err != nil {
		return nil, fmt.Errorf("notify: load vapid key: %w", err)
	}
	stored, ok := parsed.(*ecdsa.PrivateKey)
	if !ok || stored.Curve != elliptic.P256() {
		return nil, errors.New("notify: the stored vapid key is not a P-256 key")
	}
	s.vapid = stored
	return stored, nil
}

package notify

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"syscall"
	"time"
)

// recordSize is the aes128gcm record size announced in the header: one record holds the whole payload.
const recordSize = 4096

// Encrypt encrypts plaintext for a push subscription as RFC 8291 says (Message Encryption for Web Push):
// an ephemeral P-256 key agreed with the browser's key (ECDH), the shared secret mixed with the
// subscription's auth secret and both public keys (HKDF-SHA-256), and the payload in one aes128gcm record
// (RFC 8188) whose header carries the salt, the record size and the ephemeral public key.
func Encrypt(sub Subscription, plaintext []byte) ([]byte, error) {
	uaPublic, authSecret, err := sub.keys()
	if err != nil {
		return nil, err
	}
	if len(plaintext) > recordSize-17 {
		return nil, fmt.Errorf("notify: a push payload may have at most %d bytes", recordSize-17)
	}
	asPrivate, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		return nil, err
	}
	salt := make([]byte, 16)
	if _, err := rand.Read(salt); err != nil {
		return nil, err
	}
	return encrypt(asPrivate, uaPublic, authSecret, salt, plaintext)
}

// encrypt is Encrypt with its random parts given (the RFC's test vector fixes them).
func encrypt(asPrivate *ecdh.PrivateKey, uaPublic *ecdh.PublicKey, authSecret, salt, plaintext []byte) ([]byte, error) {
	ecdhSecret, err := asPrivate.ECDH(uaPublic)
	if err != nil {
		return nil, err
	}
	asPublic := asPrivate.PublicKey().Bytes()
	// RFC 8291 §3.3: IKM = HKDF(auth_secret, ecdh_secret, "WebPush: info" || 0x00 || ua_public || as_public, 32).
	keyInfo := "WebPush: info\x00" + string(uaPublic.Bytes()) + string(asPublic)
	ikm, err := hkdf.Key(sha256.New, ecdhSecret, authSecret, keyInfo, 32)
	if err != nil {
		return nil, err
	}
	// RFC 8188 §2.2–2.3: the content-encryption key and the nonce from the salt.
	prk, err := hkdf.Extract(sha256.New, ikm, salt)
	if err != nil {
		return nil, err
	}
	cek, err := hkdf.Expand(sha256.New, prk, "Content-Encoding: aes128gcm\x00", 16)
	if err != nil {
		return nil, err
	}
	nonce, err := hkdf.Expand(sha256.New, prk, "Content-Encoding: nonce\x00", 12)
	if err != nil {
		return nil, err
	}
	block, err := aes.NewCipher(cek)
	if err != nil {
		return nil, err
	}
	gcm, err := cipher.NewGCM(block)
	if err != nil {
		return nil, err
	}
	// The only (so last) record: the plaintext, then the delimiter 0x02, no padding.
	record := append(append([]byte{}, plaintext...), 2)
	var out bytes.Buffer
	out.Write(salt)
	_ = binary.Write(&out, binary.BigEndian, uint32(recordSize))
	out.WriteByte(byte(len(asPublic)))
	out.Write(asPublic)
	out.Write(gcm.Seal(nil, nonce, record, nil))
	return out.Bytes(), nil
}

// VAPIDHeader returns the Authorization header value that identifies this server to the push service of
// endpoint (RFC 8292): "vapid t=<JWT>, k=<public key>", the JWT signed with ES256 for the endpoint's
// origin, valid until exp, naming subject (a mailto: or https: contact for the push service's operator).
func VAPIDHeader(key *ecdsa.PrivateKey, endpoint, subject string, exp time.Time) (string, error) {
	u, err := url.Parse(endpoint)
	if err != nil || u.Host == "" {
		return "", errors.New("notify: the push endpoint is not a URL")
	}
	header := base64.RawURLEncoding.EncodeToString([]byte(`{"typ":"JWT","alg":"ES256"}`))
	claims, err := json.Marshal(map[string]any{"aud": u.Scheme + "://" + u.Host, "exp": exp.Unix(), "sub": subject})
	if err != nil {
		return "", err
	}
	signed := header + "." + base64.RawURLEncoding.EncodeToString(claims)
	digest := sha256.Sum256([]byte(signed))
	r, s, err := ecdsa.Sign(rand.Reader, key, digest[:])
	if err != nil {
		return "", err
	}
	// JWS ES256 signatures are r and s as two 32-byte big-endian numbers, not ASN.1.
	sig := make([]byte, 64)
	r.FillBytes(sig[:32])
	s.FillBytes(sig[32:])
	pub, err := vapidPublic(key)
	if err != nil {
		return "", err
	}
	return "vapid t=" + signed + "." + base64.RawURLEncoding.EncodeToString(sig) + ", k=" + pub, nil
}

// PushSender delivers Web Push messages: the payload encrypted to the subscription, posted to its push
// service with the installation's VAPID identity.
type PushSender struct {
	Store *Store
	// Subject is the contact the push services may use about this server: "mailto:…" or an https URL.
	Subject string
	// TTL is how long a push service keeps a message for a phone that is offline; 0: one hour (a "your
	// turn is near" later than that is no use).
	TTL time.Duration
	// AllowLoopback lets it post to the loopback (tests' push service); otherwise a push service on this
	// machine or a private network is refused when dialled, whatever name led there.
	AllowLoopback bool
	// Client is the HTTP client; nil: one that refuses private addresses (unless AllowLoopback).
	Client *http.Client

	once   sync.Once
	client *http.Client
}

// NewPushSender returns a push sender for the outbox store, naming subject as its contact.
func NewPushSender(s *Store, subject string) *PushSender {
	return &PushSender{Store: s, Subject: subject}
}

// httpClient returns Client, or makes the default one once (deliveries run in parallel).
func (p *PushSender) httpClient() *http.Client {
	if p.Client != nil {
		return p.Client
	}
	p.once.Do(func() { p.client = safeClient(p.AllowLoopback) })
	return p.client
}

// safeClient is an HTTP client that follows no redirect and, unless allowLoopback, connects only to
// public addresses: the check runs on the address dialled, after name resolution.
func safeClient(allowLoopback bool) *http.Client {
	d := &net.Dialer{Timeout: 10 * time.Second}
	if !allowLoopback {
		d.Control = func(_, address string, _ syscall.RawConn) error {
			host, _, err := net.SplitHostPort(address)
			if ip := net.ParseIP(host); err != nil || ip == nil || !publicIP(ip) {
				return errors.New("the push service's address is not public")
			}
			return nil
		}
	}
	t := http.DefaultTransport.(*http.Transport).Clone()
	t.DialContext = d.DialContext
	t.Proxy = nil
	return &http.Client{Transport: t, CheckRedirect: noRedirect}
}

// noRedirect makes a client return a redirect as the answer: a POST must not turn into a GET elsewhere.
func noRedirect(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }

// Send encrypts m's Body to the subscription in m's Recipient and posts it. 201 (or any 2xx) is sent;
// 404 and 410 mean the subscription is gone (ErrSubscriptionGone); 429 and 5xx are retried; other
// answers are permanent failures.
func (p *PushSender) Send(ctx context.Context, _ int64, m Message) error {
	var sub Subscription
	if err := json.Unmarshal([]byte(m.Recipient), &sub); err != nil {
		return Permanent(errors.New("the push subscription is not JSON"))
	}
	if err := sub.check(p.AllowLoopback); err != nil {
		return Permanent(errors.New("the push subscription is not valid"))
	}
	body, err := Encrypt(sub, []byte(m.Body))
	if err != nil {
		return Permanent(fmt.Errorf("encrypt: %w", err))
	}
	key, err := p.Store.vapidKey(ctx)
	if err != nil {
		return err
	}
	auth, err := VAPIDHeader(key, sub.Endpoint, p.Subject, time.Now().Add(12*time.Hour))
	if err != nil {
		return Permanent(err)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, sub.Endpoint, bytes.NewReader(body))
	if err != nil {
		return Permanent(errors.New("the push endpoint is not a URL"))
	}
	ttl := p.TTL
	if ttl <= 0 {
		ttl = time.Hour
	}
	req.Header.Set("Authorization", auth)
	req.Header.Set("Content-Encoding", "aes128gcm")
	req.Header.Set("Content-Type", "application/octet-stream")
	req.Header.Set("TTL", strconv.Itoa(int(ttl.Seconds())))
	req.Header.Set("Urgency", "high")
	res, err := p.httpClient().Do(req)
	if err != nil {
		// The URL error names the endpoint, a capability of the citizen's browser: keep only its cause.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return fmt.Errorf("push service: %w", err)
	}
	defer res.Body.Close()
	_, _ = io.Copy(io.Discard, io.LimitReader(res.Body, 64<<10))
	return answer("push service", res, func(code int) error {
		if code == http.StatusNotFound || code == http.StatusGone {
			return Permanent(fmt.Errorf("push service answered %d: %w", code, ErrSubscriptionGone))
		}
		return nil
	})
}

// answer turns an HTTP answer into a delivery outcome: 2xx sent; special's error for the codes it knows;
// 429 (after Retry-After when given) and 5xx retried; any other code a permanent failure.
func answer(who string, res *http.Response, special func(int) error) error {
	code := res.StatusCode
	switch {
	case code >= 200 && code < 300:
		return nil
	case special != nil && special(code) != nil:
		return special(code)
	case code == http.StatusTooManyRequests:
		err := fmt.Errorf("%s answered %d", who, code)
		if s, perr := strconv.Atoi(res.Header.Get("Retry-After")); perr == nil && s > 0 {
			return retryAfterError{err: err, after: time.Duration(s) * time.Second}
		}
		return err
	case code >= 500:
		return fmt.Errorf("%s answered %d", who, code)
	default:
		return Permanent(fmt.Errorf("%s answered %d", who, code))
	}
}

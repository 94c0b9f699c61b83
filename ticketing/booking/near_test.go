package booking_test

import (
	"bytes"
	"context"
	"crypto/aes"
	"crypto/cipher"
	"crypto/ecdh"
	"crypto/hkdf"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"turno/cmd/turno/demo"
	"turno/internal/notify"
	"turno/ticketing/ticketingtest"
)

// pushService is a loopback Web Push service: it keeps what it receives.
type pushService struct {
	*httptest.Server
	mu       sync.Mutex
	requests []pushRequest
}

type pushRequest struct {
	header http.Header
	body   []byte
}

func newPushService(t *testing.T) *pushService {
	p := &pushService{}
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		p.mu.Lock()
		p.requests = append(p.requests, pushRequest{r.Header.Clone(), b})
		p.mu.Unlock()
		w.WriteHeader(http.StatusCreated)
	}))
	t.Cleanup(p.Close)
	return p
}

func (p *pushService) received() []pushRequest {
	p.mu.Lock()
	defer p.mu.Unlock()
	return append([]pushRequest(nil), p.requests...)
}

// decryptPush opens an aes128gcm Web Push body (RFC 8188, RFC 8291) with the subscription's private key
// and auth secret, as the browser does.
func decryptPush(t *testing.T, ua *ecdh.PrivateKey, authSecret, body []byte) []byte {
	t.Helper()
	if len(body) < 21 {
		t.Fatalf("push body of %d bytes", len(body))
	}
	salt, idlen := body[:16], int(body[20])
	rs := binary.BigEndian.Uint32(body[16:20])
	asPub, err := ecdh.P256().NewPublicKey(body[21 : 21+idlen])
	if err != nil {
		t.Fatalf("the key id is not the server's public key: %v", err)
	}
	record := body[21+idlen:]
	if uint32(len(record)) > rs {
		t.Fatalf("record of %d bytes, record size %d", len(record), rs)
	}
	shared, err := ua.ECDH(asPub)
	if err != nil {
		t.Fatal(err)
	}
	info := append(append([]byte("WebPush: info\x00"), ua.PublicKey().Bytes()...), asPub.Bytes()...)
	ikm, err := hkdf.Key(sha256.New, shared, authSecret, string(info), 32)
	if err != nil {
		t.Fatal(err)
	}
	cek, _ := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: aes128gcm\x00", 16)
	nonce, _ := hkdf.Key(sha256.New, ikm, salt, "Content-Encoding: nonce\x00", 12)
	block, _ := aes.NewCipher(cek)
	gcm, _ := cipher.NewGCM(block)
	plain, err := gcm.Open(nil, nonce, record, nil)
	if err != nil {
		t.Fatalf("the push body does not decrypt: %v", err)
	}
	plain = bytes.TrimRight(plain, "\x00")
	if len(plain) == 0 || plain[len(plain)-1] != 2 {
		t.Fatalf("the last record lacks its padding delimiter")
	}
	return plain[:len(plain)-1]
}

// A citizen who asks on the phone page to be told when 2 tickets are ahead gets one push, when the calls
// bring the ticket's position down to 2 (found after the commit, off the call's path), and no other; the
// push service receives it encrypted to the subscription, and the phone decrypts the ticket's number.
func TestTurnNearPush(t *testing.T) {
	e := newMsgEnv(t)
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	watcher := e.store.TurnWatcher(ctx, slog.New(slog.DiscardHandler))
	e.Store.Observer = watcher
	push := newPushService(t)

	// The phone's subscription: its own P-256 key pair and auth secret, its push service on the loopback.
	ua, err := ecdh.P256().GenerateKey(rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	authSecret := make([]byte, 16)
	_, _ = rand.Read(authSecret)
	b64 := base64.RawURLEncoding.EncodeToString
	subscription := fmt.Sprintf(`{"endpoint":%q,"keys":{"p256dh":%q,"auth":%q}}`, push.URL+"/push/phone-1", b64(ua.PublicKey().Bytes()), b64(authSecret))

	status, v := ticketingtest.Call(t, "GET", e.url+"/api/v1/push/key", "", "")
	if m, _ := v.(map[string]any); status != http.StatusOK || len(fmt.Sprint(m["key"])) != 87 {
		t.Fatalf("push key: %d %v", status, v)
	}

	e.SetNow(time.Date(2026, 3, 2, 9, 0, 0, 0, rome)) // Monday, open
	var codes, numbers []string
	for i := range 5 {
		e.Advance(time.Minute)
		status, v := ticketingtest.Call(t, "POST", e.url+"/api/v1/offices/demo/tickets", demo.KioskToken, `{"service":"cie"}`)
		m, _ := v.(map[string]any)
		if status != http.StatusCreated {
			t.Fatalf("issue %d: %d %v", i, status, v)
		}
		codes, numbers = append(codes, m["code"].(string)), append(numbers, m["number"].(string))
	}
	last := codes[4]
	alerts := e.url + "/api/v1/tickets/" + last + "/alerts"
	ticketingtest.WantError(t, "POST", alerts, "", `{"ahead":2}`, http.StatusUnprocessableEntity, "subscription")
	ticketingtest.WantError(t, "POST", alerts, "", `{"subscription":`+subscription+`,"ahead":0}`, http.StatusUnprocessableEntity, "ahead")
	ticketingtest.WantError(t, "POST", alerts, "", `{"subscription":{"endpoint":"http://192.168.1.10/push","keys":{"p256dh":"x","auth":"y"}}}`,
		http.StatusUnprocessableEntity, "endpoint")
	if status, _ := ticketingtest.Call(t, "POST", e.url+"/api/v1/tickets/nosuchticket00000/alerts", "", `{"subscription":`+subscription+`}`); status != http.StatusNotFound {
		t.Errorf("alerts for an unknown ticket: %d", status)
	}
	status, v = ticketingtest.Call(t, "POST", alerts, "", `{"subscription":`+subscription+`,"ahead":2}`)
	if m, _ := v.(map[string]any); status != http.StatusCreated || m["ahead"] != float64(2) {
		t.Fatalf("subscribe: %d %v", status, v)
	}

	near := func() int { return e.Count(t, `SELECT count(*) FROM notifications WHERE kind = 'turn_near'`) }
	check := func(wantPosition int) {
		t.Helper()
		tk, err := e.Store.TicketByCode(ctx, last)
		if err != nil {
			t.Fatal(err)
		}
		if tk.Position == nil || *tk.Position != wantPosition {
			t.Fatalf("position %v; want %d", tk.Position, wantPosition)
		}
		if _, err := watcher.Check(ctx, e.Office.ID); err != nil {
			t.Fatal(err)
		}
	}
	check(4)
	if n := near(); n != 0 {
		t.Fatalf("%d pushes with 4 ahead", n)
	}

	op := e.Login(t, "op1")
	desk := fmt.Sprintf("%s/api/v1/desks/%d", e.url, e.DeskID(t, 1))
	if status, v := ticketingtest.Call(t, "POST", desk+"/open", op, `{}`); status != http.StatusOK {
		t.Fatalf("open desk: %d %v", status, v)
	}
	next := func() {
		t.Helper()
		e.Advance(5 * time.Minute)
		if status, v := ticketingtest.Call(t, "POST", desk+"/next", op, `{}`); status != http.StatusOK {
			t.Fatalf("next: %d %v", status, v)
		}
		if status, v := ticketingtest.Call(t, "POST", desk+"/start", op, `{}`); status != http.StatusOK {
			t.Fatalf("start: %d %v", status, v)
		}
	}
	next()
	check(3)
	if n := near(); n != 0 {
		t.Fatalf("%d pushes with 3 ahead", n)
	}
	next() // 2 ahead: the watcher, woken by the call's commit, enqueues the push by itself
	deadline := time.Now().Add(20 * time.Second)
	for near() == 0 && time.Now().Before(deadline) {
		time.Sleep(50 * time.Millisecond)
	}
	if n := near(); n != 1 {
		t.Fatalf("%d pushes after the call that left 2 ahead; want 1", n)
	}
	check(2)
	next()
	check(1)
	if n := near(); n != 1 {
		t.Errorf("%d pushes after a further call; want still 1", n)
	}

	// The outbox worker delivers it to the push service, encrypted to the subscription.
	w := &notify.Worker{Store: e.outbox, Log: slog.New(slog.DiscardHandler), Senders: notify.Senders{
		notify.Push: &notify.PushSender{Store: e.outbox, Subject: "mailto:turno@example.org", AllowLoopback: true}}}
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	got := push.received()
	if len(got) != 1 {
		t.Fatalf("the push service received %d requests", len(got))
	}
	if got[0].header.Get("Content-Encoding") != "aes128gcm" || !strings.HasPrefix(got[0].header.Get("Authorization"), "vapid t=") {
		t.Errorf("push headers %v", got[0].header)
	}
	var msg struct{ Title, Body, URL string }
	if err := json.Unmarshal(decryptPush(t, ua, authSecret, got[0].body), &msg); err != nil {
		t.Fatal(err)
	}
	if msg.Title != "Tra poco è il suo turno" || !strings.Contains(msg.Body, numbers[4]) || !strings.Contains(msg.Body, "2 persone") ||
		msg.URL != msgBase+"/t/"+last {
		t.Errorf("decrypted push %+v", msg)
	}
	// Once served, the ticket takes no more subscriptions.
	next()
	next()
	status, v = ticketingtest.Call(t, "POST", alerts, "", `{"subscription":`+subscription+`}`)
	if m, _ := v.(map[string]any); status != http.StatusConflict || errorCode(m) != "ticket_not_waiting" {
		t.Errorf("subscribing for a served ticket: %d %v", status, v)
	}
}

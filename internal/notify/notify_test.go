package notify

import (
	"bytes"
	"context"
	"crypto/ecdh"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"math/big"
	"mime"
	"mime/multipart"
	"net/http"
	"net/http/httptest"
	"net/mail"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"

	"turno/internal/database/dbtest"
	"turno/internal/notify/notifytest"
	"turno/internal/web"
)

// testOffice adds an office row (notifications and subscriptions belong to one) and returns its id.
func testOffice(t *testing.T, pool *pgxpool.Pool, slug string) int64 {
	t.Helper()
	var id int64
	if err := pool.QueryRow(context.Background(), `INSERT INTO offices (slug, name, time_zone) VALUES ($1, $1, 'Europe/Rome') RETURNING id`,
		slug).Scan(&id); err != nil {
		t.Fatal(err)
	}
	return id
}

// quietWorker is a worker with short delays for tests and its log in buf.
func quietWorker(s *Store, senders Senders, buf io.Writer) *Worker {
	return &Worker{Store: s, Senders: senders, Log: slog.New(slog.NewTextHandler(buf, &slog.HandlerOptions{Level: slog.LevelDebug})),
		Poll: 20 * time.Millisecond, RetryBase: 50 * time.Millisecond, RetryMax: 200 * time.Millisecond}
}

// row is a notification's delivery state.
type row struct {
	Status    string
	Attempts  int
	LastError string
	Recipient *string
}

func state(t *testing.T, pool *pgxpool.Pool, dedupe string) row {
	t.Helper()
	var r row
	if err := pool.QueryRow(context.Background(), `SELECT status, attempts, last_error, recipient FROM notifications WHERE dedupe_key = $1`,
		dedupe).Scan(&r.Status, &r.Attempts, &r.LastError, &r.Recipient); err != nil {
		t.Fatal(err)
	}
	return r
}

// dueNow makes every pending message due, as if its back-off had passed.
func dueNow(t *testing.T, pool *pgxpool.Pool) {
	t.Helper()
	if _, err := pool.Exec(context.Background(), `UPDATE notifications SET next_attempt_at = now() WHERE status = 'pending'`); err != nil {
		t.Fatal(err)
	}
}

func TestEnqueueIsIdempotent(t *testing.T) {
	pool := dbtest.NewPool(t)
	office := testOffice(t, pool, "demo")
	ctx := context.Background()
	m := Message{OfficeID: office, Channel: SMS, Kind: "reminder", DedupeKey: "reminder:24:ABC:sms", Recipient: "+393331234512", Body: "Domani alle 9"}
	for i, want := range []bool{true, false} {
		got, err := Enqueue(ctx, pool, m)
		if err != nil || got != want {
			t.Fatalf("enqueue #%d = %v, %v; want %v", i+1, got, err, want)
		}
	}
	var n int
	if err := pool.QueryRow(ctx, `SELECT count(*) FROM notifications WHERE dedupe_key = $1`, m.DedupeKey).Scan(&n); err != nil || n != 1 {
		t.Fatalf("%d rows (%v); want 1", n, err)
	}
	for _, bad := range []Message{{Channel: "fax", Kind: "k", DedupeKey: "d1", Recipient: "x"}, {Channel: SMS, Kind: "k", DedupeKey: "d2"}} {
		if _, err := Enqueue(ctx, pool, bad); err == nil {
			t.Errorf("enqueue %+v: no error", bad)
		}
	}
}

// The e-mail reaches a real SMTP server on the loopback, signed in, with its UTF-8 text and the .ics
// attachment byte for byte; a refused mailbox fails at once, the address kept out of the status and logs.
func TestEmailWithCalendarAttachment(t *testing.T) {
	pool := dbtest.NewPool(t)
	office := testOffice(t, pool, "demo")
	ctx := context.Background()
	srv := notifytest.NewSMTPServer(t, "turno", "s3cret")
	srv.Reject("nessuno@example.it")
	sender, err := NewEmailSender(srv.URL(), "Comune di Demo <turno@demo.example.it>")
	if err != nil {
		t.Fatal(err)
	}
	ics := []byte("BEGIN:VCALENDAR\r\nVERSION:2.0\r\nPRODID:-//Turno//IT\r\nMETHOD:PUBLISH\r\nBEGIN:VEVENT\r\nUID:AB12CD@turno\r\n" +
		"SUMMARY:Carta d'identità – Ufficio anagrafe\r\nDTSTART:20261204T080000Z\r\nDTEND:20261204T082000Z\r\nEND:VEVENT\r\nEND:VCALENDAR\r\n")
	body := "Gentile cittadino,\nla Sua prenotazione è confermata: giovedì 4 dicembre alle 9:00.\nCodice: AB12CD — porti un documento.\n" + strings.Repeat("Una riga lunga che supera i settantasei caratteri della codifica quoted-printable. ", 2)
	ok, err := Enqueue(ctx, pool, Message{OfficeID: office, Channel: Email, Kind: "booking_confirmed", DedupeKey: "confirm:AB12CD:email",
		Recipient: "mario.rossi@example.it", Subject: "Prenotazione confermata – Comune di Demo", Body: body,
		Attachment: &Attachment{Name: "prenotazione.ics", Type: "text/calendar; method=PUBLISH; charset=utf-8", Data: ics}})
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	if _, err := Enqueue(ctx, pool, Message{OfficeID: office, Channel: Email, Kind: "booking_confirmed", DedupeKey: "confirm:ZZ:email",
		Recipient: "nessuno@example.it", Subject: "x", Body: "y"}); err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	w := quietWorker(NewStore(pool), Senders{Email: sender}, &logs)
	if n, err := w.RunOnce(ctx); err != nil || n != 2 {
		t.Fatalf("RunOnce = %d, %v; want 2 claimed", n, err)
	}

	got := srv.Messages()
	if len(got) != 1 {
		t.Fatalf("the server received %d messages; want 1", len(got))
	}
	if got[0].From != "turno@demo.example.it" || len(got[0].To) != 1 || got[0].To[0] != "mario.rossi@example.it" {
		t.Errorf("envelope from %q to %q", got[0].From, got[0].To)
	}
	if logins := srv.Logins(); len(logins) != 2 || logins[0] != "PLAIN:|turno|s3cret" || logins[1] != logins[0] {
		t.Errorf("AUTH %q", logins)
	}
	m, err := mail.ReadMessage(bytes.NewReader(got[0].Data))
	if err != nil {
		t.Fatal(err)
	}
	subject, err := new(mime.WordDecoder).DecodeHeader(m.Header.Get("Subject"))
	if err != nil || subject != "Prenotazione confermata – Comune di Demo" {
		t.Errorf("subject %q (%v)", subject, err)
	}
	if from, _ := m.Header.AddressList("From"); len(from) != 1 || from[0].Name != "Comune di Demo" {
		t.Errorf("From %q", m.Header.Get("From"))
	}
	if m.Header.Get("Message-ID") == "" || m.Header.Get("Date") == "" || m.Header.Get("MIME-Version") != "1.0" {
		t.Errorf("headers %v", m.Header)
	}
	typ, params, err := mime.ParseMediaType(m.Header.Get("Content-Type"))
	if err != nil || typ != "multipart/mixed" {
		t.Fatalf("Content-Type %q", m.Header.Get("Content-Type"))
	}
	mr := multipart.NewReader(m.Body, params["boundary"])
	text, err := mr.NextPart() // quoted-printable, decoded by the reader
	if err != nil {
		t.Fatal(err)
	}
	if ct := text.Header.Get("Content-Type"); ct != "text/plain; charset=utf-8" {
		t.Errorf("text part %q", ct)
	}
	tb, _ := io.ReadAll(text)
	if string(tb) != body {
		t.Errorf("text\n%q\nwant\n%q", tb, body)
	}
	att, err := mr.NextPart()
	if err != nil {
		t.Fatal(err)
	}
	atyp, aparams, _ := mime.ParseMediaType(att.Header.Get("Content-Type"))
	if atyp != "text/calendar" || aparams["method"] != "PUBLISH" || att.FileName() != "prenotazione.ics" || att.Header.Get("Content-Transfer-Encoding") != "base64" {
		t.Errorf("attachment headers %v", att.Header)
	}
	raw, _ := io.ReadAll(att)
	decoded, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(string(raw), "\r\n", ""))
	if err != nil || !bytes.Equal(decoded, ics) {
		t.Errorf("attachment %q (%v); want the .ics intact", decoded, err)
	}
	if _, err := mr.NextPart(); err != io.EOF {
		t.Errorf("a third part: %v", err)
	}
	// On the wire every line ends in CRLF (servers refuse bare LFs) and none is longer than 78 characters.
	// The server's DATA reader turned CRLF into LF, so the check reads the composed message.
	composed, err := sender.compose(1, &mail.Address{Address: "mario.rossi@example.it"}, Message{Subject: "s", Body: body,
		Attachment: &Attachment{Name: "prenotazione.ics", Type: "text/calendar", Data: ics}}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	for i, line := range strings.Split(string(composed), "\r\n") {
		if strings.Contains(line, "\n") || len(line) > 78 {
			t.Errorf("line %d %q has a bare LF or is too long", i, line)
		}
	}

	if r := state(t, pool, "confirm:AB12CD:email"); r.Status != "sent" || r.Attempts != 1 || r.LastError != "" {
		t.Errorf("delivered message %+v", r)
	}
	r := state(t, pool, "confirm:ZZ:email")
	if r.Status != "failed" || r.Attempts != 1 || !strings.Contains(r.LastError, "550") {
		t.Errorf("refused message %+v; want failed after one attempt with the 550", r)
	}
	for what, text := range map[string]string{"last_error": r.LastError, "log": logs.String()} {
		if strings.Contains(text, "nessuno") || strings.Contains(text, "mario") || strings.Contains(text, "example.it") {
			t.Errorf("the %s names the recipient: %s", what, text)
		}
	}
}

// smsGateway is a loopback SMS gateway answering with the statuses of its script, then 200.
type smsGateway struct {
	*httptest.Server
	mu       sync.Mutex
	requests []smsRequest
	headers  []http.Header
	script   []int
}

func newSMSGateway(t *testing.T, script ...int) *smsGateway {
	g := &smsGateway{script: script}
	g.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req smsRequest
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil || r.Method != http.MethodPost || r.Header.Get("Content-Type") != "application/json" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		g.mu.Lock()
		g.requests = append(g.requests, req)
		g.headers = append(g.headers, r.Header.Clone())
		status := http.StatusOK
		if len(g.script) > 0 {
			status, g.script = g.script[0], g.script[1:]
		}
		g.mu.Unlock()
		w.WriteHeader(status)
		_, _ = w.Write([]byte(`{"status":"queued"}`))
	}))
	t.Cleanup(g.Close)
	return g
}

func (g *smsGateway) received() []smsRequest {
	g.mu.Lock()
	defer g.mu.Unlock()
	return append([]smsRequest(nil), g.requests...)
}

// The gateway receives the documented JSON with the bearer token; a 503 is retried after the back-off and
// then sent, the attempts recorded; a 400 fails at once; a 429 is retried.
func TestSMSGatewayRetriesAndFailures(t *testing.T) {
	pool := dbtest.NewPool(t)
	office := testOffice(t, pool, "demo")
	ctx := context.Background()
	gw := newSMSGateway(t, http.StatusServiceUnavailable)
	sender, err := NewSMSSender(gw.URL+"/send", "gateway-token")
	if err != nil {
		t.Fatal(err)
	}
	var logs bytes.Buffer
	w := quietWorker(NewStore(pool), Senders{SMS: sender}, &logs)
	if _, err := Enqueue(ctx, pool, Message{OfficeID: office, Channel: SMS, Kind: "reminder", DedupeKey: "r:1", Recipient: "+393331234512", Body: "Domani alle 9:00, codice AB12CD"}); err != nil {
		t.Fatal(err)
	}
	if n, err := w.RunOnce(ctx); n != 1 || err != nil {
		t.Fatalf("RunOnce = %d, %v", n, err)
	}
	r := state(t, pool, "r:1")
	if r.Status != "pending" || r.Attempts != 1 || r.LastError != "SMS gateway answered 503" {
		t.Fatalf("after a 503: %+v; want pending, 1 attempt, the 503 recorded", r)
	}
	if n, _ := w.RunOnce(ctx); n != 0 {
		t.Fatalf("claimed %d messages during the back-off", n)
	}
	deadline := time.Now().Add(5 * time.Second)
	for state(t, pool, "r:1").Status == "pending" && time.Now().Before(deadline) {
		if _, err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
		time.Sleep(10 * time.Millisecond)
	}
	if r := state(t, pool, "r:1"); r.Status != "sent" || r.Attempts != 2 || r.LastError != "" {
		t.Fatalf("after the retry: %+v; want sent on attempt 2", r)
	}
	reqs := gw.received()
	if len(reqs) != 2 || reqs[1].To != "+393331234512" || reqs[1].Text != "Domani alle 9:00, codice AB12CD" || reqs[1].ID == "" || reqs[0].ID != reqs[1].ID {
		t.Errorf("gateway requests %+v; want the same message twice with the same id", reqs)
	}
	if h := gw.headers[1]; h.Get("Authorization") != "Bearer gateway-token" || h.Get("Idempotency-Key") != reqs[1].ID {
		t.Errorf("gateway headers %v", h)
	}

	// A permanent refusal, a rate limit, and a number that is not one.
	gw.mu.Lock()
	gw.script = []int{http.StatusBadRequest, http.StatusTooManyRequests}
	gw.mu.Unlock()
	for _, k := range []string{"r:2", "r:3"} {
		if _, err := Enqueue(ctx, pool, Message{OfficeID: office, Channel: SMS, Kind: "reminder", DedupeKey: k, Recipient: "+393331234599", Body: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := Enqueue(ctx, pool, Message{OfficeID: office, Channel: SMS, Kind: "reminder", DedupeKey: "r:4", Recipient: "333 1234", Body: "x"}); err != nil {
		t.Fatal(err)
	}
	w.Parallel = 1 // in order: r:2 meets the 400, r:3 the 429
	if n, err := w.RunOnce(ctx); n != 3 || err != nil {
		t.Fatalf("RunOnce = %d, %v", n, err)
	}
	if r := state(t, pool, "r:2"); r.Status != "failed" || r.Attempts != 1 || r.LastError != "SMS gateway answered 400" {
		t.Errorf("after a 400: %+v; want failed at once", r)
	}
	if r := state(t, pool, "r:3"); r.Status != "pending" || r.Attempts != 1 || r.LastError != "SMS gateway answered 429" {
		t.Errorf("after a 429: %+v; want pending", r)
	}
	if r := state(t, pool, "r:4"); r.Status != "failed" || r.Attempts != 1 || len(gw.received()) != 4 {
		t.Errorf("a bad number: %+v, %d gateway requests; want failed without a request", r, len(gw.received()))
	}
	if strings.Contains(logs.String(), "3331234") {
		t.Errorf("the log names a phone number:\n%s", logs.String())
	}
}

// After MaxAttempts failed attempts a message is given up.
func TestGivesUpAfterMaxAttempts(t *testing.T) {
	pool := dbtest.NewPool(t)
	office := testOffice(t, pool, "demo")
	ctx := context.Background()
	gw := newSMSGateway(t, 500, 502, 503, 504)
	sender, _ := NewSMSSender(gw.URL, "")
	w := quietWorker(NewStore(pool), Senders{SMS: sender}, io.Discard)
	w.MaxAttempts = 3
	if _, err := Enqueue(ctx, pool, Message{OfficeID: office, Channel: SMS, Kind: "reminder", DedupeKey: "g:1", Recipient: "+393331234512", Body: "x"}); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		dueNow(t, pool)
		if _, err := w.RunOnce(ctx); err != nil {
			t.Fatal(err)
		}
	}
	if r := state(t, pool, "g:1"); r.Status != "failed" || r.Attempts != 3 || r.LastError != "SMS gateway answered 503" {
		t.Errorf("%+v; want failed after 3 attempts", r)
	}
	dueNow(t, pool)
	if n, _ := w.RunOnce(ctx); n != 0 || len(gw.received()) != 3 {
		t.Errorf("a failed message was claimed again (%d, %d requests)", n, len(gw.received()))
	}
	if got := w.backoff(1); got != 50*time.Millisecond {
		t.Errorf("first back-off %v", got)
	}
	if got := (&Worker{}).backoff(3); got != 2*time.Minute {
		t.Errorf("default third back-off %v; want 30 s × 4", got)
	}
	if got := (&Worker{}).backoff(30); got != time.Hour {
		t.Errorf("default back-off cap %v", got)
	}
}

// Two workers on two pools (two nodes) drain one outbox: every message is delivered exactly once.
func TestTwoWorkersNeverSendTwice(t *testing.T) {
	dsn := dbtest.NewDatabase(t)
	ctx := context.Background()
	pools := make([]*pgxpool.Pool, 2)
	for i := range pools {
		cfg, err := pgxpool.ParseConfig(dsn)
		if err != nil {
			t.Fatal(err)
		}
		cfg.MaxConns = 6
		if pools[i], err = pgxpool.NewWithConfig(ctx, cfg); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(pools[i].Close)
	}
	office := testOffice(t, pools[0], "demo")
	const total = 300
	var mu sync.Mutex
	delivered := map[string]int{}
	gw := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var req smsRequest
		_ = json.NewDecoder(r.Body).Decode(&req)
		mu.Lock()
		delivered[req.ID]++
		n := len(delivered)
		mu.Unlock()
		if n%7 == 0 {
			time.Sleep(2 * time.Millisecond) // a slower answer now and then, so the workers interleave
		}
	}))
	t.Cleanup(gw.Close)
	for i := range total {
		if _, err := Enqueue(ctx, pools[0], Message{OfficeID: office, Channel: SMS, Kind: "turn_near",
			DedupeKey: "many:" + strconv.Itoa(i), Recipient: "+393331234512", Body: "x"}); err != nil {
			t.Fatal(err)
		}
	}
	runCtx, stop := context.WithCancel(ctx)
	var wg sync.WaitGroup
	var perWorker [2]atomic.Int64
	for i, p := range pools {
		sms, _ := NewSMSSender(gw.URL, "")
		sender := senderFunc(func(ctx context.Context, id int64, m Message) error {
			perWorker[i].Add(1)
			return sms.Send(ctx, id, m)
		})
		w := quietWorker(NewStore(p), Senders{SMS: sender}, io.Discard)
		w.Batch = 5
		wg.Go(func() { w.Run(runCtx) })
	}
	deadline := time.Now().Add(60 * time.Second)
	for {
		var sent int
		if err := pools[0].QueryRow(ctx, `SELECT count(*) FROM notifications WHERE status = 'sent'`).Scan(&sent); err != nil {
			t.Fatal(err)
		}
		if sent == total || time.Now().After(deadline) {
			break
		}
		time.Sleep(20 * time.Millisecond)
	}
	stop()
	wg.Wait()
	mu.Lock()
	defer mu.Unlock()
	if len(delivered) != total {
		t.Fatalf("%d messages delivered; want %d", len(delivered), total)
	}
	for id, n := range delivered {
		if n != 1 {
			t.Errorf("message %s delivered %d times", id, n)
		}
	}
	var attempts int
	if err := pools[0].QueryRow(ctx, `SELECT sum(attempts) FROM notifications`).Scan(&attempts); err != nil || attempts != total {
		t.Errorf("%d attempts recorded (%v); want %d", attempts, err, total)
	}
	if perWorker[0].Load() == 0 || perWorker[1].Load() == 0 {
		t.Errorf("one worker sent everything (%d, %d): the test did not race them", perWorker[0].Load(), perWorker[1].Load())
	}
	t.Logf("worker 1 sent %d, worker 2 sent %d", perWorker[0].Load(), perWorker[1].Load())
}

// senderFunc is a Sender of a function.
type senderFunc func(ctx context.Context, id int64, m Message) error

func (f senderFunc) Send(ctx context.Context, id int64, m Message) error { return f(ctx, id, m) }

// The RFC 8291 appendix A example: fixed keys and salt give its ciphertext byte for byte.
func TestEncryptRFC8291Example(t *testing.T) {
	dec := func(s string) []byte {
		b, err := b64(s)
		if err != nil {
			t.Fatal(err)
		}
		return b
	}
	as, err := ecdh.P256().NewPrivateKey(dec("yfWPiYE-n46HLnH0KqZOF1fJJU3MYrct3AELtAQ-oRw"))
	if err != nil {
		t.Fatal(err)
	}
	sub := Subscription{Endpoint: "https://push.example.net/x", Keys: SubscriptionKeys{
		P256dh: "BCVxsr7N_eNgVRqvHtD0zTZsEc6-VV-JvLexhqUzORcxaOzi6-AYWXvTBHm4bjyPjs7Vd8pZGH6SRpkNtoIAiw4", Auth: "BTBZMqHH6r4Tts7J_aSIgg"}}
	ua, secret, err := sub.keys()
	if err != nil {
		t.Fatal(err)
	}
	got, err := encrypt(as, ua, secret, dec("DGv6ra1nlYgDCS1FRnbzlw"), []byte("When I grow up, I want to be a watermelon"))
	if err != nil {
		t.Fatal(err)
	}
	want := "DGv6ra1nlYgDCS1FRnbzlwAAEABBBP4z9KsN6nGRTbVYI_c7VJSPQTBtkgcy27mlmlMoZIIgDll6e3vCYLocInmYWAmS6TlzAC8wEqKK6PBru3jl7A_yl95bQpu6cVPTpK4Mqgkf1CXztLVBSt2Ks3oZwbuwXPXLWyouBWLVWGNWQexSgSxsj_Qulcy4a-fN"
	if s := base64.RawURLEncoding.EncodeToString(got); s != want {
		t.Fatalf("ciphertext\n%s\nwant\n%s", s, want)
	}
	ua2, _ := ecdh.P256().NewPrivateKey(dec("q1dXpw3UpT5VOmu_cf_v6ih07Aems3njxI-JWgLcM94"))
	if plain, err := notifytest.DecryptPush(got, ua2, secret); err != nil || string(plain) != "When I grow up, I want to be a watermelon" {
		t.Fatalf("the test's decryption gives %q, %v", plain, err)
	}
}

// A push message is encrypted to a test subscription (its own P-256 key pair and auth secret), posted to a
// loopback push service with a VAPID JWT that verifies with the installation's public key, and the test
// decrypts it to the payload; a 410 deletes the subscription.
func TestWebPushEncryptedToSubscription(t *testing.T) {
	pool := dbtest.NewPool(t)
	office := testOffice(t, pool, "demo")
	ctx := context.Background()
	store := NewStore(pool)
	store.AllowLoopbackPush = true
	svc := notifytest.NewPushService(t)
	browser := notifytest.NewBrowser(t)
	// As the browser's PushSubscription.toJSON() gives it.
	var sub Subscription
	if err := json.Unmarshal([]byte(browser.SubscriptionJSON(svc.URL+"/wpush/v2/abc123")), &sub); err != nil {
		t.Fatal(err)
	}
	ahead := 3
	if err := store.Subscribe(ctx, office, "ticket:A023XYZ", sub, &ahead); err != nil {
		t.Fatal(err)
	}
	subs, err := store.Subscriptions(ctx, "ticket:A023XYZ")
	if err != nil || len(subs) != 1 || subs[0].Ahead == nil || *subs[0].Ahead != 3 || subs[0].Subscription != sub || subs[0].OfficeID != office {
		t.Fatalf("subscriptions %+v, %v", subs, err)
	}
	if first, err := store.MarkNotified(ctx, subs[0].ID); !first || err != nil {
		t.Fatalf("MarkNotified = %v, %v", first, err)
	}
	if again, _ := store.MarkNotified(ctx, subs[0].ID); again {
		t.Error("MarkNotified twice reported new twice")
	}
	if err := store.Subscribe(ctx, office, "ticket:B001XYZ", sub, nil); err != nil {
		t.Fatal(err)
	}
	if topics, err := store.PendingTopics(ctx, office, "ticket:", time.Now().Add(-time.Hour)); err != nil || len(topics) != 1 || topics[0] != "ticket:B001XYZ" {
		t.Errorf("pending topics %q, %v; want the one not notified", topics, err)
	}

	ok, err := EnqueuePush(ctx, pool, office, subs[0].Subscription, "turn_near", "turn_near:A023XYZ:1", "Tocca quasi a Lei", "Mancano 3 biglietti: A023", "/t/A023XYZ")
	if err != nil || !ok {
		t.Fatal(ok, err)
	}
	var logs bytes.Buffer
	w := quietWorker(store, Senders{Push: &PushSender{Store: store, Subject: "mailto:turno@demo.example.it", AllowLoopback: true, TTL: 30 * time.Minute}}, &logs)
	if n, err := w.RunOnce(ctx); n != 1 || err != nil {
		t.Fatalf("RunOnce = %d, %v", n, err)
	}
	if r := state(t, pool, "turn_near:A023XYZ:1"); r.Status != "sent" || r.Attempts != 1 {
		t.Fatalf("push message %+v", r)
	}
	received := svc.Received()
	if len(received) != 1 {
		t.Fatalf("the push service received %d requests", len(received))
	}
	req := received[0]
	if req.Path != "/wpush/v2/abc123" || req.Header.Get("Content-Encoding") != "aes128gcm" ||
		req.Header.Get("TTL") != "1800" || req.Header.Get("Content-Type") != "application/octet-stream" {
		t.Errorf("request %s %v", req.Path, req.Header)
	}
	plain, err := browser.Decrypt(req.Body)
	if err != nil {
		t.Fatalf("decrypt: %v", err)
	}
	var payload map[string]string
	if err := json.Unmarshal(plain, &payload); err != nil || payload["title"] != "Tocca quasi a Lei" || payload["body"] != "Mancano 3 biglietti: A023" || payload["url"] != "/t/A023XYZ" {
		t.Errorf("payload %s (%v)", plain, err)
	}

	// VAPID (RFC 8292): vapid t=<JWT>, k=<the installation's public key>; the JWT verifies with k.
	pub, err := store.VAPIDPublicKey(ctx)
	if err != nil {
		t.Fatal(err)
	}
	authz, ok := strings.CutPrefix(req.Header.Get("Authorization"), "vapid t=")
	jwt, k, ok2 := strings.Cut(authz, ", k=")
	if !ok || !ok2 || k != pub {
		t.Fatalf("Authorization %q; want vapid t=…, k=%s", req.Header.Get("Authorization"), pub)
	}
	parts := strings.Split(jwt, ".")
	if len(parts) != 3 {
		t.Fatalf("JWT %q", jwt)
	}
	kb, _ := b64(k)
	vk, err := ecdsa.ParseUncompressedPublicKey(elliptic.P256(), kb)
	if err != nil {
		t.Fatal(err)
	}
	sig, _ := b64(parts[2])
	digest := sha256.Sum256([]byte(parts[0] + "." + parts[1]))
	if len(sig) != 64 || !ecdsa.Verify(vk, digest[:], new(big.Int).SetBytes(sig[:32]), new(big.Int).SetBytes(sig[32:])) {
		t.Fatal("the VAPID JWT's signature does not verify with its public key")
	}
	var header, claims map[string]any
	hb, _ := b64(parts[0])
	cb, _ := b64(parts[1])
	if json.Unmarshal(hb, &header) != nil || json.Unmarshal(cb, &claims) != nil || header["alg"] != "ES256" || header["typ"] != "JWT" {
		t.Fatalf("JWT header %s claims %s", hb, cb)
	}
	exp := time.Unix(int64(claims["exp"].(float64)), 0)
	if claims["aud"] != svc.URL || claims["sub"] != "mailto:turno@demo.example.it" || time.Until(exp) < time.Hour || time.Until(exp) > 24*time.Hour {
		t.Errorf("JWT claims %s", cb)
	}

	// The push service says the subscription is gone: the message fails and the subscription is deleted.
	svc.SetStatus(http.StatusGone)
	if _, err := EnqueuePush(ctx, pool, office, sub, "turn_near", "turn_near:A023XYZ:2", "t", "b", ""); err != nil {
		t.Fatal(err)
	}
	if _, err := w.RunOnce(ctx); err != nil {
		t.Fatal(err)
	}
	if r := state(t, pool, "turn_near:A023XYZ:2"); r.Status != "failed" || r.Attempts != 1 || !strings.Contains(r.LastError, "410") {
		t.Errorf("after a 410: %+v", r)
	}
	if subs, _ := store.Subscriptions(ctx, "ticket:A023XYZ"); len(subs) != 0 {
		t.Errorf("%d subscriptions left after a 410", len(subs))
	}
	if strings.Contains(logs.String(), "abc123") {
		t.Errorf("the log names the push endpoint:\n%s", logs.String())
	}
}

// The key pair is made once: another store (another node) gets the same public key.
func TestVAPIDKeyIsMadeOnce(t *testing.T) {
	pool := dbtest.NewPool(t)
	ctx := context.Background()
	keys := make([]string, 4)
	var wg sync.WaitGroup
	for i := range keys {
		wg.Go(func() {
			k, err := NewStore(pool).VAPIDPublicKey(ctx)
			if err != nil {
				t.Error(err)
			}
			keys[i] = k
		})
	}
	wg.Wait()
	kb, err := b64(keys[0])
	if err != nil || len(kb) != 65 || kb[0] != 4 {
		t.Fatalf("public key %q is not an uncompressed P-256 point", keys[0])
	}
	for _, k := range keys[1:] {
		if k != keys[0] {
			t.Fatalf("stores disagree on the key: %q", keys)
		}
	}
}

func TestSubscribeValidates(t *testing.T) {
	pool := dbtest.NewPool(t)
	office := testOffice(t, pool, "demo")
	ctx := context.Background()
	store := NewStore(pool)
	key, _ := ecdh.P256().GenerateKey(rand.Reader)
	good := SubscriptionKeys{P256dh: base64.RawURLEncoding.EncodeToString(key.PublicKey().Bytes()), Auth: base64.RawURLEncoding.EncodeToString(make([]byte, 16))}
	bad := func(err error, field string) bool {
		var we *web.Error
		return errors.As(err, &we) && we.Field == field && we.Status == http.StatusUnprocessableEntity
	}
	for _, c := range []struct {
		sub   Subscription
		field string
	}{
		{Subscription{Endpoint: "http://push.example.net/x", Keys: good}, "endpoint"},
		{Subscription{Endpoint: "http://127.0.0.1:9/x", Keys: good}, "endpoint"}, // loopback not allowed here
		{Subscription{Endpoint: "https://10.1.2.3/x", Keys: good}, "endpoint"},
		{Subscription{Endpoint: "https://localhost/x", Keys: good}, "endpoint"},
		{Subscription{Endpoint: "not a url", Keys: good}, "endpoint"},
		{Subscription{Endpoint: "https://push.example.net/x", Keys: SubscriptionKeys{P256dh: "AAAA", Auth: good.Auth}}, "keys"},
		{Subscription{Endpoint: "https://push.example.net/x", Keys: SubscriptionKeys{P256dh: good.P256dh, Auth: "c2hvcnQ"}}, "keys"},
	} {
		if err := store.Subscribe(ctx, office, "ticket:X", c.sub, nil); !bad(err, c.field) {
			t.Errorf("Subscribe(%+v) = %v; want a 422 naming %s", c.sub, err, c.field)
		}
	}
	sub := Subscription{Endpoint: "https://fcm.googleapis.com/fcm/send/abc", Keys: good}
	if err := store.Subscribe(ctx, office, "ticket:X", sub, new(99)); !bad(err, "ahead") {
		t.Errorf("ahead 99: %v", err)
	}
	for i := range maxPerTopic + 2 {
		s := sub
		s.Endpoint += string(rune('a' + i))
		if err := store.Subscribe(ctx, office, "ticket:X", s, nil); err != nil {
			t.Fatal(err)
		}
	}
	subs, _ := store.Subscriptions(ctx, "ticket:X")
	if len(subs) != maxPerTopic || subs[len(subs)-1].Subscription.Endpoint != sub.Endpoint+string(rune('a'+maxPerTopic+1)) {
		t.Errorf("%d subscriptions kept; want the newest %d", len(subs), maxPerTopic)
	}
	if err := store.Unsubscribe(ctx, "ticket:X", subs[0].Subscription.Endpoint); err != nil {
		t.Fatal(err)
	}
	if subs, _ := store.Subscriptions(ctx, "ticket:X"); len(subs) != maxPerTopic-1 {
		t.Errorf("%d after unsubscribing one", len(subs))
	}
}

// Managers see recipients masked and counts per kind, channel and status; the purge clears personal data
// of old messages (giving up those still pending) and deletes old subscriptions.
func TestStatusAndPurge(t *testing.T) {
	pool := dbtest.NewPool(t)
	office := testOffice(t, pool, "demo")
	other := testOffice(t, pool, "other")
	ctx := context.Background()
	store := NewStore(pool)
	store.AllowLoopbackPush = true
	key, _ := ecdh.P256().GenerateKey(rand.Reader)
	sub := Subscription{Endpoint: "https://fcm.googleapis.com/fcm/send/abc", Keys: SubscriptionKeys{
		P256dh: base64.RawURLEncoding.EncodeToString(key.PublicKey().Bytes()), Auth: base64.RawURLEncoding.EncodeToString(make([]byte, 16))}}
	for _, m := range []Message{
		{OfficeID: office, Channel: Email, Kind: "booking_confirmed", DedupeKey: "s1", Recipient: "mario.rossi@example.it", Subject: "s", Body: "b",
			Attachment: &Attachment{Name: "a.ics", Type: "text/calendar", Data: []byte("x")}},
		{OfficeID: office, Channel: SMS, Kind: "reminder", DedupeKey: "s2", Recipient: "+393331234512", Body: "b"},
		{OfficeID: office, Channel: SMS, Kind: "reminder", DedupeKey: "s3", Recipient: "+393339999999", Body: "b"},
		{OfficeID: other, Channel: SMS, Kind: "reminder", DedupeKey: "s4", Recipient: "+393331111111", Body: "b"},
	} {
		if _, err := Enqueue(ctx, pool, m); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := EnqueuePush(ctx, pool, office, sub, "turn_near", "s5", "t", "b", "/t/X"); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE notifications SET status = 'sent', sent_at = now(), attempts = 1 WHERE dedupe_key IN ('s1', 's2')`); err != nil {
		t.Fatal(err)
	}
	recent, err := store.Recent(ctx, office, 10)
	if err != nil || len(recent) != 4 {
		t.Fatalf("recent %+v, %v", recent, err)
	}
	to := map[string]string{}
	for _, d := range recent {
		to[d.Kind+":"+string(d.Channel)+":"+d.Status] += d.To + ";"
	}
	want := map[string]string{"booking_confirmed:email:sent": "m***@e***.it;", "reminder:sms:sent": "+39 *** *** 12;",
		"reminder:sms:pending": "+39 *** *** 99;", "turn_near:push:pending": "fcm.googleapis.com;"}
	for k, v := range want {
		if to[k] != v {
			t.Errorf("%s: %q; want %q (all: %v)", k, to[k], v, to)
		}
	}
	b, _ := json.Marshal(recent)
	for _, secret := range []string{"mario", "example.it", "3331234512", "abc"} {
		if strings.Contains(string(b), secret) {
			t.Errorf("the status shows %q: %s", secret, b)
		}
	}
	counts, err := store.Counts(ctx, office, time.Now().Add(-time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	wantCounts := []Count{{"booking_confirmed", Email, "sent", 1}, {"reminder", SMS, "pending", 1}, {"reminder", SMS, "sent", 1}, {"turn_near", Push, "pending", 1}}
	if len(counts) != len(wantCounts) {
		t.Fatalf("counts %+v", counts)
	}
	for i := range counts {
		if counts[i] != wantCounts[i] {
			t.Errorf("count %d: %+v; want %+v", i, counts[i], wantCounts[i])
		}
	}

	if err := store.Subscribe(ctx, office, "ticket:OLD", sub, nil); err != nil {
		t.Fatal(err)
	}
	if _, err := pool.Exec(ctx, `UPDATE notifications SET created_at = now() - interval '40 days' WHERE dedupe_key IN ('s1', 's3', 's4');
		UPDATE push_subscriptions SET created_at = now() - interval '40 days'`); err != nil {
		t.Fatal(err)
	}
	n, err := store.Purge(ctx, office, time.Now().AddDate(0, 0, -30))
	if err != nil || n != 3 {
		t.Fatalf("Purge = %d, %v; want 2 messages and 1 subscription", n, err)
	}
	for k, want := range map[string]string{"s1": "sent", "s3": "failed"} {
		var recipient *string
		var subject, body, status string
		var att []byte
		if err := pool.QueryRow(ctx, `SELECT recipient, subject, body, attachment, status FROM notifications WHERE dedupe_key = $1`, k).
			Scan(&recipient, &subject, &body, &att, &status); err != nil {
			t.Fatal(err)
		}
		if recipient != nil || subject != "" || body != "" || att != nil || status != want {
			t.Errorf("%s after the purge: %v %q %q %q %s; want cleared, %s", k, recipient, subject, body, att, status, want)
		}
	}
	if r := state(t, pool, "s4"); r.Recipient == nil {
		t.Error("the purge of one office cleared another's message")
	}
	if r := state(t, pool, "s2"); r.Recipient == nil {
		t.Error("the purge cleared a recent message")
	}
	if subs, _ := store.Subscriptions(ctx, "ticket:OLD"); len(subs) != 0 {
		t.Error("an old subscription survived the purge")
	}
	if n, _ := store.Purge(ctx, office, time.Now().AddDate(0, 0, -30)); n != 0 {
		t.Errorf("a second purge changed %d rows", n)
	}
}

func TestMaskAndScrub(t *testing.T) {
	for _, c := range []struct {
		ch       Channel
		in, want string
	}{
		{Email, "mario.rossi@comune.bergamo.it", "m***@c***.it"},
		{Email, "x@y", "x***@y***"},
		{SMS, "+393331234512", "+39 *** *** 12"},
		{SMS, "+12025550123", "+1 *** *** 23"},
		{SMS, "+355691234567", "+355 *** *** 67"},
		{Push, `{"endpoint":"https://web.push.apple.com/QGx"}`, "web.push.apple.com"},
		{Email, "", ""},
	} {
		if got := Mask(c.ch, c.in); got != c.want {
			t.Errorf("Mask(%s, %q) = %q; want %q", c.ch, c.in, got, c.want)
		}
	}
	got := scrub("550 5.1.1 <anna.bianchi@example.org>: unknown; call +39 333 123 4567\r\nthen", "")
	if strings.Contains(got, "anna") || strings.Contains(got, "333 123") || strings.ContainsAny(got, "\r\n") || !strings.HasPrefix(got, "550 5.1.1") {
		t.Errorf("scrub = %q", got)
	}
}

func TestParseSMTPURL(t *testing.T) {
	for _, ok := range []string{"smtp://mail.example.org", "smtps://u:p@mail.example.org:465", "smtp://u%40x:p%2F@127.0.0.1:2525"} {
		if _, err := ParseSMTPURL(ok); err != nil {
			t.Errorf("%s: %v", ok, err)
		}
	}
	for _, bad := range []string{"", "http://mail.example.org", "smtp://", "smtp://host/path", "smtp://host?x=1"} {
		if _, err := ParseSMTPURL(bad); err == nil {
			t.Errorf("%q accepted", bad)
		}
	}
	if _, err := NewEmailSender("smtp://mail.example.org", "not an address"); err == nil {
		t.Error("a bad sender address accepted")
	}
}

// A message enqueued in a transaction wakes the worker when the transaction commits (NOTIFY), long before
// its next poll, and not before the commit.
func TestEnqueueWakesTheWorker(t *testing.T) {
	pool := dbtest.NewPool(t)
	office := testOffice(t, pool, "demo")
	ctx := context.Background()
	gw := newSMSGateway(t)
	sender, _ := NewSMSSender(gw.URL, "")
	w := quietWorker(NewStore(pool), Senders{SMS: sender}, io.Discard)
	w.Poll = time.Hour
	runCtx, stop := context.WithCancel(ctx)
	done := make(chan struct{})
	go func() { w.Run(runCtx); close(done) }()
	defer func() { stop(); <-done }()
	waitFor := func(what string, cond func() bool) {
		t.Helper()
		for deadline := time.Now().Add(20 * time.Second); !cond(); time.Sleep(10 * time.Millisecond) {
			if time.Now().After(deadline) {
				t.Fatalf("no %s", what)
			}
		}
	}
	waitFor("listener", func() bool {
		var n int
		_ = pool.QueryRow(ctx, `SELECT count(*) FROM pg_stat_activity WHERE datname = current_database()
			AND application_name = 'turno-outbox-listener' AND query = 'LISTEN turno_outbox'`).Scan(&n)
		return n == 1
	})
	tx, err := pool.Begin(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Enqueue(ctx, tx, Message{OfficeID: office, Channel: SMS, Kind: "reminder", DedupeKey: "w:1", Recipient: "+393331234512", Body: "x"}); err != nil {
		t.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond)
	if n := len(gw.received()); n != 0 {
		t.Fatalf("%d messages sent before the commit", n)
	}
	if err := tx.Commit(ctx); err != nil {
		t.Fatal(err)
	}
	waitFor("delivery after the commit", func() bool { return len(gw.received()) == 1 })
}

// The push sender's client refuses to connect to this machine or a private network, whatever the URL
// says (a name can resolve there), and follows no redirect.
func TestPushClientRefusesPrivateAddresses(t *testing.T) {
	hits := 0
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		hits++
		http.Redirect(w, r, "/elsewhere", http.StatusFound)
	}))
	defer srv.Close()
	_, err := safeClient(false).Post(srv.URL, "application/octet-stream", nil)
	if err == nil || !strings.Contains(err.Error(), "not public") || hits != 0 {
		t.Errorf("posting to the loopback: %v (%d requests); want refused", err, hits)
	}
	res, err := safeClient(true).Post(srv.URL, "application/octet-stream", nil)
	if err != nil || res.StatusCode != http.StatusFound || hits != 1 {
		t.Fatalf("with the loopback allowed: %v, %v, %d requests; want the 302 itself", res, err, hits)
	}
	res.Body.Close()
	if err := answer("push service", res, nil); !IsPermanent(err) {
		t.Errorf("a redirect is %v; want a permanent failure", err)
	}
}

// A worker whose lease ran out (another claimed the message since) cannot overwrite the outcome: the
// attempt number fences it. A claimed message is not claimed again while its lease lasts.
func TestStaleClaimIsFenced(t *testing.T) {
	pool := dbtest.NewPool(t)
	office := testOffice(t, pool, "demo")
	ctx := context.Background()
	if _, err := Enqueue(ctx, pool, Message{OfficeID: office, Channel: SMS, Kind: "reminder", DedupeKey: "f:1", Recipient: "+393331234512", Body: "x"}); err != nil {
		t.Fatal(err)
	}
	w := quietWorker(NewStore(pool), Senders{}, io.Discard)
	first, err := w.claim(ctx)
	if err != nil || len(first) != 1 || first[0].attempt != 1 {
		t.Fatalf("claim = %+v, %v", first, err)
	}
	if again, _ := w.claim(ctx); len(again) != 0 {
		t.Fatalf("claimed again during the lease: %+v", again)
	}
	dueNow(t, pool) // the lease runs out
	second, err := w.claim(ctx)
	if err != nil || len(second) != 1 || second[0].attempt != 2 {
		t.Fatalf("second claim = %+v, %v", second, err)
	}
	if err := w.Store.mark(ctx, first[0], "failed", 0, "stale"); err != nil {
		t.Fatal(err)
	}
	if r := state(t, pool, "f:1"); r.Status != "pending" || r.LastError != "" {
		t.Fatalf("the stale claim changed the message: %+v", r)
	}
	if err := w.Store.mark(ctx, second[0], "sent", 0, ""); err != nil {
		t.Fatal(err)
	}
	if r := state(t, pool, "f:1"); r.Status != "sent" || r.Attempts != 2 {
		t.Fatalf("the current claim's outcome: %+v", r)
	}
}

package displays

import (
	"context"
	"fmt"
	"net/http"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"turno/cmd/turno/demo"
	"turno/internal/auth"
	"turno/ticketing/ticketingtest"
)

// rightsGone is how soon the end of a right must end its streams: "within a few seconds" (issue 15).
const rightsGone = 5 * time.Second

// wantEnded checks that the server closes c with code 1008 and reason within rightsGone.
func wantEnded(t *testing.T, c *websocket.Conn, what, reason string) {
	t.Helper()
	code, text := waitClosed(t, c, rightsGone)
	if code != CloseRightEnded || text != reason {
		t.Fatalf("%s closed with %d %q, want %d %q", what, code, text, CloseRightEnded, reason)
	}
}

// Revoking a display device closes its streams on both nodes (the notification reaches every node; the
// periodic re-check is off), with 1008 "revoked"; another display's stream stays open and live; the token
// can no longer open one.
func TestRevokedDeviceStreamsClose(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	opt := Options{Rights: env.Auth, RightsInterval: time.Hour}
	a := newTestNode(t, env, opt)
	b := newTestNode(t, env, opt)
	ctx := context.Background()
	dev, token, err := env.Auth.CreateDevice(ctx, env.Office.ID, auth.Display, "Sala 2")
	if err != nil {
		t.Fatal(err)
	}
	onA := mustDial(t, a.srv, officePath, token)
	onB := mustDial(t, b.srv, officePath, token)
	other := mustDial(t, a.srv, officePath, demo.DisplayToken)
	read(t, onA)
	read(t, onB)
	read(t, other)

	start := time.Now()
	call(t, "DELETE", fmt.Sprintf("%s/api/v1/offices/%s/devices/%d", a.srv.URL, demo.OfficeSlug, dev.ID),
		env.Login(t, "manager"), "", http.StatusNoContent, nil)
	wantEnded(t, onA, "the stream on node A", ReasonRevoked)
	wantEnded(t, onB, "the stream on node B", ReasonRevoked)
	t.Logf("revoked → both streams closed in %v", time.Since(start).Round(time.Millisecond))

	stillOpen(t, env, other, "the other display's stream")
	if _, res, err := dial(t, b.srv, officePath, token); err == nil || res == nil || res.StatusCode != http.StatusUnauthorized {
		t.Fatalf("the revoked token opened a stream again (%v, %v)", res, err)
	}
}

// Signing out closes the streams opened with that session on both nodes, with 1008 "signed out"; a stream
// of another user's session, and one of the same user's other session, stay open.
func TestLogoutClosesStreams(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	opt := Options{Rights: env.Auth, RightsInterval: time.Hour}
	a := newTestNode(t, env, opt)
	b := newTestNode(t, env, opt)
	op1, op1Again, op2 := env.Login(t, "op1"), env.Login(t, "op1"), env.Login(t, "op2")
	onA := mustDial(t, a.srv, officePath, op1)
	onB := mustDial(t, b.srv, officePath, op1)
	otherSession := mustDial(t, b.srv, officePath, op1Again)
	otherUser := mustDial(t, a.srv, officePath, op2)
	read(t, onA)
	read(t, onB)
	read(t, otherSession)
	read(t, otherUser)

	start := time.Now()
	call(t, "POST", b.srv.URL+"/api/v1/logout", op1, "", http.StatusNoContent, nil)
	wantEnded(t, onA, "the stream on node A", ReasonSignedOut)
	wantEnded(t, onB, "the stream on node B", ReasonSignedOut)
	t.Logf("signed out → both streams closed in %v", time.Since(start).Round(time.Millisecond))
	stillOpen(t, env, otherSession, "the same user's other session")
	stillOpen(t, env, otherUser, "another user's stream")
}

// A user disabled (announced as "user:<id>") loses every stream, whichever session opened it.
func TestDisabledUserStreamsClose(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	a := newTestNode(t, env, Options{Rights: env.Auth, RightsInterval: time.Hour})
	first := mustDial(t, a.srv, officePath, env.Login(t, "op1"))
	second := mustDial(t, a.srv, officePath, env.Login(t, "op1"))
	other := mustDial(t, a.srv, officePath, env.Login(t, "op2"))
	read(t, first)
	read(t, second)
	read(t, other)
	// What disabling a user does in the database, as auth does it: the user inactive, announced.
	if _, err := env.Pool.Exec(context.Background(), `WITH u AS (UPDATE users SET active = false WHERE username = 'op1' RETURNING id)
		SELECT pg_notify($1, 'user:' || id) FROM u`, auth.RightsChannel); err != nil {
		t.Fatal(err)
	}
	wantEnded(t, first, "the first session's stream", ReasonDisabled)
	wantEnded(t, second, "the second session's stream", ReasonDisabled)
	stillOpen(t, env, other, "another user's stream")
}

// When the notification is lost (here: never sent), the periodic re-check still ends the streams of a
// revoked device and of a disabled user's session, with one query each for all of the node's streams.
func TestRightsRecheckedWithoutNotification(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	n := newTestNode(t, env, Options{Rights: env.Auth, RightsInterval: 200 * time.Millisecond})
	ctx := context.Background()
	dev, token, err := env.Auth.CreateDevice(ctx, env.Office.ID, auth.Display, "Sala 2")
	if err != nil {
		t.Fatal(err)
	}
	display := mustDial(t, n.srv, officePath, token)
	user := mustDial(t, n.srv, officePath, env.Login(t, "op1"))
	keep := mustDial(t, n.srv, officePath, demo.DisplayToken)
	keepUser := mustDial(t, n.srv, officePath, env.Login(t, "op2"))
	read(t, display)
	read(t, user)
	read(t, keep)
	read(t, keepUser)
	// Rights ended behind the node's back: no NOTIFY.
	if _, err := env.Pool.Exec(ctx, `UPDATE devices SET revoked_at = now() WHERE id = $1`, dev.ID); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Pool.Exec(ctx, `UPDATE users SET active = false WHERE username = 'op1'`); err != nil {
		t.Fatal(err)
	}
	wantEnded(t, display, "the revoked display's stream", ReasonRevoked)
	wantEnded(t, user, "the disabled user's stream", ReasonSignedOut)
	stillOpen(t, env, keep, "the other display's stream")
	stillOpen(t, env, keepUser, "the other user's stream")
}

// fakeRights counts the re-checks and finds every device alive.
type fakeRights struct{ checks chan struct{} }

func (f *fakeRights) SessionsAlive(context.Context, [][]byte) (map[string]bool, error) {
	panic("no session here")
}

func (f *fakeRights) DevicesAlive(_ context.Context, ids []int64) (map[int64]bool, error) {
	f.checks <- struct{}{}
	alive := map[int64]bool{}
	for _, id := range ids {
		alive[id] = true
	}
	return alive, nil
}

// A stream authenticated just before its right ended, but subscribed just after the notification came
// (its handshake was in flight), is not missed: the remembered notice makes the node re-check at once.
func TestNoticeBeforeSubscribe(t *testing.T) {
	t.Parallel()
	f := &fakeRights{checks: make(chan struct{}, 10)}
	h := NewHub(nil, Options{Rights: f, RightsInterval: time.Hour})
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go h.watchRights(ctx)

	h.rightEnded("device:7")
	h.hold(&client{hub: h}, credential{device: 8}) // another device: nothing to check
	select {
	case <-f.checks:
		t.Fatal("a re-check ran for a stream whose right was not announced ended")
	case <-time.After(200 * time.Millisecond):
	}
	h.hold(&client{hub: h}, credential{device: 7})
	select {
	case <-f.checks:
	case <-time.After(rightsGone):
		t.Fatal("no re-check for a stream whose right was announced ended before it subscribed")
	}
}

func TestNormalNotice(t *testing.T) {
	t.Parallel()
	for in, want := range map[string]string{
		"device:7":        "device:7",
		"device:007":      "device:7",
		"user:12":         "user:12",
		"session:ABCDEF":  "session:abcdef",
		"session:abc":     "",
		"device:-1":       "",
		"device:x":        "",
		"nothing":         "",
		"printer:3":       "",
		"session:":        "",
		"user:1:2":        "",
		"device:99999999": "device:99999999",
	} {
		got, ok := normalNotice(in)
		if (want == "") == ok || got != want {
			t.Errorf("normalNotice(%q) = %q, %v; want %q", in, got, ok, want)
		}
	}
}

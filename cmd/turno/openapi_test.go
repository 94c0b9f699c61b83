package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"

	"turno/cmd/turno/demo"
	"turno/internal/config"
	"turno/internal/database/dbtest"
	"turno/ticketing/ticketingtest"
)

// The whole server, as turno serve mounts it, on the demo office: a tour of the API that reaches the
// operations the parts' own tests do not call over HTTP, every answer validated against the document
// (ticketingtest.ValidateResponses), the streams' messages too (ValidateMessage).
func TestAPITourMatchesTheDocument(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pool := dbtest.NewPool(t)
	cfg := &config.Config{IssuePerMinute: 1000}
	a, err := newApp(ctx, cfg, slog.New(slog.DiscardHandler), pool, "http://localhost")
	if err != nil {
		t.Fatal(err)
	}
	a.auth.Cost = 4
	if err := a.seedDemoOffice(ctx); err != nil {
		t.Fatal(err)
	}
	if err := a.start(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(ticketingtest.ValidateResponses(t, a.routes()))
	t.Cleanup(srv.Close)

	call := func(method, path, token, body string, want ...int) []byte {
		t.Helper()
		res := ticketingtest.Do(t, method, srv.URL+path, token, body)
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		for _, w := range want {
			if res.StatusCode == w {
				return b
			}
		}
		t.Errorf("%s %s: %d %s; want %v", method, path, res.StatusCode, b, want)
		return b
	}
	login := func(user string) string {
		var v struct{ Token string }
		if err := json.Unmarshal(call("POST", "/api/v1/login", "", fmt.Sprintf(`{"username":%q,"password":%q}`, user, demo.Password), 200), &v); err != nil {
			t.Fatal(err)
		}
		return v.Token
	}
	manager, op := login("manager"), login("op1")
	const o = "/api/v1/offices/demo"

	// Public reads, and the whole office set-up and planning as its manager sees them.
	call("GET", "/healthz", "", "", 200)
	for _, p := range []string{"/api/v1/offices", o + "/services", o + "/priorities", o + "/queue", o + "/kiosk"} {
		call("GET", p, "", "", 200)
	}
	for _, p := range []string{"/settings", "/agencies", "/desks", "/staff", "/opening-hours", "/exceptions", "/holidays",
		"/devices", "/users", "/shift-templates", "/contracts", "/absences", "/demand", "/planning-settings", "/rosters"} {
		call("GET", o+p, manager, "", 200)
	}
	call("GET", "/api/v1/me", manager, "", 200)
	call("PUT", o+"/settings", manager, `{"issuing_always_open":true}`, 200)
	call("POST", o+"/demand/refresh", manager, "", 200)

	var staff []struct {
		ID   int64
		Code string
	}
	if err := json.Unmarshal(call("GET", o+"/staff", manager, "", 200), &staff); err != nil || len(staff) == 0 {
		t.Fatalf("staff: %v", err)
	}
	call("GET", fmt.Sprintf("%s/staff/%d", o, staff[0].ID), manager, "", 200)
	call("GET", fmt.Sprintf("%s/staff/%d/preferences", o, staff[0].ID), manager, "", 200)
	call("POST", fmt.Sprintf("%s/staff/%d/feed-token", o, staff[0].ID), manager, "", 201)

	var devices []struct {
		ID   int64
		Kind string
	}
	if err := json.Unmarshal(call("GET", o+"/devices", manager, "", 200), &devices); err != nil {
		t.Fatal(err)
	}
	for _, d := range devices {
		if d.Kind == "display" {
			call("PATCH", fmt.Sprintf("%s/devices/%d", o, d.ID), manager, `{"settings":{"audiences":["citizen"],"calls":6,"voice":false}}`, 200)
		}
	}

	var desks []struct {
		ID, Number int64
		Name       string
	}
	if err := json.Unmarshal(call("GET", o+"/desks", op, "", 200), &desks); err != nil || len(desks) == 0 {
		t.Fatalf("desks: %v", err)
	}
	call("PUT", fmt.Sprintf("%s/desks/%d", o, desks[0].Number), manager, fmt.Sprintf(`{"name":%q}`, desks[0].Name), 200)

	// The office's stream as the display sees it: a snapshot, then the events of the desk flow below.
	header := http.Header{"Authorization": {"Bearer " + demo.DisplayToken}}
	wsURL := "ws" + strings.TrimPrefix(srv.URL, "http")
	conn, _, err := websocket.DefaultDialer.Dial(wsURL+"/ws/offices/demo/events", header)
	if err != nil {
		t.Fatalf("office stream: %v", err)
	}
	defer conn.Close()
	read := func(c *websocket.Conn) (string, []byte) {
		t.Helper()
		_ = c.SetReadDeadline(time.Now().Add(10 * time.Second))
		_, msg, err := c.ReadMessage()
		if err != nil {
			t.Fatalf("stream: %v", err)
		}
		var v struct{ Type string }
		_ = json.Unmarshal(msg, &v)
		return v.Type, msg
	}
	if typ, msg := read(conn); typ != "snapshot" {
		t.Fatalf("first message %s, want a snapshot", msg)
	} else {
		ticketingtest.ValidateMessage(t, "OfficeSnapshot", msg)
	}

	// A ticket from the kiosk, followed by its phone; the operator's day at a desk.
	var services []struct {
		Code   string
		Active bool
	}
	if err := json.Unmarshal(call("GET", o+"/services", "", "", 200), &services); err != nil || len(services) == 0 || !services[0].Active {
		t.Fatalf("services: %v %+v", err, services)
	}
	var ticket struct{ Code string }
	if err := json.Unmarshal(call("POST", o+"/tickets", demo.KioskToken, fmt.Sprintf(`{"service":%q}`, services[0].Code), 201), &ticket); err != nil {
		t.Fatal(err)
	}
	phone, _, err := websocket.DefaultDialer.Dial(wsURL+"/ws/tickets/"+ticket.Code+"/events", nil)
	if err != nil {
		t.Fatalf("ticket stream: %v", err)
	}
	defer phone.Close()
	if typ, msg := read(phone); typ != "snapshot" {
		t.Fatalf("first message %s, want a snapshot", msg)
	} else {
		ticketingtest.ValidateMessage(t, "TicketSnapshot", msg)
	}
	call("GET", "/t/"+ticket.Code+".png", "", "", 200)

	desk := fmt.Sprintf("/api/v1/desks/%d", desks[0].ID)
	call("POST", desk+"/open", op, "", 200)
	// The phone learns its position; the desk page's stream carries its desk's state.
	for typ, msg := read(phone); typ != "ticket.state"; typ, msg = read(phone) {
		ticketingtest.ValidateMessage(t, wsSchema(typ), msg)
	}
	deskConn, _, err := websocket.DefaultDialer.Dial(fmt.Sprintf("%s/ws/offices/demo/events?desk=%d", wsURL, desks[0].ID),
		http.Header{"Authorization": {"Bearer " + op}})
	if err != nil {
		t.Fatalf("desk stream: %v", err)
	}
	defer deskConn.Close()
	for {
		typ, msg := read(deskConn)
		ticketingtest.ValidateMessage(t, wsSchema(typ), msg)
		if typ == "desk.state" {
			break
		}
	}
	call("GET", desk, op, "", 200)
	call("GET", desk+"/waiting", op, "", 200)
	if len(call("POST", desk+"/next", op, "", 200, 204)) > 0 {
		call("POST", desk+"/no-show", op, "", 200)
	} else {
		call("POST", desk+"/no-show", op, "", 409)
	}
	call("POST", desk+"/pause", op, `{"reason":"break"}`, 200)
	call("POST", desk+"/resume", op, "", 200)
	call("POST", desk+"/close", op, "", 200)
	seen := map[string]bool{}
	for !seen["desk.closed"] {
		typ, msg := read(conn)
		seen[typ] = true
		ticketingtest.ValidateMessage(t, wsSchema(typ), msg)
	}
	if !seen["queue.state"] {
		t.Error("the display's stream carried no queue.state")
	}

	// The operator's own shifts and calendar feed, then signing out.
	call("GET", "/api/v1/me/shifts", op, "", 200)
	var feed struct{ URL string }
	if err := json.Unmarshal(call("POST", "/api/v1/me/feed-token", op, "", 201), &feed); err != nil {
		t.Fatal(err)
	}
	if i := strings.Index(feed.URL, "/ical/"); i >= 0 {
		call("GET", feed.URL[i:], "", "", 200)
	}
	call("POST", "/api/v1/logout", login("op2"), "", 204)

	// A roster: queued or solving at once; its substitutions for an absence it does not know.
	from := time.Now().AddDate(0, 0, 14).Format(time.DateOnly)
	to := time.Now().AddDate(0, 0, 20).Format(time.DateOnly)
	var roster struct{ ID int64 }
	if err := json.Unmarshal(call("POST", o+"/rosters", manager, fmt.Sprintf(`{"from":%q,"to":%q,"time_limit_seconds":1}`, from, to), 202), &roster); err != nil {
		t.Fatal(err)
	}
	call("GET", fmt.Sprintf("/api/v1/rosters/%d", roster.ID), manager, "", 200)
	call("GET", fmt.Sprintf("/api/v1/rosters/%d/substitutions?absence=999999", roster.ID), manager, "", 422)

	// Errors every office route shares.
	call("GET", "/api/v1/offices/nowhere/queue", "", "", 404)
	call("GET", o+"/settings", "", "", 401)
	call("GET", o+"/settings", op, "", 403)
	call("GET", o+"/queue", "not-a-token", "", 401)
}

// wsSchema names the schema of a stream message of type typ.
func wsSchema(typ string) string {
	switch typ {
	case "snapshot":
		return "OfficeSnapshot"
	case "heartbeat":
		return "Heartbeat"
	case "queue.state":
		return "QueueState"
	case "desk.state":
		return "DeskStateMessage"
	case "ticket.state":
		return "TicketStateMessage"
	}
	return "Event"
}

package ticketing_test

import (
	"context"
	"net/http"
	"strings"
	"testing"

	"turno/ticketing/ticketingtest"
)

// A manager creates a kiosk token that can issue tickets and nothing else, then revokes it.
func TestManagerCreatesAndRevokesDeviceTokens(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	srv := env.Server(t)
	manager := env.Login(t, "manager")
	var created struct {
		Device struct {
			ID   int64
			Kind string
		}
		Token string
	}
	decode(t, ticketingtest.Do(t, "POST", srv.URL+"/api/v1/offices/demo/devices", manager, `{"kind":"kiosk","name":"Totem 2"}`), 201, &created)
	if created.Token == "" || created.Device.Kind != "kiosk" {
		t.Fatalf("created %+v", created)
	}
	var tk struct{ Number string }
	decode(t, ticketingtest.Do(t, "POST", srv.URL+"/api/v1/offices/demo/tickets", created.Token, `{"service":"cie"}`), 201, &tk)
	expectError(t, ticketingtest.Do(t, "GET", srv.URL+"/api/v1/offices/demo/devices", created.Token, ""), 403, "forbidden")
	expectError(t, ticketingtest.Do(t, "POST", srv.URL+"/api/v1/offices/demo/devices", manager, `{"kind":"printer","name":"x"}`), 422, "invalid_kind")

	res := ticketingtest.Do(t, "DELETE", srv.URL+"/api/v1/offices/demo/devices/"+itoa(created.Device.ID), manager, "")
	res.Body.Close()
	if res.StatusCode != http.StatusNoContent {
		t.Fatalf("revoke: %d", res.StatusCode)
	}
	expectError(t, ticketingtest.Do(t, "POST", srv.URL+"/api/v1/offices/demo/tickets", created.Token, `{"service":"cie"}`), 401, "unauthorized")
}

// Login attempts are rate-limited per address.
func TestLoginIsRateLimited(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	srv := env.Server(t)
	limited := 0
	for i := 0; i < 30; i++ {
		res := ticketingtest.Do(t, "POST", srv.URL+"/api/v1/login", "", `{"username":"op1","password":"guess"}`)
		res.Body.Close()
		if res.StatusCode == http.StatusTooManyRequests {
			limited++
		}
	}
	if limited == 0 {
		t.Fatal("30 failed logins from one address in a row were never rate-limited")
	}
}

// The holder of a code cancels a waiting ticket; closing time expires what is still waiting.
func TestCancelAndExpire(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	srv := env.Server(t)
	var a, b struct {
		Code, Status string
	}
	decode(t, ticketingtest.Do(t, "POST", srv.URL+"/api/v1/offices/demo/tickets", "demo-kiosk", `{"service":"cie"}`), 201, &a)
	decode(t, ticketingtest.Do(t, "POST", srv.URL+"/api/v1/offices/demo/tickets", "demo-kiosk", `{"service":"cie"}`), 201, &b)
	decode(t, ticketingtest.Do(t, "POST", srv.URL+"/api/v1/tickets/"+a.Code+"/cancel", "", ""), 200, &a)
	if a.Status != "cancelled" {
		t.Fatalf("cancelled ticket is %q", a.Status)
	}
	expectError(t, ticketingtest.Do(t, "POST", srv.URL+"/api/v1/tickets/"+a.Code+"/cancel", "", ""), 409, "not_waiting")
	n, err := env.Store.ExpireWaiting(context.Background(), env.Office.ID)
	if err != nil || n != 1 {
		t.Fatalf("expired %d tickets (%v), want 1", n, err)
	}
	decode(t, ticketingtest.Do(t, "GET", srv.URL+"/api/v1/tickets/"+b.Code, "", ""), 200, &b)
	if b.Status != "expired" {
		t.Fatalf("the waiting ticket is %q after closing, want expired", b.Status)
	}
}

// Over HTTP, a retried issue with the same Idempotency-Key answers 200 with the same ticket and says so.
func TestIdempotencyKeyOverHTTP(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	srv := env.Server(t)
	issueAs := func(token, body string) *http.Response {
		req, _ := http.NewRequest("POST", srv.URL+"/api/v1/offices/demo/tickets", strings.NewReader(body))
		req.Header.Set("Authorization", "Bearer "+token)
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Idempotency-Key", "tap-7f3a")
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		return res
	}
	issue := func() *http.Response { return issueAs("demo-kiosk", `{"service":"cie"}`) }
	var first, second struct{ ID int64 }
	decode(t, issue(), 201, &first)
	res := issue()
	if res.Header.Get("Idempotent-Replayed") != "true" {
		t.Errorf("replay lacks the Idempotent-Replayed header")
	}
	decode(t, res, 200, &second)
	if first.ID == 0 || first.ID != second.ID {
		t.Fatalf("first %d, replay %d: want the same ticket", first.ID, second.ID)
	}
	// The same key with another request is refused and writes nothing.
	before := takeSnapshot(t, env)
	expectError(t, issueAs("demo-kiosk", `{"service":"certificati"}`), 422, "idempotency_key_reused")
	if after := takeSnapshot(t, env); after != before {
		t.Errorf("a reused key wrote: %+v → %+v", before, after)
	}
	// The key belongs to its issuer: a staff member issuing with the same key gets a ticket of their own.
	var staffs struct{ ID int64 }
	decode(t, issueAs(env.Login(t, "op1"), `{"service":"cie"}`), 201, &staffs)
	if staffs.ID == first.ID {
		t.Errorf("another issuer's key returned the kiosk's ticket %d", first.ID)
	}
}

package displays

import (
	"context"
	"io"
	"net/http"
	"strings"
	"testing"

	"github.com/go-chi/chi/v5"

	"turno/cmd/turno/demo"
	"turno/internal/auth"
	"turno/ticketing"
	"turno/ticketing/ticketingtest"
)

// liveServer serves the core routes and the displays part's, with responses checked against the API
// document.
func liveServer(t *testing.T, env *ticketingtest.Env) string {
	t.Helper()
	hub := NewHub(env.Store, Options{})
	return env.Server(t, func(r chi.Router) { (&Server{Store: env.Store, Auth: env.Auth, Hub: hub}).Routes(r) }).URL
}

// otherManager creates a second office with a manager of its own and returns the manager's token.
func otherManager(t *testing.T, env *ticketingtest.Env) string {
	t.Helper()
	ctx := context.Background()
	other := &ticketing.Office{Slug: "altra", Name: "Altra sede"}
	if _, err := env.Store.SaveOffice(ctx, other); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Auth.CreateUser(ctx, auth.NewUser{Username: "manager2", Password: demo.Password, Role: auth.Manager, OfficeID: other.ID}, false); err != nil {
		t.Fatal(err)
	}
	return env.Login(t, "manager2")
}

// The floor and the live page are for the office's managers: operators, devices and managers of another
// office are refused, on the API and on the page.
func TestLiveFloorAccess(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	url := liveServer(t, env)
	manager, other := env.Login(t, "manager"), otherManager(t, env)
	op1 := env.Login(t, "op1")
	issue(t, env, "cie")

	var floor ticketing.Floor
	call(t, "GET", url+"/api/v1/offices/demo/floor", manager, "", http.StatusOK, &floor)
	if floor.Office != "demo" || len(floor.Desks) == 0 || len(floor.Services) == 0 {
		t.Fatalf("floor %+v", floor)
	}
	call(t, "GET", url+"/api/v1/offices/demo/floor", env.Login(t, "admin"), "", http.StatusOK, nil)
	for who, token := range map[string]string{"operator": op1, "kiosk": demo.KioskToken, "display": demo.DisplayToken, "other office's manager": other} {
		if status, _ := ticketingtest.Call(t, "GET", url+"/api/v1/offices/demo/floor", token, ""); status != http.StatusForbidden {
			t.Errorf("floor as %s: %d, want 403", who, status)
		}
	}
	if status, _ := ticketingtest.Call(t, "GET", url+"/api/v1/offices/demo/floor", "", ""); status != http.StatusUnauthorized {
		t.Errorf("floor anonymous: %d, want 401", status)
	}

	// page returns the status and body of /manage/live, or 401 when it sent the caller to sign in.
	page := func(token, query string) (int, string) {
		res := ticketingtest.Do(t, "GET", url+"/manage/live"+query, token, "")
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		if res.Request.URL.Path == "/login" {
			return http.StatusUnauthorized, string(b)
		}
		return res.StatusCode, string(b)
	}
	status, body := page(manager, "")
	if status != http.StatusOK || !strings.Contains(body, `data-floor="/api/v1/offices/demo/floor"`) ||
		!strings.Contains(body, `data-stream="/ws/offices/demo/events"`) || !strings.Contains(body, "Sala in diretta") {
		t.Fatalf("/manage/live as manager: %d\n%s", status, body)
	}
	for who, c := range map[string]struct{ token, query string }{
		"operator": {op1, ""}, "other office's manager": {other, "?office=demo"},
		"display": {demo.DisplayToken, ""}, "kiosk": {demo.KioskToken, ""},
	} {
		if status, body := page(c.token, c.query); (status != http.StatusForbidden && status != http.StatusUnauthorized) || strings.Contains(body, "live-app") {
			t.Errorf("/manage/live%s as %s: %d, want it refused", c.query, who, status)
		}
	}
	// Without ?office= a manager of another office sees the live floor of their own office.
	if status, body := page(other, ""); status != http.StatusOK || !strings.Contains(body, `data-floor="/api/v1/offices/altra/floor"`) {
		t.Errorf("/manage/live as the other office's manager: %d", status)
	}
}

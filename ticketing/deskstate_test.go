package ticketing_test

import (
	"encoding/json"
	"io"
	"net/http"
	"testing"
	"time"

	"turno/ticketing/ticketingtest"
)

// The desk state carries the server's clock and, while paused, when the pause began: the desk page counts
// the pause from them.
func TestDeskStateCarriesPauseStartAndServerTime(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	srv := env.Server(t)
	ctx := t.Context()
	desk := env.DeskID(t, 1)
	user := env.UserID(t, "op1")
	token := env.Login(t, "op1")
	pausedAt := time.Date(2026, 3, 10, 9, 15, 0, 0, time.UTC)
	env.SetNow(pausedAt)
	if _, err := env.Store.OpenDesk(ctx, desk, user, env.StaffID(t, "op1")); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Store.Pause(ctx, desk, user, "break"); err != nil {
		t.Fatal(err)
	}
	env.Advance(90 * time.Second)

	state := getDeskState(t, srv.URL+"/api/v1/desks/"+itoa(desk), token)
	if state["paused"] != true || state["paused_at"] != pausedAt.Format(time.RFC3339) {
		t.Errorf("paused %v at %v, want true at %s", state["paused"], state["paused_at"], pausedAt.Format(time.RFC3339))
	}
	if want := pausedAt.Add(90 * time.Second).Format(time.RFC3339); state["server_time"] != want {
		t.Errorf("server_time %v, want %s", state["server_time"], want)
	}

	if _, err := env.Store.Resume(ctx, desk, user); err != nil {
		t.Fatal(err)
	}
	state = getDeskState(t, srv.URL+"/api/v1/desks/"+itoa(desk), token)
	if _, ok := state["paused_at"]; ok || state["paused"] != false {
		t.Errorf("after resuming: paused %v, paused_at %v; want false and no paused_at", state["paused"], state["paused_at"])
	}
	if _, ok := state["server_time"]; !ok {
		t.Error("server_time is missing after resuming")
	}
}

func getDeskState(t *testing.T, url, token string) map[string]any {
	t.Helper()
	res := ticketingtest.Do(t, "GET", url, token, "")
	defer res.Body.Close()
	body, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, body)
	}
	var state map[string]any
	if err := json.Unmarshal(body, &state); err != nil {
		t.Fatalf("desk state %s: %v", body, err)
	}
	return state
}

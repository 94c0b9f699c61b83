package plan

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"turno/ticketing/ticketingtest"
)

// TestStartFailsOrphans: at start, a roster left solving by a stopped node (its lease expired) is marked
// failed; one whose lease another node still renews is left alone.
func TestStartFailsOrphans(t *testing.T) {
	t.Parallel()
	e := newPlanEnv(t)
	ctx := context.Background()
	var orphan, live int64
	if err := e.Pool.QueryRow(ctx, `INSERT INTO rosters (office_id, starts_on, ends_on, status, solving_until)
		VALUES ($1, '2026-06-08', '2026-06-14', 'solving', now() - interval '1 minute') RETURNING id`, e.Office.ID).Scan(&orphan); err != nil {
		t.Fatal(err)
	}
	if err := e.Pool.QueryRow(ctx, `INSERT INTO rosters (office_id, starts_on, ends_on, status, solving_until)
		VALUES ($1, '2026-06-15', '2026-06-21', 'solving', now() + interval '1 minute') RETURNING id`, e.Office.ID).Scan(&live); err != nil {
		t.Fatal(err)
	}
	e.node(t, 0) // another node starts: it sweeps
	for id, want := range map[int64]string{orphan: "failed", live: "solving"} {
		r, err := e.Planner.Roster(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		if r.Status != want {
			t.Errorf("roster %d is %s, want %s", id, r.Status, want)
		}
	}
}

// TestDraftJob: the weekly job queues the draft of the week after next once, which the queue solves; a
// second run leaves it alone.
func TestDraftJob(t *testing.T) {
	t.Parallel()
	e := newPlanEnv(t)
	ctx := context.Background()
	monday := time.Date(2026, 6, 8, 4, 0, 0, 0, e.Office.Location())
	detail, err := e.Planner.draftWeekAfterNext(ctx, e.Office, monday, 2*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(detail, "draft roster") {
		t.Errorf("detail %q does not name the queued roster", detail)
	}
	var status, from, to string
	deadline := time.Now().Add(time.Minute)
	for {
		if err := e.Pool.QueryRow(ctx, `SELECT status, starts_on::text, ends_on::text FROM rosters`).Scan(&status, &from, &to); err != nil {
			t.Fatal(err)
		}
		if (status != "queued" && status != "solving") || time.Now().After(deadline) {
			break
		}
		time.Sleep(100 * time.Millisecond)
	}
	if status != "draft" || from != "2026-06-22" || to != "2026-06-28" {
		t.Errorf("drafted %s roster %s..%s (%s), want a draft for 2026-06-22..28", status, from, to, detail)
	}
	if detail, err = e.Planner.draftWeekAfterNext(ctx, e.Office, monday, 2*time.Second); err != nil || !strings.Contains(detail, "already exists") {
		t.Errorf("second run: %q, %v", detail, err)
	}
	if err := e.Planner.DraftJob(time.Second).Check(); err != nil {
		t.Error(err)
	}
}

// TestPagesRender: the roster list, the week grid and the operator's shifts page render for their users.
func TestPagesRender(t *testing.T) {
	t.Parallel()
	e := newPlanEnv(t)
	manager := e.Login(t, "manager")
	v := e.solveRoster(t, manager, nextMonday, 7, 1)
	for _, c := range []struct{ path, token, want string }{
		{"/manage/rosters", manager, "2026-06-08"},
		{fmt.Sprintf("/manage/rosters/%d?week=0", v.ID), manager, `class="coverage"`},
		{"/me/shifts", e.Login(t, "op1"), "my-shifts"},
	} {
		res := ticketingtest.Do(t, "GET", e.Server.URL+c.path, c.token, "")
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK || !strings.Contains(string(b), c.want) {
			t.Errorf("%s: status %d, %q not in the page", c.path, res.StatusCode, c.want)
		}
	}
	// An operator is refused the manager's pages.
	res := ticketingtest.Do(t, "GET", fmt.Sprintf("%s/manage/rosters/%d", e.Server.URL, v.ID), e.Login(t, "op1"), "")
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("operator on the week grid: status %d, want 403", res.StatusCode)
	}
}

// TestPublishVersions: publishing a roster over a published one supersedes it and takes the next version;
// only drafts can be published.
func TestPublishVersions(t *testing.T) {
	t.Parallel()
	e := newPlanEnv(t)
	manager := e.Login(t, "manager")
	first := e.solveRoster(t, manager, nextMonday, 7, 1)
	second := e.solveRoster(t, manager, nextMonday, 14, 1)
	var r Roster
	if st := e.call(t, "POST", fmt.Sprintf("/api/v1/rosters/%d/publish", first.ID), manager, `{"accept_gaps":true}`, &r); st != 200 || r.Version != 1 {
		t.Fatalf("publish first: %d v%d", st, r.Version)
	}
	if st := e.call(t, "POST", fmt.Sprintf("/api/v1/rosters/%d/publish", second.ID), manager, `{"accept_gaps":true}`, &r); st != 200 || r.Version != 2 ||
		r.ParentID == nil || *r.ParentID != first.ID {
		t.Fatalf("publish second: %d %+v", st, r)
	}
	e.call(t, "GET", fmt.Sprintf("/api/v1/rosters/%d", first.ID), manager, "", &r)
	if r.Status != "superseded" {
		t.Errorf("first roster is %s, want superseded", r.Status)
	}
	var got apiError
	if st := e.call(t, "POST", fmt.Sprintf("/api/v1/rosters/%d/publish", first.ID), manager, `{"accept_gaps":true}`, &got); st != http.StatusConflict {
		t.Errorf("publishing a superseded roster: status %d, want 409", st)
	}
}

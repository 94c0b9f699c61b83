package insight_test

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"turno/cmd/turno/demo"
	"turno/internal/auth"
	"turno/ticketing"
	"turno/ticketing/insight"
	"turno/ticketing/ticketingtest"
)

// feedbackEnv is the demo office with visits recorded, the insight routes mounted, op1 at desk 1 and op2 at
// desk 2, and the clock on a Monday morning.
type feedbackEnv struct {
	*ticketingtest.Env
	store *insight.Store
	url   string
	ctx   context.Context
}

func newFeedbackEnv(t *testing.T) *feedbackEnv {
	t.Helper()
	env := ticketingtest.New(t)
	st := insight.NewStore(env.Pool, nil, env.Store)
	env.Store.Visits = st
	env.SetNow(time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC)) // Monday 09:00 in Rome
	f := &feedbackEnv{Env: env, store: st, ctx: context.Background()}
	srv := env.Server(t, func(r chi.Router) {
		(&insight.Handler{Store: st, Tickets: env.Store, Auth: env.Auth}).Routes(r)
	})
	f.url = srv.URL
	for user, n := range map[string]int{"op1": 1, "op2": 2} {
		if _, err := env.Store.OpenDesk(f.ctx, env.DeskID(t, n), env.UserID(t, user), env.StaffID(t, user)); err != nil {
			t.Fatal(err)
		}
	}
	return f
}

// issue takes a ticket for the identity card service.
func (f *feedbackEnv) issue(t *testing.T) *ticketing.Ticket {
	t.Helper()
	tk, _, err := f.Store.Issue(f.ctx, ticketing.IssueRequest{OfficeID: f.Office.ID, Service: "cie"})
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

// serve calls the next ticket at desk number n (as its operator) a minute later, starts it and finishes it
// after four minutes, and returns it.
func (f *feedbackEnv) serve(t *testing.T, n int) *ticketing.Ticket {
	t.Helper()
	desk, user := f.DeskID(t, n), f.UserID(t, fmt.Sprintf("op%d", n))
	f.Advance(time.Minute)
	tk, err := f.Store.CallNext(f.ctx, desk, user)
	if err != nil || tk == nil {
		t.Fatalf("call next at desk %d: %v %v", n, tk, err)
	}
	if _, err := f.Store.Start(f.ctx, desk, user); err != nil {
		t.Fatal(err)
	}
	f.Advance(4 * time.Minute)
	if _, err := f.Store.Finish(f.ctx, desk, user); err != nil {
		t.Fatal(err)
	}
	return tk
}

// post sends a JSON body with an optional bearer token and returns the status and the error code, if any.
func (f *feedbackEnv) post(t *testing.T, path, token, body string) (int, string) {
	t.Helper()
	res := ticketingtest.Do(t, "POST", f.url+path, token, body)
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	var e struct {
		Error struct{ Code string } `json:"error"`
	}
	_ = json.Unmarshal(b, &e)
	return res.StatusCode, e.Error.Code
}

// state asks GET /api/v1/tickets/{code}/feedback.
func (f *feedbackEnv) state(t *testing.T, code string) string {
	t.Helper()
	status, body := ticketingtest.Call(t, "GET", f.url+"/api/v1/tickets/"+code+"/feedback", "", "")
	m, _ := body.(map[string]any)
	if status != http.StatusOK || m == nil {
		t.Fatalf("feedback state: %d %v", status, body)
	}
	s, _ := m["state"].(string)
	return s
}

// tablet creates a feedback tablet of office officeID paired to desk number n (0: none) and returns its token.
func (f *feedbackEnv) tablet(t *testing.T, officeID int64, n int) string {
	t.Helper()
	d, token, err := f.Auth.CreateDevice(f.ctx, officeID, auth.Feedback, fmt.Sprintf("Tablet %d", n))
	if err != nil {
		t.Fatal(err)
	}
	if n > 0 {
		if _, err := f.Auth.SaveDeviceSettings(f.ctx, officeID, d.ID, auth.Feedback, map[string]any{"desk": n}); err != nil {
			t.Fatal(err)
		}
	}
	return token
}

// A visit is rated once, only when it was served: 422 before, 201 once (anonymous, the comment trimmed),
// 409 after; the state the phone page reads follows along.
func TestFeedbackOnceWhenDone(t *testing.T) {
	t.Parallel()
	f := newFeedbackEnv(t)
	tk := f.issue(t)
	path := "/api/v1/tickets/" + tk.Code + "/feedback"
	if st := f.state(t, tk.Code); st != "pending" {
		t.Errorf("state while waiting = %q, want pending", st)
	}
	if status, code := f.post(t, path, "", `{"score":5}`); status != 422 || code != "not_done" {
		t.Errorf("before done: %d %s, want 422 not_done", status, code)
	}
	f.serve(t, 1)
	if st := f.state(t, tk.Code); st != "open" {
		t.Errorf("state when done = %q, want open", st)
	}
	if status, code := f.post(t, path, "", `{"score":4,"comment":"  Gentili e veloci.\r\nGrazie!  "}`); status != 201 {
		t.Fatalf("first rating: %d %s, want 201", status, code)
	}
	if status, code := f.post(t, path, "", `{"score":1}`); status != 409 || code != "feedback_given" {
		t.Errorf("second rating: %d %s, want 409 feedback_given", status, code)
	}
	if st := f.state(t, tk.Code); st != "given" {
		t.Errorf("state when rated = %q, want given", st)
	}
	var score int
	var comment, source string
	err := f.Pool.QueryRow(f.ctx, `SELECT score, comment, source FROM feedback WHERE last_ticket_id = $1`, tk.ID).Scan(&score, &comment, &source)
	if err != nil {
		t.Fatal(err)
	}
	if score != 4 || comment != "Gentili e veloci.\nGrazie!" || source != "phone" {
		t.Errorf("feedback row = %d %q %s, want 4, the trimmed comment, phone", score, comment, source)
	}
	if n := f.Count(t, `SELECT count(*) FROM feedback`); n != 1 {
		t.Errorf("%d feedback rows, want 1", n)
	}
}

// Twenty ratings of one visit at once: exactly one is recorded (201), the others are told 409.
func TestFeedbackConcurrentOnce(t *testing.T) {
	t.Parallel()
	f := newFeedbackEnv(t)
	tk := f.issue(t)
	f.serve(t, 1)
	var wg sync.WaitGroup
	statuses := make([]int, 20)
	for i := range statuses {
		wg.Add(1)
		go func() {
			defer wg.Done()
			body := fmt.Sprintf(`{"score":%d}`, i%5+1)
			req, _ := http.NewRequest("POST", f.url+"/api/v1/tickets/"+tk.Code+"/feedback", strings.NewReader(body))
			req.Header.Set("Content-Type", "application/json")
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Error(err)
				return
			}
			res.Body.Close()
			statuses[i] = res.StatusCode
		}()
	}
	wg.Wait()
	created, conflicts := 0, 0
	for _, s := range statuses {
		switch s {
		case 201:
			created++
		case 409:
			conflicts++
		}
	}
	if created != 1 || conflicts != 19 {
		t.Errorf("statuses %v: %d created, %d conflicts; want 1 and 19", statuses, created, conflicts)
	}
	if n := f.Count(t, `SELECT count(*) FROM feedback`); n != 1 {
		t.Errorf("%d feedback rows, want 1", n)
	}
}

// A visit that ended without being served (a no-show, a cancellation) has nothing to rate: 422.
func TestFeedbackNotServed(t *testing.T) {
	t.Parallel()
	f := newFeedbackEnv(t)
	missed := f.issue(t)
	desk, user := f.DeskID(t, 1), f.UserID(t, "op1")
	f.Advance(time.Minute)
	if _, err := f.Store.CallNext(f.ctx, desk, user); err != nil {
		t.Fatal(err)
	}
	f.Advance(3 * time.Minute)
	if _, err := f.Store.NoShow(f.ctx, desk, user); err != nil {
		t.Fatal(err)
	}
	cancelled := f.issue(t)
	if _, err := f.Store.Cancel(f.ctx, cancelled.Code); err != nil {
		t.Fatal(err)
	}
	for name, tk := range map[string]*ticketing.Ticket{"no-show": missed, "cancelled": cancelled} {
		if status, code := f.post(t, "/api/v1/tickets/"+tk.Code+"/feedback", "", `{"score":2}`); status != 422 || code != "not_served" {
			t.Errorf("%s: %d %s, want 422 not_served", name, status, code)
		}
		if st := f.state(t, tk.Code); st != "closed" {
			t.Errorf("%s: state %q, want closed", name, st)
		}
	}
	if status, code := f.post(t, "/api/v1/tickets/nosuchcode234567/feedback", "", `{"score":2}`); status != 404 || code != "unknown_ticket" {
		t.Errorf("unknown code: %d %s, want 404 unknown_ticket", status, code)
	}
	if n := f.Count(t, `SELECT count(*) FROM feedback`); n != 0 {
		t.Errorf("%d feedback rows, want none", n)
	}
}

// Bad ratings are refused with 422 naming the field and write nothing; a comment of exactly 1000
// characters (not bytes) is fine.
func TestFeedbackBadInput(t *testing.T) {
	t.Parallel()
	f := newFeedbackEnv(t)
	tk := f.issue(t)
	f.serve(t, 1)
	path := "/api/v1/tickets/" + tk.Code + "/feedback"
	for _, c := range []struct{ body, code string }{
		{`{}`, "invalid_score"},
		{`{"score":0}`, "invalid_score"},
		{`{"score":6}`, "invalid_score"},
		{`{"score":2.5}`, "invalid_score"},
		{`{"score":"4"}`, "invalid_score"},
		{`{"score":3,"comment":"` + strings.Repeat("è", 1001) + `"}`, "invalid_comment"},
		{`{"score":3,"comment":"ding\u0007"}`, "invalid_comment"},
		{`{"score":3,"comment":"abc\u202edef"}`, "invalid_comment"},
	} {
		if status, code := f.post(t, path, "", c.body); status != 422 || code != c.code {
			t.Errorf("%.60s: %d %s, want 422 %s", c.body, status, code, c.code)
		}
	}
	if n := f.Count(t, `SELECT count(*) FROM feedback`); n != 0 {
		t.Fatalf("%d feedback rows after refused ratings, want none", n)
	}
	if status, code := f.post(t, path, "", `{"score":3,"comment":"`+strings.Repeat("è", 1000)+`"}`); status != 201 {
		t.Errorf("1000 characters: %d %s, want 201", status, code)
	}
}

// The counter tablet rates the visit just finished at its own desk, once, within five minutes; a tablet of
// another desk, the kiosk, the hall display and operators may not; a tablet of another office is told
// nothing about this one (404).
func TestTabletFeedback(t *testing.T) {
	t.Parallel()
	f := newFeedbackEnv(t)
	desk1, desk2 := f.tablet(t, f.Office.ID, 1), f.tablet(t, f.Office.ID, 2)
	unpaired := f.tablet(t, f.Office.ID, 0)
	other := &ticketing.Office{Slug: "altra", Name: "Altra sede"}
	if _, err := f.Store.SaveOffice(f.ctx, other); err != nil {
		t.Fatal(err)
	}
	foreign := f.tablet(t, other.ID, 1)
	const path = "/api/v1/offices/demo/desks/1/feedback"

	first := f.issue(t)
	second := f.issue(t)
	f.serve(t, 1) // the first ticket, at desk 1
	f.Advance(time.Minute)
	for _, c := range []struct {
		name, token string
		status      int
	}{
		{"tablet of desk 2", desk2, 403},
		{"tablet of no desk", unpaired, 403},
		{"kiosk", demo.KioskToken, 403},
		{"display", demo.DisplayToken, 403},
		{"operator", f.Login(t, "op1"), 403},
		{"anonymous", "", 401},
		{"tablet of another office", foreign, 404},
	} {
		if status, code := f.post(t, path, c.token, `{"score":5}`); status != c.status {
			t.Errorf("%s: %d %s, want %d", c.name, status, code, c.status)
		}
	}
	if status, code := f.post(t, path, desk1, `{"score":2,"comment":"Troppa attesa"}`); status != 201 {
		t.Fatalf("tablet of desk 1: %d %s, want 201", status, code)
	}
	var last int64
	var source string
	if err := f.Pool.QueryRow(f.ctx, `SELECT last_ticket_id, source FROM feedback`).Scan(&last, &source); err != nil {
		t.Fatal(err)
	}
	if last != first.ID || source != "tablet" {
		t.Errorf("rated ticket %d from %s, want %d from tablet", last, source, first.ID)
	}
	if status, code := f.post(t, path, desk1, `{"score":4}`); status != 409 || code != "no_visit" {
		t.Errorf("second tablet rating: %d %s, want 409 no_visit", status, code)
	}
	if st := f.state(t, first.Code); st != "given" {
		t.Errorf("phone state after the tablet's rating = %q, want given", st)
	}
	// The second ticket is served at desk 1 too; six minutes later it is too late to rate it at the counter.
	f.serve(t, 1)
	f.Advance(6 * time.Minute)
	if status, code := f.post(t, path, desk1, `{"score":4}`); status != 409 || code != "no_visit" {
		t.Errorf("rating after the window: %d %s, want 409 no_visit", status, code)
	}
	if st := f.state(t, second.Code); st != "open" {
		t.Errorf("phone state of the second ticket = %q, want open (the phone has no window)", st)
	}
}

// Managers pair a tablet to a desk of the office, and the devices page shows it; a desk that does not exist
// is a 422 and another kind of device a 404.
func TestSetTabletDesk(t *testing.T) {
	t.Parallel()
	f := newFeedbackEnv(t)
	d, _, err := f.Auth.CreateDevice(f.ctx, f.Office.ID, auth.Feedback, "Tablet")
	if err != nil {
		t.Fatal(err)
	}
	kiosk, err := f.Auth.DeviceByToken(f.ctx, demo.KioskToken)
	if err != nil || kiosk == nil {
		t.Fatalf("demo kiosk: %v", err)
	}
	manager := f.Login(t, "manager")
	put := func(id int64, body string) int {
		res := ticketingtest.Do(t, "PUT", fmt.Sprintf("%s/api/v1/offices/demo/devices/%d/desk", f.url, id), manager, body)
		res.Body.Close()
		return res.StatusCode
	}
	if s := put(d.ID, `{"desk":2}`); s != 200 {
		t.Fatalf("pair to desk 2: %d", s)
	}
	var desk float64
	if err := f.Pool.QueryRow(f.ctx, `SELECT (settings->>'desk')::float8 FROM devices WHERE id = $1`, d.ID).Scan(&desk); err != nil || desk != 2 {
		t.Errorf("tablet's desk = %v (%v), want 2", desk, err)
	}
	status, page := feedbackGetPage(t, f.url+"/manage/devices", manager)
	if status != 200 || !strings.Contains(page, fmt.Sprintf(`data-api="/api/v1/offices/demo/devices/%d/desk"`, d.ID)) ||
		!strings.Contains(page, `<option value="2" selected>`) {
		t.Errorf("devices page: %d, want the tablet with desk 2 chosen", status)
	}
	if s := put(d.ID, `{"desk":99}`); s != 422 {
		t.Errorf("unknown desk: %d, want 422", s)
	}
	if s := put(kiosk.ID, `{"desk":1}`); s != 404 {
		t.Errorf("a kiosk: %d, want 404", s)
	}
	if s := put(d.ID, `{"desk":null}`); s != 200 {
		t.Errorf("unpair: %d, want 200", s)
	}
	if n := f.Count(t, `SELECT count(*) FROM devices WHERE id = $1 AND settings = '{}'`, d.ID); n != 1 {
		t.Errorf("unpaired tablet keeps a desk")
	}
}

// The comments page lists comments with their day, service and score but no ticket number, the score
// distribution counts every rating, and the purge clears comments past the retention but keeps scores.
func TestCommentsAndPurge(t *testing.T) {
	t.Parallel()
	f := newFeedbackEnv(t)
	var tickets []*ticketing.Ticket
	for range 3 {
		tickets = append(tickets, f.issue(t))
	}
	for range tickets {
		f.serve(t, 1)
	}
	for i, body := range []string{`{"score":5,"comment":"Servizio <b>eccellente</b>"}`, `{"score":5}`, `{"score":2,"comment":"Lento"}`} {
		f.Advance(time.Minute)
		if status, code := f.post(t, "/api/v1/tickets/"+tickets[i].Code+"/feedback", "", body); status != 201 {
			t.Fatalf("rating %d: %d %s", i, status, code)
		}
	}
	day := f.Office.LocalDay(f.Now())
	comments, err := f.store.Comments(f.ctx, f.Office, day, day, "")
	if err != nil {
		t.Fatal(err)
	}
	if len(comments) != 2 || comments[0].Text != "Lento" || comments[0].Score != 2 || comments[0].Service != "cie" || !comments[0].Day.Equal(day) {
		t.Errorf("comments = %+v, want Lento (2, cie, today) then the other", comments)
	}
	if c, err := f.store.Comments(f.ctx, f.Office, day, day, "certificati"); err != nil || len(c) != 0 {
		t.Errorf("comments of another service = %v %v, want none", c, err)
	}
	sc, err := f.store.ScoreDistribution(f.ctx, f.Office, day, day, "")
	if err != nil {
		t.Fatal(err)
	}
	if sc.Count != 3 || sc.Counts != [5]int{0, 1, 0, 0, 2} || sc.Mean == nil || *sc.Mean != 4 {
		t.Errorf("distribution = %+v, want 3 ratings: one 2, two 5, mean 4", sc)
	}

	status, page := feedbackGetPage(t, f.url+"/manage/feedback?from="+day.Format(time.DateOnly)+"&to="+day.Format(time.DateOnly), f.Login(t, "manager"))
	if status != 200 || !strings.Contains(page, "Servizio &lt;b&gt;eccellente&lt;/b&gt;") || !strings.Contains(page, "Lento") {
		t.Errorf("comments page: %d, want 200 with both comments, escaped", status)
	}
	for _, tk := range tickets {
		if strings.Contains(page, tk.Number) || strings.Contains(page, tk.Code) {
			t.Errorf("the comments page shows ticket %s", tk.Number)
		}
	}
	if status, _ := feedbackGetPage(t, f.url+"/manage/feedback?from=2026-13-01", f.Login(t, "manager")); status != 422 {
		t.Errorf("a bad date: %d, want 422", status)
	}
	if status, _ := feedbackGetPage(t, f.url+"/manage/feedback", f.Login(t, "op1")); status != 403 {
		t.Errorf("an operator: %d, want 403", status)
	}

	// The purge clears the comments given before the cutoff, and only those.
	n, err := f.store.PurgeComments(f.ctx, f.Office.ID, f.Now().Add(-3*time.Minute), f.Now())
	if err != nil || n != 0 {
		t.Errorf("purge before the ratings cleared %d (%v), want 0", n, err)
	}
	n, err = f.store.PurgeComments(f.ctx, f.Office.ID, f.Now().Add(time.Hour), f.Now())
	if err != nil || n != 2 {
		t.Errorf("purge after the ratings cleared %d (%v), want 2", n, err)
	}
	if n := f.Count(t, `SELECT count(*) FROM feedback WHERE comment = ''`); n != 3 {
		t.Errorf("%d ratings without comment after the purge, want 3", n)
	}
	if sc, err := f.store.ScoreDistribution(f.ctx, f.Office, day, day, ""); err != nil || sc.Count != 3 {
		t.Errorf("scores after the purge: %+v %v, want 3 kept", sc, err)
	}
}

// feedbackGetPage fetches a page with a session cookie and returns its status and body.
func feedbackGetPage(t *testing.T, url, token string) (int, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: token})
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res.StatusCode, string(b)
}

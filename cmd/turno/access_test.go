package main

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"turno/cmd/turno/demo"
	"turno/docs"
	"turno/internal/auth"
	"turno/internal/config"
	"turno/internal/database/dbtest"
	"turno/scheduling/plan"
	"turno/ticketing"
)

// routesOf walks a router and returns its routes as "METHOD path".
func routesOf(t *testing.T, h http.Handler) []string {
	t.Helper()
	var out []string
	err := chi.Walk(h.(chi.Routes), func(method, route string, _ http.Handler, _ ...func(http.Handler) http.Handler) error {
		out = append(out, method+" "+route)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	slices.Sort(out)
	return out
}

// TestEveryRouteIsInTheAccessTable walks the router: a route missing from the authorization table (or an
// entry for a route that does not exist) fails the build.
func TestEveryRouteIsInTheAccessTable(t *testing.T) {
	t.Parallel()
	a := testApp(t)
	table := map[string]bool{}
	for _, e := range accessTable() {
		k := e.method + " " + e.path
		if table[k] {
			t.Errorf("%s is in the access table twice", k)
		}
		table[k] = true
	}
	for _, r := range routesOf(t, a.routes()) {
		if !table[r] {
			t.Errorf("route %s is not in the access table (cmd/turno/access.go): say who may call it", r)
		}
		delete(table, r)
	}
	for k := range table {
		t.Errorf("the access table lists %s, which the router does not serve", k)
	}
	// Every route of the JSON API (and its streams, feeds and health check) is in the OpenAPI document.
	documented := map[string]bool{}
	for _, op := range docs.Operations() {
		documented[op.Method+" "+op.Route] = true
	}
	for _, r := range routesOf(t, a.routes()) {
		method, path, _ := strings.Cut(r, " ")
		api := strings.HasPrefix(path, "/api/v1/") || strings.HasPrefix(path, "/ws/") || strings.HasPrefix(path, "/ical/") || path == "/healthz"
		if api && !documented[method+" "+docs.PathFromChi(path)] {
			t.Errorf("route %s is not in the OpenAPI document (docs/openapi.yaml)", r)
		}
	}
}

// testApp builds the whole application on a fresh test database.
func testApp(t testing.TB) *app {
	t.Helper()
	pool := dbtest.NewPool(t)
	cfg := &config.Config{IssuePerMinute: 10000}
	a, err := newApp(context.Background(), cfg, slog.New(slog.DiscardHandler), pool, "http://turno.test")
	if err != nil {
		t.Fatal(err)
	}
	return a
}

// principals is the demo office seen by each principal of the authorization table.
type principals struct {
	a       *app
	srv     *httptest.Server
	samples map[string]string // path parameter → value
	// feedbackToken is the token of the demo office's feedback tablet, paired to desk 1.
	feedbackToken string
}

// TestAccessTableIsEnforced calls every route as every principal of the authorization table: the ones
// the table allows get past authorization (any status but 401, 403 or the sign-in page), the others are
// refused. No call, allowed or not, gets a 5xx.
func TestAccessTableIsEnforced(t *testing.T) {
	t.Parallel()
	p := newPrincipals(t)
	rules := accessTable()
	// Calls that end something the later ones need go last: closing the desk, new feed tokens.
	last := func(e access) bool {
		return strings.HasSuffix(e.path, "/close") || strings.Contains(e.path, "feed")
	}
	slices.SortStableFunc(rules, func(x, y access) int {
		switch {
		case last(x) && !last(y):
			return 1
		case last(y) && !last(x):
			return -1
		}
		return 0
	})
	for _, e := range rules {
		for _, pr := range principalNames {
			status, location := p.call(t, e, pr.who)
			label := fmt.Sprintf("%s %s as %s: %d", e.method, e.path, pr.name, status)
			if status >= 500 {
				t.Errorf("%s: a server error", label)
				continue
			}
			refused := status == http.StatusUnauthorized || status == http.StatusForbidden ||
				(status == http.StatusSeeOther && strings.HasPrefix(location, "/login")) ||
				(status == http.StatusNotFound && e.hidden&pr.who != 0)
			switch {
			case e.allow == everyone:
			case e.allow&pr.who != 0 && refused:
				t.Errorf("%s: refused, but the table allows it", label)
			case e.allow&pr.who == 0 && !refused:
				t.Errorf("%s: allowed, but the table does not allow it", label)
			}
		}
	}
}

func newPrincipals(t testing.TB) *principals {
	t.Helper()
	ctx := context.Background()
	a := testApp(t)
	a.auth.Cost = 4
	o, err := demo.SeedDemoOffice(ctx, demo.Stores{Tickets: a.tickets, Auth: a.auth, Plans: a.plans, Demand: a.demand}, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	other := &ticketing.Office{Slug: "altra", Name: "Altra sede"}
	if _, err := a.tickets.SaveOffice(ctx, other); err != nil {
		t.Fatal(err)
	}
	if _, err := a.auth.CreateUser(ctx, auth.NewUser{Username: "manager2", Password: demo.Password, Role: auth.Manager, OfficeID: other.ID}, false); err != nil {
		t.Fatal(err)
	}
	p := &principals{a: a, samples: map[string]string{}}
	// The feedback tablet of desk 1 (the desk {number} of the samples).
	tablet, tabletToken, err := a.auth.CreateDevice(ctx, o.ID, auth.Feedback, "Tablet sportello 1")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := a.auth.SaveDeviceSettings(ctx, o.ID, tablet.ID, auth.Feedback, map[string]any{"desk": 1}); err != nil {
		t.Fatal(err)
	}
	p.feedbackToken = tabletToken
	p.srv = httptest.NewServer(a.routes())
	t.Cleanup(p.srv.Close)
	t.Cleanup(a.planner.Wait)

	desk := func(n int) *ticketing.Desk {
		d, err := a.tickets.DeskByNumber(ctx, o.ID, n)
		if err != nil {
			t.Fatal(err)
		}
		return d
	}
	for user, n := range map[string]int{"op1": 1, "op2": 2} {
		u := p.user(t, user)
		if _, err := a.tickets.OpenDesk(ctx, desk(n).ID, u.ID, u.StaffID); err != nil {
			t.Fatal(err)
		}
	}
	tk, _, err := a.tickets.Issue(ctx, ticketing.IssueRequest{OfficeID: o.ID, Service: "cie"})
	if err != nil {
		t.Fatal(err)
	}
	op1 := p.user(t, "op1")
	feed, err := a.planner.IssueFeedToken(ctx, op1.StaffID)
	if err != nil {
		t.Fatal(err)
	}
	templates, err := a.plans.ShiftTemplates(ctx, o.ID)
	if err != nil || len(templates) == 0 {
		t.Fatalf("shift templates: %v", err)
	}
	monday := o.LocalDay(time.Now()).AddDate(0, 0, 7)
	for ticketing.ISOWeekday(monday) != 1 {
		monday = monday.AddDate(0, 0, 1)
	}
	rosterID, err := a.planner.StartSolve(ctx, o, planPeriod(monday), nil)
	if err != nil {
		t.Fatal(err)
	}
	p.samples = map[string]string{
		"office": "demo", "desk": fmt.Sprint(desk(1).ID), "ticket": tk.Code, "staff": fmt.Sprint(op1.StaffID),
		"roster": fmt.Sprint(rosterID), "template": fmt.Sprint(templates[0].ID), "number": "1", "day": "2031-12-25",
		"device": "999999", "absence": "999999", "token": strings.TrimSuffix(strings.TrimPrefix(feed, "/ical/staff/"), ".ics"),
		"service": "cie", "agency": "comune", "priority": "over75",
	}
	return p
}

// user returns a demo user.
func (p *principals) user(t testing.TB, name string) *auth.User {
	t.Helper()
	_, u, err := p.a.auth.Login(context.Background(), name, demo.Password)
	if err != nil {
		t.Fatalf("login %s: %v", name, err)
	}
	return u
}

// path fills a route pattern's parameters with the samples.
func (p *principals) path(e access) string {
	repl := map[string]string{
		"{office}": p.samples["office"], "{desk}": p.samples["desk"], "{number}": p.samples["number"],
		"{day}": p.samples["day"], "{device}": p.samples["device"], "{token}": p.samples["token"],
	}
	path := e.path
	switch {
	case strings.HasPrefix(path, "/api/v1/rosters/"), strings.HasPrefix(path, "/manage/rosters/"):
		path = strings.Replace(path, "{id:[0-9]+}", p.samples["roster"], 1)
	case strings.Contains(path, "/shift-templates/"):
		path = strings.Replace(path, "{id}", p.samples["template"], 1)
	case strings.Contains(path, "/absences/"):
		path = strings.Replace(path, "{id}", p.samples["absence"], 1)
	case strings.Contains(path, "/services/"):
		path = strings.Replace(path, "{code}", p.samples["service"], 1)
	case strings.Contains(path, "/agencies/"):
		path = strings.Replace(path, "{code}", p.samples["agency"], 1)
	case strings.Contains(path, "/priorities/"):
		path = strings.Replace(path, "{code}", p.samples["priority"], 1)
	}
	path = strings.Replace(path, "{id}", p.samples["staff"], 1)
	path = strings.Replace(path, "{code}", p.samples["ticket"], 1)
	for k, v := range repl {
		path = strings.ReplaceAll(path, k, v)
	}
	if strings.HasSuffix(path, "/static/*") {
		path = strings.TrimSuffix(path, "*") + map[string]string{
			"/static/": "turno.css", "/desk/static/": "desk.js", "/kiosk/static/": "kiosk.js", "/display/static/": "display.js",
		}[strings.TrimSuffix(path, "*")]
	}
	return path
}

// call makes the route's sample request as one principal, with a credential of its own (users sign in
// afresh, so a call that signs out ends only its own session), and returns the status and redirect.
func (p *principals) call(t *testing.T, e access, as who) (int, string) {
	t.Helper()
	var body *strings.Reader
	form := !strings.HasPrefix(e.path, "/api/") && e.method == "POST"
	switch {
	case e.method == "GET" || e.method == "DELETE":
		body = strings.NewReader("")
	case form:
		body = strings.NewReader(url.Values{}.Encode())
	default:
		body = strings.NewReader("{}")
	}
	req, err := http.NewRequest(e.method, p.srv.URL+p.path(e), body)
	if err != nil {
		t.Fatal(err)
	}
	switch {
	case form:
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	case e.method != "GET" && e.method != "DELETE":
		req.Header.Set("Content-Type", "application/json")
	}
	token := ""
	switch as {
	case byKiosk:
		token = demo.KioskToken
	case byDisplay:
		token = demo.DisplayToken
	case byFeedback:
		token = p.feedbackToken
	case byDeskOperator, byOtherDesk, byNoDesk, byManager, byAdmin, byOtherOffice:
		name := map[who]string{byDeskOperator: "op1", byOtherDesk: "op2", byNoDesk: "op3", byManager: "manager",
			byAdmin: "admin", byOtherOffice: "manager2"}[as]
		if token, _, err = p.a.auth.Login(context.Background(), name, demo.Password); err != nil {
			t.Fatalf("login %s: %v", name, err)
		}
	}
	if token != "" {
		// Pages are signed in with the cookie, as browsers are; the API with the bearer token.
		if strings.HasPrefix(e.path, "/api/") || strings.HasPrefix(e.path, "/ws/") {
			req.Header.Set("Authorization", "Bearer "+token)
		} else if as == byKiosk || as == byDisplay || as == byFeedback {
			req.AddCookie(&http.Cookie{Name: auth.DeviceCookie, Value: token})
		} else {
			req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: token})
		}
	}
	client := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := client.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", e.method, e.path, err)
	}
	res.Body.Close()
	return res.StatusCode, res.Header.Get("Location")
}

// planPeriod is a one-week roster request starting on monday, solved briefly.
func planPeriod(monday time.Time) plan.Period {
	return plan.Period{From: monday, To: monday.AddDate(0, 0, 6), TimeLimit: time.Second, Seed: 1}
}

var updateDocs = flag.Bool("update", false, "rewrite the generated parts of the docs")

// TestSecurityDocListsTheAccessTable keeps docs/security.md's copy of the authorization table true to the
// code (go test ./cmd/turno -run SecurityDoc -update rewrites it).
func TestSecurityDocListsTheAccessTable(t *testing.T) {
	t.Parallel()
	const path = "../../docs/security.md"
	const begin, end = "<!-- access table: generated by go test ./cmd/turno -run SecurityDoc -update -->\n", "<!-- end of access table -->"
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	i, j := strings.Index(doc, begin), strings.Index(doc, end)
	if i < 0 || j < i {
		t.Fatalf("%s lacks the access table markers", path)
	}
	want := doc[:i+len(begin)] + accessMarkdown() + doc[j:]
	if want == doc {
		return
	}
	if *updateDocs {
		if err := os.WriteFile(path, []byte(want), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	t.Errorf("%s's access table differs from cmd/turno/access.go; run go test ./cmd/turno -run SecurityDoc -update", path)
}

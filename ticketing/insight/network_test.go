package insight_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"turno/internal/auth"
	"turno/internal/database/dbtest"
	"turno/ticketing"
	"turno/ticketing/insight"
	"turno/ticketing/ticketingtest"
)

func ptr(f float64) *float64 { return &f }

// TestCompareRanksAndMedian checks the network median and ranks on hand-made figures: lower waits rank
// better, a higher share within target ranks better, ties share the better rank, an office without a
// figure has no rank and does not move the median, and volumes are not ranked.
func TestCompareRanksAndMedian(t *testing.T) {
	t.Parallel()
	office := func(label string, arrivals int, p50, within *float64) insight.ComparedOffice {
		return insight.ComparedOffice{Label: label, Values: map[string]*float64{
			"arrivals": ptr(float64(arrivals)), "wait_p50_seconds": p50, "within_target_pct": within}}
	}
	c := insight.Compare("2026-10", []insight.ComparedOffice{
		office("A", 100, ptr(300), ptr(80)),
		office("B", 400, ptr(120), ptr(95)),
		office("C", 250, ptr(300), nil),
		office("D", 50, ptr(600), ptr(60)),
	})
	rank := func(i int, key string) any {
		if r := c.Offices[i].Ranks[key]; r != nil {
			return *r
		}
		return nil
	}
	for _, tc := range []struct {
		office int
		key    string
		want   any
	}{
		{0, "wait_p50_seconds", 2}, {1, "wait_p50_seconds", 1}, {2, "wait_p50_seconds", 2}, {3, "wait_p50_seconds", 4},
		{0, "within_target_pct", 2}, {1, "within_target_pct", 1}, {2, "within_target_pct", nil}, {3, "within_target_pct", 3},
		{0, "arrivals", nil}, {1, "arrivals", nil},
	} {
		if got := rank(tc.office, tc.key); got != tc.want {
			t.Errorf("rank of %s in %s = %v, want %v", c.Offices[tc.office].Label, tc.key, got, tc.want)
		}
	}
	for key, want := range map[string]float64{"wait_p50_seconds": 300, "within_target_pct": 80, "arrivals": 175} {
		if got := c.Median[key]; got == nil || *got != want {
			t.Errorf("median of %s = %v, want %v", key, got, want)
		}
	}
	if c.Median["feedback_mean"] != nil {
		t.Errorf("median of a KPI no office has = %v, want null", *c.Median["feedback_mean"])
	}
}

// networkEnv is the demo office with a month of history (October 2026) recorded as visits, and a server
// with insight's routes.
func networkEnv(t *testing.T) (*ticketingtest.Env, string) {
	t.Helper()
	env := ticketingtest.New(t)
	store := insight.NewStore(env.Pool, nil, env.Store)
	env.Store.Visits = store
	ctx := context.Background()
	services, err := env.Store.Services(ctx, env.Office.ID)
	if err != nil {
		t.Fatal(err)
	}
	var cie *ticketing.Service
	for _, sv := range services {
		if sv.Code == "cie" {
			cie = sv
		}
	}
	desk, staff := env.DeskID(t, 1), env.StaffID(t, "op1")
	var past []ticketing.PastTicket
	// Five visits on Monday 5 October 2026 (Rome), waits of 1…5 minutes, the last a no-show.
	day := time.Date(2026, 10, 5, 0, 0, 0, 0, time.UTC)
	for i := range 5 {
		issued := time.Date(2026, 10, 5, 7, i*10, 0, 0, time.UTC)
		called := issued.Add(time.Duration(i+1) * time.Minute)
		pt := ticketing.PastTicket{Service: cie, Number: i + 1, Day: day, Status: ticketing.Done, Lang: "it",
			IssuedAt: issued, CalledAt: called, DeskID: desk, StaffID: staff}
		if i == 4 {
			pt.Status, pt.FinishedAt = ticketing.NoShow, called.Add(2*time.Minute)
		} else {
			started := called.Add(30 * time.Second)
			pt.StartedAt, pt.FinishedAt = &started, started.Add(10*time.Minute)
		}
		past = append(past, pt)
	}
	if err := env.Store.ImportHistory(ctx, env.Office.ID, past); err != nil {
		t.Fatal(err)
	}
	srv := env.Server(t, func(r chi.Router) {
		(&insight.Handler{Store: store, Tickets: env.Store, Auth: env.Auth}).Routes(r)
	})
	return env, srv.URL
}

// TestExportHasNoPersonalData checks the export's schema version and figures, that the CSV carries the
// same, and that neither names a staff member, a user or a ticket.
func TestExportHasNoPersonalData(t *testing.T) {
	t.Parallel()
	env, url := networkEnv(t)
	manager := env.Login(t, "manager")
	res := ticketingtest.Do(t, "GET", url+"/api/v1/offices/demo/export?month=2026-10", manager, "")
	body, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("export: %d %s", res.StatusCode, body)
	}
	var e insight.Export
	if err := json.Unmarshal(body, &e); err != nil {
		t.Fatal(err)
	}
	k := e.KPIs.NetworkKPIs
	if e.SchemaVersion != 1 || e.Month != "2026-10" || e.Office.TimeZone != "Europe/Rome" || e.Installation == "" ||
		k.Arrivals != 5 || k.Served != 4 || k.NoShow != 1 || k.WaitP50Seconds == nil || *k.WaitP50Seconds != 180 ||
		k.WaitMeanSeconds == nil || *k.WaitMeanSeconds != 180 || k.ServiceP50Seconds == nil || *k.ServiceP50Seconds != 600 ||
		k.WithinTargetPct == nil || *k.WithinTargetPct != 100 {
		t.Errorf("export = %s", body)
	}
	if len(e.KPIs.ByWeekday) != 1 || e.KPIs.ByWeekday[0].Key != "1" || e.KPIs.ByWeekday[0].Arrivals != 5 ||
		len(e.KPIs.ByCategory) != 1 || e.KPIs.ByCategory[0].Key != "anagrafe" {
		t.Errorf("breakdowns = %+v %+v", e.KPIs.ByWeekday, e.KPIs.ByCategory)
	}
	csvRes := ticketingtest.Do(t, "GET", url+"/api/v1/offices/demo/export.csv?month=2026-10", manager, "")
	csvBody, _ := io.ReadAll(csvRes.Body)
	csvRes.Body.Close()
	rows, err := csv.NewReader(strings.NewReader(string(csvBody))).ReadAll()
	if err != nil || csvRes.StatusCode != http.StatusOK || len(rows) != 4 {
		t.Fatalf("CSV: %d %v %s", csvRes.StatusCode, err, csvBody)
	}
	if got := strings.Join(rows[1][5:10], ","); got != "total,,5,4,1" {
		t.Errorf("CSV totals row starts %q, want total,,5,4,1", got)
	}
	if rows[1][14] != "180" {
		t.Errorf("CSV wait_p50_seconds = %q, want 180", rows[1][14])
	}
	req, _ := http.NewRequest("GET", url+"/api/v1/offices/demo/export?month=2026-10", nil)
	req.Header.Set("Authorization", "Bearer "+manager)
	req.Header.Set("Accept", "text/csv")
	accepted, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	acceptedBody, _ := io.ReadAll(accepted.Body)
	accepted.Body.Close()
	if string(acceptedBody) != string(csvBody) || !strings.HasPrefix(accepted.Header.Get("Content-Type"), "text/csv") {
		t.Errorf("Accept: text/csv gave %q, want the .csv body", acceptedBody)
	}
	staff, err := env.Store.StaffList(context.Background(), env.Office.ID)
	if err != nil {
		t.Fatal(err)
	}
	var secrets []string
	for _, st := range staff {
		secrets = append(secrets, st.FullName, `"`+st.Code+`"`, ","+st.Code+",")
	}
	secrets = append(secrets, "op1", "manager", "A001", "A005", "staff", "desk")
	for _, out := range []string{string(body), string(csvBody)} {
		for _, s := range secrets {
			if strings.Contains(out, s) {
				t.Errorf("the export carries %q: %s", s, out)
			}
		}
	}
}

// TestNetworkImportAndAccess checks the import's validation (422 naming the field), that an import shows
// beside this installation's office with ranks and a median, that a repeated import replaces the earlier
// one, and that only administrators of every office reach the comparison and the import.
func TestNetworkImportAndAccess(t *testing.T) {
	t.Parallel()
	env, url := networkEnv(t)
	admin, manager, op := env.Login(t, "admin"), env.Login(t, "manager"), env.Login(t, "op1")
	valid := `{"schema_version":1,"installation":"turno.comune-b.example.it","office":{"label":"Sportello B","time_zone":"Europe/Rome"},
		"month":"2026-10","kpis":{"arrivals":%d,"served":90,"no_show":5,"cancelled":0,"expired":5,"transferred":2,
		"wait_mean_seconds":150,"wait_p50_seconds":120,"wait_p90_seconds":400,"service_p50_seconds":500,"service_p90_seconds":900,
		"within_target_pct":97.5,"feedback_count":10,"feedback_mean":4.2,"by_weekday":[],"by_category":[]}}`
	withArrivals := func(n string) string { return strings.Replace(valid, "%d", n, 1) }
	for _, tc := range []struct{ body, field string }{
		{strings.Replace(withArrivals("100"), `"schema_version":1`, `"schema_version":2`, 1), "schema_version"},
		{strings.Replace(withArrivals("100"), `"month":"2026-10"`, `"month":"2026-13"`, 1), "month"},
		{strings.Replace(withArrivals("100"), `"Europe/Rome"`, `"Mars/Olympus"`, 1), "office.time_zone"},
		{strings.Replace(withArrivals("100"), `"label":"Sportello B"`, `"label":""`, 1), "office.label"},
		{strings.Replace(withArrivals("100"), `"installation":"turno.comune-b.example.it"`, `"installation":" "`, 1), "installation"},
		{withArrivals("50"), "kpis.arrivals"},
		{strings.Replace(withArrivals("100"), `"within_target_pct":97.5`, `"within_target_pct":120`, 1), "kpis.within_target_pct"},
		{strings.Replace(withArrivals("100"), `"feedback_mean":4.2`, `"feedback_mean":0.5`, 1), "kpis.feedback_mean"},
		{strings.Replace(withArrivals("100"), `"served":90`, `"served":"90"`, 1), "kpis.served"},
		{strings.Replace(withArrivals("100"), `"month":"2026-10"`, `"month":"2026-10","staff":"Rossi"`, 1), "staff"},
		{"[]", "exports"},
	} {
		ticketingtest.WantError(t, "POST", url+"/api/v1/network/imports", admin, tc.body, http.StatusUnprocessableEntity, tc.field)
	}
	if n := env.Count(t, `SELECT count(*) FROM benchmark_imports`); n != 0 {
		t.Fatalf("refused imports stored %d rows", n)
	}
	for _, arrivals := range []string{"120", "100"} { // the second replaces the first
		if st, v := ticketingtest.Call(t, "POST", url+"/api/v1/network/imports", admin, "["+withArrivals(arrivals)+"]"); st != http.StatusOK {
			t.Fatalf("import: %d %v", st, v)
		}
	}
	if n := env.Count(t, `SELECT count(*) FROM benchmark_imports`); n != 1 {
		t.Errorf("imports = %d rows, want 1", n)
	}
	st, v := ticketingtest.Call(t, "GET", url+"/api/v1/network?month=2026-10", admin, "")
	if st != http.StatusOK {
		t.Fatalf("network: %d %v", st, v)
	}
	b, _ := json.Marshal(v)
	var c insight.Comparison
	if err := json.Unmarshal(b, &c); err != nil {
		t.Fatal(err)
	}
	if len(c.Offices) != 2 || !c.Offices[0].Local || c.Offices[1].Label != "Sportello B" || *c.Offices[1].Values["arrivals"] != 100 {
		t.Fatalf("comparison offices = %s", b)
	}
	// Demo: p50 wait 180 s, 100 % within target; B: 120 s, 97.5 %.
	if r := c.Offices[1].Ranks["wait_p50_seconds"]; r == nil || *r != 1 {
		t.Errorf("B's wait rank = %v, want 1", r)
	}
	if r := c.Offices[0].Ranks["within_target_pct"]; r == nil || *r != 1 {
		t.Errorf("demo's within-target rank = %v, want 1", r)
	}
	if m := c.Median["wait_p50_seconds"]; m == nil || *m != 150 {
		t.Errorf("median wait p50 = %v, want 150", m)
	}
	// The month's figures are kept (network_months) and computed again once the month has more visits.
	if n := env.Count(t, `SELECT count(*) FROM network_months WHERE visits = 5`); n != 1 {
		t.Errorf("kept months = %d, want 1", n)
	}
	services, err := env.Store.Services(context.Background(), env.Office.ID)
	if err != nil {
		t.Fatal(err)
	}
	issued := time.Date(2026, 10, 6, 8, 0, 0, 0, time.UTC)
	if err := env.Store.ImportHistory(context.Background(), env.Office.ID, []ticketing.PastTicket{{Service: services[0], Number: 1,
		Day: time.Date(2026, 10, 6, 0, 0, 0, 0, time.UTC), Status: ticketing.NoShow, Lang: "it", IssuedAt: issued,
		CalledAt: issued.Add(time.Minute), FinishedAt: issued.Add(3 * time.Minute)}}); err != nil {
		t.Fatal(err)
	}
	if _, v := ticketingtest.Call(t, "GET", url+"/api/v1/network?month=2026-10", admin, ""); v.(map[string]any)["offices"].([]any)[0].(map[string]any)["values"].(map[string]any)["arrivals"] != 6.0 {
		t.Errorf("after a sixth visit the comparison says %v", v)
	}
	ticketingtest.WantError(t, "GET", url+"/api/v1/network?month=10-2026", admin, "", http.StatusUnprocessableEntity, "month")
	ticketingtest.WantError(t, "GET", url+"/api/v1/offices/demo/export", manager, "", http.StatusUnprocessableEntity, "month")
	for _, tc := range []struct{ method, path, token, body string }{
		{"GET", "/api/v1/network?month=2026-10", manager, ""},
		{"GET", "/api/v1/network?month=2026-10", op, ""},
		{"POST", "/api/v1/network/imports", manager, withArrivals("100")},
		{"GET", "/api/v1/offices/demo/export?month=2026-10", op, ""},
	} {
		if st, v := ticketingtest.Call(t, tc.method, url+tc.path, tc.token, tc.body); st != http.StatusForbidden {
			t.Errorf("%s %s as a non-administrator: %d %v, want 403", tc.method, tc.path, st, v)
		}
	}
	// An administrator of one office only is refused the comparison too: it shows every office.
	if _, err := env.Auth.CreateUser(context.Background(), auth.NewUser{Username: "admin1", Password: "turno-demo-2026",
		Role: auth.Admin, OfficeID: env.Office.ID}, false); err != nil {
		t.Fatal(err)
	}
	if st, _ := ticketingtest.Call(t, "GET", url+"/api/v1/network?month=2026-10", env.Login(t, "admin1"), ""); st != http.StatusForbidden {
		t.Errorf("network as an administrator of one office: %d, want 403", st)
	}
	// The page: the admin sees the table and the nav entry; a manager is refused and has no entry.
	page := ticketingtest.Do(t, "GET", url+"/manage/network?month=2026-10", admin, "")
	html, _ := io.ReadAll(page.Body)
	page.Body.Close()
	if page.StatusCode != http.StatusOK || !strings.Contains(string(html), "Sportello B") || !strings.Contains(string(html), `href="/manage/network`) {
		t.Errorf("network page as admin: %d %s", page.StatusCode, html)
	}
	mpage := ticketingtest.Do(t, "GET", url+"/manage/catalogue", manager, "")
	mhtml, _ := io.ReadAll(mpage.Body)
	mpage.Body.Close()
	if strings.Contains(string(mhtml), "/manage/network") {
		t.Errorf("a manager's navigation links the network page")
	}
	refused := ticketingtest.Do(t, "GET", url+"/manage/network", manager, "")
	refused.Body.Close()
	if refused.StatusCode != http.StatusForbidden {
		t.Errorf("network page as manager: %d, want 403", refused.StatusCode)
	}
}

// TestReportsReadTheReplica checks that a Store with a reports pool reads its reports there: over an
// empty database standing in for a replica that has not caught up, the month the primary holds is empty.
func TestReportsReadTheReplica(t *testing.T) {
	t.Parallel()
	env, _ := networkEnv(t)
	ctx := context.Background()
	month := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC)
	primary, err := insight.NewStore(env.Pool, nil, env.Store).Export(ctx, "turno.test", env.Office, month)
	if err != nil {
		t.Fatal(err)
	}
	replica, err := insight.NewStore(env.Pool, dbtest.NewPool(t), env.Store).Export(ctx, "turno.test", env.Office, month)
	if err != nil {
		t.Fatal(err)
	}
	if primary.KPIs.Arrivals != 5 || replica.KPIs.Arrivals != 0 {
		t.Errorf("arrivals read from the primary %d, from the replica %d; want 5 and 0", primary.KPIs.Arrivals, replica.KPIs.Arrivals)
	}
}

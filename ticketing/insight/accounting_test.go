package insight_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"image/png"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/go-chi/chi/v5"

	"turno/cmd/turno/demo"
	"turno/scheduling"
	"turno/ticketing"
	"turno/ticketing/insight"
	"turno/ticketing/ticketingtest"
)

// accountingServer serves the insight routes with scheduling's contract rates as the handler's Costs,
// every answer validated against the API document, and returns the demo office's API base.
func accountingServer(t testing.TB, env *ticketingtest.Env, st *insight.Store) string {
	t.Helper()
	h := &insight.Handler{Store: st, Tickets: env.Store, Auth: env.Auth, Costs: scheduling.NewStore(env.Pool, env.Store)}
	return env.Server(t, func(r chi.Router) { h.Routes(r) }).URL + "/api/v1/offices/demo"
}

// agencyTerms sets the demo agencies' agreed contributions (cents: monthly, per ticket).
func agencyTerms(t testing.TB, env *ticketingtest.Env, terms map[string][2]int64) {
	t.Helper()
	ctx := context.Background()
	list, err := env.Store.Agencies(ctx, env.Office.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, a := range list {
		if c, ok := terms[a.Code]; ok {
			a.ContributionMonthlyCents, a.ContributionPerTicketCents = c[0], c[1]
			if err := env.Store.SaveAgency(ctx, a); err != nil {
				t.Fatal(err)
			}
		}
	}
}

// accountingMonth serves a hand-made November 2026 in the demo office (Europe/Rome), and one visit just
// after the local midnight that begins December:
//
//   - A: cie (Comune), op1 at desk 2 serves 10:00 — op1's contract costs 36.00 € an hour (1 cent a second)
//   - B: cie, op1 serves 5:00, transfers to inps-pensioni, op4 at desk 4 serves 7:00 — op4 has no rate of
//     their own and costs the office's 30.00 € (420 s → 350 cents)
//   - C: enel-bonus, op4 serves 3:01 (181 s × 3000 / 3600 = 150.83 → 151 cents)
//   - D: inps-pensioni, a no-show: a ticket for INPS without operator time
//   - E: cie issued 2026-11-30 23:30 UTC, 00:30 on 1 December in Rome, op1 serves 2:00: December's
//
// Comune agreed 1000 € a month and 1.50 € a ticket, INPS 2.50 € a ticket, Enel 500 € a month.
func accountingMonth(t *testing.T) (*ticketingtest.Env, *insight.Store) {
	t.Helper()
	env, st := statsEnv(t)
	ctx := context.Background()
	o := *env.Office
	o.HourlyCostCents = 3000
	if err := env.Store.UpdateOffice(ctx, &o); err != nil {
		t.Fatal(err)
	}
	rate := 3600
	plans := scheduling.NewStore(env.Pool, env.Store)
	c := scheduling.DefaultContract
	c.HourlyCostCents = &rate
	if err := plans.SaveContract(ctx, env.Office.ID, env.StaffID(t, "op1"), c); err != nil {
		t.Fatal(err)
	}
	agencyTerms(t, env, map[string][2]int64{"comune": {100000, 150}, "inps": {0, 250}, "enel": {50000, 0}})

	env.SetNow(time.Date(2026, 11, 23, 8, 0, 0, 0, time.UTC))
	d2, u1 := env.DeskID(t, 2), env.UserID(t, "op1")
	d4, u4 := env.DeskID(t, 4), env.UserID(t, "op4")
	for _, d := range []struct {
		desk, user int64
		op         string
	}{{d2, u1, "op1"}, {d4, u4, "op4"}} {
		if _, err := env.Store.OpenDesk(ctx, d.desk, d.user, env.StaffID(t, d.op)); err != nil {
			t.Fatal(err)
		}
	}
	step := func(d time.Duration, f func() error) {
		t.Helper()
		env.Advance(d)
		if err := f(); err != nil {
			t.Fatal(err)
		}
	}
	issue := func(service string) func() error {
		return func() error {
			_, _, err := env.Store.Issue(ctx, ticketing.IssueRequest{OfficeID: env.Office.ID, Service: service})
			return err
		}
	}
	call := func(desk, user int64) func() error {
		return func() error { _, err := env.Store.CallNext(ctx, desk, user); return err }
	}
	start := func(desk, user int64) func() error {
		return func() error { _, err := env.Store.Start(ctx, desk, user); return err }
	}
	finish := func(desk, user int64) func() error {
		return func() error { _, err := env.Store.Finish(ctx, desk, user); return err }
	}
	// A
	step(0, issue("cie"))
	step(2*time.Minute, call(d2, u1))
	step(time.Minute, start(d2, u1))
	step(10*time.Minute, finish(d2, u1))
	// B
	step(time.Minute, issue("cie"))
	step(time.Minute, call(d2, u1))
	step(time.Minute, start(d2, u1))
	step(5*time.Minute, func() error { _, err := env.Store.Transfer(ctx, d2, u1, "inps-pensioni"); return err })
	step(time.Minute, call(d4, u4))
	step(time.Minute, start(d4, u4))
	step(7*time.Minute, finish(d4, u4))
	// C
	step(time.Minute, issue("enel-bonus"))
	step(time.Minute, call(d4, u4))
	step(time.Minute, start(d4, u4))
	step(3*time.Minute+time.Second, finish(d4, u4))
	// D
	step(time.Minute, issue("inps-pensioni"))
	step(time.Minute, call(d4, u4))
	step(5*time.Minute, func() error { _, err := env.Store.NoShow(ctx, d4, u4); return err })
	// E
	env.SetNow(time.Date(2026, 11, 30, 23, 30, 0, 0, time.UTC))
	step(0, issue("cie"))
	step(time.Minute, call(d2, u1))
	step(time.Minute, start(d2, u1))
	step(2*time.Minute, finish(d2, u1))
	return env, st
}

// acct is a statement row's figures as a comparable value.
type acct struct {
	tickets, served                      int
	seconds, cost, contribution, balance int64
	share                                float64
}

func acctOf(f insight.StatementFigures) acct {
	return acct{f.Tickets, f.Served, f.Seconds, f.CostCents, f.ContributionCents, f.BalanceCents, f.SharePct}
}

// The hand-made month's statement, figure by figure, computed by hand: the contract rate where the
// contract sets one and the office's elsewhere, exact cents, contributions per month and per ticket, the
// local month's boundary, and totals that are the sums of the rows.
func TestAgencyStatementHandMade(t *testing.T) {
	t.Parallel()
	env, st := accountingMonth(t)
	base := accountingServer(t, env, st)
	manager := env.Login(t, "manager")
	s := getStatement(t, base+"/agency-statements?month=2026-11", manager)

	want := map[string]acct{
		"comune": {2, 2, 900, 900, 100300, 99400, 60.0},
		"inps":   {1, 1, 420, 350, 250, -100, 28.0},
		"enel":   {1, 1, 181, 151, 50000, 49849, 12.1},
	}
	if len(s.Rows) != 3 {
		t.Fatalf("rows: %s", js(s.Rows))
	}
	for _, r := range s.Rows {
		if got := acctOf(r.StatementFigures); got != want[r.Agency] {
			t.Errorf("%s: %+v, want %+v", r.Agency, got, want[r.Agency])
		}
	}
	if got, w := acctOf(s.Totals), (acct{4, 4, 1501, 1401, 150550, 149149, 100}); got != w {
		t.Errorf("totals %+v, want %+v", got, w)
	}
	// Rows by agency name, the breakdown by service in the catalogue's order.
	if s.Rows[0].Agency != "comune" || s.Rows[1].Agency != "enel" || s.Rows[2].Agency != "inps" {
		t.Errorf("order: %s, %s, %s", s.Rows[0].Agency, s.Rows[1].Agency, s.Rows[2].Agency)
	}
	if c := s.Row("comune"); len(c.Services) != 1 || c.Services[0].Service != "cie" || c.Services[0].Tickets != 2 ||
		c.Services[0].Seconds != 900 || c.Services[0].CostCents != 900 || c.Services[0].Minutes != 15 {
		t.Errorf("comune's services: %s", js(c.Services))
	}
	if i := s.Row("inps"); len(i.Services) != 1 || i.Services[0].Service != "inps-pensioni" || i.Services[0].Tickets != 1 ||
		i.Services[0].Served != 1 || i.Services[0].CostCents != 350 {
		t.Errorf("inps's services: %s", js(i.Services))
	}
	if s.Office.HourlyCostCents != 3000 || s.Month != "2026-11" {
		t.Errorf("office %+v month %s", s.Office, s.Month)
	}

	// December holds the visit issued at 00:30 local time on its first day; its monthly contributions are due
	// again, with no activity for INPS and Enel.
	dec := getStatement(t, base+"/agency-statements?month=2026-12", manager)
	if got, w := acctOf(dec.Totals), (acct{1, 1, 120, 120, 150150, 150030, 100}); got != w {
		t.Errorf("December totals %+v, want %+v", got, w)
	}

	// Without contract rates, op1's 900 s of November cost the office's 30 € an hour: 750 cents.
	office, err := env.Store.OfficeByID(context.Background(), env.Office.ID)
	if err != nil {
		t.Fatal(err)
	}
	plain, err := st.AgencyStatement(context.Background(), office, time.Date(2026, 11, 1, 0, 0, 0, 0, time.UTC), nil)
	if err != nil {
		t.Fatal(err)
	}
	if c := plain.Row("comune"); c.CostCents != 750 || plain.Totals.CostCents != 750+350+151 {
		t.Errorf("office rate only: comune %d, total %d; want 750, 1251", c.CostCents, plain.Totals.CostCents)
	}
}

// Rows add up to the totals, and the totals are the office's month computed independently from the raw
// tickets (visits followed through their transfers), on the demo office's eight weeks of history.
func TestAgencyStatementTotalsAreTheOffice(t *testing.T) {
	t.Parallel()
	env, st := statsEnv(t)
	ctx := context.Background()
	if err := demo.SeedHistory(ctx, env.Store, env.Office, time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)); err != nil {
		t.Fatal(err)
	}
	agencyTerms(t, env, map[string][2]int64{"comune": {100000, 150}, "inps": {0, 250}, "enel": {50000, 75}})
	op2 := env.StaffID(t, "op2")
	costs := map[int64]int{op2: 4125}
	s, err := st.AgencyStatement(ctx, env.Office, time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), costs)
	if err != nil {
		t.Fatal(err)
	}
	var sum acct
	var contribution int64
	for _, r := range s.Rows {
		sum.tickets += r.Tickets
		sum.served += r.Served
		sum.seconds += r.Seconds
		sum.cost += r.CostCents
		sum.balance += r.BalanceCents
		contribution += r.ContributionCents
		var svc acct
		for _, l := range r.Services {
			svc.tickets += l.Tickets
			svc.served += l.Served
			svc.seconds += l.Seconds
			svc.cost += l.CostCents
		}
		if svc.tickets != r.Tickets || svc.served != r.Served || svc.seconds != r.Seconds || svc.cost != r.CostCents {
			t.Errorf("%s: services add up to %+v, row %+v", r.Agency, svc, acctOf(r.StatementFigures))
		}
		if r.ContributionCents != r.ContributionMonthlyCents+r.ContributionPerTicketCents*int64(r.Tickets) {
			t.Errorf("%s: contribution %d", r.Agency, r.ContributionCents)
		}
	}
	tot := s.Totals
	if sum.tickets != tot.Tickets || sum.served != tot.Served || sum.seconds != tot.Seconds || sum.cost != tot.CostCents ||
		sum.balance != tot.BalanceCents || contribution != tot.ContributionCents {
		t.Errorf("rows add up to %+v (contribution %d), totals %+v", sum, contribution, acctOf(tot))
	}
	if tot.Tickets < 1000 {
		t.Fatalf("October has %d tickets: the history is missing", tot.Tickets)
	}

	// The office's month from the raw tickets.
	// The history holds ended visits only, so every ticket nobody transferred into begins one.
	var tickets, served int
	var seconds, cost int64
	err = env.Pool.QueryRow(ctx, `
		SELECT count(*) FROM tickets t JOIN offices o ON o.id = t.office_id
		WHERE t.office_id = $1 AND t.transferred_from IS NULL
			AND (t.issued_at AT TIME ZONE o.time_zone)::date BETWEEN '2026-10-01' AND '2026-10-31'`,
		env.Office.ID).Scan(&tickets)
	if err != nil {
		t.Fatal(err)
	}
	err = env.Pool.QueryRow(ctx, `
		SELECT count(*), coalesce(sum(s), 0)::bigint,
			coalesce(sum((s * CASE WHEN staff_id = $2 THEN 4125 ELSE o.hourly_cost_cents END * 2 + 3600) / 7200), 0)::bigint
		FROM (SELECT t.staff_id, t.office_id, round(extract(epoch FROM t.finished_at - t.started_at))::bigint AS s
			FROM tickets t JOIN offices o ON o.id = t.office_id
			WHERE t.office_id = $1 AND t.started_at IS NOT NULL AND t.finished_at IS NOT NULL
				AND (t.started_at AT TIME ZONE o.time_zone)::date BETWEEN '2026-10-01' AND '2026-10-31') w
		JOIN offices o ON o.id = w.office_id`, env.Office.ID, op2).Scan(&served, &seconds, &cost)
	if err != nil {
		t.Fatal(err)
	}
	if tot.Tickets != tickets || tot.Served != served || tot.Seconds != seconds || tot.CostCents != cost {
		t.Errorf("totals %+v; the office's month from the tickets: %d tickets, %d served, %d s, %d cents",
			acctOf(tot), tickets, served, seconds, cost)
	}

	// Rounding each segment to the second and the cent against the exact product of the month: each
	// segment is off by less than a cent, and the errors cancel out over the month.
	var exact float64
	err = env.Pool.QueryRow(ctx, `
		SELECT sum(w.seconds * CASE WHEN w.staff_id = $2 THEN 4125 ELSE o.hourly_cost_cents END / 3600)
		FROM visit_work w JOIN offices o ON o.id = w.office_id
		WHERE w.office_id = $1 AND w.local_day BETWEEN '2026-10-01' AND '2026-10-31'`, env.Office.ID, op2).Scan(&exact)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("October: %d segments, cost %d cents, exact %.2f cents, difference %+.2f cents", tot.Served, tot.CostCents, exact, float64(tot.CostCents)-exact)
	if d := float64(tot.CostCents) - exact; d > float64(tot.Served) || -d > float64(tot.Served) {
		t.Errorf("cost %d cents is %.2f cents from the exact %.2f", tot.CostCents, d, exact)
	}
}

// The CSV has the JSON's rows, field by field, and the totals last; the .csv path and Accept: text/csv
// give the same.
func TestAgencyStatementCSVEqualsJSON(t *testing.T) {
	t.Parallel()
	env, st := accountingMonth(t)
	base := accountingServer(t, env, st)
	manager := env.Login(t, "manager")
	s := getStatement(t, base+"/agency-statements?month=2026-11", manager)
	byPath := getBody(t, base+"/agency-statements.csv?month=2026-11", manager, "", "text/csv")
	byAccept := getBody(t, base+"/agency-statements?month=2026-11", manager, "text/csv", "text/csv")
	if byPath != byAccept {
		t.Errorf("CSV by path and by Accept differ:\n%s\n%s", byPath, byAccept)
	}
	recs, err := csv.NewReader(strings.NewReader(byPath)).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(recs) != len(s.Rows)+2 || strings.Join(recs[0], ",") != strings.Join(insight.StatementCSVHeader, ",") {
		t.Fatalf("CSV:\n%s", byPath)
	}
	// Each line, read back by the header's names, equals the JSON row's fields.
	var raw struct {
		Rows   []map[string]any `json:"rows"`
		Totals map[string]any   `json:"totals"`
	}
	if err := json.Unmarshal([]byte(getBody(t, base+"/agency-statements?month=2026-11", manager, "", "application/json")), &raw); err != nil {
		t.Fatal(err)
	}
	raw.Totals["agency"] = "total"
	for i, rec := range recs[1:] {
		row := raw.Totals
		if i < len(raw.Rows) {
			row = raw.Rows[i]
		}
		for j, name := range recs[0] {
			v, ok := row[name]
			want := ""
			if ok {
				switch x := v.(type) {
				case string:
					want = x
				case float64:
					want = strconv.FormatFloat(x, 'f', -1, 64)
				}
			}
			if rec[j] != want {
				t.Errorf("line %d, %s: CSV %q, JSON %q", i+1, name, rec[j], want)
			}
		}
	}
}

// The statement PDF renders (pdftoppm makes a page that is not blank) and says what it must: the agency,
// the office, the period, the totals, the date of issue; it names no operator.
func TestAgencyStatementPDF(t *testing.T) {
	t.Parallel()
	for _, tool := range []string{"pdftoppm", "pdftotext"} {
		if _, err := exec.LookPath(tool); err != nil {
			t.Skipf("%s not installed (poppler-utils)", tool)
		}
	}
	env, st := accountingMonth(t)
	base := accountingServer(t, env, st)
	manager := env.Login(t, "manager")
	env.SetNow(time.Date(2026, 12, 2, 9, 15, 0, 0, time.UTC))
	res := ticketingtest.Do(t, "GET", base+"/agency-statements/inps.pdf?month=2026-11", manager, "")
	b, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK || res.Header.Get("Content-Type") != "application/pdf" {
		t.Fatalf("PDF: %d %s %.200s", res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	dir := t.TempDir()
	pdf := filepath.Join(dir, "s.pdf")
	if err := os.WriteFile(pdf, b, 0o600); err != nil {
		t.Fatal(err)
	}
	if out, err := exec.Command("pdftoppm", "-png", "-r", "40", "-f", "1", "-l", "1", pdf, filepath.Join(dir, "p")).CombinedOutput(); err != nil {
		t.Fatalf("pdftoppm: %v %s", err, out)
	}
	pngs, _ := filepath.Glob(filepath.Join(dir, "p*.png"))
	if len(pngs) != 1 {
		t.Fatalf("pages rendered: %v", pngs)
	}
	if nonWhite(t, pngs[0]) < 500 {
		t.Errorf("the rendered page is blank")
	}
	out, err := exec.Command("pdftotext", "-layout", pdf, "-").Output()
	if err != nil {
		t.Fatal(err)
	}
	text := string(out)
	for _, want := range []string{"Rendiconto mensile: INPS", env.Office.Name, "dal 1 novembre 2026 al 30 novembre 2026",
		"Emesso il 2 dicembre 2026 alle 10:15", "3,50 €", "2,50 €", "-1,00 €", "INPS: pensioni e prestazioni", "Metodo."} {
		if !strings.Contains(strings.Join(strings.Fields(text), " "), want) {
			t.Errorf("the PDF lacks %q:\n%s", want, text)
		}
	}
	for _, name := range []string{"Giulia Rossi", "Luca Romano", "S01", "S04"} {
		if strings.Contains(text, name) {
			t.Errorf("the PDF names operator %q", name)
		}
	}
	code, body := ticketingtest.Call(t, "GET", base+"/agency-statements/asl.pdf?month=2026-11", manager, "")
	if e, _ := body.(map[string]any)["error"].(map[string]any); code != http.StatusNotFound || e["code"] != "unknown_agency" {
		t.Errorf("unknown agency: %d %v, want 404 unknown_agency", code, body)
	}
}

// Only the office's managers and administrators read its accounting: operators, the kiosk and display
// tokens and a manager of another office get 403, anonymous callers 401. A missing, malformed or future
// month is a 422 naming the field.
func TestAgencyStatementAccessAndValidation(t *testing.T) {
	t.Parallel()
	env, st := statsEnv(t)
	env.SetNow(time.Date(2026, 11, 30, 23, 30, 0, 0, time.UTC)) // 1 December in Rome
	base := accountingServer(t, env, st)
	paths := []string{"/agency-statements?month=2026-11", "/agency-statements.csv?month=2026-11", "/agency-statements/comune.pdf?month=2026-11"}
	for who, token := range map[string]string{"operator": env.Login(t, "op1"), "kiosk": demo.KioskToken,
		"display": demo.DisplayToken, "other office": otherManager(t, env)} {
		for _, p := range paths {
			if code, _ := ticketingtest.Call(t, "GET", base+p, token, ""); code != http.StatusForbidden {
				t.Errorf("%s GET %s: %d, want 403", who, p, code)
			}
		}
	}
	for _, p := range paths {
		if code, _ := ticketingtest.Call(t, "GET", base+p, "", ""); code != http.StatusUnauthorized {
			t.Errorf("anonymous GET %s: %d, want 401", p, code)
		}
	}
	manager, admin := env.Login(t, "manager"), env.Login(t, "admin")
	for _, token := range []string{manager, admin} {
		if s := getStatement(t, base+"/agency-statements?month=2026-12", token); len(s.Rows) != 3 || s.Totals.Tickets != 0 {
			t.Errorf("the current month: %s", js(s))
		}
	}
	for _, q := range []string{"", "?month=", "?month=2026-13", "?month=11-2026", "?month=1999-12", "?month=2027-01"} {
		for _, p := range []string{"/agency-statements", "/agency-statements.csv", "/agency-statements/comune.pdf"} {
			ticketingtest.WantError(t, "GET", base+p+q, manager, "", http.StatusUnprocessableEntity, "month")
		}
	}
}

// Managers set the terms through the setup APIs: the office's default rate, an agency's contributions
// and a contract's rate, each checked, and a rate left out of a contract is the office's again.
func TestAccountingSettings(t *testing.T) {
	t.Parallel()
	env, _ := statsEnv(t)
	plans := scheduling.NewStore(env.Pool, env.Store)
	env.Planning = plans
	srv := env.Server(t, func(r chi.Router) { (&scheduling.API{Store: plans, Tickets: env.Store}).Routes(r) })
	base := srv.URL + "/api/v1/offices/demo"
	manager := env.Login(t, "manager")

	code, body := ticketingtest.Call(t, "PUT", base+"/settings", manager, `{"hourly_cost_cents": 3250, "staff_figures_aggregated": false}`)
	if m, _ := body.(map[string]any); code != http.StatusOK || m["hourly_cost_cents"] != 3250.0 || m["staff_figures_aggregated"] != false {
		t.Errorf("settings: %d %v", code, body)
	}
	ticketingtest.WantError(t, "PUT", base+"/settings", manager, `{"hourly_cost_cents": -1}`, http.StatusUnprocessableEntity, "hourly_cost_cents")
	ticketingtest.WantError(t, "PUT", base+"/settings", manager, `{"hourly_cost_cents": 100001}`, http.StatusUnprocessableEntity, "hourly_cost_cents")

	code, body = ticketingtest.Call(t, "PUT", base+"/agencies/inps", manager, `{"contribution_monthly_cents": 120000, "contribution_per_ticket_cents": 180}`)
	if m, _ := body.(map[string]any); code != http.StatusOK || m["name"] != "INPS" || m["contribution_monthly_cents"] != 120000.0 || m["contribution_per_ticket_cents"] != 180.0 {
		t.Errorf("agency: %d %v", code, body)
	}
	code, body = ticketingtest.Call(t, "POST", base+"/agencies", manager, `{"code": "asl", "name": "ASL", "contribution_per_ticket_cents": 90}`)
	if m, _ := body.(map[string]any); code != http.StatusCreated || m["contribution_per_ticket_cents"] != 90.0 || m["contribution_monthly_cents"] != 0.0 {
		t.Errorf("new agency: %d %v", code, body)
	}
	ticketingtest.WantError(t, "PUT", base+"/agencies/inps", manager, `{"contribution_monthly_cents": -5}`, http.StatusUnprocessableEntity, "contribution_monthly_cents")
	ticketingtest.WantError(t, "PUT", base+"/agencies/inps", manager, `{"contribution_per_ticket_cents": 10000001}`, http.StatusUnprocessableEntity, "contribution_per_ticket_cents")

	op1 := env.StaffID(t, "op1")
	contract := base + "/staff/" + strconv.FormatInt(op1, 10) + "/contract"
	c := `{"weekly_minutes": 2160, "max_daily_minutes": 540, "max_days_per_week": 5, "min_rest_minutes": 660, "max_saturdays_per_4_weeks": 2`
	if code, body := ticketingtest.Call(t, "PUT", contract, manager, c+`, "hourly_cost_cents": 4100}`); code != http.StatusOK {
		t.Fatalf("contract: %d %v", code, body)
	}
	ticketingtest.WantError(t, "PUT", contract, manager, c+`, "hourly_cost_cents": 100001}`, http.StatusUnprocessableEntity, "contract.hourly_cost_cents")
	costs, err := plans.HourlyCosts(context.Background(), env.Office.ID)
	if err != nil || len(costs) != 1 || costs[op1] != 4100 {
		t.Errorf("hourly costs %v %v, want op1 at 4100", costs, err)
	}
	if code, body := ticketingtest.Call(t, "PUT", contract, manager, c+`}`); code != http.StatusOK {
		t.Fatalf("contract without a rate: %d %v", code, body)
	}
	if costs, _ := plans.HourlyCosts(context.Background(), env.Office.ID); len(costs) != 0 {
		t.Errorf("hourly costs after the rate was left out: %v", costs)
	}
}

func getStatement(t *testing.T, url, token string) insight.Statement {
	t.Helper()
	var s insight.Statement
	if err := json.Unmarshal([]byte(getBody(t, url, token, "", "application/json")), &s); err != nil {
		t.Fatal(err)
	}
	return s
}

// getBody GETs url with an optional Accept header and checks for 200 and the content type.
func getBody(t *testing.T, url, token, accept, contentType string) string {
	t.Helper()
	req, _ := http.NewRequest("GET", url, nil)
	req.Header.Set("Authorization", "Bearer "+token)
	if accept != "" {
		req.Header.Set("Accept", accept)
	}
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), contentType) {
		t.Fatalf("GET %s: %d %s %s", url, res.StatusCode, res.Header.Get("Content-Type"), b)
	}
	return string(b)
}

// nonWhite counts the pixels of a PNG that are not white.
func nonWhite(t *testing.T, path string) int {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	img, err := png.Decode(f)
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	b := img.Bounds()
	for y := b.Min.Y; y < b.Max.Y; y++ {
		for x := b.Min.X; x < b.Max.X; x++ {
			if r, g, bl, _ := img.At(x, y).RGBA(); r < 0xf000 || g < 0xf000 || bl < 0xf000 {
				n++
			}
		}
	}
	return n
}

// The /manage/accounting page shows the month's table in the page's language, with each agency's PDF and
// the month's CSV; a month not begun yet is the shell's 422 page.
func TestAccountingPage(t *testing.T) {
	t.Parallel()
	env, st := accountingMonth(t)
	site := strings.TrimSuffix(accountingServer(t, env, st), "/api/v1/offices/demo")
	manager := env.Login(t, "manager")
	page := func(query string) (int, string) {
		t.Helper()
		res := ticketingtest.Do(t, "GET", site+"/manage/accounting"+query, manager, "")
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, strings.Join(strings.Fields(string(b)), " ") // also makes no-break spaces plain
	}
	for lang, wants := range map[string][]string{
		"it": {"Rendiconto per ente · novembre 2026", "Comune di Demo", "9,00 €", "1.003,00 €", "994,00 €", "−1,00 €", "60,0 %"},
		"en": {"Accounting by agency · November 2026", "Comune di Demo", "€9.00", "€1,003.00", "€994.00", "−€1.00", "60.0 %"},
	} {
		code, body := page("?month=2026-11&lang=" + lang)
		if code != http.StatusOK {
			t.Fatalf("%s: %d %s", lang, code, body)
		}
		wants = append(wants, `href="/api/v1/offices/demo/agency-statements/inps.pdf?month=2026-11"`,
			`href="/api/v1/offices/demo/agency-statements.csv?month=2026-11"`)
		for _, w := range wants {
			if !strings.Contains(body, w) {
				t.Errorf("%s: the page lacks %q", lang, w)
			}
		}
		for _, name := range []string{"Giulia Rossi", "Luca Romano"} {
			if strings.Contains(body, name) {
				t.Errorf("%s: the page names operator %q", lang, name)
			}
		}
	}
	if code, _ := page("?month=2027-01"); code != http.StatusUnprocessableEntity {
		t.Errorf("a future month: %d, want 422", code)
	}
}

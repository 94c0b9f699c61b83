package insight_test

import (
	"context"
	"encoding/csv"
	"encoding/json"
	"io"
	"math"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"turno/cmd/turno/demo"
	"turno/internal/auth"
	"turno/ticketing"
	"turno/ticketing/insight"
	"turno/ticketing/ticketingtest"
)

// independentSQL computes the KPIs from the raw tickets, not from the visits rollup: a visit is a ticket
// nobody transferred into, followed through transferred_from to the ticket that ended it. %s is the
// group's key over the visit v (its first ticket's local issue time local_issue, its first service
// code) and feedback fb. Figures are not rounded.
const independentSQL = `
WITH RECURSIVE chain AS (
	SELECT t.id AS first_id, t.id, 0 AS depth FROM tickets t WHERE t.office_id = $1 AND t.transferred_from IS NULL
	UNION ALL
	SELECT c.first_id, n.id, c.depth + 1 FROM chain c JOIN tickets n ON n.transferred_from = c.id
),
seg AS (SELECT c.first_id, c.depth, t.* FROM chain c JOIN tickets t ON t.id = c.id),
visit AS (
	SELECT f.id, s.code, f.issued_at AT TIME ZONE o.time_zone AS local_issue, l.id AS last_id, l.status AS outcome,
		extract(epoch FROM f.first_called_at - f.issued_at)::float8 AS wait,
		(SELECT count(*) - 1 FROM seg WHERE seg.first_id = f.id) AS transfers,
		(SELECT sum(extract(epoch FROM seg.finished_at - seg.started_at))::float8 FROM seg
			WHERE seg.first_id = f.id AND seg.started_at IS NOT NULL) AS service,
		CASE WHEN f.first_called_at IS NOT NULL THEN f.first_called_at - f.issued_at <= s.wait_target_seconds * interval '1 second'
			WHEN l.finished_at - f.issued_at > s.wait_target_seconds * interval '1 second' THEN false END AS within
	FROM tickets f JOIN services s ON s.id = f.service_id JOIN offices o ON o.id = f.office_id
	JOIN LATERAL (SELECT * FROM seg WHERE seg.first_id = f.id ORDER BY seg.depth DESC LIMIT 1) l ON true
	WHERE f.office_id = $1 AND f.transferred_from IS NULL AND l.status IN ('done', 'no_show', 'cancelled', 'expired')
)
SELECT %s AS key, count(*)::int,
	count(*) FILTER (WHERE outcome = 'done')::int, count(*) FILTER (WHERE outcome = 'no_show')::int,
	count(*) FILTER (WHERE outcome = 'cancelled')::int, count(*) FILTER (WHERE outcome = 'expired')::int,
	count(*) FILTER (WHERE transfers > 0)::int,
	avg(wait), percentile_cont(0.5) WITHIN GROUP (ORDER BY wait), percentile_cont(0.9) WITHIN GROUP (ORDER BY wait), max(wait),
	avg(service), percentile_cont(0.5) WITHIN GROUP (ORDER BY service), percentile_cont(0.9) WITHIN GROUP (ORDER BY service),
	(100.0 * count(*) FILTER (WHERE within) / nullif(count(within), 0))::float8,
	count(fb.score)::int, avg(fb.score)::float8
FROM visit v LEFT JOIN feedback fb ON fb.last_ticket_id = v.last_id
WHERE v.local_issue::date BETWEEN $2::date AND $3::date
GROUP BY 1 ORDER BY 1`

// independentKeys are the groups' keys in independentSQL.
var independentKeys = map[string]string{
	"day":          `to_char(v.local_issue, 'YYYY-MM-DD')`,
	"service":      `v.code`,
	"weekday_hour": `extract(isodow FROM v.local_issue)::int || '-' || to_char(v.local_issue, 'HH24')`,
	"total":        `'total'`,
}

// historyEnv is the demo office with its seeded history (demo.SeedHistory, before 2026-11-23) and the
// hand-made day (a transfer, a recall, a no-show, a cancellation, an expiry, ratings) on 2026-11-23, its
// visits recorded as live.
func historyEnv(t testing.TB) (*ticketingtest.Env, *insight.Store, string) {
	t.Helper()
	env, st := statsEnv(t)
	now := time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)
	if err := demo.SeedHistory(context.Background(), env.Store, env.Office, now); err != nil {
		t.Fatal(err)
	}
	handMadeDay(t, env)
	return env, st, statsServer(t, env, st)
}

func getStats(t *testing.T, url, token string) insight.Stats {
	t.Helper()
	res := ticketingtest.Do(t, "GET", url, token, "")
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %s", url, res.StatusCode, b)
	}
	var s insight.Stats
	if err := json.Unmarshal(b, &s); err != nil {
		t.Fatalf("GET %s: %v", url, err)
	}
	return s
}

// near reports whether a rounded figure of the API is the exact figure within the rounding (0.05 for
// seconds and percentages, 0.005 for feedback means), both or neither null.
func near(api, exact *float64, half float64) bool {
	if api == nil || exact == nil {
		return api == nil && exact == nil
	}
	return math.Abs(*api-*exact) <= half+1e-9
}

// On the demo's history plus the hand-made day, the API's rows per day, service and weekday-hour and
// its totals equal the same KPIs computed in SQL straight from the tickets.
func TestStatsMatchTickets(t *testing.T) {
	t.Parallel()
	env, _, base := historyEnv(t)
	manager := env.Login(t, "manager")
	const from, to = "2026-09-01", "2026-11-30"
	for _, g := range []string{"day", "service", "weekday_hour"} {
		api := getStats(t, base+"/stats?from="+from+"&to="+to+"&group="+g, manager)
		want := independent(t, env, g, from, to)
		if len(api.Rows) != len(want) || len(want) < 7 {
			t.Errorf("%s: %d rows from the API, %d from the tickets", g, len(api.Rows), len(want))
		}
		got := map[string]insight.Row{}
		for _, r := range api.Rows {
			got[r.Key] = r
		}
		got["total"] = api.Totals
		want = append(want, independent(t, env, "total", from, to)...)
		for _, w := range want {
			r, ok := got[w.Key]
			if !ok {
				t.Errorf("%s: no row %q from the API", g, w.Key)
				continue
			}
			if !sameRow(r, w) {
				t.Errorf("%s %s:\n  api %s\ntickets %s", g, w.Key, js(r), js(w))
			}
		}
	}
	if tot := getStats(t, base+"/stats?from="+from+"&to="+to, manager).Totals; tot.Transferred == 0 || tot.Cancelled == 0 ||
		tot.Expired == 0 || tot.NoShow == 0 || tot.FeedbackCount < 2 {
		t.Errorf("the data lacks a kind of visit: %s", js(tot))
	}
}

// sameRow compares the API's row with the exact figures from the tickets.
func sameRow(api, exact insight.Row) bool {
	counts := api.Arrivals == exact.Arrivals && api.Served == exact.Served && api.NoShow == exact.NoShow &&
		api.Cancelled == exact.Cancelled && api.Expired == exact.Expired && api.Transferred == exact.Transferred &&
		api.FeedbackCount == exact.FeedbackCount
	return counts && near(api.WaitMeanSeconds, exact.WaitMeanSeconds, 0.05) && near(api.WaitP50Seconds, exact.WaitP50Seconds, 0.05) &&
		near(api.WaitP90Seconds, exact.WaitP90Seconds, 0.05) && near(api.WaitMaxSeconds, exact.WaitMaxSeconds, 0.05) &&
		near(api.ServiceMeanSecs, exact.ServiceMeanSecs, 0.05) && near(api.ServiceP50Seconds, exact.ServiceP50Seconds, 0.05) &&
		near(api.ServiceP90Seconds, exact.ServiceP90Seconds, 0.05) && near(api.WithinTargetPct, exact.WithinTargetPct, 0.05) &&
		near(api.FeedbackMean, exact.FeedbackMean, 0.005)
}

func independent(t *testing.T, env *ticketingtest.Env, group, from, to string) []insight.Row {
	t.Helper()
	rows, err := env.Pool.Query(context.Background(), strings.Replace(independentSQL, "%s", independentKeys[group], 1),
		env.Office.ID, from, to)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []insight.Row
	for rows.Next() {
		var r insight.Row
		if err := rows.Scan(&r.Key, &r.Arrivals, &r.Served, &r.NoShow, &r.Cancelled, &r.Expired, &r.Transferred,
			&r.WaitMeanSeconds, &r.WaitP50Seconds, &r.WaitP90Seconds, &r.WaitMaxSeconds,
			&r.ServiceMeanSecs, &r.ServiceP50Seconds, &r.ServiceP90Seconds, &r.WithinTargetPct,
			&r.FeedbackCount, &r.FeedbackMean); err != nil {
			t.Fatal(err)
		}
		out = append(out, r)
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// On the hand-made day, the CSV (…/stats.csv, or Accept: text/csv) of every group has the JSON's field
// names as header, the JSON's rows in the same order with the same values (nulls empty), and the totals
// last.
func TestStatsCSVEqualsJSON(t *testing.T) {
	t.Parallel()
	env, st := statsEnv(t)
	handMadeDay(t, env)
	base := statsServer(t, env, st)
	manager := env.Login(t, "manager")
	o := *env.Office
	o.StaffFiguresAggregated = false
	if err := env.Store.UpdateOffice(context.Background(), &o); err != nil {
		t.Fatal(err)
	}
	for _, g := range insight.Groups {
		q := "?from=2026-11-23&to=2026-11-23&group=" + string(g)
		res := ticketingtest.Do(t, "GET", base+"/stats"+q, manager, "")
		var doc struct {
			Rows   []map[string]any `json:"rows"`
			Totals map[string]any   `json:"totals"`
		}
		err := json.NewDecoder(res.Body).Decode(&doc)
		res.Body.Close()
		if err != nil || res.StatusCode != 200 || len(doc.Rows) == 0 {
			t.Fatalf("%s: %d %v, %d rows", g, res.StatusCode, err, len(doc.Rows))
		}
		want := [][]string{insight.StatsCSVHeader}
		for _, r := range append(doc.Rows, doc.Totals) {
			var rec []string
			for _, h := range insight.StatsCSVHeader {
				switch v := r[h].(type) {
				case nil:
					rec = append(rec, "")
				case string:
					rec = append(rec, v)
				case float64:
					rec = append(rec, strconv.FormatFloat(v, 'f', -1, 64))
				default:
					t.Fatalf("%s: field %s is %T", g, h, v)
				}
			}
			want = append(want, rec)
		}
		for _, how := range []string{"path", "accept"} {
			req, _ := http.NewRequest("GET", base+"/stats.csv"+q, nil)
			if how == "accept" {
				req, _ = http.NewRequest("GET", base+"/stats"+q, nil)
				req.Header.Set("Accept", "text/csv")
			}
			req.Header.Set("Authorization", "Bearer "+manager)
			res, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			got, err := csv.NewReader(res.Body).ReadAll()
			res.Body.Close()
			if err != nil || res.StatusCode != 200 || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
				t.Fatalf("%s CSV by %s: %d %s %v", g, how, res.StatusCode, res.Header.Get("Content-Type"), err)
			}
			if js(got) != js(want) {
				t.Errorf("%s CSV by %s:\n got %s\nwant %s", g, how, js(got), js(want))
			}
			if last := got[len(got)-1]; last[0] != "total" {
				t.Errorf("%s CSV by %s: last line %v, want the totals", g, how, last)
			}
		}
	}
}

// Only the office's managers and administrators read its statistics: operators, the kiosk and display
// tokens, a manager of another office and anonymous callers are refused; figures per operator only
// when the office has turned off aggregated staff figures. Bad parameters are 422s naming the field.
func TestStatsAccessAndValidation(t *testing.T) {
	t.Parallel()
	env, st := statsEnv(t)
	handMadeDay(t, env)
	base := statsServer(t, env, st)
	q := "?from=2026-11-23&to=2026-11-23"
	for who, token := range map[string]string{"operator": env.Login(t, "op1"), "kiosk": demo.KioskToken,
		"display": demo.DisplayToken, "other office": otherManager(t, env)} {
		for _, p := range []string{"/stats" + q, "/stats.csv" + q, "/stats" + q + "&group=staff"} {
			if code, _ := ticketingtest.Call(t, "GET", base+p, token, ""); code != http.StatusForbidden {
				t.Errorf("%s GET %s: %d, want 403", who, p, code)
			}
		}
	}
	if code, _ := ticketingtest.Call(t, "GET", base+"/stats"+q, "", ""); code != http.StatusUnauthorized {
		t.Errorf("anonymous: %d, want 401", code)
	}
	manager, admin := env.Login(t, "manager"), env.Login(t, "admin")
	for _, token := range []string{manager, admin} {
		if s := getStats(t, base+"/stats"+q, token); s.Totals.Arrivals != 5 {
			t.Errorf("arrivals %d, want 5", s.Totals.Arrivals)
		}
		code, body := ticketingtest.Call(t, "GET", base+"/stats"+q+"&group=staff", token, "")
		if e, _ := body.(map[string]any)["error"].(map[string]any); code != http.StatusForbidden || e["code"] != "staff_figures_aggregated" {
			t.Errorf("staff figures while aggregated: %d %v, want 403 staff_figures_aggregated", code, body)
		}
	}
	o := *env.Office
	o.StaffFiguresAggregated = false
	if err := env.Store.UpdateOffice(context.Background(), &o); err != nil {
		t.Fatal(err)
	}
	if s := getStats(t, base+"/stats"+q+"&group=staff", manager); len(s.Rows) != 3 || s.Rows[0].Label != "Giulia Rossi" {
		t.Errorf("staff rows: %s", js(s.Rows))
	}
	for _, c := range []struct{ query, field string }{
		{"", "from"},
		{"?to=2026-11-23", "from"},
		{"?from=2026-11-23", "to"},
		{"?from=23/11/2026&to=2026-11-23", "from"},
		{"?from=2026-11-23&to=2026-11-31", "to"},
		{"?from=2026-11-23&to=2026-11-22", "to"},
		{"?from=2025-10-19&to=2026-11-23", "to"}, // 401 days
		{q + "&group=month", "group"},
		{q + "&service=passaporto", "service"},
		{q + "&agency=asl", "agency"},
	} {
		ticketingtest.WantError(t, "GET", base+"/stats"+c.query, manager, "", http.StatusUnprocessableEntity, c.field)
		ticketingtest.WantError(t, "GET", base+"/stats.csv"+c.query, manager, "", http.StatusUnprocessableEntity, c.field)
	}
	if s := getStats(t, base+"/stats?from=2025-10-20&to=2026-11-23", manager); s.Totals.Arrivals != 5 { // 400 days
		t.Errorf("400 days: %d arrivals, want 5", s.Totals.Arrivals)
	}
}

// otherManager creates office "altrove" with a manager and returns the manager's token.
func otherManager(t *testing.T, env *ticketingtest.Env) string {
	t.Helper()
	ctx := context.Background()
	other := &ticketing.Office{Slug: "altrove", Name: "Altrove", TimeZone: "Europe/Rome"}
	if _, err := env.Store.SaveOffice(ctx, other); err != nil {
		t.Fatal(err)
	}
	if _, err := env.Auth.CreateUser(ctx, auth.NewUser{Username: "capo-altrove", Role: auth.Manager, OfficeID: other.ID,
		Password: demo.Password}, false); err != nil {
		t.Fatal(err)
	}
	return env.Login(t, "capo-altrove")
}

// BenchmarkStatsMonth is a month's report by day and by service on the demo office's history
// (demo.SeedHistory), through Store.Stats on the real database; it reports the month's visits too.
func BenchmarkStatsMonth(b *testing.B) {
	env, st := statsEnv(b)
	ctx := context.Background()
	if err := demo.SeedHistory(ctx, env.Store, env.Office, time.Date(2026, 11, 23, 7, 0, 0, 0, time.UTC)); err != nil {
		b.Fatal(err)
	}
	from, to := time.Date(2026, 10, 1, 0, 0, 0, 0, time.UTC), time.Date(2026, 10, 31, 0, 0, 0, 0, time.UTC)
	for b.Loop() {
		for _, g := range []insight.Group{insight.ByDay, insight.ByService} {
			if _, err := st.Stats(ctx, insight.Query{Office: env.Office, From: from, To: to, Group: g}); err != nil {
				b.Fatal(err)
			}
		}
	}
	b.ReportMetric(float64(env.Count(b, `SELECT count(*) FROM visits WHERE local_day BETWEEN $1 AND $2`, from, to)), "visits")
}

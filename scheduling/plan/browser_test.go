package plan

import (
	"fmt"
	"net/http"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/page"
	"github.com/chromedp/chromedp"

	"turno/cmd/turno/demo"
	"turno/internal/browsertest"
	"turno/scheduling/roster"
)

// TestWeekGridInChromium: the manager opens the week grid of a published roster, records a sickness on
// the absence form and applies the first proposed substitute.
func TestWeekGridInChromium(t *testing.T) {
	t.Parallel()
	e := newPlanEnv(t)
	ctx := browsertest.New(t, 1500, 1000)
	manager := e.Login(t, "manager")
	v := e.solveRoster(t, manager, nextMonday, 14, 4)
	if st := e.call(t, "POST", fmt.Sprintf("/api/v1/rosters/%d/publish", v.ID), manager, `{"accept_gaps":true}`, nil); st != http.StatusOK {
		t.Fatalf("publish: status %d", st)
	}
	tuesday := nextMonday.AddDate(0, 0, 1).Format(time.DateOnly)
	var absent Assignment
	for _, a := range v.Assignments {
		if a.Day == tuesday && a.Template != "P" && a.Group == "anagrafe" {
			absent = a
			break
		}
	}
	if absent.StaffID == 0 {
		t.Fatal("nobody of anagrafe works the first Tuesday morning")
	}
	wait := func(js string) chromedp.Action[chromedp.Void] { return browsertest.WaitTrue(js, 10*time.Second) }
	err := chromedp.Do(ctx,
		chromedp.Navigate(fmt.Sprintf("%s/manage/rosters/%d?lang=it", e.Server.URL, v.ID)),
		chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), "manager"),
		chromedp.SendKeys(chromedp.CSS(`#password`), demo.Password),
		chromedp.Submit(chromedp.CSS(`#password`)),
		chromedp.WaitVisible(chromedp.CSS(`#week-grid`)),
		wait(`document.querySelectorAll("svg.coverage").length >= 6`),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "plan-grid-failed")
		t.Fatalf("sign in and open the week grid: %v", err)
	}
	browsertest.Screenshot(t, ctx, "plan-week-grid")
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`#abs-staff`), strconv.FormatInt(absent.StaffID, 10)),
		chromedp.SetValue(chromedp.CSS(`#abs-kind`), "sickness"),
		chromedp.SetValue(chromedp.CSS(`#abs-start`), tuesday+"T07:45"),
		chromedp.SetValue(chromedp.CSS(`#abs-end`), tuesday+"T20:00"),
		chromedp.Click(chromedp.CSS(`#record-absence`)),
		chromedp.WaitVisible(chromedp.CSS(`.hole button.apply`)),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "plan-absence-failed")
		t.Fatalf("record the absence: %v", err)
	}
	name, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`.hole .cand-name`)))
	if err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, ctx, "plan-proposals")
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`.hole button.apply`)),
		chromedp.WaitVisible(chromedp.CSS(`#page-done`)),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "plan-apply-failed")
		t.Fatalf("apply the substitute: %v", err)
	}
	var substitute string
	if err := e.Pool.QueryRow(t.Context(), `SELECT st.full_name FROM roster_changes c JOIN staff st ON st.id = c.staff_id
		WHERE c.roster_id = $1 AND c.reason = 'substitution'`, v.ID).Scan(&substitute); err != nil {
		t.Fatalf("no substitution stored: %v", err)
	}
	if substitute != name {
		t.Errorf("applied %q, the page proposed %q first", substitute, name)
	}
	changes, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#changes`)))
	if err != nil || !strings.Contains(changes, substitute) {
		t.Errorf("changes list %q (%v) does not show %s", changes, err, substitute)
	}
	browsertest.Screenshot(t, ctx, "plan-applied")
}

// TestRosterPageLiveInChromium: the manager opens a roster while it is being planned. The page follows the
// progress without reloading (a window variable set at the start survives, and there is no meta refresh),
// then shows the planned roster in place with each person's weekly hours against contract; a shift changed
// on the edit form shows its effects and highlights the person's hours.
func TestRosterPageLiveInChromium(t *testing.T) {
	t.Parallel()
	e := newPlanEnv(t)
	ctx := browsertest.New(t, 1440, 900)
	manager := e.Login(t, "manager")
	wait := func(js string, d time.Duration) chromedp.Action[chromedp.Void] { return browsertest.WaitTrue(js, d) }
	// Every document records its Content-Security-Policy violations before its own scripts run.
	if _, err := chromedp.Call(ctx, page.AddScriptToEvaluateOnNewDocument, page.AddScriptToEvaluateOnNewDocumentParams{
		Source: `window.__csp = []; document.addEventListener('securitypolicyviolation', (e) => window.__csp.push(e.effectiveDirective + ' ' + (e.blockedURI || 'inline')), true);`,
	}); err != nil {
		t.Fatal(err)
	}
	noViolations := func(when string) {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`window.__csp || []`))
		if err != nil || len(v) > 0 {
			t.Errorf("%s: CSP violations %v (%v)", when, v, err)
		}
	}
	err := chromedp.Do(ctx,
		chromedp.Navigate(e.Server.URL+"/manage/rosters?lang=it"),
		chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), "manager"),
		chromedp.SendKeys(chromedp.CSS(`#password`), demo.Password),
		chromedp.Submit(chromedp.CSS(`#password`)),
		chromedp.WaitVisible(chromedp.CSS(`#limit`)),
	)
	if err != nil {
		t.Fatalf("sign in: %v", err)
	}
	var created struct{ ID int64 }
	body := fmt.Sprintf(`{"from":%q,"to":%q,"time_limit_seconds":5}`, nextMonday.Format(time.DateOnly), nextMonday.AddDate(0, 0, 6).Format(time.DateOnly))
	if st := e.call(t, "POST", "/api/v1/offices/demo/rosters", manager, body, &created); st != http.StatusAccepted {
		t.Fatalf("create roster: status %d", st)
	}
	err = chromedp.Do(ctx,
		chromedp.Navigate(fmt.Sprintf("%s/manage/rosters/%d?lang=it", e.Server.URL, created.ID)),
		chromedp.WaitVisible(chromedp.CSS(`#live`)),
		chromedp.Evaluate[chromedp.Void](`window.__sameDocument = 42`),
	)
	if err != nil {
		t.Fatalf("open the roster while planning: %v", err)
	}
	refresh, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`!!document.querySelector('meta[http-equiv="refresh"]')`))
	if err != nil || refresh {
		t.Errorf("the page has a meta refresh (%v)", err)
	}
	// Progress moves on the page itself: the time so far grows in the same document.
	if err := chromedp.Do(ctx, wait(`window.__sameDocument === 42 && Number(document.getElementById("live-elapsed").textContent) >= 2
		&& document.getElementById("live-phase").textContent.length > 20`, 20*time.Second)); err != nil {
		browsertest.Screenshot(t, ctx, "plan-live-failed")
		t.Fatalf("progress did not update in place: %v", err)
	}
	browsertest.Screenshot(t, ctx, "plan-live-progress")
	phase, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#live-phase`)))
	for _, jargon := range []string{"objective", "obiettivo", "LP", "penal", "infeasible", "vincol"} {
		if strings.Contains(phase, jargon) {
			t.Errorf("the progress speaks jargon (%q): %s", jargon, phase)
		}
	}
	// The result arrives without a reload, with the weekly hours.
	if err := chromedp.Do(ctx, wait(`window.__sameDocument === 42 && !!document.getElementById("week-grid") && !document.getElementById("live")`, time.Minute)); err != nil {
		browsertest.Screenshot(t, ctx, "plan-live-done-failed")
		t.Fatalf("the planned roster did not replace the progress in place: %v", err)
	}
	cells, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[...document.querySelectorAll("#weekly-hours tbody td[data-week]")].map(td => td.textContent.trim())`))
	if err != nil || len(cells) == 0 {
		t.Fatalf("no weekly hours (%v)", err)
	}
	hours := regexp.MustCompile(`^\d+h\d\d / \d+h\d\d`)
	for _, c := range cells {
		if !hours.MatchString(c) {
			t.Errorf("weekly hours cell %q is not planned / expected hours", c)
		}
	}
	status, _ := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(`#roster-status`)))
	if status != "bozza" {
		t.Errorf("status pill %q after planning, want bozza", status)
	}
	browsertest.ScreenshotViewport(t, ctx, "plan-live-done")
	noViolations("after planning")

	// A valid edit (checked in process with the edit's own rules), made on the page's form.
	ro, err := e.Planner.Roster(t.Context(), created.ID)
	if err != nil {
		t.Fatal(err)
	}
	st, err := e.Planner.load(t.Context(), ro)
	if err != nil {
		t.Fatal(err)
	}
	p := st.P
	var staffID int64
	var day, shift string
search:
	for d := range p.In.Days {
		for ei, mb := range p.In.Staff {
			if st.Cells[ei][d] != roster.Off {
				continue
			}
			for ti, tp := range p.In.Templates {
				for gi, g := range p.In.Groups {
					if _, ok := mb.Groups[g]; !ok {
						continue
					}
					after := st.Cells.Clone()
					after[ei][d] = p.shiftOf(ti, gi)
					if p.checkEdit("it", st.Cells, after) == nil {
						staffID, day, shift = mb.ID, p.In.Date(d).Format(time.DateOnly), fmt.Sprintf("%d/%s", tp.ID, g)
						break search
					}
				}
			}
		}
	}
	if staffID == 0 {
		t.Fatal("no valid edit found")
	}
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`#edit-staff`), strconv.FormatInt(staffID, 10)),
		chromedp.SetValue(chromedp.CSS(`#edit-day`), day),
		chromedp.SetValue(chromedp.CSS(`#edit-shift`), shift),
		chromedp.Click(chromedp.CSS(`#edit-save`)),
		chromedp.WaitVisible(chromedp.CSS(`#edit-effects`)),
		chromedp.WaitVisible(chromedp.CSS(fmt.Sprintf(`#weekly-hours tr.edited[data-staff="%d"]`, staffID))),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "plan-edit-failed")
		t.Fatalf("edit a shift on the page: %v", err)
	}
	browsertest.ScreenshotViewport(t, ctx, "plan-edit-effects")
	noViolations("after the edit")
	var n int
	if err := e.Pool.QueryRow(t.Context(), `SELECT count(*) FROM roster_changes WHERE roster_id = $1 AND staff_id = $2 AND reason = 'manual'`, ro.ID, staffID).Scan(&n); err != nil || n != 1 {
		t.Errorf("%d manual changes stored (%v), want 1", n, err)
	}
}

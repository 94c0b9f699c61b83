package plan

import (
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"turno/cmd/turno/demo"
	"turno/internal/browsertest"
)

// TestWeekGridInChromium: the manager opens the week grid of a published roster, records a sickness on
// the absence form and applies the first proposed substitute.
func TestWeekGridInChromium(t *testing.T) {
	t.Parallel()
	e := newPlanEnv(t)
	ctx := browsertest.New(t, 1500, 1000)
	manager := e.Login(t, "manager")
	v := e.solveRoster(t, manager, nextMonday, 14, 4)
	if st := e.call(t, "POST", fmt.Sprintf("/api/v1/rosters/%d/publish", v.ID), manager, "", nil); st != http.StatusOK {
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

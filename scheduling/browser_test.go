package scheduling_test

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"turno/cmd/turno/demo"
	"turno/internal/browsertest"
)

// acrossReload polls a JavaScript expression until it is true while the page may be reloading, when an
// evaluation can fail because its page went away.
func acrossReload(expression string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		deadline := time.Now().Add(10 * time.Second)
		for {
			ok, err := chromedp.Evaluate[bool](expression)(ctx, t)
			if err == nil && ok {
				return chromedp.Void{}, nil
			}
			if time.Now().After(deadline) {
				return chromedp.Void{}, fmt.Errorf("still false after 10 s: %s (last error: %v)", expression, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// TestManagePagesInChromium: the manager signs in, records an absence that ends before it starts (the
// error names it and nothing is written), corrects it, changes a skill in the matrix, and tries
// overlapping opening hours.
func TestManagePagesInChromium(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	ctx := browsertest.New(t, 1400, 1000)
	wait := func(js string) chromedp.Action[chromedp.Void] { return browsertest.WaitTrue(js, 10*time.Second) }
	ready := wait(`document.documentElement.dataset.manageReady === '1'`)
	// saved clicks a submit button whose success reloads the page, and waits for the new page to satisfy check.
	saved := func(button, check string) chromedp.Action[chromedp.Void] {
		return chromedp.Steps(
			chromedp.Evaluate[chromedp.Void](`window.beforeSave = true`),
			chromedp.Click(chromedp.CSS(button)),
			acrossReload(`window.beforeSave === undefined && document.documentElement.dataset.manageReady === '1' && (`+check+`)`),
		)
	}
	staffID := itoa(f.env.StaffID(t, "op2"))
	err := chromedp.Do(ctx,
		chromedp.Navigate(f.url+"/manage/absences?lang=it"),
		chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), "manager"),
		chromedp.SendKeys(chromedp.CSS(`#password`), demo.Password),
		chromedp.Submit(chromedp.CSS(`#password`)),
		chromedp.WaitVisible(chromedp.CSS(`#absence-form`)),
		ready,
		chromedp.SetValue(chromedp.CSS(`#a-staff`), staffID),
		chromedp.SetValue(chromedp.CSS(`#a-kind`), "sickness"),
		chromedp.SetValue(chromedp.CSS(`#a-from`), "2026-03-05T07:45"),
		chromedp.SetValue(chromedp.CSS(`#a-to`), "2026-03-05T07:00"),
		chromedp.Click(chromedp.CSS(`#absence-form button[type=submit]`)),
		wait(`document.querySelector('#absence-form .error').textContent.includes('prima di iniziare')`),
		wait(`document.getElementById('a-to').getAttribute('aria-invalid') === 'true'`),
	)
	if err != nil {
		t.Fatalf("bad absence: %v", err)
	}
	if n := f.count(t, `SELECT count(*) FROM absences WHERE staff_id = $1`, f.env.StaffID(t, "op2")); n != 0 {
		t.Fatalf("the refused absence was written")
	}
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`#a-to`), "2026-03-05T18:00"),
		saved(`#absence-form button[type=submit]`, `document.querySelector('#list-h').parentElement.textContent.includes('Marco Bianchi')`),
	)
	if err != nil {
		t.Fatalf("record absence: %v", err)
	}
	if n := f.count(t, `SELECT count(*) FROM absences WHERE staff_id = $1 AND kind = 'sickness'`, f.env.StaffID(t, "op2")); n != 1 {
		t.Fatalf("%d sickness absences of op2, want 1", n)
	}

	// Skills matrix: Marco Bianchi (op2) learns ISEE.
	err = chromedp.Do(ctx,
		chromedp.Navigate(f.url+"/manage/staff"),
		chromedp.WaitVisible(chromedp.CSS(`#st-`+staffID)),
		ready,
		chromedp.SetValue(chromedp.CSS(`select[form="st-`+staffID+`"][name="skills.isee"]`), "learning"),
		saved(`button[form="st-`+staffID+`"]`, `document.querySelector('select[form="st-`+staffID+`"][name="skills.isee"]').value === 'learning'`),
	)
	if err != nil {
		t.Fatalf("skills matrix: %v", err)
	}
	browsertest.Screenshot(t, ctx, "manage-staff")
	var level string
	if err := f.env.Pool.QueryRow(context.Background(), `SELECT sk.level FROM staff_skills sk JOIN services s ON s.id = sk.service_id
		WHERE sk.staff_id = $1 AND s.code = 'isee'`, f.env.StaffID(t, "op2")).Scan(&level); err != nil || level != "learning" {
		t.Fatalf("op2's ISEE skill: %q (%v)", level, err)
	}

	// Overlapping opening hours are refused and named.
	err = chromedp.Do(ctx,
		chromedp.Navigate(f.url+"/manage/hours"),
		chromedp.WaitVisible(chromedp.CSS(`#hours-form`)),
		ready,
		chromedp.SetValue(chromedp.CSS(`#h-1`), "08:30-13:00, 12:00-18:00"),
		chromedp.Click(chromedp.CSS(`#hours-form button[type=submit]`)),
		wait(`document.querySelector('#hours-form .error').textContent.includes('si sovrappongono')`),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "manage-hours")
		t.Fatalf("overlapping hours: %v", err)
	}
	browsertest.Screenshot(t, ctx, "manage-hours-error")
	if err := chromedp.Do(ctx, chromedp.Navigate(f.url+"/manage/demand"), chromedp.WaitVisible(chromedp.CSS(`#grid-h`))); err != nil {
		t.Fatal(err)
	}
	browsertest.Screenshot(t, ctx, "manage-demand")
}

package insight_test

import (
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"turno/cmd/turno/demo"
	"turno/internal/browsertest"
)

// TestFeedbackPageInChromium: a manager signs in and reads /manage/feedback: the distribution lists the
// five scores with their share, the comment is there, and the page passes the accessibility checks.
func TestFeedbackPageInChromium(t *testing.T) {
	t.Parallel()
	f := newFeedbackEnv(t)
	tk := f.issue(t)
	f.serve(t, 1)
	if status, code := f.post(t, "/api/v1/tickets/"+tk.Code+"/feedback", "", `{"score":4,"comment":"Personale cortese"}`); status != 201 {
		t.Fatalf("rating: %d %s", status, code)
	}
	day := f.Office.LocalDay(f.Now()).Format(time.DateOnly)
	ctx := browsertest.New(t, 1280, 900)
	err := chromedp.Do(ctx,
		chromedp.Navigate(f.url+"/manage/feedback?from="+day+"&to="+day+"&lang=it"),
		chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), "manager"),
		chromedp.SendKeys(chromedp.CSS(`#password`), demo.Password),
		chromedp.Submit(chromedp.CSS(`#password`)),
		chromedp.WaitVisible(chromedp.CSS(`table.fb-comments`)),
	)
	if err != nil {
		t.Fatalf("open the feedback page: %v", err)
	}
	got, err := chromedp.Run(ctx, chromedp.Evaluate[string](`[...document.querySelectorAll("table.fb-dist meter")].map((m) => m.value).join(",") +
		" | " + document.querySelector("table.fb-comments .fb-text").textContent`))
	if err != nil || got != "0,100,0,0,0 | Personale cortese" {
		t.Errorf("distribution and comment = %q (%v), want the one rating of 4 and its comment", got, err)
	}
	if v := browsertest.Axe(t, ctx); len(v) > 0 {
		t.Errorf("/manage/feedback has accessibility violations: %v", v)
	}
	browsertest.ScreenshotViewport(t, ctx, "manage-feedback-1280x900-it")
}

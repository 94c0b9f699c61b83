package scheduling_test

import (
	"io"
	"net/http"
	"regexp"
	"strings"
	"testing"

	"turno/ticketing/ticketingtest"
)

var (
	tags            = regexp.MustCompile(`(?s)<script.*?</script>|<[^>]*>`)
	englishWeekdays = regexp.MustCompile(`\b(Monday|Tuesday|Wednesday|Thursday|Friday|Saturday|Sunday|Mon|Tue|Wed|Thu|Fri|Sat|Sun)\b`)
)

// The staff pages print dates and weekdays in the page's language with one helper (web.FormatDayYear,
// web.FormatDateTime): an Italian page has no English weekday name, an English one has no Italian one,
// and an absence reads "lun 9 mar 2026, 08:00" in Italian and "Mon 9 Mar 2026, 08:00" in English.
func TestStaffPagesDatesInTheirLanguage(t *testing.T) {
	t.Parallel()
	f := newFixture(t)
	staffID := f.env.StaffID(t, "op1")
	body := `{"staff_id":` + itoa(staffID) + `,"kind":"training","starts_at":"2026-03-09T08:00","ends_at":"2026-03-09T12:00"}`
	if status, v := ticketingtest.Call(t, "POST", f.url+"/api/v1/offices/demo/absences", f.manager, body); status != http.StatusCreated {
		t.Fatalf("absence: %d %v", status, v)
	}
	text := func(path string) string {
		t.Helper()
		res := ticketingtest.Do(t, "GET", f.url+path, f.manager, "")
		b, _ := io.ReadAll(res.Body)
		res.Body.Close()
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s: %d", path, res.StatusCode)
		}
		return strings.Join(strings.Fields(tags.ReplaceAllString(string(b), " ")), " ")
	}
	italianWeekday := regexp.MustCompile(`\b(lun|mar|mer|gio|ven|sab|dom|lunedì|martedì|mercoledì|giovedì|venerdì|sabato|domenica) \d`)
	for _, path := range []string{"/manage", "/manage/absences", "/manage/demand", "/manage/hours", "/manage/templates",
		"/manage/staff/" + itoa(staffID)} {
		it := text(path)
		if m := englishWeekdays.FindString(it); m != "" {
			i := strings.Index(it, m)
			t.Errorf("Italian %s shows the English %q: …%s…", path, m, it[max(0, i-60):min(len(it), i+60)])
		}
		en := text(path + "?lang=en")
		if m := italianWeekday.FindString(en); m != "" {
			i := strings.Index(en, m)
			t.Errorf("English %s shows the Italian %q: …%s…", path, m, en[max(0, i-60):min(len(en), i+60)])
		}
	}
	if it := text("/manage/absences"); !strings.Contains(it, "lun 9 mar 2026, 08:00") {
		t.Errorf("the Italian absences page does not show the absence as «lun 9 mar 2026, 08:00»: %.600s", it)
	}
	if en := text("/manage/absences?lang=en"); !strings.Contains(en, "Mon 9 Mar 2026, 08:00") {
		t.Errorf("the English absences page does not show the absence as «Mon 9 Mar 2026, 08:00»: %.600s", en)
	}
	if it := text("/manage/staff/" + itoa(staffID)); !strings.Contains(it, "lun 9 mar 2026, 08:00 → lun 9 mar 2026, 12:00") {
		t.Errorf("the Italian staff page does not show the absence in Italian: %.600s", it)
	}
}

package web

import (
	"testing"
	"time"
)

// Dates and weekdays in each of the kiosk's languages, from one helper.
func TestDatesInTheirLanguage(t *testing.T) {
	sunday := time.Date(2026, 3, 8, 18, 5, 0, 0, time.UTC)
	monday := time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC)
	for _, c := range []struct{ got, want string }{
		{WeekdayName("it", 1), "lunedì"},
		{WeekdayName("en", 7), "Sunday"},
		{WeekdayName("ar", 1), "الاثنين"},
		{WeekdayName("de", 1), "Monday"}, // no calendar: English
		{WeekdayName("it", 8), "8"},
		{WeekdayShort("it", 4), "gio"},
		{FormatDate("it", monday), "lunedì 2 marzo 2026"},
		{FormatDate("en", monday), "Monday 2 March 2026"},
		{FormatDate("es", monday), "lunes 2 de marzo de 2026"},
		{FormatDate("zh", monday), "2026年3月2日 星期一"},
		{FormatDay("it", sunday), "dom 8 mar"},
		{FormatDay("fr", sunday), "dim 8 mars"},
		{FormatDayYear("it", monday), "lun 2 mar 2026"},
		{FormatDayYear("en", monday), "Mon 2 Mar 2026"},
		{FormatDateTime("it", sunday), "dom 8 mar, 18:05"},
		{FormatDateTime("uk", monday), "пн 2 бер, 08:30"},
		{FormatNumericDate("it", monday), "02/03/2026"},
		{FormatNumericDate("zh", monday), "2026-03-02"},
	} {
		if c.got != c.want {
			t.Errorf("got %q, want %q", c.got, c.want)
		}
	}
	for _, l := range CitizenLangs {
		if _, ok := calendars[l.Code]; !ok {
			t.Errorf("no calendar words for %s", l.Code)
		}
	}
}

package web

import (
	"fmt"
	"time"
)

// FormatMonthYear prints a month in lang: "ottobre 2026", "October 2026", "2026年10月".
func FormatMonthYear(lang string, t time.Time) string {
	if lang == "zh" {
		return fmt.Sprintf("%d年%d月", t.Year(), int(t.Month()))
	}
	if lang == "es" {
		return fmt.Sprintf("%s de %d", calendarOf(lang).months[t.Month()-1], t.Year())
	}
	return fmt.Sprintf("%s %d", calendarOf(lang).months[t.Month()-1], t.Year())
}

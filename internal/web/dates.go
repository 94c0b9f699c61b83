package web

import (
	"fmt"
	"time"
)

// calendarWords are one language's names of weekdays (ISO order, Monday first) and months, long and short.
type calendarWords struct {
	weekdays, weekdaysShort [7]string
	months, monthsShort     [12]string
}

// calendars holds the kiosk's nine languages; a language not here is printed in English.
var calendars = map[string]calendarWords{
	"it": {
		[7]string{"lunedì", "martedì", "mercoledì", "giovedì", "venerdì", "sabato", "domenica"},
		[7]string{"lun", "mar", "mer", "gio", "ven", "sab", "dom"},
		[12]string{"gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"},
		[12]string{"gen", "feb", "mar", "apr", "mag", "giu", "lug", "ago", "set", "ott", "nov", "dic"},
	},
	"en": {
		[7]string{"Monday", "Tuesday", "Wednesday", "Thursday", "Friday", "Saturday", "Sunday"},
		[7]string{"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"},
		[12]string{"January", "February", "March", "April", "May", "June", "July", "August", "September", "October", "November", "December"},
		[12]string{"Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"},
	},
	"es": {
		[7]string{"lunes", "martes", "miércoles", "jueves", "viernes", "sábado", "domingo"},
		[7]string{"lun", "mar", "mié", "jue", "vie", "sáb", "dom"},
		[12]string{"enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"},
		[12]string{"ene", "feb", "mar", "abr", "may", "jun", "jul", "ago", "sept", "oct", "nov", "dic"},
	},
	"fr": {
		[7]string{"lundi", "mardi", "mercredi", "jeudi", "vendredi", "samedi", "dimanche"},
		[7]string{"lun", "mar", "mer", "jeu", "ven", "sam", "dim"},
		[12]string{"janvier", "février", "mars", "avril", "mai", "juin", "juillet", "août", "septembre", "octobre", "novembre", "décembre"},
		[12]string{"janv", "févr", "mars", "avr", "mai", "juin", "juil", "août", "sept", "oct", "nov", "déc"},
	},
	"ro": {
		[7]string{"luni", "marți", "miercuri", "joi", "vineri", "sâmbătă", "duminică"},
		[7]string{"lun", "mar", "mie", "joi", "vin", "sâm", "dum"},
		[12]string{"ianuarie", "februarie", "martie", "aprilie", "mai", "iunie", "iulie", "august", "septembrie", "octombrie", "noiembrie", "decembrie"},
		[12]string{"ian", "feb", "mar", "apr", "mai", "iun", "iul", "aug", "sept", "oct", "nov", "dec"},
	},
	"sq": {
		[7]string{"e hënë", "e martë", "e mërkurë", "e enjte", "e premte", "e shtunë", "e diel"},
		[7]string{"hën", "mar", "mër", "enj", "pre", "sht", "die"},
		[12]string{"janar", "shkurt", "mars", "prill", "maj", "qershor", "korrik", "gusht", "shtator", "tetor", "nëntor", "dhjetor"},
		[12]string{"jan", "shk", "mar", "pri", "maj", "qer", "korr", "gush", "sht", "tet", "nën", "dhj"},
	},
	"uk": {
		[7]string{"понеділок", "вівторок", "середа", "четвер", "пʼятниця", "субота", "неділя"},
		[7]string{"пн", "вт", "ср", "чт", "пт", "сб", "нд"},
		[12]string{"січня", "лютого", "березня", "квітня", "травня", "червня", "липня", "серпня", "вересня", "жовтня", "листопада", "грудня"},
		[12]string{"січ", "лют", "бер", "квіт", "трав", "черв", "лип", "серп", "вер", "жовт", "лист", "груд"},
	},
	"zh": {
		[7]string{"星期一", "星期二", "星期三", "星期四", "星期五", "星期六", "星期日"},
		[7]string{"周一", "周二", "周三", "周四", "周五", "周六", "周日"},
		[12]string{"1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月"},
		[12]string{"1月", "2月", "3月", "4月", "5月", "6月", "7月", "8月", "9月", "10月", "11月", "12月"},
	},
	"ar": {
		[7]string{"الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد"},
		[7]string{"الاثنين", "الثلاثاء", "الأربعاء", "الخميس", "الجمعة", "السبت", "الأحد"},
		[12]string{"يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"},
		[12]string{"يناير", "فبراير", "مارس", "أبريل", "مايو", "يونيو", "يوليو", "أغسطس", "سبتمبر", "أكتوبر", "نوفمبر", "ديسمبر"},
	},
}

func calendarOf(lang string) calendarWords {
	if c, ok := calendars[lang]; ok {
		return c
	}
	return calendars["en"]
}

// isoWeekday numbers t's weekday from 1 (Monday) to 7 (Sunday).
func isoWeekday(t time.Time) int { return (int(t.Weekday())+6)%7 + 1 }

// WeekdayName names the ISO weekday iso (1 = Monday … 7 = Sunday) in lang, e.g. "lunedì"; a number
// outside 1–7 is printed as it is.
func WeekdayName(lang string, iso int) string {
	if iso < 1 || iso > 7 {
		return fmt.Sprint(iso)
	}
	return calendarOf(lang).weekdays[iso-1]
}

// WeekdayShort abbreviates the ISO weekday iso in lang, e.g. "lun".
func WeekdayShort(lang string, iso int) string {
	if iso < 1 || iso > 7 {
		return fmt.Sprint(iso)
	}
	return calendarOf(lang).weekdaysShort[iso-1]
}

// FormatDate prints a calendar day in full in lang: "lunedì 2 marzo 2026", "Monday 2 March 2026",
// "2026年3月2日 星期一".
func FormatDate(lang string, t time.Time) string {
	c := calendarOf(lang)
	wd, m := c.weekdays[isoWeekday(t)-1], c.months[t.Month()-1]
	switch lang {
	case "zh":
		return fmt.Sprintf("%d年%d月%d日 %s", t.Year(), int(t.Month()), t.Day(), wd)
	case "es":
		return fmt.Sprintf("%s %d de %s de %d", wd, t.Day(), m, t.Year())
	}
	return fmt.Sprintf("%s %d %s %d", wd, t.Day(), m, t.Year())
}

// FormatDay prints a day briefly in lang, without the year: "lun 2 mar", "Mon 2 Mar", "3月2日 周一".
func FormatDay(lang string, t time.Time) string {
	c := calendarOf(lang)
	if lang == "zh" {
		return fmt.Sprintf("%d月%d日 %s", int(t.Month()), t.Day(), c.weekdaysShort[isoWeekday(t)-1])
	}
	return fmt.Sprintf("%s %d %s", c.weekdaysShort[isoWeekday(t)-1], t.Day(), c.monthsShort[t.Month()-1])
}

// FormatDayYear prints a day briefly in lang, with the year: "lun 2 mar 2026", "Mon 2 Mar 2026",
// "2026年3月2日 周一".
func FormatDayYear(lang string, t time.Time) string {
	if lang == "zh" {
		return fmt.Sprintf("%d年%s", t.Year(), FormatDay(lang, t))
	}
	return fmt.Sprintf("%s %d", FormatDay(lang, t), t.Year())
}

// FormatISODay is FormatDayYear for a day written YYYY-MM-DD (how the API and the calendar carry
// local dates); anything else is returned as it is.
func FormatISODay(lang, day string) string {
	t, err := time.Parse(time.DateOnly, day)
	if err != nil {
		return day
	}
	return FormatDayYear(lang, t)
}

// FormatDateTime prints a day and a time of day in lang: "lun 2 mar, 08:30", "Mon 2 Mar, 08:30".
func FormatDateTime(lang string, t time.Time) string {
	return FormatDay(lang, t) + ", " + t.Format("15:04")
}

// FormatNumericDate prints a date as digits in lang's usual order: "02/03/2026" (it and most
// languages), "2026-03-02" (zh).
func FormatNumericDate(lang string, t time.Time) string {
	switch lang {
	case "zh":
		return t.Format("2006-01-02")
	case "uk", "ro", "sq":
		return t.Format("02.01.2006")
	}
	return t.Format("02/01/2006")
}

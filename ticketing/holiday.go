package ticketing

import (
	"fmt"
	"sort"
	"time"
)

// NamedDay is a dated holiday.
type NamedDay struct {
	Day  time.Time `json:"day"`
	Name string    `json:"name"`
}

// Holiday reports whether a date (at UTC midnight) is an Italian national holiday, and its name.
func Holiday(day time.Time) (string, bool) {
	for _, h := range Holidays(day.Year()) {
		if h.Day.Equal(day) {
			return h.Name, true
		}
	}
	return "", false
}

// Holidays lists the Italian national public holidays of a year, Easter Monday included, and Saint Francis
// (4 October) from 2026, when it became a national holiday again (Law 151/2025).
func Holidays(year int) []NamedDay {
	d := func(m time.Month, day int) time.Time { return time.Date(year, m, day, 0, 0, 0, 0, time.UTC) }
	easter := Easter(year)
	out := []NamedDay{
		{d(time.January, 1), "Capodanno"},
		{d(time.January, 6), "Epifania"},
		{easter, "Pasqua"},
		{easter.AddDate(0, 0, 1), "Lunedì dell'Angelo"},
		{d(time.April, 25), "Festa della Liberazione"},
		{d(time.May, 1), "Festa del Lavoro"},
		{d(time.June, 2), "Festa della Repubblica"},
		{d(time.August, 15), "Ferragosto"},
		{d(time.November, 1), "Ognissanti"},
		{d(time.December, 8), "Immacolata Concezione"},
		{d(time.December, 25), "Natale"},
		{d(time.December, 26), "Santo Stefano"},
	}
	if year >= 2026 {
		out = append(out, NamedDay{d(time.October, 4), "San Francesco d'Assisi"})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].Day.Before(out[j].Day) })
	return out
}

// Easter returns Western Easter Sunday of a year (anonymous Gregorian algorithm), at UTC midnight.
func Easter(year int) time.Time {
	a := year % 19
	b, c := year/100, year%100
	d, e := b/4, b%4
	f := (b + 8) / 25
	g := (b - f + 1) / 3
	h := (19*a + b - d - g + 15) % 30
	i, k := c/4, c%4
	l := (32 + 2*e + 2*i - h - k) % 7
	m := (a + 11*h + 22*l) / 451
	month := (h + l - 7*m + 114) / 31
	day := (h+l-7*m+114)%31 + 1
	return time.Date(year, time.Month(month), day, 0, 0, 0, 0, time.UTC)
}

// OfficeHoliday is a day an office is closed by law or custom.
type OfficeHoliday struct {
	Day  string `json:"day"`
	Name string `json:"name"`
	Kind string `json:"kind"` // "national" or "patron"
}

// Holidays lists the national holidays of a year and the office's patron-saint day, by date.
func (o *Office) Holidays(year int) []OfficeHoliday {
	var out []OfficeHoliday
	for _, h := range Holidays(year) {
		out = append(out, OfficeHoliday{h.Day.Format(time.DateOnly), h.Name, "national"})
	}
	if o.PatronDay != "" {
		if d, err := time.Parse(time.DateOnly, fmt.Sprintf("%d-%s", year, o.PatronDay)); err == nil {
			out = append(out, OfficeHoliday{d.Format(time.DateOnly), "Santo patrono", "patron"})
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Day < out[j].Day })
	return out
}

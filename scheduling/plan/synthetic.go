package plan

import (
	"fmt"
	"math/rand/v2"
	"time"

	"turno/ticketing"
)

// SyntheticOffice builds, without a database, a realistic office: staff people across groups skill
// groups, open Monday to Friday mornings, Tuesday and Thursday afternoons and Saturday mornings, with
// full-time (36 h, 5 days) and part-time (24 h/4 days, 18 h/3 days) contracts, some leave and
// preferences, and a demand with a mid-morning peak sized so that peaks are hard to cover.
func SyntheticOffice(staff, groups, days int, seed uint64) *Input {
	rng := rand.New(rand.NewPCG(seed, 7))
	rome, _ := time.LoadLocation("Europe/Rome")
	from := time.Date(2027, 3, 1, 0, 0, 0, 0, time.UTC) // a Monday, no holiday in the next 6 weeks
	in := &Input{OfficeID: 1, Loc: rome, From: from, Days: days, SlotMinutes: 30, Demand: map[DemandKey]int{}}
	iv := func(a, b string) ticketing.Interval {
		pa, _ := time.Parse("15:04", a)
		pb, _ := time.Parse("15:04", b)
		return ticketing.Interval{Opens: time.Duration(pa.Hour()*60+pa.Minute()) * time.Minute, Closes: time.Duration(pb.Hour()*60+pb.Minute()) * time.Minute}
	}
	weekly := map[int][]ticketing.Interval{
		1: {iv("08:30", "13:00")}, 2: {iv("08:30", "13:00"), iv("14:30", "17:30")}, 3: {iv("08:30", "13:00")},
		4: {iv("08:30", "13:00"), iv("14:30", "18:00")}, 5: {iv("08:30", "13:00")}, 6: {iv("08:30", "12:30")},
	}
	for d := range days {
		in.Open = append(in.Open, weekly[isoWeekday(in.Date(d))])
	}
	tpl := func(id int64, code string, s, e int, wds ...int) Template {
		t := Template{ID: id, Code: code, Name: code, Start: s, End: e}
		for _, wd := range wds {
			t.Weekdays[wd] = true
		}
		return t
	}
	in.Templates = []Template{
		tpl(1, "M", 8*60, 14*60, 1, 2, 3, 4, 5),
		tpl(2, "R", 8*60, 17*60, 2, 4),
		tpl(3, "P", 12*60, 18*60, 2, 4),
		tpl(4, "S", 8*60, 13*60, 6),
	}
	all := []string{"anagrafe", "tributi", "sociale", "edilizia", "inps", "enel", "imprese", "stato-civile", "polizia", "scuola"}
	in.Groups = append([]string(nil), all[:groups]...)
	share := make([]float64, groups)
	total := 0.0
	for g := range share {
		share[g] = 1 / float64(g+2)
		total += share[g]
	}
	for g := range share {
		share[g] /= total
	}
	pick := func() int {
		x := rng.Float64()
		for g, s := range share {
			if x < s {
				return g
			}
			x -= s
		}
		return groups - 1
	}
	for i := range staff {
		m := Member{ID: int64(i + 1), Code: fmt.Sprintf("E%02d", i+1), Name: fmt.Sprintf("Staff %02d", i+1), Groups: map[string]string{}}
		m.Groups[in.Groups[pick()]] = "primary"
		for range 1 + rng.IntN(2) {
			if g := in.Groups[pick()]; m.Groups[g] == "" {
				m.Groups[g] = "secondary"
			}
		}
		switch {
		case i%5 == 3:
			m.Contract = Contract{WeeklyMinutes: 24 * 60, MaxDailyMinutes: 540, MaxDaysPerWeek: 4, MinRestMinutes: 660, MaxSaturdays4W: 2}
		case i%5 == 4:
			m.Contract = Contract{WeeklyMinutes: 18 * 60, MaxDailyMinutes: 360, MaxDaysPerWeek: 3, MinRestMinutes: 660, MaxSaturdays4W: 1}
		default:
			m.Contract = Contract{WeeklyMinutes: 36 * 60, MaxDailyMinutes: 540, MaxDaysPerWeek: 5, MinRestMinutes: 660, MaxSaturdays4W: 2}
		}
		in.Staff = append(in.Staff, m)
	}
	// A week of leave for one person in twelve, and some preferences.
	for i := 0; i < staff; i += 12 {
		start := at(rome, in.Date(7*(i/12%max(1, days/7))), 0)
		in.Absences = append(in.Absences, Absence{ID: int64(i + 1), StaffID: int64(i + 1), Kind: "leave", Start: start, End: start.AddDate(0, 0, 7)})
	}
	for i := 1; i < staff; i += 7 {
		in.Preferences = append(in.Preferences, Preference{StaffID: int64(i + 1), Weekday: 6, Wanted: false, Weight: 2})
	}
	for i := 2; i < staff; i += 9 {
		in.Preferences = append(in.Preferences, Preference{StaffID: int64(i + 1), Weekday: 1 + i%5, TemplateID: 1, Wanted: true, Weight: 1})
	}
	// Demand: about 0.55 people per staff member in the morning peak, fewer in afternoons and on Saturday.
	for wd := 1; wd <= 6; wd++ {
		for _, iv := range weekly[wd] {
			for slot := int(iv.Opens / time.Minute); slot < int(iv.Closes/time.Minute); slot += 30 {
				peak := 1.0
				switch {
				case slot < 9*60+30:
					peak = 0.75
				case slot >= 14*60:
					peak = 0.45
				case slot >= 12*60:
					peak = 0.8
				}
				if wd == 6 {
					peak *= 0.6
				}
				if wd == 1 {
					peak *= 1.15
				}
				for g, group := range in.Groups {
					in.Demand[DemandKey{wd, slot, group}] = int(0.55*float64(staff)*share[g]*peak + 0.5)
				}
			}
		}
	}
	return in
}

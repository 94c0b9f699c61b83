package demo

import (
	"context"
	"time"

	"turno/scheduling"
	"turno/scheduling/demand"
	"turno/ticketing"
)

// demoTemplates are the demo office's shifts: a morning, a long morning, the Tuesday/Thursday afternoon
// and Saturday morning; each starts 15 minutes before opening.
var demoTemplates = []scheduling.ShiftTemplate{
	{Code: "M", Name: "Mattina", Starts: ticketing.Clock(8, 15), Ends: ticketing.Clock(13, 15), Weekdays: []int{1, 2, 3, 4, 5}, Active: true},
	{Code: "L", Name: "Mattina lunga", Starts: ticketing.Clock(8, 15), Ends: ticketing.Clock(14, 15), Weekdays: []int{1, 2, 3, 4, 5}, Active: true},
	{Code: "P", Name: "Pomeriggio", Starts: ticketing.Clock(14, 15), Ends: ticketing.Clock(18, 15), Weekdays: []int{2, 4}, Active: true},
	{Code: "S", Name: "Sabato mattina", Starts: ticketing.Clock(8, 15), Ends: ticketing.Clock(12, 45), Weekdays: []int{6}, Active: true},
}

// demoContracts by staff code: mostly full time (36 h, the public administration's week), three part-timers.
var demoContracts = map[string]scheduling.Contract{
	"S08": {WeeklyMinutes: 1800, MaxDailyMinutes: 480, MaxDaysPerWeek: 5, MinRestMinutes: 660, MaxSaturdaysPer4Weeks: 2},
	"S09": {WeeklyMinutes: 1080, MaxDailyMinutes: 360, MaxDaysPerWeek: 4, MinRestMinutes: 660, MaxSaturdaysPer4Weeks: 2, AllowedTemplates: []string{"M", "S"}},
	"S10": {WeeklyMinutes: 1440, MaxDailyMinutes: 480, MaxDaysPerWeek: 4, MinRestMinutes: 660, MaxSaturdaysPer4Weeks: 1},
}

// demoPreferences by staff code.
var demoPreferences = map[string][]scheduling.Preference{
	"S02": {{Weekday: 6, Wanted: false, Weight: 5}},
	"S05": {{Weekday: 2, Template: "P", Wanted: true, Weight: 3}},
	"S08": {{Weekday: 1, Wanted: false, Weight: 2}},
	"S10": {{Weekday: 6, Wanted: true, Weight: 2}},
}

// demoSettings: 80 % called within 20 minutes, the services' usual wait target; 10 % shrinkage for short
// breaks.
var demoSettings = demand.Settings{ServiceLevel: 0.80, TargetWaitSeconds: 1200, Shrinkage: 0.10, SlotMinutes: 30}

// SeedPlanning adds what is missing of the demo office's planning data: planning settings, the shift
// templates, contracts of the demo staff, a few preferences and absences, and HistoryWeeks weeks of ticket
// history before now (SeedHistory); then it refreshes the forecast. Settings, templates and contracts a
// manager has changed are kept, and history is added only for past open days without tickets.
func SeedPlanning(ctx context.Context, s Stores, o *ticketing.Office, now time.Time) error {
	if err := seedPlanning(ctx, s, o, now); err != nil {
		return err
	}
	if err := SeedHistory(ctx, s.Tickets, o, now); err != nil {
		return err
	}
	return s.Demand.Refresh(ctx, o.ID, now)
}

// seedPlanning adds what is missing of an office's planning data, history aside.
func seedPlanning(ctx context.Context, s Stores, o *ticketing.Office, now time.Time) error {
	if err := s.Demand.InitSettings(ctx, o.ID, demoSettings); err != nil {
		return err
	}
	if err := seedTemplates(ctx, s.Plans, o); err != nil {
		return err
	}
	staff, err := s.Tickets.StaffList(ctx, o.ID)
	if err != nil {
		return err
	}
	if err := seedContracts(ctx, s.Plans, o, staff); err != nil {
		return err
	}
	if err := seedPreferences(ctx, s.Plans, o, staff); err != nil {
		return err
	}
	return seedAbsences(ctx, s.Plans, o, staff, now)
}

// seedTemplates adds the demo templates whose codes the office does not have.
func seedTemplates(ctx context.Context, plans *scheduling.Store, o *ticketing.Office) error {
	existing, err := plans.ShiftTemplates(ctx, o.ID)
	if err != nil {
		return err
	}
	have := map[string]bool{}
	for _, t := range existing {
		have[t.Code] = true
	}
	for _, t := range demoTemplates {
		if !have[t.Code] {
			t.Weekdays = append([]int(nil), t.Weekdays...)
			if err := plans.SaveShiftTemplate(ctx, o.ID, &t); err != nil {
				return err
			}
		}
	}
	return nil
}

// seedContracts gives every staff member without a contract theirs (DefaultContract unless listed).
func seedContracts(ctx context.Context, plans *scheduling.Store, o *ticketing.Office, staff []*ticketing.Staff) error {
	contracts, err := plans.Contracts(ctx, o.ID)
	if err != nil {
		return err
	}
	for _, st := range staff {
		if _, ok := contracts[st.ID]; ok {
			continue
		}
		c, ok := demoContracts[st.Code]
		if !ok {
			c = scheduling.DefaultContract
		}
		if err := plans.SaveContract(ctx, o.ID, st.ID, c); err != nil {
			return err
		}
	}
	return nil
}

// seedPreferences gives the demo preferences to the listed staff members who have none.
func seedPreferences(ctx context.Context, plans *scheduling.Store, o *ticketing.Office, staff []*ticketing.Staff) error {
	for _, st := range staff {
		prefs, ok := demoPreferences[st.Code]
		if !ok {
			continue
		}
		have, err := plans.Preferences(ctx, st.ID)
		if err != nil {
			return err
		}
		if len(have) == 0 {
			if err := plans.SetPreferences(ctx, o.ID, st.ID, prefs); err != nil {
				return err
			}
		}
	}
	return nil
}

// seedAbsences records, when the office has no absence at all, a week of leave for S03 from the Monday
// after next and a training morning for S06 next Wednesday.
func seedAbsences(ctx context.Context, plans *scheduling.Store, o *ticketing.Office, staff []*ticketing.Staff, now time.Time) error {
	existing, err := plans.Absences(ctx, o.ID, time.Time{}, now.AddDate(100, 0, 0), 0)
	if err != nil || len(existing) > 0 {
		return err
	}
	byCode := map[string]int64{}
	for _, st := range staff {
		byCode[st.Code] = st.ID
	}
	today := o.LocalDay(now)
	monday := today.AddDate(0, 0, 1-ticketing.ISOWeekday(today)+14)
	wednesday := today.AddDate(0, 0, 3-ticketing.ISOWeekday(today)+7)
	for _, in := range []scheduling.AbsenceInput{
		{StaffID: byCode["S03"], Kind: "leave", StartsAt: monday.Format(time.DateOnly), EndsAt: monday.AddDate(0, 0, 4).Format(time.DateOnly), Note: "Ferie"},
		{StaffID: byCode["S06"], Kind: "training", StartsAt: wednesday.Format(time.DateOnly) + "T08:00", EndsAt: wednesday.Format(time.DateOnly) + "T13:00", Note: "Corso ANPR"},
	} {
		if in.StaffID == 0 {
			continue
		}
		if _, err := plans.RecordAbsence(ctx, o, in, 0); err != nil {
			return err
		}
	}
	return nil
}

package demo

import (
	"slices"

	"turno/ticketing"
)

// town is one demo office with everything SeedOffice creates for it, and how busy it is.
type town struct {
	office         ticketing.Office
	agencies       []ticketing.Agency
	services       []demoService
	desks          []ticketing.Desk
	staff          []ticketing.Staff
	hours          map[int][]ticketing.Interval
	admin          bool   // the installation's administrator is created with this town
	manager        string // the manager's username
	managerStaff   string // the staff code the manager works as
	operatorPrefix string // operators sign in as prefix1, prefix2…
	operators      int    // the first staff members who have an operator account
	kiosk, display string // device tokens
	tablet         string // the feedback tablet's token, paired to desk 1; empty: none
	demand         float64
}

// demoTown is the demo office, the one the tests and the printed links use.
func demoTown() *town {
	morning := ticketing.Interval{Opens: ticketing.Clock(8, 30), Closes: ticketing.Clock(13, 0)}
	return &town{
		office: ticketing.Office{Slug: OfficeSlug, Name: "Sportello Polifunzionale – Comune di Demo", TimeZone: "Europe/Rome",
			IssuingAlwaysOpen: true, IssuingStopMinutes: 15, PatronDay: "06-24"},
		agencies: []ticketing.Agency{{Code: "comune", Name: "Comune di Demo"},
			{Code: "inps", Name: "INPS", ContributionMonthlyCents: 150000, ContributionPerTicketCents: 200},
			{Code: "enel", Name: "Enel Energia", ContributionPerTicketCents: 350}},
		services: demoServices,
		desks:    demoDesks,
		staff:    demoStaff,
		// Weekday mornings, Tuesday and Thursday afternoons, Saturday mornings.
		hours: map[int][]ticketing.Interval{
			1: {morning},
			2: {morning, {Opens: ticketing.Clock(14, 30), Closes: ticketing.Clock(17, 30)}},
			3: {morning},
			4: {morning, {Opens: ticketing.Clock(14, 30), Closes: ticketing.Clock(18, 0)}},
			5: {morning},
			6: {{Opens: ticketing.Clock(8, 30), Closes: ticketing.Clock(12, 30)}},
		},
		admin: true, manager: "manager", managerStaff: "S07", operatorPrefix: "op", operators: 6,
		kiosk: KioskToken, display: DisplayToken, tablet: TabletToken, demand: 1,
	}
}

// servicesOf picks demo services by code, with the town's own expected handling times (code → seconds).
func servicesOf(handling map[string]int, codes ...string) []demoService {
	var out []demoService
	for _, d := range demoServices {
		if slices.Contains(codes, d.code) {
			if h, ok := handling[d.code]; ok {
				d.handling = h
			}
			out = append(out, d)
		}
	}
	return out
}

// otherTowns are the two smaller offices of the demo installation, so that network benchmarking compares
// something: a seaside town with no business hall and a hill town whose counter serves firms too.
func otherTowns() []*town {
	return []*town{{
		office: ticketing.Office{Slug: "marina", Name: "Sportello Polifunzionale – Comune di Marina", TimeZone: "Europe/Rome",
			IssuingAlwaysOpen: true, IssuingStopMinutes: 15, PatronDay: "06-29"},
		agencies: []ticketing.Agency{{Code: "comune", Name: "Comune di Marina"},
			{Code: "inps", Name: "INPS", ContributionMonthlyCents: 80000},
			{Code: "enel", Name: "Enel Energia", ContributionPerTicketCents: 300}},
		services: servicesOf(map[string]int{"tributi": 1200, "certificati": 360},
			"cie", "certificati", "residenza", "tributi", "isee", "inps-pensioni", "enel-bonus"),
		desks: []ticketing.Desk{
			{Number: 1, Name: "Sportello 1", Audience: ticketing.Citizen, Services: []string{"cie", "certificati", "residenza"}},
			{Number: 2, Name: "Sportello 2", Audience: ticketing.Citizen, Services: []string{"certificati", "tributi", "isee"}},
			{Number: 3, Name: "Sportello 3", Audience: ticketing.Citizen, Services: []string{"inps-pensioni", "enel-bonus", "isee"}},
			{Number: 4, Name: "Sportello 4", Audience: ticketing.Citizen, Services: []string{"cie", "certificati", "residenza", "tributi"}},
		},
		staff: []ticketing.Staff{
			{Code: "M01", FullName: "Anna Ferrari", Skills: map[string]ticketing.SkillLevel{"cie": primary, "certificati": primary, "residenza": primary}},
			{Code: "M02", FullName: "Roberto Conti", Skills: map[string]ticketing.SkillLevel{"tributi": primary, "isee": secondary, "certificati": secondary}},
			{Code: "M03", FullName: "Silvia De Luca", Skills: map[string]ticketing.SkillLevel{"inps-pensioni": primary, "enel-bonus": primary, "isee": primary}},
			{Code: "M04", FullName: "Matteo Costa", Skills: map[string]ticketing.SkillLevel{"cie": primary, "residenza": secondary, "tributi": secondary, "certificati": primary}},
			{Code: "M05", FullName: "Laura Giordano", Skills: map[string]ticketing.SkillLevel{"isee": primary, "certificati": primary, "enel-bonus": learning}},
		},
		// Weekday mornings and Wednesday afternoon; closed on Saturday.
		hours: map[int][]ticketing.Interval{
			1: {{Opens: ticketing.Clock(8, 30), Closes: ticketing.Clock(12, 30)}},
			2: {{Opens: ticketing.Clock(8, 30), Closes: ticketing.Clock(12, 30)}},
			3: {{Opens: ticketing.Clock(8, 30), Closes: ticketing.Clock(12, 30)}, {Opens: ticketing.Clock(15, 0), Closes: ticketing.Clock(17, 30)}},
			4: {{Opens: ticketing.Clock(8, 30), Closes: ticketing.Clock(12, 30)}},
			5: {{Opens: ticketing.Clock(8, 30), Closes: ticketing.Clock(12, 30)}},
		},
		manager: "manager.marina", managerStaff: "M05", operatorPrefix: "marina.op", operators: 4,
		kiosk: "marina-kiosk", display: "marina-display", demand: 0.55,
	}, {
		office: ticketing.Office{Slug: "collina", Name: "Sportello Polifunzionale – Comune di Collina", TimeZone: "Europe/Rome",
			IssuingAlwaysOpen: true, IssuingStopMinutes: 20, PatronDay: "09-29"},
		agencies: []ticketing.Agency{{Code: "comune", Name: "Comune di Collina"},
			{Code: "inps", Name: "INPS", ContributionMonthlyCents: 120000, ContributionPerTicketCents: 150}},
		services: servicesOf(map[string]int{"cie": 1020, "edilizia": 1200, "suap": 1800},
			"cie", "certificati", "residenza", "tributi", "edilizia", "inps-pensioni", "suap", "inps-imprese", "edilizia-imprese"),
		desks: []ticketing.Desk{
			{Number: 1, Name: "Sportello 1", Audience: ticketing.Citizen, Services: []string{"cie", "certificati", "residenza"}},
			{Number: 2, Name: "Sportello 2", Audience: ticketing.Citizen, Services: []string{"certificati", "tributi", "edilizia"}},
			{Number: 3, Name: "Sportello 3", Audience: ticketing.Citizen, Services: []string{"inps-pensioni", "certificati", "residenza"}},
			{Number: 4, Name: "Sportello 4 – Imprese", Audience: ticketing.Business, Services: []string{"suap", "inps-imprese", "edilizia-imprese"}},
			{Number: 5, Name: "Sportello 5", Audience: ticketing.Citizen, Services: []string{"cie", "certificati", "tributi"}},
		},
		staff: []ticketing.Staff{
			{Code: "C01", FullName: "Giorgio Mancini", Skills: map[string]ticketing.SkillLevel{"cie": primary, "certificati": primary, "residenza": primary}},
			{Code: "C02", FullName: "Valentina Lombardi", Skills: map[string]ticketing.SkillLevel{"tributi": primary, "edilizia": primary, "certificati": secondary}},
			{Code: "C03", FullName: "Stefano Moretti", Skills: map[string]ticketing.SkillLevel{"inps-pensioni": primary, "residenza": secondary, "certificati": primary}},
			{Code: "C04", FullName: "Federica Barbieri", Skills: map[string]ticketing.SkillLevel{"suap": primary, "inps-imprese": primary, "edilizia-imprese": primary}},
			{Code: "C05", FullName: "Alessandro Fontana", Skills: map[string]ticketing.SkillLevel{"cie": primary, "tributi": secondary, "certificati": primary}},
			{Code: "C06", FullName: "Martina Santoro", Skills: map[string]ticketing.SkillLevel{"edilizia-imprese": secondary, "edilizia": primary, "tributi": primary}},
		},
		// Weekday mornings from 8:00, Tuesday and Thursday afternoons, Saturday 9–12.
		hours: map[int][]ticketing.Interval{
			1: {{Opens: ticketing.Clock(8, 0), Closes: ticketing.Clock(13, 0)}},
			2: {{Opens: ticketing.Clock(8, 0), Closes: ticketing.Clock(13, 0)}, {Opens: ticketing.Clock(14, 30), Closes: ticketing.Clock(17, 0)}},
			3: {{Opens: ticketing.Clock(8, 0), Closes: ticketing.Clock(13, 0)}},
			4: {{Opens: ticketing.Clock(8, 0), Closes: ticketing.Clock(13, 0)}, {Opens: ticketing.Clock(14, 30), Closes: ticketing.Clock(17, 0)}},
			5: {{Opens: ticketing.Clock(8, 0), Closes: ticketing.Clock(13, 0)}},
			6: {{Opens: ticketing.Clock(9, 0), Closes: ticketing.Clock(12, 0)}},
		},
		manager: "manager.collina", managerStaff: "C06", operatorPrefix: "collina.op", operators: 5,
		kiosk: "collina-kiosk", display: "collina-display", demand: 0.75,
	}}
}

package ticketing

import (
	"context"
	"fmt"
	"time"

	"turno/internal/auth"
)

// DemoOffice is the slug of the seeded demo office.
const DemoOffice = "demo"

// Demo device tokens, printed by `make run`.
const (
	DemoKioskToken   = "demo-kiosk"
	DemoDisplayToken = "demo-display"
)

// DemoPassword is the password of every demo user.
const DemoPassword = "demo"

type demoService struct {
	agency, code, audience, category, prefix, it, en string
	handling, target                                 int
	bringIT, bringEN                                 string
}

// demoServices model a real multi-agency counter: the town hall's registry, taxes, social services and
// building desk, plus the pension agency and an energy utility, for citizens and businesses.
var demoServices = []demoService{
	{"comune", "cie", Citizen, "anagrafe", "A", "Carta d'identità elettronica", "Electronic identity card", 900, 1800,
		"Vecchio documento, una fototessera recente, tessera sanitaria, ricevuta del pagamento", "Old ID, a recent passport photo, health card, payment receipt"},
	{"comune", "certificati", Citizen, "anagrafe", "C", "Certificati anagrafici", "Registry certificates", 300, 900,
		"Documento d'identità; marca da bollo se richiesta", "Identity document; revenue stamp if required"},
	{"comune", "residenza", Citizen, "anagrafe", "R", "Cambio di residenza", "Change of residence", 1200, 1800,
		"Documenti di tutti i componenti, contratto d'affitto o atto di proprietà, targhe dei veicoli", "IDs of everyone moving, lease or deed, vehicle plates"},
	{"comune", "tributi", Citizen, "tributi", "T", "Tributi comunali (IMU, TARI)", "Local taxes (IMU, TARI)", 900, 1800,
		"Codice fiscale, avvisi di pagamento ricevuti", "Tax code, payment notices received"},
	{"comune", "isee", Citizen, "sociale", "S", "Servizi sociali e ISEE", "Social services and ISEE", 1200, 2400,
		"Documento, codice fiscale dei familiari, redditi e patrimoni, contratto d'affitto", "ID, tax codes of the household, income and assets, lease"},
	{"comune", "edilizia", Citizen, "edilizia", "E", "Edilizia: informazioni e pratiche", "Building permits: information", 900, 2400,
		"Dati catastali dell'immobile, eventuale pratica già presentata", "Land registry data, any application already filed"},
	{"inps", "inps-pensioni", Citizen, "inps", "P", "INPS: pensioni e prestazioni", "INPS: pensions and benefits", 1200, 2400,
		"Documento, codice fiscale, PIN/SPID se disponibile", "ID, tax code, SPID if you have it"},
	{"enel", "enel-bonus", Citizen, "enel", "L", "Enel: forniture e bonus sociale", "Enel: supply and social bonus", 600, 1800,
		"Ultima bolletta, codice fiscale dell'intestatario", "Latest bill, account holder's tax code"},
	{"comune", "suap", Business, "imprese", "B", "SUAP: attività produttive", "SUAP: business activities", 1500, 2400,
		"Visura camerale, documento del legale rappresentante", "Chamber of commerce extract, legal representative's ID"},
	{"inps", "inps-imprese", Business, "imprese", "Z", "INPS: aziende e contributi", "INPS: employers and contributions", 1200, 2400,
		"Matricola INPS dell'azienda, delega se non titolare", "Company INPS number, proxy if not the owner"},
	{"comune", "edilizia-imprese", Business, "imprese", "G", "Edilizia: professionisti e imprese", "Building: professionals and firms", 1200, 2400,
		"Pratica SUE/SUAP, dati catastali", "SUE/SUAP file, land registry data"},
}

var demoDesks = []Desk{
	{Number: 1, Name: "Sportello 1", Audience: Citizen, Services: []string{"cie", "certificati", "residenza"}},
	{Number: 2, Name: "Sportello 2", Audience: Citizen, Services: []string{"cie", "certificati", "residenza", "tributi"}},
	{Number: 3, Name: "Sportello 3", Audience: Citizen, Services: []string{"certificati", "tributi", "isee", "edilizia"}},
	{Number: 4, Name: "Sportello 4", Audience: Citizen, Services: []string{"inps-pensioni", "enel-bonus", "isee", "certificati"}},
	{Number: 5, Name: "Sportello 5 – Imprese", Audience: Business, Services: []string{"suap", "inps-imprese", "edilizia-imprese"}},
	{Number: 6, Name: "Sportello 6 – Imprese", Audience: Business, Services: []string{"suap", "edilizia-imprese", "edilizia", "tributi"}},
}

// demoStaff: ten people with mixed skills (service → level). op1…op6 sign in as the first six.
var demoStaff = []Staff{
	{Code: "S01", FullName: "Giulia Rossi", Skills: map[string]string{"cie": Primary, "certificati": Primary, "residenza": Primary, "tributi": Secondary}},
	{Code: "S02", FullName: "Marco Bianchi", Skills: map[string]string{"cie": Primary, "certificati": Primary, "residenza": Secondary, "tributi": Primary}},
	{Code: "S03", FullName: "Francesca Esposito", Skills: map[string]string{"isee": Primary, "tributi": Primary, "certificati": Secondary, "edilizia": Learning}},
	{Code: "S04", FullName: "Luca Romano", Skills: map[string]string{"inps-pensioni": Primary, "enel-bonus": Primary, "isee": Secondary, "certificati": Secondary}},
	{Code: "S05", FullName: "Sara Colombo", Skills: map[string]string{"suap": Primary, "inps-imprese": Primary, "edilizia-imprese": Secondary}},
	{Code: "S06", FullName: "Andrea Ricci", Skills: map[string]string{"suap": Secondary, "edilizia-imprese": Primary, "edilizia": Primary, "tributi": Learning}},
	{Code: "S07", FullName: "Chiara Marino", Skills: map[string]string{"cie": Secondary, "certificati": Primary, "isee": Primary, "inps-pensioni": Learning}},
	{Code: "S08", FullName: "Davide Greco", Skills: map[string]string{"enel-bonus": Primary, "inps-pensioni": Secondary, "certificati": Primary}},
	{Code: "S09", FullName: "Elena Bruno", Skills: map[string]string{"residenza": Primary, "cie": Primary, "tributi": Secondary, "isee": Learning}},
	{Code: "S10", FullName: "Paolo Gallo", Skills: map[string]string{"inps-imprese": Secondary, "suap": Primary, "tributi": Primary, "edilizia": Secondary}},
}

// SeedDemo creates or refreshes the demo office: agencies, services, desks, priority categories, opening
// hours, ten staff, users admin, manager and op1…op6 (password "demo") and the demo kiosk and display
// tokens. It is idempotent. The office keeps realistic opening hours for planning but issues tickets
// around the clock so the demo works at any hour.
func SeedDemo(ctx context.Context, s *Store, a *auth.Store) (*Office, error) {
	o := &Office{Slug: DemoOffice, Name: "Sportello Polifunzionale – Comune di Demo", TimeZone: "Europe/Rome",
		IssuingAlwaysOpen: true, IssuingStopMinutes: 15, PatronDay: "06-24"}
	if _, err := s.SaveOffice(ctx, o); err != nil {
		return nil, err
	}
	for _, ag := range []Agency{{Code: "comune", Name: "Comune di Demo"}, {Code: "inps", Name: "INPS"}, {Code: "enel", Name: "Enel Energia"}} {
		ag.OfficeID = o.ID
		if err := s.SaveAgency(ctx, &ag); err != nil {
			return nil, err
		}
	}
	for i, d := range demoServices {
		sv := &Service{OfficeID: o.ID, Agency: d.agency, Code: d.code, Audience: d.audience, Category: d.category,
			Prefix: d.prefix, Names: map[string]string{"it": d.it, "en": d.en},
			WhatToBring:             map[string]string{"it": d.bringIT, "en": d.bringEN},
			ExpectedHandlingSeconds: d.handling, WaitTargetSeconds: d.target, Active: true, SortOrder: i}
		if err := s.SaveService(ctx, sv); err != nil {
			return nil, err
		}
	}
	for _, d := range demoDesks {
		d.OfficeID, d.Active = o.ID, true
		if err := s.SaveDesk(ctx, &d); err != nil {
			return nil, err
		}
	}
	for _, p := range []PriorityCategory{
		{Code: "disabilita", Labels: map[string]string{"it": "Persona con disabilità", "en": "Person with disability"}, BonusSeconds: 900, Active: true},
		{Code: "gravidanza", Labels: map[string]string{"it": "Donna in gravidanza", "en": "Pregnant woman"}, BonusSeconds: 900, Active: true},
		{Code: "over75", Labels: map[string]string{"it": "Over 75", "en": "Aged 75 or over"}, BonusSeconds: 600, Active: true},
	} {
		if err := s.SavePriorityCategory(ctx, o.ID, &p); err != nil {
			return nil, err
		}
	}
	// Weekday mornings, Tuesday and Thursday afternoons, Saturday mornings.
	hours := map[int][][2]string{
		1: {{"08:30", "13:00"}}, 2: {{"08:30", "13:00"}, {"14:30", "17:30"}}, 3: {{"08:30", "13:00"}},
		4: {{"08:30", "13:00"}, {"14:30", "18:00"}}, 5: {{"08:30", "13:00"}}, 6: {{"08:30", "12:30"}},
	}
	if err := s.ReplaceOpeningHours(ctx, o.ID, hours); err != nil {
		return nil, err
	}
	staffIDs := map[string]int64{}
	for _, st := range demoStaff {
		st.OfficeID, st.Active = o.ID, true
		if err := s.SaveStaff(ctx, &st); err != nil {
			return nil, err
		}
		staffIDs[st.Code] = st.ID
	}
	users := []auth.NewUser{
		{Username: "admin", Role: auth.Admin, DisplayName: "Amministratore"},
		{Username: "manager", Role: auth.Manager, DisplayName: "Responsabile sportello", OfficeID: o.ID, StaffID: staffIDs["S07"]},
	}
	for i := 1; i <= 6; i++ {
		code := fmt.Sprintf("S%02d", i)
		users = append(users, auth.NewUser{Username: fmt.Sprintf("op%d", i), Role: auth.Operator,
			DisplayName: demoStaff[i-1].FullName, OfficeID: o.ID, StaffID: staffIDs[code]})
	}
	for _, u := range users {
		u.Password = DemoPassword
		if _, err := a.CreateUser(ctx, u, true); err != nil {
			return nil, err
		}
	}
	if _, _, err := a.CreateDevice(ctx, o.ID, auth.Kiosk, "Totem ingresso", DemoKioskToken); err != nil {
		return nil, err
	}
	if _, _, err := a.CreateDevice(ctx, o.ID, auth.Display, "Tabellone sala", DemoDisplayToken); err != nil {
		return nil, err
	}
	return o, nil
}

// ReplaceOpeningHours sets an office's weekly opening intervals: weekday (1 = Monday … 7 = Sunday) →
// [opens, closes] pairs as "HH:MM". Intervals must not be inverted or overlap.
func (s *Store) ReplaceOpeningHours(ctx context.Context, officeID int64, hours map[int][][2]string) error {
	ivs := map[int][]Interval{}
	for wd, pairs := range hours {
		if wd < 1 || wd > 7 {
			return fmt.Errorf("ticketing: weekday %d out of 1–7", wd)
		}
		for _, p := range pairs {
			o, err1 := time.Parse("15:04", p[0])
			c, err2 := time.Parse("15:04", p[1])
			if err1 != nil || err2 != nil || !o.Before(c) {
				return fmt.Errorf("ticketing: bad interval %v on weekday %d", p, wd)
			}
			ivs[wd] = append(ivs[wd], Interval{Opens: clock(o), Closes: clock(c)})
		}
	}
	return s.SetWeeklyHours(ctx, officeID, ivs)
}

func clock(t time.Time) time.Duration {
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute
}

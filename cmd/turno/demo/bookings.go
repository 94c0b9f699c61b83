package demo

import (
	"context"
	"errors"
	"fmt"
	"time"

	"turno/internal/auth"
	"turno/internal/web"
	"turno/ticketing"
	"turno/ticketing/booking"
)

// BackOfficeUser is the demo office's back-office specialist's username (password Password): the
// specialist of the back-office service, whose day /agenda shows.
const BackOfficeUser = "backoffice"

// backOfficeService is the demo office's back-office service: building files examined by appointment with
// the technical office's specialist, booked by the front desk for the citizen it is serving.
var backOfficeService = demoService{"comune", "edilizia-bo", ticketing.Citizen, "edilizia", "U",
	"Pratiche edilizie – back office", "Building files – back office", 1800, 2400,
	"Pratica edilizia, dati catastali, elaborati tecnici", "Building file, land registry data, technical drawings"}

// bookableServices are the demo office's services citizens book themselves, with the share of their
// capacity kept for appointments. Places are whole: without a roster, certificati's four desks at 0.3 make
// one place a slot, and the two desks of the others need half of them for one.
var bookableServices = []struct {
	code  string
	share float64
}{{"certificati", 0.3}, {"cie", 0.5}, {"residenza", 0.5}}

// SeedBookings gives the demo office its second channel, once: booking rules for three citizen services
// (a share of 0.3 or 0.5 of their capacity kept for appointments), a back-office service with its specialist (staff S11, user
// backoffice, back-office desk 7, bookable Monday to Friday 09:00–13:00), joining from the phone turned on,
// and a few anonymous appointments in the coming days (no names: the demo holds no personal data). An
// office that has booking rules already is left as it is, a manager's changes included.
func SeedBookings(ctx context.Context, s Stores, o *ticketing.Office, now time.Time) error {
	if s.Bookings == nil {
		return nil
	}
	have, err := s.Bookings.OfficeRules(ctx, o.ID)
	if err != nil || len(have) > 0 {
		return err
	}
	var citizen []*ticketing.Service
	for _, b := range bookableServices {
		svc, err := s.Tickets.ServiceByCode(ctx, o.ID, b.code)
		if err != nil {
			return err
		}
		r := booking.DefaultRules(svc.ID, svc.Code)
		r.Bookable, r.DefaultShare = true, b.share
		if err := s.Bookings.SaveRules(ctx, o.ID, r); err != nil {
			return fmt.Errorf("demo booking rules of %s: %w", b.code, err)
		}
		citizen = append(citizen, svc)
	}
	bo, specialist, err := seedBackOffice(ctx, s, o)
	if err != nil {
		return err
	}
	o.PhoneJoin = true
	if err := s.Tickets.UpdateOffice(ctx, o); err != nil {
		return err
	}
	return seedAppointments(ctx, s, o, citizen, bo, specialist, now)
}

// seedBackOffice creates the back-office service, its rules, its specialist with their weekly hours, user
// and desk, and returns the service and the specialist's staff id.
func seedBackOffice(ctx context.Context, s Stores, o *ticketing.Office) (*ticketing.Service, int64, error) {
	d := backOfficeService
	svc, err := s.Tickets.ServiceByCode(ctx, o.ID, d.code)
	if err != nil {
		svc = &ticketing.Service{OfficeID: o.ID, Agency: d.agency, Code: d.code, Audience: d.audience, Category: d.category,
			Prefix: d.prefix, Names: map[string]string{"it": d.it, "en": d.en},
			WhatToBring:             map[string]string{"it": d.bringIT, "en": d.bringEN},
			ExpectedHandlingSeconds: d.handling, WaitTargetSeconds: d.target, Active: true, SortOrder: len(demoServices)}
		if err := s.Tickets.SaveService(ctx, svc); err != nil {
			return nil, 0, err
		}
	}
	r := booking.DefaultRules(svc.ID, svc.Code)
	r.Bookable, r.BackOffice, r.SlotMinutes, r.MinNoticeMinutes, r.HorizonDays = true, true, 30, 0, 60
	if err := s.Bookings.SaveRules(ctx, o.ID, r); err != nil {
		return nil, 0, fmt.Errorf("demo back-office rules: %w", err)
	}
	st, err := s.Tickets.StaffByCode(ctx, o.ID, "S11")
	if err != nil {
		st = &ticketing.Staff{OfficeID: o.ID, Code: "S11", FullName: "Marta Fontana", Active: true, BackOffice: true,
			Skills: map[string]ticketing.SkillLevel{d.code: ticketing.Primary, "edilizia": ticketing.Secondary}}
		if err := s.Tickets.SaveStaff(ctx, st); err != nil {
			return nil, 0, err
		}
	}
	var hours []booking.Hours
	for wd := 1; wd <= 5; wd++ {
		hours = append(hours, booking.Hours{Weekday: wd, From: ticketing.Clock(9, 0), To: ticketing.Clock(13, 0)})
	}
	if err := s.Bookings.SetBackOfficeHours(ctx, st.ID, hours); err != nil {
		return nil, 0, err
	}
	if _, err := s.Tickets.DeskByNumber(ctx, o.ID, 7); err != nil {
		desk := &ticketing.Desk{OfficeID: o.ID, Number: 7, Name: "Ufficio tecnico (back office)", Audience: ticketing.Citizen,
			Active: true, Services: []string{d.code}}
		if err := s.Tickets.SaveDesk(ctx, desk); err != nil {
			return nil, 0, err
		}
	}
	_, err = s.Auth.CreateUser(ctx, auth.NewUser{Username: BackOfficeUser, Password: Password, Role: auth.Operator,
		DisplayName: st.FullName, OfficeID: o.ID, StaffID: st.ID}, false)
	var we *web.Error
	if err != nil && !(errors.As(err, &we) && we.Code == "username_taken") {
		return nil, 0, err
	}
	return svc, st.ID, nil
}

// seedAppointments books a few anonymous appointments on the next open days: two slots of each citizen
// service and two back-office appointments, each the first free slot from mid-morning, so the agenda, the
// capacity preview and the kiosk's check-in have something to show.
func seedAppointments(ctx context.Context, s Stores, o *ticketing.Office, citizen []*ticketing.Service, bo *ticketing.Service,
	specialist int64, now time.Time) error {
	users, err := s.Auth.OfficeUsers(ctx, o.ID)
	if err != nil {
		return err
	}
	var manager int64
	for _, u := range users {
		if u.Username == "manager" {
			manager = u.ID
		}
	}
	from := o.Midnight(o.LocalDay(now).AddDate(0, 0, 1))
	to := from.AddDate(0, 0, 7)
	book := func(svc *ticketing.Service, n int, req booking.BookRequest) error {
		slots, err := s.Bookings.Slots(ctx, o, svc, from, to)
		if err != nil {
			return err
		}
		booked := 0
		for _, sl := range slots {
			local := sl.Start.In(o.Location())
			if sl.Free < 1 || local.Hour() < 10 || booked >= n {
				continue
			}
			req.Service, req.Start = svc.Code, sl.Start
			if _, _, err := s.Bookings.Book(ctx, o, req); err != nil {
				return fmt.Errorf("demo appointment %s at %s: %w", svc.Code, local.Format(time.DateTime), err)
			}
			booked++
		}
		return nil
	}
	for _, svc := range citizen {
		if err := book(svc, 2, booking.BookRequest{Lang: "it"}); err != nil {
			return err
		}
	}
	return book(bo, 2, booking.BookRequest{Lang: "it", StaffID: specialist, UserID: manager,
		Note: "Verifica della pratica SCIA prima della presentazione."})
}

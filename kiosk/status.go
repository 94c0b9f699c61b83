package kiosk

import (
	"context"
	"net/http"
	"strconv"
	"strings"
	"time"

	"turno/internal/web"
	"turno/ticketing"
)

// Status is everything the kiosk shows besides its own texts: whether the office issues tickets now (and
// when it will again), its services with their current wait, and the priority categories.
type Status struct {
	Office      OfficeInfo     `json:"office"`
	IssuingOpen bool           `json:"issuing_open"`
	NextOpening *time.Time     `json:"next_opening"` // when issuing opens again; nil while open or when none is scheduled
	Audiences   []string       `json:"audiences"`    // audiences with at least one service, citizens first
	Services    []ServiceInfo  `json:"services"`
	Priorities  []PriorityInfo `json:"priorities"`
	Now         time.Time      `json:"now"`
}

// OfficeInfo names the office on the kiosk.
type OfficeInfo struct {
	Slug     string `json:"slug"`
	Name     string `json:"name"`
	TimeZone string `json:"time_zone"`
}

// ServiceInfo is a service as the kiosk shows it. Available is false for a service the office has switched
// off: the kiosk shows it greyed out rather than hiding it, so a regular visitor learns it is not offered
// today instead of searching for it.
type ServiceInfo struct {
	Code                 string            `json:"code"`
	Agency               string            `json:"agency"`
	AgencyName           string            `json:"agency_name"`
	Category             string            `json:"category"`
	Audience             string            `json:"audience"`
	Prefix               string            `json:"prefix"`
	Names                map[string]string `json:"names"`
	Descriptions         map[string]string `json:"descriptions"`
	WhatToBring          map[string]string `json:"what_to_bring"`
	Available            bool              `json:"available"`
	Waiting              int               `json:"waiting"`
	OpenDesks            int               `json:"open_desks"`
	EstimatedWaitSeconds int               `json:"estimated_wait_seconds"`
	// Ahead and Estimate are for a ticket taken now without priority (ticketing.QueueLine): the card shows
	// the same figures and wording as the ticket, the printout and the phone page.
	Ahead    int                 `json:"ahead"`
	Estimate *ticketing.Estimate `json:"estimate"`
}

// PriorityInfo is a priority category a visitor may claim.
type PriorityInfo struct {
	Code   string            `json:"code"`
	Labels map[string]string `json:"labels"`
}

// BuildStatus gathers an office's kiosk status at the store's current time.
func BuildStatus(ctx context.Context, s *ticketing.Store, o *ticketing.Office) (*Status, error) {
	now := s.Now().UTC()
	st := &Status{
		Office:   OfficeInfo{Slug: o.Slug, Name: o.Name, TimeZone: o.TimeZone},
		Now:      now,
		Services: []ServiceInfo{}, Priorities: []PriorityInfo{}, Audiences: []string{},
	}
	cal, err := s.Calendar(ctx, o)
	if err != nil {
		return nil, err
	}
	open, next := o.IssuingOpen(cal, now)
	st.IssuingOpen = open
	if !open && !next.IsZero() {
		st.NextOpening = &next
	}
	services, err := s.Services(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	only, err := s.AppointmentOnly(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	queue, err := s.Queue(ctx, o)
	if err != nil {
		return nil, err
	}
	lines := make(map[string]ticketing.QueueLine, len(queue))
	for _, q := range queue {
		lines[q.Service] = q
	}
	seen := map[string]bool{}
	for _, sv := range services {
		if only[sv.ID] {
			continue // the back office receives by appointment only: no ticket from the kiosk
		}
		q, ok := lines[sv.Code]
		info := ServiceInfo{
			Code: sv.Code, Agency: sv.Agency, AgencyName: sv.AgencyName, Category: sv.Category, Audience: sv.Audience,
			Prefix: sv.Prefix, Names: sv.Names, Descriptions: sv.Descriptions, WhatToBring: sv.WhatToBring,
			Available: sv.Active, Waiting: q.Waiting, OpenDesks: q.OpenDesks, EstimatedWaitSeconds: q.EstimatedWaitSeconds,
			Ahead: q.Ahead,
		}
		if ok {
			info.Estimate = &q.Estimate // a service switched off has no queue line and no estimate
		}
		st.Services = append(st.Services, info)
		seen[sv.Audience] = true
	}
	for _, a := range []string{ticketing.Citizen, ticketing.Business} {
		if seen[a] {
			st.Audiences = append(st.Audiences, a)
		}
	}
	priorities, err := s.PriorityCategories(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	for _, p := range priorities {
		if p.Active {
			st.Priorities = append(st.Priorities, PriorityInfo{Code: p.Code, Labels: p.Labels})
		}
	}
	return st, nil
}

// status serves GET /api/v1/offices/{office}/kiosk. It is public like the catalogue and the queue it
// summarises; the kiosk polls it to keep wait estimates and opening state current.
func (h *Handler) status(r *http.Request) (int, any, error) {
	return web.OK(BuildStatus(r.Context(), h.Store, ticketing.OfficeOf(r)))
}

// WaitText says an estimate in lang the way every page says it: the kiosk's cards and ticket screen
// (kiosk.js), the phone page (phone.js) and the printed ticket follow the same rules, so a visitor reads
// the same words everywhere. A wait is whole minutes rounded up; with no desk open it says when desks or
// the office open, never "no wait" (docs/kpis.md).
func WaitText(lang string, e *ticketing.Estimate) string {
	if e == nil {
		return ""
	}
	tr := func(key string, vars ...string) string {
		s := web.Translate(lang, key)
		for i := 0; i+1 < len(vars); i += 2 {
			s = strings.ReplaceAll(s, "{"+vars[i]+"}", vars[i+1])
		}
		return s
	}
	wait := 0
	if e.WaitSeconds != nil {
		wait = *e.WaitSeconds
	}
	minutes := strconv.Itoa(max(1, (wait+59)/60))
	switch e.Kind {
	case ticketing.EstimateDesksOpen:
		if wait <= 0 {
			return tr("kiosk.wait_soon")
		}
		return tr("kiosk.wait_minutes", "n", minutes)
	case ticketing.EstimatePlanned:
		if e.OpensTime != "" {
			return tr("kiosk.wait_planned", "n", minutes, "time", e.OpensTime)
		}
		return tr("kiosk.wait_planned_now", "n", minutes)
	case ticketing.EstimateNoDeskOpen:
		if e.OpensTime != "" {
			return tr("kiosk.wait_no_desk_until", "time", e.OpensTime)
		}
		return tr("kiosk.wait_no_desk")
	}
	switch {
	case e.OpensAt == nil || len(e.OpensDate) != len(time.DateOnly):
		return tr("kiosk.wait_closed")
	case e.OpensInDays == 1:
		return tr("kiosk.wait_closed_tomorrow", "time", e.OpensTime)
	}
	return tr("kiosk.wait_closed_on", "day", e.OpensDate[8:10], "month", e.OpensDate[5:7], "time", e.OpensTime)
}

// waitLine is the printed ticket's wait line: "Attesa stimata: circa 5 min", or the sentence alone when
// there is no wait to give ("Nessuno sportello ancora aperto: apertura alle 08:30").
func waitLine(lang string, e *ticketing.Estimate) string {
	if e.WaitSeconds == nil {
		return WaitText(lang, e)
	}
	return web.Translate(lang, "kiosk.estimated_wait") + ": " + WaitText(lang, e)
}

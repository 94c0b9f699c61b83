package insight

import (
	"context"
	"math"
	"strconv"
	"time"

	"turno/internal/web"
)

// Appointments gives the reports the booked channel's figures; package booking implements it. Without
// it the reports have no appointment figures.
type Appointments interface {
	// AppointmentDays counts an office's appointments of each local day from from to to (dates, both
	// included) by what became of them; serviceIDs, when not nil, keeps only those services'. Days
	// without appointments are left out.
	AppointmentDays(ctx context.Context, officeID int64, from, to time.Time, serviceIDs []int64) ([]AppointmentFigures, error)
}

// AppointmentFigures are the appointments of a day, or of a report's period, by what became of them
// (docs/kpis.md, "Appointments"). A day is the slot's, on the office's clock.
type AppointmentFigures struct {
	Day string `json:"day,omitempty"` // YYYY-MM-DD; absent in the totals
	// Booked are the appointments that held a place: all but the cancelled ones.
	Booked    int `json:"booked"`
	CheckedIn int `json:"checked_in"`
	// Late are the checked-in ones that came after the late window and got a walk-in's ticket.
	Late      int `json:"late"`
	NoShow    int `json:"no_show"`
	Cancelled int `json:"cancelled"`
	// Pending are still booked: their check-in window has not ended yet.
	Pending int `json:"pending"`
	// NoShowPct is no_show / (checked_in + no_show) × 100: the share of the appointments that were due
	// and missed; null when none was due.
	NoShowPct *float64 `json:"no_show_pct"`
}

func (f *AppointmentFigures) add(g AppointmentFigures) {
	f.Booked += g.Booked
	f.CheckedIn += g.CheckedIn
	f.Late += g.Late
	f.NoShow += g.NoShow
	f.Cancelled += g.Cancelled
	f.Pending += g.Pending
}

func (f *AppointmentFigures) finish() {
	f.NoShowPct = nil
	if due := f.CheckedIn + f.NoShow; due > 0 {
		f.NoShowPct = ptr(math.Round(1000*float64(f.NoShow)/float64(due)) / 10)
	}
}

// addAppointments puts the period's appointment figures into a report: its totals, and each day's row of
// a report by day. It does nothing without h.Appointments.
func (h *Handler) addAppointments(ctx context.Context, q Query, st *Stats) error {
	if h.Appointments == nil {
		return nil
	}
	var ids []int64
	if q.Service != "" || q.Agency != "" {
		services, err := h.Tickets.Services(ctx, q.Office.ID)
		if err != nil {
			return err
		}
		ids = []int64{}
		for _, s := range services {
			if (q.Service == "" || s.Code == q.Service) && (q.Agency == "" || s.Agency == q.Agency) {
				ids = append(ids, s.ID)
			}
		}
	}
	days, err := h.Appointments.AppointmentDays(ctx, q.Office.ID, q.From, q.To, ids)
	if err != nil {
		return err
	}
	total := &AppointmentFigures{}
	byDay := map[string]AppointmentFigures{}
	for _, d := range days {
		total.add(d)
		d.finish()
		byDay[d.Day] = d
	}
	total.finish()
	st.Totals.Appointments = total
	if q.Group == ByDay {
		for i := range st.Rows {
			if d, ok := byDay[st.Rows[i].Key]; ok {
				st.Rows[i].Appointments = &d
			}
		}
	}
	return nil
}

// appointmentTiles are the reports page's tiles of the booked channel: appointments checked in out of
// those that held a place, and the share of the due ones missed.
func appointmentTiles(lang string, f *AppointmentFigures) []tile {
	booked := tile{Key: "appointments", Text: formatCount(lang, f.Booked), Value: strconv.Itoa(f.Booked),
		Note: tr(lang, "stats.appointments.note", formatCount(lang, f.CheckedIn), formatCount(lang, f.Late), formatCount(lang, f.Cancelled))}
	missed := tile{Key: "appointments_no_show", Text: "—", Note: trN(lang, "stats.appointments.no_show_n", f.NoShow)}
	if f.NoShowPct != nil {
		missed.Text, missed.Value = formatPct(lang, *f.NoShowPct), strconv.FormatFloat(*f.NoShowPct, 'f', -1, 64)
	}
	out := []tile{booked, missed}
	for i := range out {
		out[i].Label = web.Translate(lang, "stats.kpi."+out[i].Key)
	}
	return out
}

package booking

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/go-chi/chi/v5"

	"turno/internal/auth"
	"turno/internal/web"
	"turno/ticketing"
)

// The agenda: a specialist's appointments of one day, with the front desk's notes, and where each stands
// (booked, checked in, called, being served, done, no-show, cancelled). A specialist reads their own day;
// a manager of the office picks a specialist, and edits their weekly bookable hours on the same page.
//
// Privacy: the citizen's name and the front desk's note are shown to the specialist receiving them and to
// nobody else — not to a manager reading someone else's agenda, never on a screen, in an event or an
// export. The agenda never shows the booking code (whoever holds it may cancel) nor an e-mail or phone.

//go:embed templates/agenda.html
var agendaTemplates embed.FS

//go:embed static/agenda.js static/agenda.css
var agendaStatic embed.FS

var agendaPage = web.NewPage(agendaTemplates, "templates/agenda.html")

// AgendaItem is one appointment of an agenda.
type AgendaItem struct {
	Start        time.Time         `json:"start"`
	End          time.Time         `json:"end"`
	Service      string            `json:"service"`
	ServiceNames map[string]string `json:"service_names"`
	// Status is where the appointment stands: booked, checked_in (waiting to be called), called, serving,
	// done, no_show or cancelled.
	Status string `json:"status"`
	// Ticket is the number of the check-in's ticket, which the display calls.
	Ticket string `json:"ticket,omitempty"`
	// HandedOff is true for an appointment the front desk booked while serving the citizen.
	HandedOff bool `json:"handed_off"`
	// Name and Note are for the specialist receiving the citizen only.
	Name string `json:"name,omitempty"`
	Note string `json:"note,omitempty"`
}

// Agenda is a specialist's day.
type Agenda struct {
	Office string      `json:"office"`
	Day    string      `json:"day"` // YYYY-MM-DD, the office's local date
	Staff  *Specialist `json:"staff"`
	// Specialists are the office's back-office staff a manager may pick from (empty for others).
	Specialists  []Specialist `json:"specialists"`
	Appointments []AgendaItem `json:"appointments"`
	// Personal is true when Name and Note are shown: the caller is the specialist.
	Personal bool `json:"personal"`
}

// agendaStatus is where an appointment stands, from the booking's status and its ticket's.
func agendaStatus(booking Status, ticket ticketing.Status) string {
	if booking != CheckedIn || ticket == "" {
		return string(booking)
	}
	if ticket == ticketing.Waiting {
		return string(CheckedIn)
	}
	return string(ticket)
}

// DayAgenda returns the appointments of specialist staffID on a local day of office o, by start; personal
// adds the citizens' names and the notes.
func (s *Store) DayAgenda(ctx context.Context, o *ticketing.Office, staffID int64, day time.Time, personal bool) ([]AgendaItem, error) {
	rows, err := s.pool.Query(ctx, `
		SELECT b.starts_at, b.ends_at, s.code, s.names, b.status, coalesce(t.status, ''), coalesce(t.label, ''),
			b.handed_off_from IS NOT NULL, coalesce(b.name, ''), coalesce(b.note, '')
		FROM bookings b JOIN services s ON s.id = b.service_id LEFT JOIN tickets t ON t.id = b.ticket_id
		WHERE b.office_id = $1 AND b.staff_id = $2 AND b.starts_at >= $3 AND b.starts_at < $4
		ORDER BY b.starts_at, b.id`, o.ID, staffID, o.Midnight(day), o.Midnight(day.AddDate(0, 0, 1)))
	if err != nil {
		return nil, fmt.Errorf("booking: agenda: %w", err)
	}
	defer rows.Close()
	out := []AgendaItem{}
	for rows.Next() {
		var it AgendaItem
		var bs Status
		var ts ticketing.Status
		if err := rows.Scan(&it.Start, &it.End, &it.Service, &it.ServiceNames, &bs, &ts, &it.Ticket, &it.HandedOff, &it.Name, &it.Note); err != nil {
			return nil, fmt.Errorf("booking: agenda: %w", err)
		}
		it.Status = agendaStatus(bs, ts)
		if !personal {
			it.Name, it.Note = "", ""
		}
		out = append(out, it)
	}
	return out, rows.Err()
}

// specialistsOf lists the office's active back-office staff, by name, with their skills' services.
func (s *Store) specialistsOf(ctx context.Context, officeID int64) ([]Specialist, error) {
	staff, err := s.tickets.StaffList(ctx, officeID)
	if err != nil {
		return nil, err
	}
	out := []Specialist{}
	for _, st := range staff {
		if st.Active && st.BackOffice {
			out = append(out, Specialist{ID: st.ID, FullName: st.FullName, Services: slicesSorted(st.Skills)})
		}
	}
	return out, nil
}

// slicesSorted returns the services of a staff member's skills, sorted.
func slicesSorted(skills map[string]ticketing.SkillLevel) []string {
	return append([]string{}, slices.Sorted(maps.Keys(skills))...)
}

// agendaFor answers the agenda a user asks for: office (a slug, default theirs), day (default today) and
// staff (default themselves). Another specialist's agenda is for the office's managers only.
func (h *Handler) agendaFor(r *http.Request) (*Agenda, error) {
	ctx := r.Context()
	u := auth.FromContext(ctx).User
	q := r.URL.Query()
	var o *ticketing.Office
	var err error
	if slug := q.Get("office"); slug != "" {
		o, err = h.Tickets.Office(ctx, slug)
	} else if u.OfficeID != 0 {
		o, err = h.Tickets.OfficeByID(ctx, u.OfficeID)
	} else {
		return nil, web.InvalidField("office", "office is required")
	}
	if err != nil {
		return nil, err
	}
	if !auth.WorksIn(u, o.ID) {
		return nil, web.Forbidden("other_office", "you do not work in office %q", o.Slug)
	}
	manager := auth.CanManage(u, o.ID)
	day := o.LocalDay(h.Store.now())
	if s := q.Get("day"); s != "" {
		if day, err = time.Parse(time.DateOnly, s); err != nil {
			return nil, web.InvalidField("day", "day must be a date like 2026-03-02")
		}
	}
	staffID, asked := u.StaffID, q.Get("staff") != ""
	if asked {
		if staffID, err = strconv.ParseInt(q.Get("staff"), 10, 64); err != nil || staffID <= 0 {
			return nil, web.InvalidField("staff", "staff must be a staff member's id")
		}
	}
	a := &Agenda{Office: o.Slug, Day: day.Format(time.DateOnly), Specialists: []Specialist{}, Appointments: []AgendaItem{}}
	if manager {
		if a.Specialists, err = h.Store.specialistsOf(ctx, o.ID); err != nil {
			return nil, err
		}
		// A manager who is no specialist starts from the first specialist's day.
		if !asked && len(a.Specialists) > 0 && !slices.ContainsFunc(a.Specialists, func(sp Specialist) bool { return sp.ID == staffID }) {
			staffID = a.Specialists[0].ID
		}
	}
	if staffID == 0 {
		return a, nil // a manager of an office without specialists, or an account that is nobody on staff
	}
	if staffID != u.StaffID && !manager {
		return nil, web.Forbidden("not_your_agenda", "only managers read another specialist's agenda").On("staff")
	}
	st, err := h.Tickets.StaffMember(ctx, o.ID, staffID)
	if err != nil {
		return nil, err
	}
	a.Staff = &Specialist{ID: st.ID, FullName: st.FullName, Services: slicesSorted(st.Skills)}
	a.Personal = staffID == u.StaffID
	a.Appointments, err = h.Store.DayAgenda(ctx, o, staffID, day, a.Personal)
	return a, err
}

// agendaView is what the agenda page starts from; the appointments come from the JSON API.
type agendaView struct {
	Office   *ticketing.Office
	Manager  bool
	Weekdays []weekday // for the managers' hours form
	Catalog  map[string]string
	Client   agendaClient
	NoOffice bool
}

// weekday is an ISO weekday and its name in the page's language.
type weekday struct {
	N    int
	Name string
}

// agendaClient is the page script's data.
type agendaClient struct {
	Office   string `json:"office"`
	TimeZone string `json:"time_zone"`
	Manager  bool   `json:"manager"`
	Day      string `json:"day"`
}

// agendaRoutes mounts /agenda, its script and GET /api/v1/agenda.
func (h *Handler) agendaRoutes(r chi.Router) {
	sub, _ := fs.Sub(agendaStatic, "static")
	r.Get("/agenda/static/*", http.StripPrefix("/agenda/static/", http.FileServer(http.FS(sub))).ServeHTTP)
	r.With(auth.RequirePage).Get("/agenda", h.agendaPage)
	r.With(auth.RequireRole(auth.Operator, auth.Manager, auth.Admin)).Method("GET", "/api/v1/agenda", web.Endpoint(func(r *http.Request) (int, any, error) {
		return web.OK(h.agendaFor(r))
	}))
}

func (h *Handler) agendaPage(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	u := auth.FromContext(ctx).User
	lang := web.RequestLang(r, web.StaffLangs)
	v := &agendaView{Catalog: web.Catalogue(lang, "agenda.")}
	maps.Copy(v.Catalog, web.Catalogue(lang, "unit."))
	view := &web.View{Lang: lang, Title: "agenda", Body: "agenda", User: u.DisplayName, Data: v}
	if u.OfficeID == 0 {
		v.NoOffice = true
		agendaPage.Render(w, r, view)
		return
	}
	o, err := h.Tickets.OfficeByID(ctx, u.OfficeID)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	v.Office, v.Manager = o, auth.CanManage(u, o.ID)
	for n := 1; n <= 7; n++ {
		v.Weekdays = append(v.Weekdays, weekday{N: n, Name: web.WeekdayName(lang, n)})
	}
	v.Client = agendaClient{Office: o.Slug, TimeZone: o.TimeZone, Manager: v.Manager, Day: o.LocalDay(h.Store.now()).Format(time.DateOnly)}
	agendaPage.Render(w, r, view)
}

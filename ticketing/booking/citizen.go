package booking

import (
	"context"
	"crypto/rand"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/boombuler/barcode/qr"
	"github.com/go-chi/chi/v5"

	"turno/internal/web"
	"turno/ticketing"
)

// The citizen's pages: /book/{office}, where a citizen books an appointment in four steps (service, day,
// time, optional contact details), and /b/{code}, the booking's own page (the confirmation, with the code,
// its QR code and the calendar file, and where the citizen cancels or moves the appointment).
//
// Every step is a page the server renders from the query (?service=&day=&start=), so booking works without
// JavaScript; the forms post to the page routes. With JavaScript, book.js sends the same forms through the
// JSON API instead, with the Idempotency-Key the server put in the form when it drew it: a double tap, or a
// retry after a lost answer, books once.

//go:embed templates/book.html templates/book_booking.html templates/book_parts.html
var citizenTemplates embed.FS

//go:embed static/book.css static/book.js
var citizenStatic embed.FS

var (
	flowPage = web.NewPage(citizenTemplates, "templates/book.html", "templates/book_parts.html")
	ownPage  = web.NewPage(citizenTemplates, "templates/book_booking.html", "templates/book_parts.html")
)

// offerDays is how far ahead the booking page offers days (four weeks), unless the service's horizon is
// shorter, which the slots already respect.
const offerDays = 28

// langLink is one entry of a page's language switch: the same page in another language.
type langLink struct {
	Code, Name, Href string
	Current          bool
}

// choice is one button of a step: a service, a day or a time.
type choice struct {
	Label  string
	Detail string // a second line, e.g. the free places
	Href   string // where a link goes (the booking flow)
	Value  string // a day (YYYY-MM-DD) or a slot's start (RFC 3339)
}

// details is step 4's form: the optional contact details and the key that makes sending it idempotent.
type details struct {
	Name, Email, Phone string
	Key                string
	Errors             map[string]string // by field
}

// flowView is the data of /book/{office}.
type flowView struct {
	Office   *ticketing.Office
	Lang     string
	Langs    []langLink
	Step     int // 1 service, 2 day, 3 time, 4 details
	StepText string
	NotFound bool
	Error    string // a message about the whole step (role=alert)

	Services    []choice
	ServiceCode string
	ServiceName string
	Days        []choice
	DayISO      string
	DayName     string
	Slots       []choice
	Start       string // the chosen slot, RFC 3339
	Time        string // the chosen slot, "09:30–09:45" in the office's zone

	Back    string
	Action  string // the form's page route
	API     string // the booking API the script posts to
	Taken   string // step 3 of the same day, saying the slot was taken: where the script goes on a 409
	Privacy string
	Form    *details
}

// ownView is the data of /b/{code}.
type ownView struct {
	Lang     string
	Langs    []langLink
	NotFound bool
	Error    string
	Notice   string // what just happened: cancelled, moved

	Booking     *Booking
	Office      *ticketing.Office
	Code        string
	CodeGroups  []string
	Service     string
	WhatToBring string
	Date        string
	Time        string
	Status      string
	QR          template.HTML
	ICS         string
	CheckIn     string
	Late        string
	New         bool
	TicketPage  string // the phone page of the check-in's ticket, once checked in
	DoneStep    string // "Step 5 of 5" on the confirmation
	Changeable  bool

	Mode     string // "", "cancel" or "reschedule"
	Self     string // this page, in this language
	Cancel   string // the cancel confirmation
	Resched  string // the reschedule's first step
	Days     []choice
	DayName  string
	Slots    []choice
	Back     string
	Action   string // the form's page route
	API      string // the API route the script posts to
	Taken    string // where the script goes on a 409
	StepText string
}

// citizenRoutes mounts the booking pages and their assets.
func (h *Handler) citizenRoutes(r chi.Router) {
	sub, _ := fs.Sub(citizenStatic, "static")
	files := http.StripPrefix("/book/static/", http.FileServer(http.FS(sub)))
	r.Get("/book/static/*", files.ServeHTTP)
	r.Get("/book/{office}", h.bookFlow)
	// The form books like POST …/bookings does, so it shares its limiter and buckets.
	r.With(h.bookLimit).Post("/book/{office}", h.bookSubmit)
	// One route for /b/{code} and /b/{code}.ics: codes never contain a dot.
	r.Get("/b/{code}", h.bookingPage)
	r.Post("/b/{code}/cancel", h.cancelSubmit)
	r.Post("/b/{code}/reschedule", h.rescheduleSubmit)
}

// pageLang is the citizen language of a request (?lang=, the cookie, Accept-Language), else fallback when
// it is a citizen language, else Italian.
func pageLang(r *http.Request, fallback string) string {
	if q := r.URL.Query().Get("lang"); web.IsCitizenLang(q) {
		return q
	}
	if r.Method == http.MethodPost {
		if q := r.PostFormValue("lang"); web.IsCitizenLang(q) {
			return q
		}
	}
	if fallback != "" && web.IsCitizenLang(fallback) {
		return fallback
	}
	return web.RequestLang(r, web.CitizenLangs)
}

// link is path with the query kv (pairs; empty values left out) and lang.
func link(path, lang string, kv ...string) string {
	q := url.Values{}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			q.Set(kv[i], kv[i+1])
		}
	}
	q.Set("lang", lang)
	return path + "?" + q.Encode()
}

// langLinks is the language switch of a page at path whose state is the query kv.
func langLinks(path, current string, kv ...string) []langLink {
	out := make([]langLink, len(web.CitizenLangs))
	for i, l := range web.CitizenLangs {
		out[i] = langLink{Code: l.Code, Name: l.Name, Href: link(path, l.Code, kv...), Current: l.Code == current}
	}
	return out
}

// textIn returns a catalogue text in lang, else in Italian.
func textIn(m map[string]string, lang string) string {
	if s := m[lang]; s != "" {
		return s
	}
	return m["it"]
}

// fillTexts replaces {name} placeholders of a translated text.
func fillTexts(s string, kv ...string) string { return strings.NewReplacer(kv...).Replace(s) }

// newFormKey returns a fresh Idempotency-Key for one drawing of the details form.
func newFormKey() string {
	b := make([]byte, 16)
	_, _ = rand.Read(b)
	return hex.EncodeToString(b)
}

// citizenServices are the services of an office a citizen may book: active, bookable, not back office.
func (h *Handler) citizenServices(ctx context.Context, o *ticketing.Office) ([]*ticketing.Service, error) {
	all, err := h.Tickets.Services(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	rules, err := h.Store.OfficeRules(ctx, o.ID)
	if err != nil {
		return nil, err
	}
	var out []*ticketing.Service
	for _, s := range all {
		if r, ok := rules[s.ID]; ok && s.Active && r.Bookable && !r.BackOffice {
			out = append(out, s)
		}
	}
	return out, nil
}

// freeDays returns the days of the next four weeks with a free place for svc, as choices whose links go to
// hrefOf(day).
func (h *Handler) freeDays(ctx context.Context, o *ticketing.Office, svc *ticketing.Service, lang string, hrefOf func(day string) string) ([]choice, error) {
	loc := o.Location()
	now := h.Store.Now()
	slots, err := h.Store.Slots(ctx, o, svc, now, o.Midnight(o.LocalDay(now).AddDate(0, 0, offerDays+1)))
	if err != nil {
		return nil, err
	}
	var days []choice
	free := map[string]int{}
	for _, s := range slots {
		if s.Free <= 0 {
			continue
		}
		day := s.Start.In(loc).Format(time.DateOnly)
		if _, ok := free[day]; !ok {
			days = append(days, choice{Label: web.FormatDate(lang, s.Start.In(loc)), Value: day, Href: hrefOf(day)})
		}
		free[day] += s.Free
	}
	for i := range days {
		days[i].Detail = fillTexts(web.Translate(lang, "book.free"), "{n}", strconv.Itoa(free[days[i].Value]))
	}
	return days, nil
}

// freeSlots returns the free slots of svc on the local day, as choices with hrefOf(start) and the start
// (RFC 3339) as their value.
func (h *Handler) freeSlots(ctx context.Context, o *ticketing.Office, svc *ticketing.Service, day time.Time, lang string, hrefOf func(start string) string) ([]choice, error) {
	date := o.LocalDay(day)
	slots, err := h.Store.Slots(ctx, o, svc, day, o.Midnight(date.AddDate(0, 0, 1)))
	if err != nil {
		return nil, err
	}
	var out []choice
	for _, s := range slots {
		if s.Free <= 0 {
			continue
		}
		start := s.Start.UTC().Format(time.RFC3339)
		out = append(out, choice{Label: s.Start.In(o.Location()).Format("15:04"), Value: start, Href: hrefOf(start),
			Detail: fillTexts(web.Translate(lang, "book.free"), "{n}", strconv.Itoa(s.Free))})
	}
	return out, nil
}

// localDay parses a day written YYYY-MM-DD and returns the instant it begins in the office (its midnight).
func localDay(o *ticketing.Office, s string) (time.Time, bool) {
	d, err := time.Parse(time.DateOnly, s)
	if err != nil {
		return time.Time{}, false
	}
	return o.Midnight(d), true
}

// slotTime says a slot's start and end in the office's zone: "09:30–09:45".
func slotTime(o *ticketing.Office, start, end time.Time) string {
	return start.In(o.Location()).Format("15:04") + "–" + end.In(o.Location()).Format("15:04")
}

func stepText(lang string, n, of int) string {
	return fillTexts(web.Translate(lang, "book.step"), "{n}", strconv.Itoa(n), "{of}", strconv.Itoa(of))
}

// bookFlow serves GET /book/{office}: the step the query has reached.
func (h *Handler) bookFlow(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	h.renderFlow(w, r, q.Get("service"), q.Get("day"), q.Get("start"), nil, "", 0)
}

// renderFlow draws the booking page at the furthest step the service, day and start reach. form (step 4)
// keeps what the citizen typed when the booking was refused; message is an error for the whole step.
func (h *Handler) renderFlow(w http.ResponseWriter, r *http.Request, service, day, start string, form *details, message string, status int) {
	ctx := r.Context()
	lang := pageLang(r, "")
	slug := chi.URLParam(r, "office")
	path := "/book/" + url.PathEscape(slug)
	v := &flowView{Lang: lang, Langs: langLinks(path, lang, "service", service, "day", day, "start", start), Error: message}
	title := web.Translate(lang, "book.title")
	o, err := h.Tickets.Office(ctx, slug)
	var we *web.Error
	if errors.As(err, &we) && we.Status == http.StatusNotFound {
		v.NotFound = true
		flowPage.Render(w, r, &web.View{Lang: lang, Title: title, Body: "book", Langs: web.CitizenLangs, Status: http.StatusNotFound, Data: v})
		return
	}
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	v.Office = o
	title = o.Name
	services, err := h.citizenServices(ctx, o)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	var svc *ticketing.Service
	for _, s := range services {
		v.Services = append(v.Services, choice{Label: s.Name(lang), Href: link(path, lang, "service", s.Code)})
		if s.Code == service {
			svc = s
		}
	}
	v.Step = 1
	if svc == nil {
		v.StepText = stepText(lang, 1, 5)
		renderStep(w, r, v, title, status)
		return
	}
	v.ServiceCode, v.ServiceName = svc.Code, svc.Name(lang)
	v.Back = link(path, lang)
	d, dayOK := localDay(o, day)
	var at time.Time
	if start != "" {
		t, err := time.Parse(time.RFC3339, start)
		if err == nil {
			at, d, dayOK = t, o.Midnight(o.LocalDay(t)), true
		}
	}
	if !dayOK {
		v.Step = 2
		v.Days, err = h.freeDays(ctx, o, svc, lang, func(day string) string { return link(path, lang, "service", svc.Code, "day", day) })
		if err != nil {
			web.WriteError(w, r, err)
			return
		}
		v.StepText = stepText(lang, 2, 5)
		renderStep(w, r, v, title, status)
		return
	}
	v.DayISO, v.DayName = d.In(o.Location()).Format(time.DateOnly), web.FormatDate(lang, d.In(o.Location()))
	v.Back = link(path, lang, "service", svc.Code)
	v.Taken = link(path, lang, "service", svc.Code, "day", v.DayISO, "taken", "1")
	if r.URL.Query().Get("taken") == "1" && v.Error == "" {
		v.Error = web.Translate(lang, "book.slot_taken")
	}
	v.Slots, err = h.freeSlots(ctx, o, svc, d, lang, func(start string) string {
		return link(path, lang, "service", svc.Code, "start", start)
	})
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	var chosen *choice
	for i := range v.Slots {
		if !at.IsZero() && v.Slots[i].Value == at.UTC().Format(time.RFC3339) {
			chosen = &v.Slots[i]
		}
	}
	if chosen == nil {
		if !at.IsZero() && v.Error == "" {
			v.Error = web.Translate(lang, "book.slot_taken") // the slot filled up while the citizen looked
		}
		v.Step = 3
		v.StepText = stepText(lang, 3, 5)
		renderStep(w, r, v, title, status)
		return
	}
	settings, err := h.Store.SettingsOf(ctx, o.ID)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	rules, err := h.Store.RulesOf(ctx, svc)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	v.Step = 4
	v.StepText = stepText(lang, 4, 5)
	v.Start = chosen.Value
	v.Time = at.In(o.Location()).Format("15:04") + "–" + at.Add(rules.SlotLength(svc.ExpectedHandlingSeconds)).In(o.Location()).Format("15:04")
	v.Back = link(path, lang, "service", svc.Code, "day", v.DayISO)
	v.Action = path
	v.API = "/api/v1/offices/" + url.PathEscape(o.Slug) + "/bookings"
	v.Privacy = fillTexts(web.Translate(lang, "book.privacy"), "{office}", o.Name, "{days}", strconv.Itoa(settings.RetentionDays))
	if form == nil {
		form = &details{}
	}
	if form.Key == "" {
		form.Key = newFormKey()
	}
	v.Form = form
	renderStep(w, r, v, title, status)
}

// stepHeadings are the headings of the booking's steps, which also begin the page's title: each step is
// a page of its own, and a screen reader announces its title first.
var stepHeadings = [...]string{1: "book.choose_service", 2: "book.choose_day", 3: "book.choose_time", 4: "book.details"}

// renderStep draws the booking page at v's step, titled with the step's heading and then title.
func renderStep(w http.ResponseWriter, r *http.Request, v *flowView, title string, status int) {
	title = web.Translate(v.Lang, stepHeadings[v.Step]) + " · " + title
	flowPage.Render(w, r, &web.View{Lang: v.Lang, Title: title, Body: "book", Langs: web.CitizenLangs, Status: status, Data: v})
}

// bookSubmit serves POST /book/{office}, the details form sent without JavaScript: it books and sends the
// browser to the booking's page, or draws the step again with what went wrong.
func (h *Handler) bookSubmit(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	if err := r.ParseForm(); err != nil {
		h.renderFlow(w, r, "", "", "", nil, "", http.StatusBadRequest) // a body no browser sends: start again
		return
	}
	lang := pageLang(r, "")
	f := r.PostForm
	service, start := f.Get("service"), f.Get("start")
	form := &details{Name: strings.TrimSpace(f.Get("name")), Email: strings.TrimSpace(f.Get("email")),
		Phone: strings.TrimSpace(f.Get("phone")), Key: f.Get("key"), Errors: map[string]string{}}
	o, err := h.Tickets.Office(ctx, chi.URLParam(r, "office"))
	if err != nil {
		h.renderFlow(w, r, service, "", start, form, "", 0)
		return
	}
	at, err := time.Parse(time.RFC3339, start)
	if err != nil {
		h.renderFlow(w, r, service, "", "", nil, "", http.StatusUnprocessableEntity)
		return
	}
	b, _, err := h.Store.Book(ctx, o, BookRequest{Service: service, Start: at, Name: form.Name, Email: form.Email,
		Phone: form.Phone, Lang: lang, IdempotencyKey: form.Key})
	var we *web.Error
	switch {
	case err == nil:
		http.Redirect(w, r, link("/b/"+b.Code, lang, "new", "1"), http.StatusSeeOther)
	case !errors.As(err, &we):
		web.WriteError(w, r, err)
	case we.Code == "slot_full":
		h.renderFlow(w, r, service, at.In(o.Location()).Format(time.DateOnly), "", nil, web.Translate(lang, "book.slot_taken"), we.Status)
	case we.Field == "name" || we.Field == "email" || we.Field == "phone":
		form.Errors[we.Field] = we.In(lang)
		h.renderFlow(w, r, service, "", start, form, "", we.Status)
	default:
		h.renderFlow(w, r, service, at.In(o.Location()).Format(time.DateOnly), "", nil, we.In(lang), we.Status)
	}
}

// bookingPage serves GET /b/{code} (the booking's page) and /b/{code}.ics (its calendar file).
func (h *Handler) bookingPage(w http.ResponseWriter, r *http.Request) {
	raw := chi.URLParam(r, "code")
	if c, ok := strings.CutSuffix(raw, ".ics"); ok {
		h.bookingICS(w, r, NormalizeCode(c))
		return
	}
	q := r.URL.Query()
	h.renderOwn(w, r, NormalizeCode(raw), q.Get("do"), q.Get("day"), "", 0)
}

// renderOwn draws the booking's page in mode "" (the booking), "cancel" (the confirmation) or
// "reschedule" (a day, then a time); message is an error to show.
func (h *Handler) renderOwn(w http.ResponseWriter, r *http.Request, code, mode, day, message string, status int) {
	ctx := r.Context()
	b, err := h.Store.ByCode(ctx, code)
	var we *web.Error
	if errors.As(err, &we) && we.Status == http.StatusNotFound {
		lang := pageLang(r, "")
		v := &ownView{Lang: lang, NotFound: true, Langs: langLinks("/b/"+url.PathEscape(code), lang)}
		ownPage.Render(w, r, &web.View{Lang: lang, Title: web.Translate(lang, "book.your_booking"), Body: "book",
			Langs: web.CitizenLangs, Status: http.StatusNotFound, Data: v})
		return
	}
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	lang := pageLang(r, b.Lang)
	o, svc, err := h.officeAndService(ctx, b)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	rules, err := h.Store.RulesOf(ctx, svc)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	self := "/b/" + b.Code
	loc := o.Location()
	v := &ownView{Lang: lang, Booking: b, Office: o, Code: b.Code, CodeGroups: codeGroups(b.Code),
		Service: svc.Name(lang), WhatToBring: textIn(svc.WhatToBring, lang),
		Date: web.FormatDate(lang, b.Start.In(loc)), Time: slotTime(o, b.Start, b.End),
		Status: web.Translate(lang, "book.status."+string(b.Status)), ICS: self + ".ics",
		New: r.URL.Query().Get("new") == "1", Self: link(self, lang),
		Cancel: link(self, lang, "do", "cancel"), Resched: link(self, lang, "do", "reschedule"), Error: message,
		Changeable: b.Status == Booked && h.Store.Now().Before(b.Start)}
	if v.New {
		v.DoneStep = stepText(lang, 5, 5)
	}
	if b.Status == CheckedIn && b.TicketID != 0 {
		// The citizen checked in: the page leads to the ticket's live page, which says when it is called.
		if tk, err := h.Tickets.Ticket(ctx, o.ID, b.TicketID); err == nil {
			v.TicketPage = link("/t/"+tk.Code, lang)
		}
	}
	switch r.URL.Query().Get("done") {
	case "cancelled":
		v.Notice = web.Translate(lang, "book.cancelled")
	case "rescheduled":
		v.Notice = web.Translate(lang, "book.rescheduled")
	}
	v.CheckIn = fillTexts(web.Translate(lang, "book.checkin"), "{from}", b.CheckInFrom.In(loc).Format("15:04"),
		"{until}", b.CheckInUntil.In(loc).Format("15:04"))
	late := "book.late_walk_in"
	if rules.LatePolicy == LateRefuse {
		late = "book.late_refuse"
	}
	v.Late = fillTexts(web.Translate(lang, late), "{until}", b.CheckInUntil.In(loc).Format("15:04"))
	base := h.Store.BaseURL // the public address (TURNO_BASE_URL), never the Host the client sent
	if base == "" {
		base = web.BaseURL(r)
	}
	if v.QR, err = qrSVG(strings.TrimRight(base, "/") + self); err != nil {
		web.WriteError(w, r, err)
		return
	}
	state := []string{}
	if v.Changeable {
		v.Mode = mode
	}
	switch v.Mode {
	case "cancel":
		v.Action, v.API, v.Back = self+"/cancel", "/api/v1/bookings/"+b.Code+"/cancel", v.Self
		state = []string{"do", "cancel"}
	case "reschedule":
		v.Action, v.API = self+"/reschedule", "/api/v1/bookings/"+b.Code+"/reschedule"
		state = []string{"do", "reschedule", "day", day}
		d, ok := localDay(o, day)
		if !ok {
			v.Back = v.Self
			v.StepText = stepText(lang, 1, 2)
			v.Days, err = h.freeDays(ctx, o, svc, lang, func(day string) string { return link(self, lang, "do", "reschedule", "day", day) })
		} else {
			v.Back = v.Resched
			v.StepText = stepText(lang, 2, 2)
			v.DayName = web.FormatDate(lang, d.In(o.Location()))
			v.Taken = link(self, lang, "do", "reschedule", "day", day, "taken", "1")
			if r.URL.Query().Get("taken") == "1" && v.Error == "" {
				v.Error = web.Translate(lang, "book.slot_taken")
			}
			v.Slots, err = h.freeSlots(ctx, o, svc, d, lang, func(string) string { return "" })
		}
		if err != nil {
			web.WriteError(w, r, err)
			return
		}
	default:
		v.Mode = ""
	}
	v.Langs = langLinks(self, lang, state...)
	title := web.Translate(lang, "book.your_booking")
	if v.New {
		title = web.Translate(lang, "book.confirmed")
	}
	ownPage.Render(w, r, &web.View{Lang: lang, Title: title + " · " + o.Name, Body: "book", Langs: web.CitizenLangs, Status: status, Data: v})
}

// cancelSubmit serves POST /b/{code}/cancel, the confirmation sent without JavaScript.
func (h *Handler) cancelSubmit(w http.ResponseWriter, r *http.Request) {
	code := NormalizeCode(chi.URLParam(r, "code"))
	_ = r.ParseForm()
	b, err := h.Store.Cancel(r.Context(), code, ByCitizen)
	var we *web.Error
	switch {
	case err == nil:
		http.Redirect(w, r, link("/b/"+b.Code, pageLang(r, b.Lang), "done", "cancelled"), http.StatusSeeOther)
	case errors.As(err, &we):
		h.renderOwn(w, r, code, "", "", we.In(pageLang(r, "")), we.Status)
	default:
		web.WriteError(w, r, err)
	}
}

// rescheduleSubmit serves POST /b/{code}/reschedule, a new time chosen without JavaScript.
func (h *Handler) rescheduleSubmit(w http.ResponseWriter, r *http.Request) {
	code := NormalizeCode(chi.URLParam(r, "code"))
	_ = r.ParseForm()
	lang := pageLang(r, "")
	at, err := time.Parse(time.RFC3339, r.PostFormValue("start"))
	if err != nil {
		h.renderOwn(w, r, code, "reschedule", "", web.Translate(lang, "book.slot_taken"), http.StatusUnprocessableEntity)
		return
	}
	b, err := h.Store.Reschedule(r.Context(), code, at)
	var we *web.Error
	switch {
	case err == nil:
		http.Redirect(w, r, link("/b/"+b.Code, pageLang(r, b.Lang), "done", "rescheduled"), http.StatusSeeOther)
	case errors.As(err, &we) && we.Code == "slot_full":
		day := ""
		if o, oerr := h.officeOfBooking(r.Context(), code); oerr == nil {
			day = at.In(o.Location()).Format(time.DateOnly)
		}
		h.renderOwn(w, r, code, "reschedule", day, web.Translate(lang, "book.slot_taken"), we.Status)
	case errors.As(err, &we):
		h.renderOwn(w, r, code, "reschedule", "", we.In(lang), we.Status)
	default:
		web.WriteError(w, r, err)
	}
}

// officeOfBooking returns the office of the booking with the code.
func (h *Handler) officeOfBooking(ctx context.Context, code string) (*ticketing.Office, error) {
	b, err := h.Store.ByCode(ctx, code)
	if err != nil {
		return nil, err
	}
	return h.Tickets.OfficeByID(ctx, b.OfficeID)
}

// bookingICS serves /b/{code}.ics: the appointment as a calendar event to add to the citizen's calendar.
func (h *Handler) bookingICS(w http.ResponseWriter, r *http.Request, code string) {
	ctx := r.Context()
	b, err := h.Store.ByCode(ctx, code)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	o, svc, err := h.officeAndService(ctx, b)
	if err != nil {
		web.WriteError(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/calendar; charset=utf-8")
	w.Header().Set("Content-Disposition", `attachment; filename="turno-`+b.Code+`.ics"`)
	w.Header().Set("Cache-Control", "no-store")
	_, _ = w.Write(ICS(b, o, svc))
}

// codeGroups splits a booking code into two groups of five, as the kiosk and the printed slip show it:
// read out more easily than ten in a row, and the kiosk ignores the gap when it is typed.
func codeGroups(code string) []string {
	if len(code) != codeLength {
		return []string{code}
	}
	return []string{code[:5], code[5:]}
}

// qrQuiet is the blank border the QR specification requires around the code, in modules.
const qrQuiet = 4

// qrSVG draws text as a QR code (error correction M) in SVG, for the page to show inline: one path of
// dark runs, black on white, hidden from screen readers (the page labels it).
func qrSVG(text string) (template.HTML, error) {
	code, err := qr.Encode(text, qr.M, qr.Auto)
	if err != nil {
		return "", fmt.Errorf("booking: encode QR code: %w", err)
	}
	n := code.Bounds().Dx()
	side := n + 2*qrQuiet
	var b strings.Builder
	fmt.Fprintf(&b, `<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 %d %d" aria-hidden="true" focusable="false" shape-rendering="crispEdges">`, side, side)
	fmt.Fprintf(&b, `<rect width="%d" height="%d" fill="#fff"/><path fill="#000" d="`, side, side)
	origin := code.Bounds().Min
	dark := func(x, y int) bool {
		r, _, _, _ := code.At(origin.X+x, origin.Y+y).RGBA()
		return r < 0x8000
	}
	for y := 0; y < n; y++ {
		for x := 0; x < n; {
			if !dark(x, y) {
				x++
				continue
			}
			run := 1
			for x+run < n && dark(x+run, y) {
				run++
			}
			fmt.Fprintf(&b, "M%d %dh%dv1h-%dz", x+qrQuiet, y+qrQuiet, run, run)
			x += run
		}
	}
	b.WriteString(`"/></svg>`)
	return template.HTML(b.String()), nil // built here from numbers only
}

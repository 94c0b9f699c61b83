package booking_test

import (
	"context"
	"fmt"
	"html"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"turno/internal/ical"
	"turno/internal/notify"
	"turno/internal/web"
	"turno/ticketing/booking"
	"turno/ticketing/ticketingtest"
)

// msgBase is the public address the messages' links start with in these tests.
const msgBase = "https://turno.example.org"

// msgEnv is the demo office with bookings, the outbox and the closure hook wired as cmd/turno wires them,
// the clock at bookNow, "certificati" and "cie" bookable.
type msgEnv struct {
	*ticketingtest.Env
	store  *booking.Store
	outbox *notify.Store
	url    string
}

func newMsgEnv(t testing.TB) *msgEnv {
	t.Helper()
	env := ticketingtest.New(t)
	env.SetNow(bookNow)
	st := booking.NewStore(env.Pool, env.Store)
	st.Now = env.Now
	ob := notify.NewStore(env.Pool)
	ob.AllowLoopbackPush = true
	st.Outbox, st.BaseURL = ob, msgBase
	env.Store.Closures = st
	h := &booking.Handler{Store: st, Tickets: env.Store, Auth: env.Auth, Outbox: ob}
	e := &msgEnv{Env: env, store: st, outbox: ob}
	e.url = env.Server(t, h.Routes).URL
	for _, code := range []string{"certificati", "cie"} {
		svc, err := env.Store.ServiceByCode(context.Background(), env.Office.ID, code)
		if err != nil {
			t.Fatal(err)
		}
		r := booking.DefaultRules(svc.ID, svc.Code)
		r.Bookable, r.SlotMinutes, r.MinNoticeMinutes, r.DefaultShare = true, 15, 60, 0.75
		if err := st.SaveRules(context.Background(), env.Office.ID, r); err != nil {
			t.Fatal(err)
		}
	}
	return e
}

// bookWith books a service at start with the given JSON fields besides service and start, and returns
// the booking's code.
func (e *msgEnv) bookWith(t testing.TB, service, start, fields, key string) string {
	t.Helper()
	body := fmt.Sprintf(`{"service":%q,"start":%q%s}`, service, start, fields)
	var header map[string]string
	if key != "" {
		header = map[string]string{"Idempotency-Key": key}
	}
	status, m, _ := post(t, e.url+"/api/v1/offices/demo/bookings", "", body, header)
	if status != http.StatusCreated && status != http.StatusOK {
		t.Fatalf("book %s at %s: %d %v", service, start, status, m)
	}
	return m["code"].(string)
}

// outMsg is a message in the outbox.
type outMsg struct {
	Channel, Kind, Key, To, Subject, Body, AttName, AttType string
	Att                                                     []byte
}

// messages lists the outbox's messages whose dedupe key matches the LIKE pattern, oldest first.
func (e *msgEnv) messages(t testing.TB, like string) []outMsg {
	t.Helper()
	rows, err := e.Pool.Query(context.Background(), `SELECT channel, kind, dedupe_key, coalesce(recipient, ''), subject, body,
		attachment_name, attachment_type, coalesce(attachment, '') FROM notifications WHERE dedupe_key LIKE $1 ORDER BY id`, like)
	if err != nil {
		t.Fatal(err)
	}
	defer rows.Close()
	var out []outMsg
	for rows.Next() {
		var m outMsg
		if err := rows.Scan(&m.Channel, &m.Kind, &m.Key, &m.To, &m.Subject, &m.Body, &m.AttName, &m.AttType, &m.Att); err != nil {
			t.Fatal(err)
		}
		out = append(out, m)
	}
	return out
}

// The confirmation is written with the booking, by e-mail (in the booking's language, with the .ics whose
// event starts at the booking's start) and by SMS; a retried request sends nothing more; the reminders go
// out 24 and 2 hours before, once each, not for a booking made after its reminder time; a move sends a
// "moved" notice and reminds again for the new time; a citizen's own cancellation sends nothing.
func TestConfirmationAndReminders(t *testing.T) {
	e := newMsgEnv(t)
	ctx := context.Background()
	contact := `,"name":"Maria Rossi","email":"maria.rossi@example.org","phone":"+39 333 1234567","lang":"en"`
	code := e.bookWith(t, "certificati", at(4, 10, 0), contact, "confirm-1")

	msgs := e.messages(t, "confirm:"+code+":%")
	if len(msgs) != 2 {
		t.Fatalf("confirmation messages: %+v", msgs)
	}
	mail, sms := msgs[0], msgs[1]
	if mail.Channel != "email" || mail.Kind != booking.KindConfirmed || mail.To != "maria.rossi@example.org" || mail.Key != "confirm:"+code+":email" {
		t.Errorf("e-mail: %+v", mail)
	}
	if sms.Channel != "sms" || sms.To != "+393331234567" || !strings.Contains(sms.Body, code) || !strings.Contains(sms.Body, msgBase+"/b/"+code) {
		t.Errorf("SMS: %+v", sms)
	}
	svc, err := e.Store.ServiceByCode(ctx, e.Office.ID, "certificati")
	if err != nil {
		t.Fatal(err)
	}
	start := time.Date(2026, 3, 4, 10, 0, 0, 0, rome)
	wantSubject := "Booking confirmed: " + svc.Name("en") + ", " + web.FormatDate("en", start) + ", 10:00"
	if mail.Subject != wantSubject {
		t.Errorf("subject %q; want %q", mail.Subject, wantSubject)
	}
	for _, want := range []string{"Your booking is confirmed.", "Booking code: " + code, msgBase + "/b/" + code, e.Office.Name} {
		if !strings.Contains(mail.Body, want) {
			t.Errorf("e-mail body lacks %q:\n%s", want, mail.Body)
		}
	}
	if !strings.HasPrefix(mail.AttType, "text/calendar") || !strings.HasSuffix(mail.AttName, ".ics") {
		t.Errorf("attachment %q %q", mail.AttName, mail.AttType)
	}
	cal, err := ical.Parse(mail.Att)
	if err != nil {
		t.Fatalf("the .ics does not parse: %v\n%s", err, mail.Att)
	}
	if len(cal.Events) != 1 {
		t.Fatalf("events: %+v", cal.Events)
	}
	ev := cal.Events[0]
	if !ev.Start.Equal(start) || !ev.End.Equal(start.Add(15*time.Minute)) || ev.UID != code+"@turno" || ev.Status != "CONFIRMED" {
		t.Errorf("event %+v; want %s–%s", ev, start.UTC(), start.Add(15*time.Minute).UTC())
	}
	if ev.Summary != svc.Name("en") || ev.Location != e.Office.Name || !strings.Contains(ev.Description, code) {
		t.Errorf("event text %+v", ev)
	}
	for _, personal := range []string{"Maria", "Rossi", "maria.rossi", "333"} {
		if strings.Contains(string(mail.Att), personal) {
			t.Errorf("the .ics holds personal data %q", personal)
		}
	}

	// The same request again (a retry) returns the booking and writes no message.
	if again := e.bookWith(t, "certificati", at(4, 10, 0), contact, "confirm-1"); again != code {
		t.Fatalf("retry made booking %s, not %s", again, code)
	}
	if n := e.Count(t, `SELECT count(*) FROM notifications`); n != 2 {
		t.Errorf("%d messages after the retry; want 2", n)
	}
	// A booking without a contact sends nothing.
	e.bookWith(t, "certificati", at(4, 11, 0), "", "")
	if n := e.Count(t, `SELECT count(*) FROM notifications`); n != 2 {
		t.Errorf("%d messages after a booking without contact; want 2", n)
	}
	// Nothing personal in the office's events.
	if n := e.Count(t, `SELECT count(*) FROM office_events e WHERE row_to_json(e)::text ~* '(maria|rossi|example\.org|3331234567)'`); n != 0 {
		t.Errorf("%d office events hold personal data", n)
	}

	remind := func(now time.Time, want int) {
		t.Helper()
		e.SetNow(now)
		n, err := e.store.SendReminders(ctx, e.Office.ID)
		if err != nil {
			t.Fatal(err)
		}
		if n != want {
			t.Errorf("at %s: %d reminders; want %d", now.Format("Mon 02 15:04"), n, want)
		}
	}
	remind(start.Add(-24*time.Hour-time.Minute), 0)
	remind(start.Add(-24*time.Hour), 2) // e-mail and SMS
	remind(start.Add(-24*time.Hour+5*time.Minute), 0)
	remind(start.Add(-3*time.Hour), 0)
	remind(start.Add(-2*time.Hour+time.Minute), 2)
	remind(start.Add(-2*time.Hour+10*time.Minute), 0)
	if got := e.messages(t, "remind:%:"+code+":%"); len(got) != 4 || got[0].Kind != booking.KindReminder ||
		!strings.HasPrefix(got[0].Subject, "Reminder: ") || !strings.HasPrefix(got[0].Key, "remind:24:") || !strings.HasPrefix(got[2].Key, "remind:2:") {
		t.Errorf("reminders: %+v", got)
	}

	// Booked at 08:30 for 09:45: its reminder times have passed, the confirmation says it all.
	late := e.bookWith(t, "certificati", at(4, 9, 45), `,"email":"late@example.org"`, "")
	remind(start.Add(-90*time.Minute), 0)
	if got := e.messages(t, "%"+late+"%"); len(got) != 1 || got[0].Kind != booking.KindConfirmed {
		t.Errorf("late booking's messages: %+v", got)
	}
	remind(start.Add(time.Minute), 0) // the appointment has begun

	// Moved to Friday: a "moved" notice by e-mail and SMS with the new time, and reminders for it.
	e.SetNow(start.Add(-3 * time.Hour))
	friday := time.Date(2026, 3, 6, 11, 30, 0, 0, rome)
	status, m, _ := post(t, e.url+"/api/v1/bookings/"+code+"/reschedule", "", fmt.Sprintf(`{"start":%q}`, friday.Format(time.RFC3339)), nil)
	if status != http.StatusOK {
		t.Fatalf("reschedule: %d %v", status, m)
	}
	moved := e.messages(t, "moved:"+code+":%")
	if len(moved) != 2 || moved[0].Kind != booking.KindMoved || !strings.Contains(moved[0].Subject, "11:30") {
		t.Fatalf("moved: %+v", moved)
	}
	if cal, err := ical.Parse(moved[0].Att); err != nil || !cal.Events[0].Start.Equal(friday) {
		t.Errorf("moved .ics: %v %+v", err, cal)
	}
	remind(friday.Add(-2*time.Hour), 2)

	// The citizen cancels: nothing is sent.
	before := e.Count(t, `SELECT count(*) FROM notifications`)
	if status, m, _ := post(t, e.url+"/api/v1/bookings/"+code+"/cancel", "", "", nil); status != http.StatusOK {
		t.Fatalf("cancel: %d %v", status, m)
	}
	if n := e.Count(t, `SELECT count(*) FROM notifications`); n != before {
		t.Errorf("a citizen's cancellation sent %d messages", n-before)
	}
}

// A closed day saved as an opening exception cancels that day's bookings still waiting for their citizens
// and tells those who left a contact, in their language, with a cancelled calendar event; a blackout of
// one service cancels that service's bookings only. Other days' and other services' bookings stay, and
// the manager sees the count in the answer and on the delivery status.
func TestClosureAndBlackoutCancelAndNotify(t *testing.T) {
	e := newMsgEnv(t)
	ctx := context.Background()
	manager := e.Login(t, "manager")
	a := e.bookWith(t, "certificati", at(5, 10, 0), `,"email":"a@example.org","lang":"fr"`, "")
	b := e.bookWith(t, "cie", at(5, 11, 0), `,"phone":"+393330000001"`, "")
	d := e.bookWith(t, "certificati", at(5, 12, 0), "", "")
	c := e.bookWith(t, "certificati", at(6, 10, 0), `,"email":"c@example.org"`, "")
	f := e.bookWith(t, "cie", at(6, 10, 0), `,"email":"f@example.org"`, "")

	status, v := ticketingtest.Call(t, "POST", e.url+"/api/v1/offices/demo/exceptions", manager,
		`{"day":"2026-03-05","closed":true,"reason":"Sciopero"}`)
	m, _ := v.(map[string]any)
	if status != http.StatusCreated || m["cancelled_bookings"] != float64(3) {
		t.Fatalf("closed day: %d %v; want 3 bookings cancelled", status, v)
	}
	state := func(code string) (string, string) {
		t.Helper()
		bk, err := e.store.ByCode(ctx, code)
		if err != nil {
			t.Fatal(err)
		}
		return string(bk.Status), bk.CancelledBy
	}
	for _, code := range []string{a, b, d} {
		if st, by := state(code); st != "cancelled" || by != booking.ByOffice {
			t.Errorf("%s on the closed day: %s by %q", code, st, by)
		}
	}
	if st, _ := state(c); st != "booked" {
		t.Errorf("the next day's booking is %s", st)
	}
	got := e.messages(t, "cancel:%")
	if len(got) != 2 || got[0].Key != "cancel:"+a+":email" || got[1].Key != "cancel:"+b+":sms" {
		t.Fatalf("cancellation messages: %+v", got)
	}
	if !strings.HasPrefix(got[0].Subject, "Rendez-vous annulé par le bureau") || !strings.Contains(got[0].Body, msgBase+"/book/demo") {
		t.Errorf("French e-mail: %q\n%s", got[0].Subject, got[0].Body)
	}
	if cal, err := ical.Parse(got[0].Att); err != nil || cal.Events[0].Status != "CANCELLED" || cal.Events[0].UID != a+"@turno" {
		t.Errorf("cancelled .ics: %v %+v", err, cal)
	}
	// Saving the same closed day again cancels nothing more and tells nobody twice.
	status, v = ticketingtest.Call(t, "POST", e.url+"/api/v1/offices/demo/exceptions", manager, `{"day":"2026-03-05","closed":true}`)
	if m, _ := v.(map[string]any); status != http.StatusCreated || m["cancelled_bookings"] != nil {
		t.Errorf("closed again: %d %v", status, v)
	}

	// A blackout of "certificati" on Friday: c goes, f (another service) stays.
	status, v = ticketingtest.Call(t, "POST", e.url+"/api/v1/offices/demo/booking-blackouts", manager,
		`{"service":"certificati","day":"2026-03-06","reason":"Formazione"}`)
	if m, _ := v.(map[string]any); status != http.StatusCreated || m["cancelled_bookings"] != float64(1) {
		t.Fatalf("blackout: %d %v", status, v)
	}
	if st, by := state(c); st != "cancelled" || by != booking.ByOffice {
		t.Errorf("blackout left %s %s %q", c, st, by)
	}
	if st, _ := state(f); st != "booked" {
		t.Errorf("another service's booking is %s", st)
	}
	if got := e.messages(t, "cancel:"+c+":%"); len(got) != 1 || got[0].Kind != booking.KindCancelled {
		t.Errorf("blackout's message: %+v", got)
	}

	// The manager's status: the counts and the cancellations per day and service, recipients masked.
	status, v = ticketingtest.Call(t, "GET", e.url+"/api/v1/offices/demo/notifications", manager, "")
	if status != http.StatusOK {
		t.Fatalf("status API: %d %v", status, v)
	}
	body := fmt.Sprint(v)
	for _, want := range []string{"2026-03-05 service:certificati", "2026-03-05 service:cie", "2026-03-06 service:certificati", booking.KindCancelled} {
		if !strings.Contains(body, want) {
			t.Errorf("status lacks %q: %s", want, body)
		}
	}
	for _, personal := range []string{"a@example.org", "c@example.org", "+393330000001"} {
		if strings.Contains(body, personal) {
			t.Errorf("status shows %q in full", personal)
		}
	}
	ticketingtest.WantError(t, "GET", e.url+"/api/v1/offices/demo/notifications?days=0", manager, "", http.StatusUnprocessableEntity, "days")

	// The page says the same in Italian, recipients masked.
	res := ticketingtest.Do(t, "GET", e.url+"/manage/notifications", manager, "")
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	if res.StatusCode != http.StatusOK {
		t.Fatalf("page: %d\n%s", res.StatusCode, page)
	}
	for _, want := range []string{web.Translate("it", "manage.nav.notifications"), web.Translate("it", "manage.notices.kind.booking_cancelled"),
		web.FormatISODay("it", "2026-03-05"), web.Translate("it", "manage.notices.channel.sms")} {
		if !strings.Contains(string(page), html.EscapeString(want)) {
			t.Errorf("page lacks %q", want)
		}
	}
	for _, personal := range []string{"a@example.org", "c@example.org", "+393330000001"} {
		if strings.Contains(string(page), personal) {
			t.Errorf("page shows %q in full", personal)
		}
	}
}

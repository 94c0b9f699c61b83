package main

import (
	"strings"

	"turno/docs"
)

// who is a set of kinds of callers (principals) of the authorization table.
type who uint16

// The principals the authorization table distinguishes. A route about an office (or one of its desks,
// rosters, staff) is tried by each of them in access_test.go against the demo office.
const (
	byAnonymous    who = 1 << iota // no credential
	byKiosk                        // the office's kiosk
	byDisplay                      // the office's hall display
	byDeskOperator                 // an operator of the office signed in to the desk in the path
	byOtherDesk                    // an operator of the office signed in to another desk
	byNoDesk                       // an operator of the office at no desk
	byManager                      // a manager of the office
	byAdmin                        // an administrator of every office
	byOtherOffice                  // a manager of another office
	byFeedback                     // the office's feedback tablet, paired to the desk in the path

	everyone  = byAnonymous | byKiosk | byDisplay | byFeedback | staff | byOtherOffice
	operators = byDeskOperator | byOtherDesk | byNoDesk
	staff     = operators | byManager | byAdmin // users who work in the office
	users     = staff | byOtherOffice
	managers  = byManager | byAdmin
	devices   = byKiosk | byDisplay | byFeedback
)

// principalNames name the principals in the table, the tests and the OpenAPI document.
var principalNames = []struct {
	who  who
	name string
}{
	{byAnonymous, "anonymous"}, {byKiosk, "kiosk"}, {byDisplay, "display"}, {byDeskOperator, "operator at the desk"},
	{byOtherDesk, "operator at another desk"}, {byNoDesk, "operator at no desk"}, {byManager, "manager"},
	{byAdmin, "administrator"}, {byOtherOffice, "staff of another office"}, {byFeedback, "feedback tablet"},
}

// names lists the principals of a set.
func (w who) names() []string {
	var out []string
	for _, p := range principalNames {
		if w&p.who != 0 {
			out = append(out, p.name)
		}
	}
	return out
}

// access is one route of the authorization table: who may call it. Every route the router serves has
// exactly one entry (access_test.go walks the router), and the test calls each route as every principal:
// those in allow must get past authorization, the others must be refused (401, 403, or the sign-in page
// for pages; 404 for those in hidden, whom the route does not tell that the thing exists).
type access struct {
	method, path string
	allow        who
	hidden       who
}

// accessTable is the authorization table: route × principal. It is the one place that says who may do
// what; the routes enforce it (auth.RequireRole, ticketing.InOffice, the desk session, device kinds) and
// the test proves they do.
func accessTable() []access {
	const o = "/api/v1/offices/{office}"
	const d = "/api/v1/desks/{desk}"
	const ro = "/api/v1/rosters/{id:[0-9]+}"
	t := []access{
		// Platform and sign-in.
		{"GET", "/", everyone, 0},
		{"GET", "/healthz", everyone, 0},
		{"GET", "/static/*", everyone, 0},
		{"GET", "/login", everyone, 0},
		{"POST", "/login", everyone, 0},
		{"POST", "/logout", everyone, 0},
		{"POST", "/api/v1/login", everyone, 0},
		{"POST", "/api/v1/logout", everyone, 0},
		{"GET", "/api/v1/me", devices | users, 0},
		{"GET", "/api/v1/openapi.json", everyone, 0},
		{"GET", "/api/docs", everyone, 0},

		// The public face of an office and its tickets: the code in the path is the holder's secret.
		{"GET", "/api/v1/offices", everyone, 0},
		{"GET", o + "/services", everyone, 0},
		{"GET", o + "/priorities", everyone, 0},
		{"GET", o + "/queue", everyone, 0},
		{"GET", o + "/kiosk", everyone, 0},
		{"GET", "/api/v1/tickets/{code}", everyone, 0},
		{"POST", "/api/v1/tickets/{code}/cancel", everyone, 0},
		{"GET", "/api/v1/tickets/{code}/feedback", everyone, 0},
		{"POST", "/api/v1/tickets/{code}/feedback", everyone, 0},
		{"GET", "/ws/tickets/{code}/events", everyone, 0},
		{"GET", "/t/{code}", everyone, 0},
		{"GET", "/kiosk/static/*", everyone, 0},
		{"GET", "/kiosk/{office}", everyone, 0},
		{"GET", "/join/{office}", everyone, 0},
		{"GET", "/feedback/{office}", everyone, 0},
		{"GET", "/display/static/*", everyone, 0},
		{"GET", "/display/{office}", everyone, 0},
		{"GET", "/ical/staff/{token}", everyone, 0},
		// Appointments: an office's slots and booking are public (citizens book without an account; staff book
		// as themselves, back-office services only they); a booking's code is its holder's credential.
		{"GET", o + "/slots", everyone, 0},
		{"POST", o + "/bookings", everyone, 0},
		{"GET", "/api/v1/bookings/{code}", everyone, 0},
		{"POST", "/api/v1/bookings/{code}/cancel", everyone, 0},
		{"POST", "/api/v1/bookings/{code}/reschedule", everyone, 0},
		// The citizen's booking pages: /book/{office} and the booking's own page (also its .ics).
		{"GET", "/book/static/*", everyone, 0},
		{"GET", "/book/{office}", everyone, 0},
		{"POST", "/book/{office}", everyone, 0},
		{"GET", "/b/{code}", everyone, 0},
		{"POST", "/b/{code}/cancel", everyone, 0},
		{"POST", "/b/{code}/reschedule", everyone, 0},
		// "Your turn is near" by Web Push: the key a phone page subscribes with, and its subscription (the
		// ticket's code is the holder's credential).
		{"GET", "/api/v1/push/key", everyone, 0},
		{"POST", "/api/v1/tickets/{code}/alerts", everyone, 0},

		// Inside the office: its devices and staff.
		// Anonymous callers too where the office lets phones join (phone_join; off in the tested office: 403).
		{"POST", o + "/tickets", byKiosk | staff, 0},
		// A booking's check-in: its office's kiosk and staff; to another office's the booking does not exist.
		{"POST", "/api/v1/bookings/{code}/check-in", byKiosk | staff, byOtherOffice},
		{"GET", o + "/desks", devices | staff, 0},
		{"GET", "/ws/offices/{office}/events", byDisplay | byFeedback | staff, 0},
		{"POST", o + "/desks/{number}/feedback", byFeedback, 0},
		{"GET", "/desk", users, 0},
		{"GET", "/desk/static/*", everyone, 0},
		{"GET", "/manage/rosters/static/*", everyone, 0},
		{"GET", "/manage/stats/static/*", everyone, 0},
		{"GET", "/manage/appointments/static/*", everyone, 0},
		{"GET", d, staff, 0},
		{"GET", d + "/waiting", staff, 0},
		// The back office: the front desk's hand-off (the operator serving at the desk), the slip it prints (staff
		// of the booking's office; to others the booking does not exist), the specialists' agendas.
		{"GET", o + "/backoffice", staff, 0},
		{"GET", o + "/backoffice/slots", staff, 0},
		{"POST", d + "/handoff", byDeskOperator, 0},
		{"GET", "/api/v1/bookings/{code}/slip.pdf", staff, byOtherOffice},
		{"GET", "/api/v1/agenda", users, 0},
		{"GET", "/agenda", users, 0},
		{"GET", "/agenda/static/*", everyone, 0},
		{"POST", d + "/open", operators | byManager, 0},
		{"GET", "/api/v1/me/shifts", users, 0},
		{"GET", "/api/v1/me/today", users, 0},
		{"POST", "/api/v1/me/feed-token", users, 0},
		{"GET", "/me/shifts", users, 0},
		{"POST", "/me/shifts/feed", users, 0},
	}
	// The desk's own operator only.
	for _, a := range []string{"close", "next", "call", "recall", "start", "finish", "no-show", "pause", "resume", "transfer"} {
		t = append(t, access{"POST", d + "/" + a, byDeskOperator, 0})
	}
	// The office's managers: the office-setup and planning API, device settings, rosters and pages.
	for _, r := range []struct{ method, path string }{
		{"GET", "/settings"}, {"PUT", "/settings"},
		{"GET", "/agencies"}, {"POST", "/agencies"}, {"PUT", "/agencies/{code}"},
		{"POST", "/services"}, {"PUT", "/services/{code}"},
		{"POST", "/desks"}, {"PUT", "/desks/{number}"},
		{"POST", "/priorities"}, {"PUT", "/priorities/{code}"},
		{"GET", "/staff"}, {"POST", "/staff"}, {"GET", "/staff/{id}"}, {"PUT", "/staff/{id}"},
		{"GET", "/staff/{id}/backoffice-hours"}, {"PUT", "/staff/{id}/backoffice-hours"},
		{"PUT", "/staff/{id}/contract"}, {"GET", "/staff/{id}/preferences"}, {"PUT", "/staff/{id}/preferences"},
		{"POST", "/staff/{id}/feed-token"}, {"GET", "/contracts"},
		{"GET", "/opening-hours"}, {"PUT", "/opening-hours"},
		{"GET", "/exceptions"}, {"POST", "/exceptions"}, {"DELETE", "/exceptions/{day}"}, {"GET", "/holidays"},
		{"GET", "/users"}, {"POST", "/users/{id}/unlock"}, {"POST", "/users/{id}/disable"}, {"POST", "/users/{id}/enable"},
		{"POST", "/users"}, {"POST", "/users/{id}/password"},
		{"GET", "/devices"}, {"POST", "/devices"}, {"DELETE", "/devices/{device}"}, {"PATCH", "/devices/{device}"},
		{"POST", "/devices/{device}/rename"}, {"PUT", "/devices/{device}/desk"},
		{"GET", "/shift-templates"}, {"POST", "/shift-templates"}, {"PUT", "/shift-templates/{id}"},
		{"GET", "/absences"}, {"POST", "/absences"}, {"DELETE", "/absences/{id}"},
		{"GET", "/demand"}, {"POST", "/demand/refresh"}, {"PUT", "/demand/overrides"}, {"DELETE", "/demand/overrides"},
		{"GET", "/planning-settings"}, {"PUT", "/planning-settings"},
		{"GET", "/rosters"}, {"POST", "/rosters"},
		{"GET", "/floor"},
		{"GET", "/stats"}, {"GET", "/stats.csv"},
		{"GET", "/stats/operators"}, {"GET", "/stats/queue"}, {"GET", "/stats/planning"},
		{"GET", "/agency-statements"}, {"GET", "/agency-statements.csv"}, {"GET", "/agency-statements/{agency}.pdf"},
		{"GET", "/booking-rules"}, {"GET", "/booking-rules/{service}"}, {"PUT", "/booking-rules/{service}"},
		{"GET", "/booking-blackouts"}, {"POST", "/booking-blackouts"}, {"DELETE", "/booking-blackouts/{id}"},
		{"GET", "/booking-settings"}, {"PUT", "/booking-settings"}, {"GET", "/appointment-capacity"},
		{"GET", "/notifications"},
	} {
		t = append(t, access{r.method, o + r.path, managers, 0})
	}
	for _, r := range []struct{ method, path string }{
		{"GET", ro}, {"GET", ro + ".pdf"}, {"POST", ro + "/publish"}, {"POST", ro + "/absences"},
		{"GET", ro + "/substitutions"}, {"POST", ro + "/repair"}, {"PUT", ro + "/assignments"},
	} {
		t = append(t, access{r.method, r.path, managers, 0})
	}
	// Manager pages: without ?office= a manager of another office sees their own office, so the pages
	// themselves are open to every manager; what they show is checked by the office they resolve.
	for _, p := range []string{"/manage", "/manage/catalogue", "/manage/staff", "/manage/hours", "/manage/templates",
		"/manage/absences", "/manage/demand", "/manage/rosters", "/manage/devices", "/manage/users", "/manage/settings",
		"/manage/live", "/manage/stats", "/manage/accounting", "/manage/feedback", "/manage/appointments", "/manage/appointments/capacity", "/manage/poster",
		"/manage/notifications"} {
		t = append(t, access{"GET", p, managers | byOtherOffice, 0})
	}
	t = append(t,
		access{"POST", "/manage/rosters", managers | byOtherOffice, 0},
		access{"GET", "/manage/staff/{id}", managers, byOtherOffice},
	)
	// Network benchmarking: an office's export is its managers'; the comparison across offices and the
	// import of other installations' exports are for administrators of every office.
	t = append(t,
		access{"GET", o + "/export", managers, 0},
		access{"GET", o + "/export.csv", managers, 0},
		access{"GET", "/api/v1/network", byAdmin, 0},
		access{"POST", "/api/v1/network/imports", byAdmin, 0},
		access{"GET", "/manage/network", byAdmin, 0},
	)
	for _, p := range []string{"", "/publish", "/absence", "/apply", "/repair", "/shift"} {
		method := "POST"
		if p == "" {
			method = "GET"
		}
		t = append(t, access{method, "/manage/rosters/{id:[0-9]+}" + p, managers, 0})
	}
	return t
}

// accessMarkdown renders the authorization table for docs/security.md: one row per route, a column per
// principal.
func accessMarkdown() string {
	var b strings.Builder
	b.WriteString("| route |")
	for _, p := range principalNames {
		b.WriteString(" " + p.name + " |")
	}
	b.WriteString("\n|---|")
	for range principalNames {
		b.WriteString(":-:|")
	}
	b.WriteString("\n")
	for _, e := range accessTable() {
		b.WriteString("| `" + e.method + " " + e.path + "` |")
		for _, p := range principalNames {
			switch {
			case e.allow&p.who != 0:
				b.WriteString(" ✓ |")
			case e.hidden&p.who != 0:
				b.WriteString(" 404 |")
			default:
				b.WriteString(" |")
			}
		}
		b.WriteString("\n")
	}
	return b.String()
}

// principalsOf returns the authorization table's entry for a route of the OpenAPI document (method and
// route in OpenAPI form), or false.
func principalsOf(method, route string) (access, bool) {
	for _, e := range accessTable() {
		if e.method == method && docs.PathFromChi(e.path) == route {
			return e, true
		}
	}
	return access{}, false
}

// openAPI is the OpenAPI document with each operation's principals, from the authorization table, as
// "x-principals" (and "x-principals-not-told" for those answered 404).
func openAPI() []byte {
	routes := map[string]string{}
	for _, op := range docs.Operations() {
		routes[op.Method+" "+op.Path] = op.Route
	}
	return docs.OpenAPIWith(func(method, path string) map[string]any {
		e, ok := principalsOf(method, routes[method+" "+path])
		if !ok {
			return nil
		}
		out := map[string]any{"x-principals": e.allow.names()}
		if e.hidden != 0 {
			out["x-principals-not-told"] = e.hidden.names()
		}
		return out
	})
}

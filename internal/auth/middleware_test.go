package auth_test

import (
	"net/http"
	"net/http/httptest"
	"testing"

	"turno/cmd/turno/demo"
	"turno/internal/auth"
	"turno/ticketing/ticketingtest"
)

// A kiosk, a hall screen and a feedback tablet paired in one browser profile each keep their own cookie,
// and every request acts for the device of the page it belongs to; the old shared cookie still works.
func TestDeviceCookiePerKind(t *testing.T) {
	t.Parallel()
	e := ticketingtest.New(t)
	kiosk := &http.Cookie{Name: auth.DeviceCookieOf(auth.Kiosk), Value: demo.KioskToken}
	display := &http.Cookie{Name: auth.DeviceCookieOf(auth.Display), Value: demo.DisplayToken}
	if kiosk.Name != "turno_device_kiosk" || display.Name != "turno_device_display" {
		t.Fatalf("cookie names %q and %q", kiosk.Name, display.Name)
	}
	// whoAmI answers with the kind of the request's device, "" when anonymous.
	whoAmI := e.Auth.Authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if d := auth.FromContext(r.Context()).Device; d != nil {
			w.Write([]byte(d.Kind))
		}
	}))
	both := []*http.Cookie{kiosk, display}
	_, tabletToken, err := e.Auth.CreateDevice(t.Context(), e.Office.ID, auth.Feedback, "Tablet")
	if err != nil {
		t.Fatal(err)
	}
	tablet := &http.Cookie{Name: auth.DeviceCookieOf(auth.Feedback), Value: tabletToken}
	all := []*http.Cookie{kiosk, display, tablet}
	for _, c := range []struct {
		name    string
		method  string
		path    string
		header  string // Turno-Device
		referer string
		cookies []*http.Cookie
		want    auth.DeviceKind
	}{
		{"kiosk page", "GET", "/kiosk/demo", "", "", both, auth.Kiosk},
		{"display page", "GET", "/display/demo", "", "", both, auth.Display},
		{"kiosk static file", "GET", "/kiosk/static/kiosk.js", "", "", both, auth.Kiosk},
		{"ticket from the kiosk page", "POST", "/api/v1/offices/demo/tickets", "kiosk", "", both, auth.Kiosk},
		{"the header wins over the referer", "POST", "/api/v1/offices/demo/tickets", "kiosk", "/display/demo", both, auth.Kiosk},
		{"kiosk status by referer", "GET", "/api/v1/offices/demo/kiosk", "", "/kiosk/demo", both, auth.Kiosk},
		{"display queue by referer", "GET", "/api/v1/offices/demo/queue", "", "/display/demo?desks=1", both, auth.Display},
		{"display me by header", "GET", "/api/v1/me", "display", "", both, auth.Display},
		{"event stream", "GET", "/ws/offices/demo/events", "", "", both, auth.Display},
		{"feedback tablet page", "GET", "/feedback/demo", "", "", all, auth.Feedback},
		{"the tablet's event stream", "GET", "/ws/offices/demo/events?kind=feedback", "", "", all, auth.Feedback},
		{"event stream of a screen beside a tablet", "GET", "/ws/offices/demo/events", "", "", all, auth.Display},
		{"tablet rating by header", "POST", "/api/v1/offices/demo/desks/1/feedback", "feedback", "", all, auth.Feedback},
		{"tablet me by referer", "GET", "/api/v1/me", "", "/feedback/demo", all, auth.Feedback},
		{"a call that does not say", "GET", "/api/v1/me", "", "", both, auth.Kiosk},
		{"only a display cookie", "GET", "/api/v1/me", "", "", []*http.Cookie{display}, auth.Display},
		{"display page without its cookie", "GET", "/display/demo", "", "", []*http.Cookie{kiosk}, ""},
		{"kiosk page without its cookie", "GET", "/kiosk/demo", "", "", []*http.Cookie{display}, ""},
		{"unknown header value", "GET", "/api/v1/me", "printer", "/display/demo", both, auth.Display},
		{"old cookie, kiosk", "GET", "/kiosk/demo", "", "", []*http.Cookie{{Name: auth.DeviceCookie, Value: demo.KioskToken}}, auth.Kiosk},
		{"old cookie, display", "GET", "/display/demo", "", "", []*http.Cookie{{Name: auth.DeviceCookie, Value: demo.DisplayToken}}, auth.Display},
		{"old cookie beside a new one of another kind", "GET", "/display/demo", "", "",
			[]*http.Cookie{kiosk, {Name: auth.DeviceCookie, Value: demo.DisplayToken}}, auth.Display},
		// A revoked kind cookie does not fall back to the old one: the page asks to be paired again.
		{"stale kind cookie", "GET", "/kiosk/demo", "", "",
			[]*http.Cookie{{Name: kiosk.Name, Value: "revoked"}, {Name: auth.DeviceCookie, Value: demo.KioskToken}}, ""},
	} {
		req := httptest.NewRequest(c.method, "http://turno.test"+c.path, nil)
		if c.header != "" {
			req.Header.Set(auth.DeviceHeader, c.header)
		}
		if c.referer != "" {
			req.Header.Set("Referer", "http://turno.test"+c.referer)
		}
		for _, k := range c.cookies {
			req.AddCookie(k)
		}
		rec := httptest.NewRecorder()
		whoAmI.ServeHTTP(rec, req)
		if rec.Code != http.StatusOK || auth.DeviceKind(rec.Body.String()) != c.want {
			t.Errorf("%s: %d %q, want the %q device", c.name, rec.Code, rec.Body.String(), c.want)
		}
	}

	// Staff signed in stay themselves whatever device cookies the browser also holds.
	req := httptest.NewRequest("GET", "http://turno.test/kiosk/demo", nil)
	req.AddCookie(&http.Cookie{Name: auth.SessionCookie, Value: e.Login(t, "op1")})
	req.AddCookie(kiosk)
	var user string
	e.Auth.Authenticate(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := auth.FromContext(r.Context())
		if p.User != nil && p.Device == nil {
			user = p.User.Username
		}
	})).ServeHTTP(httptest.NewRecorder(), req)
	if user != "op1" {
		t.Errorf("signed-in operator with a kiosk cookie resolved as %q", user)
	}
}

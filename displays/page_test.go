package displays

import (
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"turno/cmd/turno/demo"
	"turno/internal/auth"
	"turno/ticketing/ticketingtest"
)

// noRedirect is a client that shows redirects instead of following them.
var noRedirect = &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}

func get(t *testing.T, url string, cookie *http.Cookie) (*http.Response, string) {
	t.Helper()
	req, err := http.NewRequest("GET", url, nil)
	if err != nil {
		t.Fatal(err)
	}
	if cookie != nil {
		req.AddCookie(cookie)
	}
	res, err := noRedirect.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	b, _ := io.ReadAll(res.Body)
	return res, string(b)
}

// Opening the pairing link once stores the display token in a cookie and drops it from the address; the
// cookie then opens the page. Without it, or with a kiosk's token, the page says why it shows nothing.
func TestDisplayPagePairing(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	n := newTestNode(t, env, Options{})
	base := n.srv.URL + "/display/" + demo.OfficeSlug

	res, _ := get(t, base+"?device="+demo.DisplayToken+"&desks=1,2", nil)
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/display/demo?desks=1%2C2" {
		t.Fatalf("pairing: status %d, location %q", res.StatusCode, res.Header.Get("Location"))
	}
	var cookie *http.Cookie
	for _, c := range res.Cookies() {
		if c.Name == auth.DeviceCookieOf(auth.Display) {
			cookie = c
		}
	}
	if cookie == nil || cookie.Value != demo.DisplayToken || !cookie.HttpOnly || cookie.MaxAge < 300*24*3600 {
		t.Fatalf("pairing cookie %+v", cookie)
	}

	res, body := get(t, base+"?desks=1,2", cookie)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `id="display-config"`) || !strings.Contains(body, `/static/events.js`) {
		t.Fatalf("paired page: status %d\n%s", res.StatusCode, body)
	}
	if !strings.Contains(body, `"desks":[1,2]`) {
		t.Fatalf("the page's settings do not carry the desks of the query:\n%s", body)
	}

	for _, tc := range []struct {
		name, query string
		cookie      *http.Cookie
		want        int
		text        string
	}{
		{"not paired", "", nil, http.StatusUnauthorized, "non è abbinato"},
		{"kiosk token", "?device=" + demo.KioskToken, nil, http.StatusForbidden, "non è valido"},
		{"unknown token", "?device=nope", nil, http.StatusForbidden, "non è valido"},
		{"kiosk cookie", "", &http.Cookie{Name: auth.DeviceCookie, Value: demo.KioskToken}, http.StatusForbidden, "non può mostrare"},
		{"unknown desk", "?desks=99", cookie, http.StatusUnprocessableEntity, "invalid_desks"},
		{"bad audience", "?audiences=tourists", cookie, http.StatusUnprocessableEntity, "invalid_audiences"},
		{"bad voice", "?voice=maybe", cookie, http.StatusUnprocessableEntity, "invalid_voice"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			res, body := get(t, base+tc.query, tc.cookie)
			if res.StatusCode != tc.want || !strings.Contains(body, tc.text) {
				t.Fatalf("status %d, want %d with %q:\n%s", res.StatusCode, tc.want, tc.text, body)
			}
		})
	}

	// A staff member of the office may look at the display too.
	token := env.Login(t, "op1")
	res, _ = get(t, base, &http.Cookie{Name: auth.SessionCookie, Value: token})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("operator: status %d", res.StatusCode)
	}
}

// A manager of the office sets what a display shows; the page starts from it.
func TestPatchDisplaySettings(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	n := newTestNode(t, env, Options{})
	all, err := env.Auth.Devices(t.Context(), env.Office.ID)
	if err != nil {
		t.Fatal(err)
	}
	var display, kiosk int64
	for _, d := range all {
		if d.Kind == auth.Display {
			display = d.ID
		} else {
			kiosk = d.ID
		}
	}
	url := func(id int64) string { return fmt.Sprintf("%s/api/v1/offices/demo/devices/%d", n.srv.URL, id) }
	manager := env.Login(t, "manager")
	body := `{"settings":{"audiences":["business"],"desks":[5,6],"title":"Sala imprese","calls":6,"voice":false}}`

	call(t, "PATCH", url(display), env.Login(t, "op1"), body, http.StatusForbidden, nil)
	call(t, "PATCH", url(display), demo.DisplayToken, body, http.StatusForbidden, nil)
	call(t, "PATCH", url(display), "", body, http.StatusUnauthorized, nil)
	call(t, "PATCH", url(kiosk), manager, body, http.StatusNotFound, nil)
	for field, bad := range map[string]string{
		"audiences": `{"settings":{"audiences":["tourists"]}}`,
		"desks":     `{"settings":{"desks":[42]}}`,
		"services":  `{"settings":{"services":["nope"]}}`,
		"calls":     `{"settings":{"calls":99}}`,
		"lang":      `{"settings":{"lang":"de"}}`,
		"layout":    `{"settings":{"layout":"mosaic"}}`,
		"settings":  `{}`,
	} {
		var e struct{ Error struct{ Field string } }
		call(t, "PATCH", url(display), manager, bad, http.StatusUnprocessableEntity, &e)
		if e.Error.Field != field {
			t.Fatalf("%s: error field %q, want %q", bad, e.Error.Field, field)
		}
	}
	call(t, "PATCH", url(display), manager, `{"settings":{"colour":"red"}}`, http.StatusBadRequest, nil)

	var d auth.Device
	call(t, "PATCH", url(display), manager, body, http.StatusOK, &d)
	if d.ID != display || d.Settings["title"] != "Sala imprese" || d.Settings["voice"] != false {
		t.Fatalf("saved device %+v", d)
	}
	res, page := get(t, n.srv.URL+"/display/demo", &http.Cookie{Name: auth.DeviceCookie, Value: demo.DisplayToken})
	if res.StatusCode != http.StatusOK || !strings.Contains(page, "Sala imprese") || !strings.Contains(page, `"audiences":["business"]`) {
		t.Fatalf("page after the settings changed: status %d\n%s", res.StatusCode, page)
	}
}

// A screen whose token was revoked gets the pairing page, which forgets the dead token; the page of a
// paired screen says it is one ("kind":"device"), a staff member's says "user".
func TestDisplayPageForgetsRevokedToken(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	n := newTestNode(t, env, Options{})
	dev, token, err := env.Auth.CreateDevice(t.Context(), env.Office.ID, auth.Display, "Sala 2")
	if err != nil {
		t.Fatal(err)
	}
	base := n.srv.URL + "/display/" + demo.OfficeSlug
	cookie := &http.Cookie{Name: auth.DeviceCookie, Value: token}
	if res, body := get(t, base, cookie); res.StatusCode != http.StatusOK || !strings.Contains(body, `"kind":"device"`) {
		t.Fatalf("paired page: status %d\n%s", res.StatusCode, body)
	}
	if res, body := get(t, base, &http.Cookie{Name: auth.SessionCookie, Value: env.Login(t, "op1")}); res.StatusCode != http.StatusOK || !strings.Contains(body, `"kind":"user"`) {
		t.Fatalf("operator's page: status %d\n%s", res.StatusCode, body)
	}
	if err := env.Auth.RevokeDevice(t.Context(), env.Office.ID, dev.ID); err != nil {
		t.Fatal(err)
	}
	res, body := get(t, base, cookie)
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "non è abbinato") {
		t.Fatalf("revoked: status %d\n%s", res.StatusCode, body)
	}
	var cleared bool
	for _, c := range res.Cookies() {
		cleared = cleared || (c.Name == auth.DeviceCookie && c.Value == "" && c.MaxAge < 0)
	}
	if !cleared {
		t.Fatalf("the revoked token's cookie was not cleared: %v", res.Header["Set-Cookie"])
	}
}

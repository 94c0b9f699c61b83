package displays

import (
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"testing"

	"turno/cmd/turno/demo"
	"turno/internal/auth"
	"turno/internal/web"
	"turno/ticketing/ticketingtest"
)

// ParseSettings, what the manager's devices page validates with, refuses unknown fields with a 400 and bad
// values with a 422 naming the field, and accepts every screen language and layout.
func TestParseSettings(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	services, err := env.Store.Services(t.Context(), env.Office.ID)
	if err != nil {
		t.Fatal(err)
	}
	desks, err := env.Store.Desks(t.Context(), env.Office.ID)
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		body   string
		status int
		field  string
	}{
		{`{"lang":"de"}`, http.StatusUnprocessableEntity, "lang"},
		{`{"lang":"IT"}`, http.StatusUnprocessableEntity, "lang"},
		{`{"layout":"mosaic"}`, http.StatusUnprocessableEntity, "layout"},
		{`{"layout":7}`, http.StatusUnprocessableEntity, "layout"},
		{`{"desks":[99]}`, http.StatusUnprocessableEntity, "desks"},
		{`{"calls":3}`, http.StatusUnprocessableEntity, "calls"},
		{`{"voice":"yes"}`, http.StatusUnprocessableEntity, "voice"},
		{`{"colour":"red"}`, http.StatusBadRequest, ""},
		{`[1]`, http.StatusBadRequest, ""},
		{`null`, http.StatusBadRequest, ""},
	} {
		_, err := ParseSettings([]byte(tc.body), services, desks)
		var we *web.Error
		if !errors.As(err, &we) || we.Status != tc.status || we.Field != tc.field {
			t.Errorf("%s: error %#v, want status %d field %q", tc.body, err, tc.status, tc.field)
		}
	}
	for _, l := range Langs {
		for _, layout := range Layouts {
			s, err := ParseSettings([]byte(`{"lang":"`+l.Code+`","layout":"`+string(layout)+`","voice":false,"desks":[1]}`), services, desks)
			if err != nil || s.Lang != l.Code || s.Layout != layout || s.Voice == nil || *s.Voice || len(s.Desks) != 1 {
				t.Fatalf("%s %s: %+v, %v", l.Code, layout, s, err)
			}
			if !web.HasLang(l.Code) || web.Translate(l.Code, "display.layout_"+string(layout)) == "display.layout_"+string(layout) {
				t.Fatalf("no display catalogue for %s %s", l.Code, layout)
			}
		}
	}
}

// A screen speaks the language of its settings (or the office's, Italian), whatever its browser asks for;
// ?lang= and ?layout= override the settings like the other query parameters.
func TestDisplayPageLanguageFromSettings(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	n := newTestNode(t, env, Options{})
	dev, token, err := env.Auth.CreateDevice(t.Context(), env.Office.ID, auth.Display, "Sala 3")
	if err != nil {
		t.Fatal(err)
	}
	cookie := &http.Cookie{Name: auth.DeviceCookieOf(auth.Display), Value: token}
	page := func(query, acceptLang string) (int, string) {
		t.Helper()
		req, err := http.NewRequest("GET", n.srv.URL+"/display/"+demo.OfficeSlug+query, nil)
		if err != nil {
			t.Fatal(err)
		}
		req.AddCookie(cookie)
		req.Header.Set("Accept-Language", acceptLang)
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	// No setting: the office's language, not the English browser's.
	status, body := page("", "en-US,en;q=0.9")
	if status != http.StatusOK || !strings.Contains(body, `<html lang="it"`) || !strings.Contains(body, "Chiamata in corso") ||
		!strings.Contains(body, `"layout":"calls_queue"`) {
		t.Fatalf("default: status %d\n%s", status, body)
	}
	manager := env.Login(t, "manager")
	url := n.srv.URL + fmt.Sprintf("/api/v1/offices/demo/devices/%d", dev.ID)
	call(t, "PATCH", url, manager, `{"settings":{"lang":"ar","layout":"calls","voice":false}}`, http.StatusOK, nil)
	status, body = page("", "it-IT,it;q=0.9")
	if status != http.StatusOK || !strings.Contains(body, `<html lang="ar" dir="rtl"`) || !strings.Contains(body, "النداء الحالي") ||
		!strings.Contains(body, `class="d-app layout-calls"`) || !strings.Contains(body, `"lang":"ar"`) {
		t.Fatalf("set to Arabic: status %d\n%s", status, body)
	}
	status, body = page("?lang=fr&layout=queue", "it")
	if status != http.StatusOK || !strings.Contains(body, `<html lang="fr"`) || !strings.Contains(body, "Appel en cours") ||
		!strings.Contains(body, `layout-queue`) {
		t.Fatalf("?lang=fr: status %d\n%s", status, body)
	}
	for q, code := range map[string]string{"?lang=de": "invalid_lang", "?layout=mosaic": "invalid_layout"} {
		if status, body := page(q, "it"); status != http.StatusUnprocessableEntity || !strings.Contains(body, code) {
			t.Fatalf("%s: status %d\n%s", q, status, body)
		}
	}
}

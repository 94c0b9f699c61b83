package main

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"regexp"
	"strings"
	"testing"

	"turno/cmd/turno/demo"
	"turno/internal/config"
	"turno/internal/database/dbtest"
	"turno/ticketing/ticketingtest"
)

// errorPattern turns a message format into a regular expression matching the messages it makes: each verb
// matches any text.
func errorPattern(format string) *regexp.Regexp {
	verb := regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[a-zA-Z]`)
	parts := verb.Split(format, -1)
	for i, p := range parts {
		parts[i] = regexp.QuoteMeta(strings.ReplaceAll(p, "%%", "%"))
	}
	return regexp.MustCompile("^" + strings.Join(parts, "(.*?)") + "$")
}

// italianFor finds the catalogue formats that make the English message en and reports whether the Italian
// message it matches one of their translations, also for a message in a context ("weekday 1: ...").
func italianFor(catalogue map[string]string, en, it string) (format string, ok bool) {
	matches := func(en, it string) (string, bool) {
		found := ""
		for f, tr := range catalogue {
			if errorPattern(f).MatchString(en) {
				found = f
				if errorPattern(tr).MatchString(it) {
					return f, true
				}
			}
		}
		return found, false
	}
	if f, ok := matches(en, it); ok || f != "" {
		return f, ok
	}
	// A context set by Within: both parts translated.
	enCtx, enMsg, ok1 := strings.Cut(en, ": ")
	itCtx, itMsg, ok2 := strings.Cut(it, ": ")
	if !ok1 || !ok2 {
		return "", false
	}
	f1, okCtx := matches(enCtx, itCtx)
	f2, okMsg := matches(enMsg, itMsg)
	return f1 + ": " + f2, okCtx && okMsg
}

// With Accept-Language: it, the 4xx messages of bad requests across the parts (ticketing, scheduling,
// auth, kiosk, displays, the shared decoding) are the catalogue's Italian and differ from the English ones
// the same requests get without the header; the codes are the same in both.
func TestErrorsSpeakTheRequestLanguage(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	t.Cleanup(cancel)
	pool := dbtest.NewPool(t)
	a, err := newApp(ctx, &config.Config{IssuePerMinute: 1000}, slog.New(slog.DiscardHandler), pool, "http://localhost")
	if err != nil {
		t.Fatal(err)
	}
	a.auth.Cost = 4
	if err := a.seedDemoOffice(ctx); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.routes())
	t.Cleanup(srv.Close)

	b, err := os.ReadFile("../../internal/web/i18n/errors.it.json")
	if err != nil {
		t.Fatal(err)
	}
	var cat struct{ Messages map[string]string }
	if err := json.Unmarshal(b, &cat); err != nil {
		t.Fatal(err)
	}

	type answer struct {
		status int
		Error  struct{ Code, Message string }
	}
	do := func(method, path, token, body, lang string) answer {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, strings.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		if body != "" {
			req.Header.Set("Content-Type", "application/json")
		}
		if token != "" {
			req.Header.Set("Authorization", "Bearer "+token)
		}
		if lang != "" {
			req.Header.Set("Accept-Language", lang)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		raw, _ := io.ReadAll(res.Body)
		var v answer
		v.status = res.StatusCode
		_ = json.Unmarshal(raw, &v)
		return v
	}
	login := func(user string) string {
		res := ticketingtest.Do(t, "POST", srv.URL+"/api/v1/login", "", fmt.Sprintf(`{"username":%q,"password":%q}`, user, demo.Password))
		defer res.Body.Close()
		var v struct{ Token string }
		if err := json.NewDecoder(res.Body).Decode(&v); err != nil || v.Token == "" {
			t.Fatalf("login %s: %d %v", user, res.StatusCode, err)
		}
		return v.Token
	}
	manager, op := login("manager"), login("op1")
	const o = "/api/v1/offices/demo"
	ticketingtest.Do(t, "PUT", srv.URL+o+"/settings", manager, `{"issuing_always_open":true}`).Body.Close()

	var services []struct{ Code string }
	res := ticketingtest.Do(t, "GET", srv.URL+o+"/services", "", "")
	_ = json.NewDecoder(res.Body).Decode(&services)
	res.Body.Close()
	var ticket struct{ Code string }
	res = ticketingtest.Do(t, "POST", srv.URL+o+"/tickets", demo.KioskToken, fmt.Sprintf(`{"service":%q}`, services[0].Code))
	_ = json.NewDecoder(res.Body).Decode(&ticket)
	res.Body.Close()
	if ticket.Code == "" {
		t.Fatal("no ticket issued")
	}
	var desks []struct{ ID int64 }
	res = ticketingtest.Do(t, "GET", srv.URL+o+"/desks", op, "")
	_ = json.NewDecoder(res.Body).Decode(&desks)
	res.Body.Close()
	var devices []struct {
		ID   int64
		Kind string
	}
	res = ticketingtest.Do(t, "GET", srv.URL+o+"/devices", manager, "")
	_ = json.NewDecoder(res.Body).Decode(&devices)
	res.Body.Close()
	display := int64(0)
	for _, d := range devices {
		if d.Kind == "display" {
			display = d.ID
		}
	}

	bad := []struct{ part, method, path, token, body string }{
		{"ticketing", "PUT", o + "/opening-hours", manager, `{"hours":{"1":[{"opens":"13:00","closes":"08:30"}]}}`},
		{"ticketing", "PUT", o + "/opening-hours", manager, `{"hours":{"2":[{"opens":"08:30","closes":"13:00"},{"opens":"12:00","closes":"14:00"}]}}`},
		{"ticketing", "POST", o + "/exceptions", manager, `{"day":"2026-13-01","closed":true}`},
		{"ticketing", "PUT", o + "/settings", manager, `{"retention_days":0}`},
		{"ticketing", "POST", o + "/services", manager, `{"code":"Not A Code"}`},
		{"ticketing", "POST", o + "/staff", manager, `{"code":""}`},
		{"ticketing", "POST", fmt.Sprintf("/api/v1/desks/%d/next", desks[0].ID), op, ""},
		{"ticketing", "POST", o + "/tickets", demo.KioskToken, `{"service":"nope"}`},
		{"ticketing", "POST", o + "/tickets", demo.KioskToken, `{}`},
		{"ticketing", "GET", "/api/v1/tickets/NOSUCHCODE", "", ""},
		{"ticketing", "GET", o + "/settings", "", ""},
		{"auth", "POST", "/api/v1/login", "", `{}`},
		{"auth", "GET", "/api/v1/me", "not-a-token", ""},
		{"auth", "POST", o + "/users", manager, `{"username":"x","role":"boss","password":"a long enough password here"}`},
		{"scheduling", "POST", o + "/shift-templates", manager, `{"code":"m","name":"Mattina","starts":"9","ends":"13:00","weekdays":[1]}`},
		{"scheduling", "POST", o + "/absences", manager, `{"kind":"leave"}`},
		{"scheduling", "POST", o + "/rosters", manager, `{"from":"2026-03-10","to":"2026-03-01"}`},
		{"scheduling", "GET", "/api/v1/rosters/999999", manager, ""},
		{"displays", "GET", "/ws/offices/demo/events", "", ""},
		{"displays", "PATCH", fmt.Sprintf("%s/devices/%d", o, display), manager, `{"settings":{"calls":99}}`},
		{"kiosk", "GET", "/t/" + ticket.Code + ".pdf?paper=99", "", ""},
		{"kiosk", "GET", "/api/v1/offices/nowhere/kiosk", "", ""},
		{"web", "POST", o + "/agencies", manager, `{"code": 12}`},
		{"web", "POST", o + "/agencies", manager, `not json`},
	}
	seen := map[string]bool{}
	for _, c := range bad {
		en := do(c.method, c.path, c.token, c.body, "")
		it := do(c.method, c.path, c.token, c.body, "it")
		name := c.part + " " + c.method + " " + c.path + " " + c.body
		if it.status < 400 || it.status > 499 || it.status != en.status {
			t.Errorf("%s: %d in Italian, %d in English; want the same 4xx", name, it.status, en.status)
			continue
		}
		if it.Error.Code == "" || it.Error.Code != en.Error.Code {
			t.Errorf("%s: code %q in Italian, %q in English", name, it.Error.Code, en.Error.Code)
		}
		if it.Error.Message == en.Error.Message {
			t.Errorf("%s: the Italian message is the English one: %q", name, it.Error.Message)
			continue
		}
		if f, ok := italianFor(cat.Messages, en.Error.Message, it.Error.Message); !ok {
			t.Errorf("%s: %q is not the Italian of %q (format %q)", name, it.Error.Message, en.Error.Message, f)
			continue
		}
		seen[en.Error.Message] = true
		t.Logf("%-10s %d %-22s %s", c.part, it.status, it.Error.Code, it.Error.Message)
	}
	if len(seen) < 20 {
		t.Errorf("%d different Italian messages; want at least 20", len(seen))
	}
}

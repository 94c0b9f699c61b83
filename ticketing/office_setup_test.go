package ticketing_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"turno/internal/auth"
	"turno/internal/web"
	"turno/ticketing"
	"turno/ticketing/ticketingtest"
)

// otherOfficeManager creates office "altrove" with a manager and returns the manager's session token.
func otherOfficeManager(t *testing.T, env *ticketingtest.Env) string {
	t.Helper()
	ctx := context.Background()
	other := &ticketing.Office{Slug: "altrove", Name: "Altrove", TimeZone: "Europe/Rome"}
	if _, err := env.Store.SaveOffice(ctx, other); err != nil {
		t.Fatal(err)
	}
	const pw = "una password lunga e strana"
	if _, err := env.Auth.CreateUser(ctx, auth.NewUser{Username: "capo-altrove", Role: auth.Manager, OfficeID: other.ID, Password: pw}, false); err != nil {
		t.Fatal(err)
	}
	token, _, err := env.Auth.Login(ctx, "capo-altrove", pw)
	if err != nil {
		t.Fatal(err)
	}
	return token
}

// A manager creates a login with a first password that meets the rules, sets a new password (which signs
// the user out), and disables it; a disabled user cannot sign in. Managers of other offices, operators
// and weak passwords are refused.
func TestCreateUserAndSetPassword(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	srv := env.Server(t)
	ctx := context.Background()
	base := srv.URL + "/api/v1/offices/demo/users"
	manager, op1, other := env.Login(t, "manager"), env.Login(t, "op1"), otherOfficeManager(t, env)
	const first, second = "tre gatti sul tetto rosso", "il fiume scorre verso valle"

	body := func(username, role, password string) string {
		return fmt.Sprintf(`{"username":%q,"display_name":"Giulia Verdi","role":%q,"password":%q}`, username, role, password)
	}
	wantCode(t, "POST", base, other, 403, "other_office")
	wantBody(t, "POST", base, other, body("giulia.verdi", "operator", first), 403, "other_office")
	wantBody(t, "POST", base, op1, body("giulia.verdi", "operator", first), 403, "forbidden")
	wantBody(t, "POST", base, manager, body("giulia.verdi", "operator", "password1234"), 422, "invalid_password")
	wantBody(t, "POST", base, manager, body("giulia.verdi", "operator", "giulia.verdi 2024!"), 422, "invalid_password")
	wantBody(t, "POST", base, manager, body("giulia.verdi", "operator", "corta"), 422, "invalid_password")
	wantBody(t, "POST", base, manager, body("giulia.verdi", "admin", first), 403, "admin_user")
	wantBody(t, "POST", base, manager, body("g", "operator", first), 422, "invalid_username")
	wantBody(t, "POST", base, manager, body("op1", "operator", first), 409, "username_taken")
	wantBody(t, "POST", base, manager, `{"username":"giulia.verdi","display_name":"","role":"operator","password":"`+first+`"}`, 422, "invalid_display_name")
	wantBody(t, "POST", base, manager, `{"username":"giulia.verdi","display_name":"G","role":"operator","password":"`+first+`","staff_id":99999999}`, 422, "invalid_staff_id")
	if n := env.Count(t, `SELECT count(*) FROM users WHERE username = 'giulia.verdi'`); n != 0 {
		t.Fatalf("a refused login was created")
	}

	st, v := ticketingtest.Call(t, "POST", base, manager, `{"username":"Giulia.Verdi","display_name":"Giulia Verdi","role":"operator","password":"`+first+`"}`)
	u, _ := v.(map[string]any)
	if st != 201 || u["username"] != "giulia.verdi" || u["role"] != "operator" || u["active"] != true || u["display_name"] != "Giulia Verdi" {
		t.Fatalf("create: %d %v", st, v)
	}
	id := int64(u["id"].(float64))
	token, _, err := env.Auth.Login(ctx, "giulia.verdi", first)
	if err != nil {
		t.Fatalf("the new user cannot sign in: %v", err)
	}

	// A new password: checked against the rules and the username, and the old sessions end.
	pwURL := fmt.Sprintf("%s/%d/password", base, id)
	wantBody(t, "POST", pwURL, manager, `{"password":"qwertyuiop12"}`, 422, "invalid_password")
	wantBody(t, "POST", pwURL, other, `{"password":"`+second+`"}`, 403, "other_office")
	wantBody(t, "POST", pwURL, op1, `{"password":"`+second+`"}`, 403, "forbidden")
	wantBody(t, "POST", fmt.Sprintf("%s/%d/password", base, env.UserID(t, "capo-altrove")), manager, `{"password":"`+second+`"}`, 404, "unknown_user")
	if st, v := ticketingtest.Call(t, "POST", pwURL, manager, `{"password":"`+second+`"}`); st != 200 {
		t.Fatalf("set password: %d %v", st, v)
	}
	if st, _ := ticketingtest.Call(t, "GET", srv.URL+"/api/v1/me", token, ""); st != 401 {
		t.Fatalf("the session opened with the old password still works: %d", st)
	}
	if _, _, err := env.Auth.Login(ctx, "giulia.verdi", first); err == nil {
		t.Fatal("the old password still signs in")
	}
	if _, _, err := env.Auth.Login(ctx, "giulia.verdi", second); err != nil {
		t.Fatalf("the new password does not sign in: %v", err)
	}

	// Disabled, the user cannot sign in, by the API either.
	if st, v := ticketingtest.Call(t, "POST", fmt.Sprintf("%s/%d/disable", base, id), manager, ""); st != 200 {
		t.Fatalf("disable: %d %v", st, v)
	}
	if _, _, err := env.Auth.Login(ctx, "giulia.verdi", second); err == nil {
		t.Fatal("a disabled user signs in")
	}
	wantBody(t, "POST", srv.URL+"/api/v1/login", "", `{"username":"giulia.verdi","password":"`+second+`"}`, 401, "unauthorized")
}

// The pairing link comes from the installation's public address, never from the Host the client sent,
// and carries the QR code of itself; devices are renamed by their office's managers only.
func TestDevicePairingLinkAndRename(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	const public = "https://sportello.example.it"
	r := web.NewSiteRouter(env.Auth.Authenticate, web.Site{BaseURL: public})
	env.Auth.Routes(r)
	(&ticketing.API{Store: env.Store, Auth: env.Auth, IssueLimit: 1000}).Routes(r)
	srv := httptest.NewServer(ticketingtest.ValidateResponses(t, r))
	defer srv.Close()
	manager, other := env.Login(t, "manager"), otherOfficeManager(t, env)
	api := srv.URL + "/api/v1/offices/demo/devices"

	for _, kind := range []string{"kiosk", "display"} {
		req, _ := http.NewRequest("POST", api, strings.NewReader(`{"kind":"`+kind+`","name":"Nuovo `+kind+`"}`))
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Authorization", "Bearer "+manager)
		req.Host = "attacker.example" // a forged Host must not end up in the link
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		var created struct {
			Device struct{ ID int64 }
			Token  string
			Link   string
			QR     []string
		}
		decode(t, res, 201, &created)
		want := public + "/" + kind + "/demo?device=" + created.Token
		if created.Link != want {
			t.Errorf("%s link %q, want %q", kind, created.Link, want)
		}
		// A QR code of version v has 17+4v modules a side and a finder pattern in three corners.
		n := len(created.QR)
		if n < 21 || (n-17)%4 != 0 {
			t.Fatalf("%s: QR code of %d rows", kind, n)
		}
		for _, row := range []string{created.QR[0], created.QR[n-1]} {
			if len(row) != n || !strings.HasPrefix(row, "1111111") {
				t.Errorf("%s: QR row %q is not a finder pattern's edge", kind, row)
			}
		}
		if !strings.HasSuffix(created.QR[0], "1111111") {
			t.Errorf("%s: no finder pattern top right: %q", kind, created.QR[0])
		}

		url := fmt.Sprintf("%s/%d/rename", api, created.Device.ID)
		wantBody(t, "POST", url, manager, `{"name":""}`, 422, "invalid_name")
		wantBody(t, "POST", url, other, `{"name":"Mio"}`, 403, "other_office")
		st, v := ticketingtest.Call(t, "POST", url, manager, `{"name":"  Totem sala B  "}`)
		if d, _ := v.(map[string]any); st != 200 || d["name"] != "Totem sala B" {
			t.Fatalf("rename: %d %v", st, v)
		}
		if st, _ := ticketingtest.Call(t, "DELETE", fmt.Sprintf("%s/%d", api, created.Device.ID), manager, ""); st != 204 {
			t.Fatalf("revoke: %d", st)
		}
		wantBody(t, "POST", url, manager, `{"name":"Dopo"}`, 404, "unknown_device")
	}
}

// The office's default language is one of the kiosk's and round-trips through the settings API.
func TestOfficeLanguageSetting(t *testing.T) {
	t.Parallel()
	env := ticketingtest.New(t)
	srv := env.Server(t)
	manager := env.Login(t, "manager")
	api := srv.URL + "/api/v1/offices/demo/settings"
	if st, v := ticketingtest.Call(t, "GET", api, manager, ""); st != 200 || v.(map[string]any)["lang"] != "it" {
		t.Fatalf("default: %d %v", st, v)
	}
	wantBody(t, "PUT", api, manager, `{"lang":"de"}`, 422, "invalid_lang")
	st, v := ticketingtest.Call(t, "PUT", api, manager, `{"lang":"ar","issuing_always_open":true,"retention_days":30}`)
	if o, _ := v.(map[string]any); st != 200 || o["lang"] != "ar" || o["issuing_always_open"] != true || o["retention_days"] != float64(30) {
		t.Fatalf("put: %d %v", st, v)
	}
	o, err := env.Store.Office(context.Background(), "demo")
	if err != nil || o.Lang != "ar" {
		t.Fatalf("stored: %+v %v", o, err)
	}
}

// wantBody checks that a request with a JSON body answers status with a JSON error of code.
func wantBody(t *testing.T, method, url, token, body string, status int, code string) {
	t.Helper()
	got, v := ticketingtest.Call(t, method, url, token, body)
	m, _ := v.(map[string]any)
	e, _ := m["error"].(map[string]any)
	if got != status || e == nil || e["code"] != code {
		t.Errorf("%s %s %s: %d %v; want %d %s", method, url, body, got, v, status, code)
	}
}

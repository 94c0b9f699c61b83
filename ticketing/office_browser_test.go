package ticketing_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"
	"github.com/go-chi/chi/v5"

	"turno/cmd/turno/demo"
	"turno/displays"
	"turno/internal/browsertest"
	"turno/ticketing"
	"turno/ticketing/ticketingtest"
)

// officeReload polls a JavaScript expression until it is true while the page may be reloading (an
// evaluation can fail while its page goes away).
func officeReload(expression string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, t *chromedp.Target) (chromedp.Void, error) {
		deadline := time.Now().Add(15 * time.Second)
		for {
			ok, err := chromedp.Evaluate[bool](expression)(ctx, t)
			if err == nil && ok {
				return chromedp.Void{}, nil
			}
			if time.Now().After(deadline) {
				return chromedp.Void{}, fmt.Errorf("still false after 15 s: %s (last error: %v)", expression, err)
			}
			time.Sleep(50 * time.Millisecond)
		}
	}
}

// officeSaved clicks a button whose success reloads the page and waits for the new page to satisfy check.
func officeSaved(button, check string) chromedp.Action[chromedp.Void] {
	return chromedp.Steps(
		chromedp.Evaluate[chromedp.Void](`window.beforeSave = true`),
		chromedp.Click(chromedp.CSS(button)),
		officeReload(`window.beforeSave === undefined && document.documentElement.dataset.manageReady === '1' && (`+check+`)`),
	)
}

// officeWait polls a JavaScript expression until it is true.
func officeWait(js string) chromedp.Action[chromedp.Void] {
	return browsertest.WaitTrue(js, 10*time.Second)
}

// cspWatch records the page's Content-Security-Policy violations from now on. cspClean is true when none
// was recorded since (on this page) and the page has nothing the policy refuses at load: no style
// attribute, <style> block or inline script (a JSON data block is not run).
const cspWatch = `window.cspViolations = []; document.addEventListener('securitypolicyviolation', (e) => window.cspViolations.push(e.violatedDirective + ' ' + e.blockedURI)); true`
const cspClean = `(window.cspViolations || []).length === 0 && document.querySelectorAll('[style], style, script:not([src]):not([type="application/json"])').length === 0`

// officeReady waits for the /manage shell's script.
var officeReady = officeWait(`document.documentElement.dataset.manageReady === '1'`)

// officePage starts the demo office (with the displays part's device settings API), a 1440×900
// Chromium, and signs the manager in on the /manage page path (in Italian) until selector shows.
func officePage(t *testing.T, path, selector string) (*ticketingtest.Env, string, context.Context) {
	t.Helper()
	env := ticketingtest.New(t)
	srv := env.Server(t, func(r chi.Router) { (&displays.Server{Store: env.Store, Auth: env.Auth}).Routes(r) })
	ctx := browsertest.New(t, 1440, 900)
	err := chromedp.Do(ctx,
		chromedp.Navigate(srv.URL+path+"?lang=it"),
		chromedp.WaitVisible(chromedp.CSS(`#username`)),
		chromedp.SendKeys(chromedp.CSS(`#username`), "manager"),
		chromedp.SendKeys(chromedp.CSS(`#password`), demo.Password),
		chromedp.Submit(chromedp.CSS(`#password`)),
		chromedp.WaitVisible(chromedp.CSS(selector)),
		officeReady,
		chromedp.Evaluate[chromedp.Void](cspWatch),
	)
	if err != nil {
		t.Fatalf("sign in to %s: %v", path, err)
	}
	return env, srv.URL, ctx
}

// On the devices page, under the pages' Content-Security-Policy, a manager pairs a hall screen (a
// one-time link on the public address and its QR code), sets its filters, language and layout through
// the displays API, renames a kiosk and revokes the screen after a confirmation.
func TestDevicesPageInChromium(t *testing.T) {
	t.Parallel()
	env, url, ctx := officePage(t, "/manage/devices", `#pair-form`)
	ctx0 := context.Background()
	err := chromedp.Do(ctx,
		officeWait(`document.documentElement.dataset.officeReady === '1'`),
		chromedp.SetValue(chromedp.CSS(`#p-kind`), "display"),
		chromedp.SendKeys(chromedp.CSS(`#p-name`), "Schermo sala imprese"),
		chromedp.Click(chromedp.CSS(`#pair-form button[type=submit]`)),
		officeWait(`!document.getElementById('pair-result').hidden && document.activeElement.id === 'pair-result-h'`),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "manage-devices-failed")
		t.Fatalf("pair a screen: %v", err)
	}
	browsertest.ScreenshotViewport(t, ctx, "manage-devices-pair")
	link, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.getElementById('pair-link').value`))
	if err != nil || !strings.HasPrefix(link, "http://localhost/display/demo?device=") {
		t.Fatalf("pairing link %q (%v)", link, err)
	}
	modules, err := chromedp.Run(ctx, chromedp.Evaluate[int](`Number(document.getElementById('pair-qr').dataset.modules) * (document.querySelector('#pair-qr path').getAttribute('d').length > 100 ? 1 : 0)`))
	if err != nil || modules < 21 {
		t.Fatalf("QR code of %d modules (%v)", modules, err)
	}
	token := strings.TrimPrefix(link, "http://localhost/display/demo?device=")
	if st, v := ticketingtest.Call(t, "GET", url+"/api/v1/me", token, ""); st != 200 || !strings.Contains(fmt.Sprint(v), "Schermo sala imprese") {
		t.Fatalf("the paired token: %d %v", st, v)
	}
	var screenID int64
	if err := env.Pool.QueryRow(ctx0, `SELECT id FROM devices WHERE name = 'Schermo sala imprese' AND kind = 'display'`).Scan(&screenID); err != nil {
		t.Fatal(err)
	}
	sid := itoa(screenID)

	// The screen's settings round-trip through the displays API.
	form := `#scr-` + sid
	err = chromedp.Do(ctx,
		officeSaved(`#pair-done`, `document.querySelector('`+form+`') !== null`),
		chromedp.Evaluate[chromedp.Void](cspWatch),
		chromedp.SetValue(chromedp.CSS(`#st-`+sid), "Sala imprese"),
		chromedp.SetValue(chromedp.CSS(`#sl-`+sid), "en"),
		chromedp.SetValue(chromedp.CSS(`#sy-`+sid), "calls"),
		chromedp.SetValue(chromedp.CSS(`#sc-`+sid), "5"),
		chromedp.Evaluate[chromedp.Void](`(() => { const f = document.querySelector('`+form+`');
			f.querySelector('[name="settings.audiences"][value="business"]').checked = true;
			f.querySelector('[name="settings.services"][value="suap"]').checked = true;
			f.querySelector('[name="settings.services"][value="inps-imprese"]').checked = true;
			f.querySelector('[name="settings.desks"]').checked = true;
			f.querySelector('[name="settings.voice"]').checked = false; return true })()`),
		officeSaved(form+` button[type=submit]`, `document.getElementById('sl-`+sid+`').value === 'en'`),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "manage-devices-settings-failed")
		msg, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector('`+form+` .error') || {}).textContent || ''`))
		t.Fatalf("screen settings: %v (%s)", err, msg)
	}
	var raw []byte
	if err := env.Pool.QueryRow(ctx0, `SELECT settings FROM devices WHERE id = $1`, screenID).Scan(&raw); err != nil {
		t.Fatal(err)
	}
	var set struct {
		Audiences []string
		Services  []string
		Desks     []int
		Title     string
		Calls     int
		Voice     *bool
		Chime     *bool
		Lang      string
		Layout    string
	}
	if err := json.Unmarshal(raw, &set); err != nil {
		t.Fatal(err)
	}
	if set.Title != "Sala imprese" || set.Lang != "en" || set.Layout != "calls" || set.Calls != 5 || set.Voice == nil || *set.Voice ||
		set.Chime == nil || !*set.Chime || strings.Join(set.Audiences, ",") != "business" || len(set.Services) != 2 || len(set.Desks) != 1 {
		t.Fatalf("stored screen settings: %s", raw)
	}
	// A kiosk is renamed; the new screen is revoked after a confirmation.
	var kioskID int64
	if err := env.Pool.QueryRow(ctx0, `SELECT id FROM devices WHERE kind = 'kiosk' AND revoked_at IS NULL ORDER BY id LIMIT 1`).Scan(&kioskID); err != nil {
		t.Fatal(err)
	}
	kid := itoa(kioskID)
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`#dn-`+kid), "Totem piano terra"),
		officeSaved(`form:has(#dn-`+kid+`) button[type=submit]`, `document.getElementById('dn-`+kid+`').value === 'Totem piano terra'`),
		chromedp.Evaluate[chromedp.Void](`window.confirmed = ''; window.confirm = (m) => { window.confirmed = m; return true }; true`),
		chromedp.Evaluate[chromedp.Void](cspWatch),
		officeSaved(`button[data-url$="/devices/`+sid+`"]`, `document.querySelector('`+form+`') === null`),
		officeWait(cspClean),
	)
	if err != nil {
		t.Fatalf("rename and revoke: %v", err)
	}
	browsertest.Screenshot(t, ctx, "manage-devices")
	if n := env.Count(t, `SELECT count(*) FROM devices WHERE id = $1 AND revoked_at IS NOT NULL`, screenID); n != 1 {
		t.Fatal("the screen was not revoked")
	}
	if n := env.Count(t, `SELECT count(*) FROM devices WHERE id = $1 AND name = 'Totem piano terra'`, kioskID); n != 1 {
		t.Fatal("the kiosk was not renamed")
	}
}

// On the staff logins page a manager creates a login (a weak password is refused at the field and
// nothing is written), gives it a new password and disables it; the disabled login cannot sign in.
func TestUsersPageInChromium(t *testing.T) {
	t.Parallel()
	env, _, ctx := officePage(t, "/manage/users", `#user-form`)
	ctx0 := context.Background()
	err := chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS(`#u-name`), "giulia.verdi"),
		chromedp.SendKeys(chromedp.CSS(`#u-display`), "Giulia Verdi"),
		chromedp.SetValue(chromedp.CSS(`#u-staff`), itoa(env.StaffID(t, "op1"))),
		chromedp.SendKeys(chromedp.CSS(`#u-pw`), "password12345"),
		chromedp.Click(chromedp.CSS(`#user-form button[type=submit]`)),
		officeWait(`document.querySelector('#user-form .error').textContent !== '' && document.getElementById('u-pw').getAttribute('aria-invalid') === 'true'`),
	)
	if err != nil {
		t.Fatalf("weak password: %v", err)
	}
	msg, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector('#user-form .error').textContent`))
	t.Logf("weak password refused: %q", msg)
	if n := env.Count(t, `SELECT count(*) FROM users WHERE username = 'giulia.verdi'`); n != 0 {
		t.Fatal("the login with a weak password was created")
	}
	const first, second = "tre gatti sul tetto rosso", "il fiume scorre verso valle"
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`#u-pw`), first),
		chromedp.SetValue(chromedp.CSS(`#u-staff`), ""),
		officeSaved(`#user-form button[type=submit]`, `document.querySelector('tr[data-username="giulia.verdi"]') !== null`),
	)
	if err != nil {
		t.Fatalf("create login: %v", err)
	}
	uid := itoa(env.UserID(t, "giulia.verdi"))
	if _, _, err := env.Auth.Login(ctx0, "giulia.verdi", first); err != nil {
		t.Fatalf("the new login cannot sign in: %v", err)
	}
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#user-`+uid+` summary`)),
		chromedp.SendKeys(chromedp.CSS(`#pw-in-`+uid), second),
		officeSaved(`#pw-`+uid+` button[type=submit]`, `document.querySelector('#user-`+uid+`') !== null`),
		chromedp.Evaluate[chromedp.Void](`window.confirm = () => true; true`),
		chromedp.Evaluate[chromedp.Void](cspWatch),
		officeSaved(`#user-`+uid+` button[data-url$="/disable"]`, `document.querySelector('#user-`+uid+` button[data-url$="/enable"]') !== null`),
		officeWait(cspClean),
	)
	if err != nil {
		t.Fatalf("new password and disable: %v", err)
	}
	browsertest.Screenshot(t, ctx, "manage-users")
	if _, _, err := env.Auth.Login(ctx0, "giulia.verdi", second); err == nil {
		t.Fatal("the disabled login signs in")
	}
	if n := env.Count(t, `SELECT count(*) FROM users WHERE username = 'giulia.verdi' AND NOT active`); n != 1 {
		t.Fatal("the login is not disabled")
	}
}

// On the office settings page a manager renames the office, sets its language, issuing around the clock
// (which switches off the minutes before closing) and the retention; the settings API stores them.
func TestSettingsPageInChromium(t *testing.T) {
	t.Parallel()
	env, _, ctx := officePage(t, "/manage/settings", `#settings-form`)
	ctx0 := context.Background()
	err := chromedp.Do(ctx,
		officeWait(`document.documentElement.dataset.officeReady === '1'`),
		chromedp.SetValue(chromedp.CSS(`#o-name`), "Sportello polifunzionale di Prova"),
		chromedp.SetValue(chromedp.CSS(`#o-lang`), "en"),
		chromedp.SetValue(chromedp.CSS(`#o-ret`), "45"),
		chromedp.Click(chromedp.CSS(`input[name="issuing_always_open"][value="true"]`)),
		officeWait(`document.getElementById('o-stop').disabled`),
		chromedp.Click(chromedp.CSS(`input[name="phone_join"]`)),
		officeSaved(`#settings-form button[type=submit]`, `document.getElementById('o-name').value === 'Sportello polifunzionale di Prova'`),
		officeWait(`document.getElementById('o-stop').disabled && document.getElementById('o-lang').value === 'en'`),
		officeWait(cspClean),
	)
	if err != nil {
		browsertest.Screenshot(t, ctx, "manage-settings-failed")
		t.Fatalf("settings: %v", err)
	}
	browsertest.Screenshot(t, ctx, "manage-settings")
	o, err := env.Store.Office(ctx0, "demo")
	if err != nil || o.Name != "Sportello polifunzionale di Prova" || o.Lang != "en" || !o.IssuingAlwaysOpen || o.RetentionDays != 45 || !o.PhoneJoin {
		t.Fatalf("stored settings: %+v %v", o, err)
	}
}

// The skills matrix with 15 services and 20 staff fits 1440×900 without horizontal overflow, heads its
// columns with service names (rotated, the full name in the header's text and title), offers levels as
// words, and saves a row.
func TestSkillsMatrixFitsInChromium(t *testing.T) {
	t.Parallel()
	env, url, ctx := officePage(t, "/manage/catalogue", `nav.manage`)
	ctx0 := context.Background()
	seedMatrix(t, env)
	staffID := itoa(env.StaffID(t, "op2"))
	err := chromedp.Do(ctx,
		chromedp.Navigate(url+"/manage/staff"),
		chromedp.WaitVisible(chromedp.CSS(`table.skills`)),
		officeReady,
		chromedp.Evaluate[chromedp.Void](cspWatch),
	)
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Services, Rows, PageWidth, PageScroll, BoxWidth, BoxScroll int
		Headers                                                    []string
		Levels                                                     []string
	}
	m, err = chromedp.Run(ctx, chromedp.Evaluate[struct {
		Services, Rows, PageWidth, PageScroll, BoxWidth, BoxScroll int
		Headers                                                    []string
		Levels                                                     []string
	}](`(() => { const box = document.querySelector('.matrix-scroll'); return {
		services: document.querySelectorAll('table.skills th.svc').length,
		rows: document.querySelectorAll('table.skills tbody tr').length,
		pageWidth: document.documentElement.clientWidth, pageScroll: document.documentElement.scrollWidth,
		boxWidth: box.clientWidth, boxScroll: box.scrollWidth,
		headers: [...document.querySelectorAll('table.skills th.svc')].map((th) => th.textContent.trim()),
		levels: [...document.querySelector('table.skills tbody select').options].map((o) => o.textContent.trim()) } })()`))
	if err != nil {
		t.Fatal(err)
	}
	browsertest.ScreenshotViewport(t, ctx, "manage-staff-1440")
	t.Logf("matrix: %d services × %d staff; page %d/%d px, matrix %d/%d px", m.Services, m.Rows, m.PageScroll, m.PageWidth, m.BoxScroll, m.BoxWidth)
	if m.Services != 15 || m.Rows != 20 {
		t.Fatalf("the matrix shows %d services and %d staff, want 15 and 20", m.Services, m.Rows)
	}
	if m.PageScroll > m.PageWidth || m.BoxScroll > m.BoxWidth {
		t.Errorf("the matrix overflows at 1440×900: page %d > %d or matrix %d > %d", m.PageScroll, m.PageWidth, m.BoxScroll, m.BoxWidth)
	}
	services, err := env.Store.Services(ctx0, env.Office.ID)
	if err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, sv := range services {
		names[sv.Name("it")] = true
	}
	for _, h := range m.Headers {
		if !names[h] {
			t.Errorf("column header %q is not a service name", h)
		}
	}
	if strings.Join(m.Levels, "|") != "—|Principale|Secondario|In formazione" {
		t.Errorf("levels %q, want words", m.Levels)
	}
	// Every column header's name is visible or complete in its title; each select is named.
	if unnamed, _ := chromedp.Run(ctx, chromedp.Evaluate[int](`[...document.querySelectorAll('table.skills select')].filter((s) => !s.getAttribute('aria-label')).length`)); unnamed != 0 {
		t.Errorf("%d selects of the matrix have no accessible name", unnamed)
	}
	err = chromedp.Do(ctx,
		chromedp.SetValue(chromedp.CSS(`select[form="st-`+staffID+`"][name="skills.isee"]`), "learning"),
		officeSaved(`button[form="st-`+staffID+`"]`, `document.querySelector('select[form="st-`+staffID+`"][name="skills.isee"]').value === 'learning'`),
		officeWait(cspClean),
	)
	if err != nil {
		t.Fatalf("matrix save: %v", err)
	}
	var level string
	if err := env.Pool.QueryRow(ctx0, `SELECT sk.level FROM staff_skills sk JOIN services s ON s.id = sk.service_id
		WHERE sk.staff_id = $1 AND s.code = 'isee'`, env.StaffID(t, "op2")).Scan(&level); err != nil || level != "learning" {
		t.Fatalf("op2's ISEE skill: %q (%v)", level, err)
	}
	// The row's back-office checkbox makes op2 a specialist, with the skills kept.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS(`#bo-`+staffID)),
		officeSaved(`button[form="st-`+staffID+`"]`, `document.getElementById('bo-`+staffID+`').checked`),
	)
	if err != nil {
		t.Fatalf("back office save: %v", err)
	}
	if st, err := env.Store.StaffMember(ctx0, env.Office.ID, env.StaffID(t, "op2")); err != nil || !st.BackOffice || st.Skills["isee"] != ticketing.Learning {
		t.Fatalf("op2 after the back-office checkbox: %+v (%v)", st, err)
	}
}

// seedMatrix brings the demo office to 15 services and 20 staff members.
func seedMatrix(t *testing.T, env *ticketingtest.Env) {
	t.Helper()
	ctx := context.Background()
	extra := []struct{ code, prefix, name string }{
		{"passaporti", "H", "Passaporti e documenti di viaggio"}, {"stato-civile", "K", "Stato civile: nascite, matrimoni, decessi"},
		{"elettorale", "M", "Ufficio elettorale"}, {"cimiteriali", "N", "Servizi cimiteriali e concessioni"},
	}
	for _, e := range extra {
		sv := &ticketing.Service{OfficeID: env.Office.ID, Agency: "comune", Code: e.code, Audience: ticketing.Citizen, Category: "anagrafe",
			Prefix: e.prefix, Names: map[string]string{"it": e.name}, Active: true, ExpectedHandlingSeconds: 600, WaitTargetSeconds: 1200}
		if err := env.Store.SaveService(ctx, sv); err != nil {
			t.Fatalf("service %s: %v", e.code, err)
		}
	}
	staff, err := env.Store.StaffList(ctx, env.Office.ID)
	if err != nil {
		t.Fatal(err)
	}
	for i := len(staff) + 1; i <= 20; i++ {
		st := &ticketing.Staff{OfficeID: env.Office.ID, Code: fmt.Sprintf("X%02d", i), FullName: fmt.Sprintf("Persona di prova numero %d", i), Active: true}
		if err := env.Store.CreateStaff(ctx, st, nil); err != nil {
			t.Fatalf("staff %d: %v", i, err)
		}
	}
}

package ticketing_test

import (
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"

	"turno/ticketing"
	"turno/ticketing/ticketingtest"
)

// A manager gives a service's name and "what to bring", and a priority's label, in all nine kiosk
// languages through the API; a language outside the nine or a text too long is a 422 on the field, an
// empty text takes a language away (it falls back to Italian), and the catalogue page shows the
// form's nine languages and which languages fall back.
func TestCatalogueInTheKioskLanguages(t *testing.T) {
	t.Parallel()
	f := newSetupFixture(t)
	names := `{"it":"Passaporti","en":"Passports","es":"Pasaportes","fr":"Passeports","ro":"Pașapoarte","sq":"Pasaporta","uk":"Паспорти","zh":"护照","ar":"جوازات السفر"}`
	bring := `{"it":"Documento e due foto","en":"ID and two photos","es":"Documento y dos fotos","fr":"Pièce d'identité et deux photos","ro":"Act de identitate și două fotografii","sq":"Dokument dhe dy foto","uk":"Документ і два фото","zh":"证件和两张照片","ar":"وثيقة هوية وصورتان"}`
	body := `{"code":"passaporti","agency":"comune","audience":"citizen","prefix":"P","names":` + names + `,"what_to_bring":` + bring + `}`
	status, v := f.call(t, "POST", api+"/services", f.manager, body)
	if status != http.StatusCreated {
		t.Fatalf("create: %d %v", status, v)
	}
	sv := v.(map[string]any)
	for _, field := range []string{"names", "what_to_bring"} {
		m := sv[field].(map[string]any)
		if len(m) != 9 || m["zh"] == "" || m["ar"] == "" {
			t.Errorf("%s after create: %v; want nine languages", field, m)
		}
	}

	f.wantError(t, "PUT", api+"/services/passaporti", `{"names":{"de":"Reisepässe"}}`, 422, "names")
	f.wantError(t, "PUT", api+"/services/passaporti", `{"what_to_bring":{"fr":"`+strings.Repeat("x", 1001)+`"}}`, 422, "what_to_bring")
	f.wantError(t, "PUT", api+"/services/passaporti", `{"names":{"es":"`+strings.Repeat("ñ", 201)+`"}}`, 422, "names")
	f.wantError(t, "POST", api+"/priorities", `{"code":"gravidanza","labels":{"it":"Gravidanza","xx":"?"}}`, 422, "labels")

	// "" removes Spanish and Chinese; the other languages stay.
	status, v = f.call(t, "PUT", api+"/services/passaporti", f.manager, `{"names":{"es":"","zh":"  "},"what_to_bring":{"ar":""}}`)
	if status != http.StatusOK {
		t.Fatalf("update: %d %v", status, v)
	}
	sv = v.(map[string]any)
	got := sv["names"].(map[string]any)
	if _, ok := got["es"]; ok || len(got) != 7 || got["fr"] != "Passeports" {
		t.Errorf("names after removing es and zh: %v", got)
	}
	raw, _ := json.Marshal(sv)
	var svc ticketing.Service
	if err := json.Unmarshal(raw, &svc); err != nil {
		t.Fatal(err)
	}
	if fb := strings.Join(svc.NameFallbacks(), ","); fb != "es,zh" {
		t.Errorf("name fallbacks %q, want es,zh", fb)
	}
	if fb := strings.Join(svc.BringFallbacks(), ","); fb != "ar" {
		t.Errorf("what-to-bring fallbacks %q, want ar", fb)
	}
	if svc.Name("es") != "Passaporti" || svc.Name("fr") != "Passeports" {
		t.Errorf("Name(es) %q, Name(fr) %q; want the Italian fallback and the French name", svc.Name("es"), svc.Name("fr"))
	}

	status, v = f.call(t, "POST", api+"/priorities", f.manager, `{"code":"allattamento","labels":{"it":"Allattamento","uk":"Вагітність","ar":"الحمل"},"bonus_seconds":600}`)
	if status != http.StatusCreated {
		t.Fatalf("priority: %d %v", status, v)
	}

	// The page: nine name fields and nine "what to bring" fields, and the fallbacks shown per row.
	res := ticketingtest.Do(t, "GET", f.url+"/manage/catalogue", f.manager, "")
	page, _ := io.ReadAll(res.Body)
	res.Body.Close()
	html := string(page)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("catalogue page: %d %s", res.StatusCode, html)
	}
	for _, l := range []string{"it", "en", "es", "fr", "ro", "sq", "uk", "zh", "ar"} {
		for _, name := range []string{`name="names.` + l + `"`, `name="what_to_bring.` + l + `"`, `name="labels.` + l + `"`} {
			if !strings.Contains(html, name) {
				t.Errorf("the catalogue page has no field %s", name)
			}
		}
	}
	if !strings.Contains(html, `dir="rtl"`) {
		t.Error("the Arabic fields are not right-to-left")
	}
	row := html[strings.Index(html, "<code>passaporti</code>"):]
	row = row[:strings.Index(row, "</tr>")]
	if !strings.Contains(row, `Nome in italiano per: <abbr lang="es">es</abbr>, <abbr lang="zh">zh</abbr>`) ||
		!strings.Contains(row, `<abbr lang="ar">ar</abbr>`) {
		t.Errorf("the service's row does not show its fallbacks: %s", row)
	}
	prio := html[strings.Index(html, "<code>allattamento</code>"):]
	prio = prio[:strings.Index(prio, "</tr>")]
	if !strings.Contains(prio, `<abbr lang="en">en</abbr>`) || strings.Contains(prio, `<abbr lang="uk">`) {
		t.Errorf("the priority's row does not show its fallbacks: %s", prio)
	}
}

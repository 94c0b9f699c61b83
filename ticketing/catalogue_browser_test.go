package ticketing_test

import (
	"context"
	"strings"
	"testing"

	"github.com/chromedp/chromedp"

	"turno/internal/web"
)

// On the catalogue page a manager edits a service's texts in the kiosk's languages: editing a second
// service after a first one leaves no text of the first behind, a Spanish name saved from the form reaches
// the service and leaves the row's fallbacks, and a refused value shows the API's message in Italian.
func TestCatalogueLanguagesInChromium(t *testing.T) {
	t.Parallel()
	env, _, ctx := officePage(t, "/manage/catalogue", `#service-form`)
	ctx0 := context.Background()
	sv, err := env.Store.ServiceByCode(ctx0, env.Office.ID, "cie")
	if err != nil {
		t.Fatal(err)
	}
	bare := *sv
	bare.ID, bare.Code, bare.Prefix = 0, "nuovo", "N"
	bare.Names, bare.WhatToBring, bare.Descriptions = map[string]string{"it": "Nuovo servizio"}, map[string]string{"it": "Documento"}, nil
	if err := env.Store.SaveService(ctx0, &bare); err != nil {
		t.Fatal(err)
	}
	prefixIt, _ := web.ErrorTranslation("it", "prefix must be 1–3 capital letters")
	for _, step := range []struct {
		what string
		do   chromedp.Action[chromedp.Void]
	}{
		{"reload", chromedp.Steps(chromedp.Reload(), officeReady)},
		{"edit cie", chromedp.Steps(chromedp.Evaluate[chromedp.Void](`document.querySelector('button[data-api$="/services/cie"]').click()`),
			officeWait(`document.getElementById('s-name-fr').value !== ''`))},
		{"edit nuovo", chromedp.Steps(chromedp.Evaluate[chromedp.Void](`document.querySelector('button[data-api$="/services/nuovo"]').click()`),
			officeWait(`document.getElementById('s-name-it').value === 'Nuovo servizio'`))},
		{"no French left", officeWait(`document.getElementById('s-name-fr').value === '' && document.getElementById('s-bring-fr').value === ''`)},
		{"refused in Italian", chromedp.Steps(chromedp.SetValue(chromedp.CSS(`#s-prefix`), "n1"),
			chromedp.Evaluate[chromedp.Void](`document.getElementById('service-form').requestSubmit()`),
			officeWait(`document.querySelector('#service-form .error').textContent === `+jsString(prefixIt)))},
		{"save Spanish", chromedp.Steps(chromedp.SetValue(chromedp.CSS(`#s-prefix`), "N"),
			chromedp.SetValue(chromedp.CSS(`#s-name-es`), "Servicio nuevo"),
			// submitted by script: a click can miss the button while the form scrolls into view
			chromedp.Evaluate[chromedp.Void](`window.beforeSave = true; document.getElementById('service-form').requestSubmit()`),
			officeReload(`window.beforeSave === undefined && document.documentElement.dataset.manageReady === '1'`))},
	} {
		if err := chromedp.Do(ctx, step.do); err != nil {
			text, _ := chromedp.Run(ctx, chromedp.Evaluate[string](`(document.querySelector('#service-form .error') || {}).textContent || ''`))
			t.Fatalf("%s: %v (form error %q)", step.what, err, text)
		}
	}
	got, err := env.Store.ServiceByCode(ctx0, env.Office.ID, "nuovo")
	if err != nil {
		t.Fatal(err)
	}
	if got.Names["es"] != "Servicio nuevo" || got.Names["fr"] != "" || len(got.Names) != 2 {
		t.Errorf("names after the form: %v", got.Names)
	}
	if fb := strings.Join(got.NameFallbacks(), ","); fb != "en,fr,ro,sq,ar,zh,uk" {
		t.Errorf("name fallbacks %q", fb)
	}
}

func jsString(s string) string {
	return "'" + strings.ReplaceAll(strings.ReplaceAll(s, `\`, `\\`), `'`, `\'`) + "'"
}

package web

import (
	"encoding/json"
	"regexp"
	"strings"
	"testing"
)

// informal matches the informal (tu) forms that addressed citizens and staff in Italian before the sweep,
// a courtesy pronoun in lower case, and "a Sportello" (it is "allo sportello"). Short command buttons
// ("Salva", "Aggiungi", "Annulla") are labels, not sentences addressing someone, and stay as they are.
var informal = regexp.MustCompile(`(?i:\b(hai|tuo|tua|tuoi|tue|scegli|inserisci|premi|puoi|devi|vuoi|clicca|prendi|attendi|riprova|torna|ti)\b)|\b(a|di|per|con) lei\b|\ba Sportello\b`)

// Every Italian text, core and area catalogues and the error catalogue, speaks in the formal register
// (Lei): "Scelga il servizio", "Tocca a Lei", "Si rechi allo sportello".
func TestItalianIsFormal(t *testing.T) {
	entries, err := catalogueFiles.ReadDir("i18n")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, e := range entries {
		if e.Name() != "it.json" && !strings.HasSuffix(e.Name(), ".it.json") {
			continue
		}
		b, _ := catalogueFiles.ReadFile("i18n/" + e.Name())
		texts := map[string]string{}
		if strings.HasPrefix(e.Name(), "errors.") {
			var c errorCatalogue
			if err := json.Unmarshal(b, &c); err != nil {
				t.Fatal(err)
			}
			texts = c.Messages
		} else if err := json.Unmarshal(b, &texts); err != nil {
			t.Fatal(err)
		}
		for k, v := range texts {
			checked++
			if m := informal.FindString(v); m != "" {
				t.Errorf("%s: %q is informal (%q): %s", e.Name(), k, m, v)
			}
		}
	}
	if checked < 300 {
		t.Errorf("checked only %d Italian texts", checked)
	}
	if Translate("it", "kiosk.phone.go_to") != "Si rechi allo sportello" {
		t.Errorf("kiosk.phone.go_to is %q", Translate("it", "kiosk.phone.go_to"))
	}
}

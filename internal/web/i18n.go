package web

import (
	"embed"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// Catalogues are i18n/<lang>.json (core keys) and i18n/<area>.<lang>.json (one area's keys, e.g.
// kiosk.ar.json), merged per language; i18n/errors.<lang>.json translate the API's error messages.
//
//go:embed i18n/*.json
var catalogueFiles embed.FS

// Language is a language Turno speaks, with its name in that language.
type Language struct {
	Code string
	Name string
}

// StaffLangs are the languages of the staff pages: Italian by default, English beside it.
var StaffLangs = []Language{{"it", "Italiano"}, {"en", "English"}}

var catalogues = loadCatalogues()

func loadCatalogues() map[string]map[string]string {
	entries, err := catalogueFiles.ReadDir("i18n")
	if err != nil {
		panic(err)
	}
	out := map[string]map[string]string{}
	for _, e := range entries {
		if strings.HasPrefix(e.Name(), "errors.") {
			continue // the error catalogues, loaded by loadErrorCatalogues
		}
		b, err := catalogueFiles.ReadFile("i18n/" + e.Name())
		if err != nil {
			panic(err)
		}
		m := map[string]string{}
		if err := json.Unmarshal(b, &m); err != nil {
			panic(fmt.Sprintf("i18n/%s: %v", e.Name(), err))
		}
		// "it.json" holds the core keys; "kiosk.it.json" and the like hold one area's keys.
		parts := strings.Split(strings.TrimSuffix(e.Name(), ".json"), ".")
		lang := parts[len(parts)-1]
		if out[lang] == nil {
			out[lang] = map[string]string{}
		}
		for k, v := range m {
			out[lang][k] = v
		}
	}
	return out
}

// Translate returns key in lang, falling back to English, then Italian, then the key itself.
func Translate(lang, key string) string {
	for _, l := range []string{lang, "en", "it"} {
		if s, ok := catalogues[l][key]; ok {
			return s
		}
	}
	return key
}

// Catalogue returns every key of lang (with the fallbacks of Translate applied) for pages that translate
// in the browser.
func Catalogue(lang string, prefix string) map[string]string {
	out := map[string]string{}
	for _, l := range []string{"it", "en", lang} {
		for k, v := range catalogues[l] {
			if strings.HasPrefix(k, prefix) {
				out[k] = v
			}
		}
	}
	return out
}

// HasLang reports whether a catalogue exists for lang.
func HasLang(lang string) bool { _, ok := catalogues[lang]; return ok }

// Direction returns "rtl" for right-to-left languages and "ltr" otherwise.
func Direction(lang string) string {
	switch lang {
	case "ar", "he", "fa", "ur":
		return "rtl"
	}
	return "ltr"
}

// RequestLang picks the language of a request among allowed: the lang query parameter, the turno_lang
// cookie, then Accept-Language; Italian when none matches.
func RequestLang(r *http.Request, allowed []Language) string {
	ok := func(l string) bool {
		for _, a := range allowed {
			if a.Code == l {
				return true
			}
		}
		return false
	}
	if l := r.URL.Query().Get("lang"); ok(l) {
		return l
	}
	if c, err := r.Cookie("turno_lang"); err == nil && ok(c.Value) {
		return c.Value
	}
	for _, part := range strings.Split(r.Header.Get("Accept-Language"), ",") {
		l := strings.ToLower(strings.TrimSpace(strings.SplitN(part, ";", 2)[0]))
		if len(l) >= 2 && ok(l[:2]) {
			return l[:2]
		}
	}
	return "it"
}

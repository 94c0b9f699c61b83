package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"sort"
	"strconv"
	"strings"
	"time"
)

// errorCatalogue is one language's i18n/errors.<lang>.json: messages maps an error's English format
// string (or its fixed English message) to its translation, with the same verbs; terms translates the
// API's words that messages carry as arguments (field names, statuses, roles).
type errorCatalogue struct {
	Messages map[string]string `json:"messages"`
	Terms    map[string]string `json:"terms"`
}

var errorCatalogues = loadErrorCatalogues()

func loadErrorCatalogues() map[string]errorCatalogue {
	entries, err := catalogueFiles.ReadDir("i18n")
	if err != nil {
		panic(err)
	}
	out := map[string]errorCatalogue{}
	for _, e := range entries {
		lang, ok := strings.CutPrefix(strings.TrimSuffix(e.Name(), ".json"), "errors.")
		if !ok {
			continue
		}
		b, err := catalogueFiles.ReadFile("i18n/" + e.Name())
		if err != nil {
			panic(err)
		}
		var c errorCatalogue
		if err := json.Unmarshal(b, &c); err != nil {
			panic(fmt.Sprintf("i18n/%s: %v", e.Name(), err))
		}
		out[lang] = c
	}
	return out
}

// ErrorLang picks the language of a request's error messages from its Accept-Language header, in the
// order of the header's q-values, among the languages that have an error catalogue (Italian, English and
// the kiosk's languages). Without the header, or when it names none of them, it is English: the API's
// language for programs. Pages always send theirs.
func ErrorLang(r *http.Request) string {
	h := r.Header.Get("Accept-Language")
	if h == "" {
		return "en"
	}
	type choice struct {
		lang string
		q    float64
	}
	var choices []choice
	for _, part := range strings.Split(h, ",") {
		tag, params, _ := strings.Cut(part, ";")
		tag = strings.ToLower(strings.TrimSpace(tag))
		q := 1.0
		if v, ok := strings.CutPrefix(strings.TrimSpace(params), "q="); ok {
			if f, err := strconv.ParseFloat(v, 64); err == nil {
				q = f
			}
		}
		lang, _, _ := strings.Cut(tag, "-")
		if _, ok := errorCatalogues[lang]; ok && q > 0 {
			choices = append(choices, choice{lang, q})
		}
	}
	if len(choices) == 0 {
		return "en"
	}
	sort.SliceStable(choices, func(i, j int) bool { return choices[i].q > choices[j].q })
	return choices[0].lang
}

// ErrorLangs returns the languages that have an error catalogue, sorted.
func ErrorLangs() []string {
	out := make([]string, 0, len(errorCatalogues))
	for l := range errorCatalogues {
		out = append(out, l)
	}
	sort.Strings(out)
	return out
}

// ErrorTranslation returns the translation in lang of an error's English format string, and whether the
// catalogue has it.
func ErrorTranslation(lang, format string) (string, bool) {
	s, ok := errorCatalogues[lang].Messages[format]
	return s, ok
}

// errorMessage returns the translation of key in lang; without one the caller keeps English.
func errorMessage(lang, key string) (string, bool) { return ErrorTranslation(lang, key) }

// Term is a word of the API carried by an error message: a field name, a status, a role. English
// messages print it as it is; translated ones print its translation from the catalogue's terms.
type Term string

// in returns the term in lang, or the term itself when the catalogue lacks it.
func (t Term) in(lang string) string {
	if s, ok := errorCatalogues[lang].Terms[string(t)]; ok {
		return s
	}
	if s, ok := errorCatalogues["en"].Terms[string(t)]; ok && lang != "en" {
		return s
	}
	return string(t)
}

// Weekday is an ISO weekday (1 = Monday) carried by an error message: English messages print its number,
// translated ones its name (their format has %s in its place).
type Weekday int

// OneOf is a list of alternative terms carried by an error message, printed "a or b".
type OneOf []string

// String joins the alternatives with "or".
func (o OneOf) String() string { return strings.Join(o, " or ") }

// Moment is a time carried by an error message, printed in the language of the message.
type Moment time.Time

// String prints the moment in English, as "Mon 2 Jan 15:04".
func (m Moment) String() string { return time.Time(m).Format("Mon 2 Jan 15:04") }

// localArgs translates the arguments of an error message into lang.
func localArgs(lang string, args []any) []any {
	out := make([]any, len(args))
	for i, a := range args {
		switch v := a.(type) {
		case Term:
			out[i] = v.in(lang)
		case Weekday:
			out[i] = WeekdayName(lang, int(v))
		case OneOf:
			words := make([]string, len(v))
			for j, w := range v {
				words[j] = Term(w).in(lang)
			}
			out[i] = strings.Join(words, " "+Term("or").in(lang)+" ")
		case Moment:
			out[i] = FormatDateTime(lang, time.Time(v))
		default:
			out[i] = a
		}
	}
	return out
}

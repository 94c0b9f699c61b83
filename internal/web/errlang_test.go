package web

import (
	"go/ast"
	"go/parser"
	"go/token"
	"io/fs"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strconv"
	"strings"
	"testing"
	"time"
)

// errorFormat is an error message format found in the module's source.
type errorFormat struct {
	format string
	pos    string // file:line
	kiosk  bool   // citizens see it at the kiosk or on the phone: every language must translate it
}

// constructors maps web's error constructors to the index of their format argument.
var constructors = map[string]int{"Invalid": 1, "InvalidField": 1, "NotFound": 1, "Conflict": 1, "Forbidden": 1,
	"Unauthorized": 0, "Errorf": 2, "Within": 0}

// kioskFiles are the sources whose errors citizens see at the kiosk, on the phone page or on the counter's
// feedback tablet (a booking's check-in at the kiosk too).
var kioskFiles = regexp.MustCompile(`^(kiosk/[^/]+|ticketing/issue|ticketing/ticket|ticketing/insight/feedback|ticketing/booking/(checkin|book|slots|api|citizen|store|code))\.go$`)

// kioskMessages are the fixed messages any page can show, citizens' too.
var kioskMessages = map[string]bool{"internal error": true, "the service is briefly unavailable; try again in a few seconds": true}

// sourceErrorFormats walks the module's Go sources (tests excluded) for every format string passed to
// web.Invalid, InvalidField, NotFound, Conflict, Forbidden, Unauthorized, Errorf and Error.Within, and every
// Message of a web.Error literal. A format that is not a string literal is reported in bad.
func sourceErrorFormats(t *testing.T) (found []errorFormat, bad []string) {
	t.Helper()
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	fset := token.NewFileSet()
	err = filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() {
			if n := d.Name(); strings.HasPrefix(n, ".") || n == "testdata" || n == "node_modules" {
				return filepath.SkipDir
			}
			return nil
		}
		if !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, _ := filepath.Rel(root, path)
		rel = filepath.ToSlash(rel)
		f, err := parser.ParseFile(fset, path, nil, 0)
		if err != nil {
			return err
		}
		inWeb := filepath.ToSlash(filepath.Dir(rel)) == "internal/web"
		webName := ""
		for _, imp := range f.Imports {
			if p, _ := strconv.Unquote(imp.Path.Value); p == "turno/internal/web" {
				webName = "web"
				if imp.Name != nil {
					webName = imp.Name.Name
				}
			}
		}
		if !inWeb && webName == "" {
			return nil
		}
		isWeb := func(x ast.Expr, name string) bool {
			switch x := x.(type) {
			case *ast.Ident:
				return inWeb && x.Name == name
			case *ast.SelectorExpr:
				id, ok := x.X.(*ast.Ident)
				return ok && id.Name == webName && x.Sel.Name == name
			}
			return false
		}
		add := func(e ast.Expr) {
			pos := fset.Position(e.Pos())
			where := rel + ":" + strconv.Itoa(pos.Line)
			lit, ok := e.(*ast.BasicLit)
			if !ok || lit.Kind != token.STRING {
				bad = append(bad, where)
				return
			}
			s, _ := strconv.Unquote(lit.Value)
			found = append(found, errorFormat{format: s, pos: where, kiosk: kioskFiles.MatchString(rel) || kioskMessages[s]})
		}
		ast.Inspect(f, func(n ast.Node) bool {
			switch n := n.(type) {
			case *ast.CallExpr:
				var name string
				switch fn := n.Fun.(type) {
				case *ast.SelectorExpr:
					name = fn.Sel.Name
					if name == "Within" {
						break // a method of *web.Error, whatever the receiver expression
					}
					if !isWeb(fn, name) {
						return true
					}
				case *ast.Ident:
					if !inWeb {
						return true
					}
					name = fn.Name
				default:
					return true
				}
				i, ok := constructors[name]
				if !ok || len(n.Args) <= i {
					return true
				}
				if inWeb && rel == "internal/web/error.go" {
					if _, isIdent := n.Args[i].(*ast.Ident); isIdent {
						return true // the constructors passing their own format on
					}
				}
				add(n.Args[i])
			case *ast.CompositeLit:
				if !isWeb(n.Type, "Error") {
					return true
				}
				for _, el := range n.Elts {
					if kv, ok := el.(*ast.KeyValueExpr); ok {
						if k, ok := kv.Key.(*ast.Ident); ok && k.Name == "Message" {
							if rel == "internal/web/error.go" && isCall(kv.Value) || mentions(kv.Value, "lang") {
								continue // Errorf itself; a message its builder already wrote in the caller's lang
							}
							add(kv.Value)
						}
					}
				}
			}
			return true
		})
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return found, bad
}

func isCall(e ast.Expr) bool { _, ok := e.(*ast.CallExpr); return ok }

// mentions reports whether the identifier name occurs in e.
func mentions(e ast.Expr, name string) bool {
	found := false
	ast.Inspect(e, func(n ast.Node) bool {
		if id, ok := n.(*ast.Ident); ok && id.Name == name {
			found = true
		}
		return !found
	})
	return found
}

var verb = regexp.MustCompile(`%(\[\d+\])?[-+# 0]*\d*(\.\d+)?[a-zA-Z%]`)

// verbCount counts the arguments a format uses.
func verbCount(f string) int {
	n := 0
	for _, v := range verb.FindAllString(f, -1) {
		if v != "%%" {
			n++
		}
	}
	return n
}

// TestErrorsHaveTranslations fails when an error format of the module has no Italian translation (or,
// for the errors citizens see, no translation in one of the kiosk's languages), or a translation uses a
// different number of arguments, or a format is not a literal the catalogue can be keyed by.
func TestErrorsHaveTranslations(t *testing.T) {
	found, bad := sourceErrorFormats(t)
	if len(found) < 150 {
		t.Fatalf("found only %d error formats in the module: is the walk broken?", len(found))
	}
	for _, where := range bad {
		t.Errorf("%s: the error's format is not a string literal, so it cannot be translated", where)
	}
	langs := ErrorLangs()
	if len(langs) < 9 {
		t.Errorf("error catalogues for %v; want the kiosk's nine languages", langs)
	}
	used := map[string]bool{}
	missing := map[string][]string{}
	for _, f := range found {
		used[f.format] = true
		check := []string{"it"}
		if f.kiosk {
			check = langs
		}
		for _, l := range check {
			if l == "en" {
				continue
			}
			tr, ok := ErrorTranslation(l, f.format)
			if !ok {
				missing[l] = append(missing[l], f.pos+": "+strconv.Quote(f.format))
				continue
			}
			if verbCount(tr) != verbCount(f.format) {
				t.Errorf("%s: %s translation %q uses %d arguments, the format %q %d", f.pos, l, tr, verbCount(tr), f.format, verbCount(f.format))
			}
		}
	}
	for l, list := range missing {
		sort.Strings(list)
		t.Errorf("%d error formats have no %s translation in i18n/errors.%s.json:\n%s", len(list), l, l, strings.Join(list, "\n"))
	}
	if os.Getenv("TURNO_DUMP_ERRORS") != "" {
		for _, f := range found {
			t.Logf("%s\t%q", f.pos, f.format)
		}
	}
	for k := range errorCatalogues["it"].Messages {
		if !used[k] {
			t.Logf("i18n/errors.it.json: %q is no longer used", k)
		}
	}
}

// TestErrorIn renders errors in Italian: the format's translation, its terms, weekdays, alternatives and
// moments translated, a context set by Within, and English without a header.
func TestErrorIn(t *testing.T) {
	e := InvalidField("hours", "times must look like 08:30, from 00:00 to 24:00").Within("weekday %d", Weekday(1))
	if got, want := e.Message, "weekday 1: times must look like 08:30, from 00:00 to 24:00"; got != want {
		t.Errorf("English: %q, want %q", got, want)
	}
	if got := e.In("it"); !strings.HasPrefix(got, "lunedì: ") || strings.Contains(got, "must") {
		t.Errorf("Italian: %q", got)
	}
	w := Conflict("wrong_status", "ticket %s is %s; this needs it %s", "A001", Term("waiting"), OneOf{"called", "serving"})
	if got := w.In("it"); strings.Contains(got, "waiting") || strings.Contains(got, "called") || !strings.Contains(got, "A001") {
		t.Errorf("Italian with terms: %q", got)
	}
	at := time.Date(2026, 3, 2, 8, 30, 0, 0, time.UTC)
	c := Conflict("office_closed", "the office is not issuing tickets now; it opens %s", Moment(at))
	if got, want := c.In("it"), "lun 2 mar, 08:30"; !strings.Contains(got, want) {
		t.Errorf("Italian moment: %q, want it to contain %q", got, want)
	}
	if got, want := c.Message, "Mon 2 Mar 08:30"; !strings.Contains(got, want) {
		t.Errorf("English moment: %q, want it to contain %q", got, want)
	}

	for header, want := range map[string]string{"": "en", "it": "it", "it-IT,it;q=0.9,en;q=0.8": "it",
		"de-DE,de;q=0.9": "en", "de,en;q=0.5,it;q=0.7": "it", "ar": "ar", "zh-CN": "zh", "it;q=0": "en"} {
		r := httptest.NewRequest(http.MethodGet, "/", nil)
		if header != "" {
			r.Header.Set("Accept-Language", header)
		}
		if got := ErrorLang(r); got != want {
			t.Errorf("Accept-Language %q: %s, want %s", header, got, want)
		}
	}

	rec := httptest.NewRecorder()
	r := httptest.NewRequest(http.MethodGet, "/", nil)
	r.Header.Set("Accept-Language", "it")
	WriteError(rec, r, NotFound("unknown_ticket", "no ticket with this code"))
	it, _ := ErrorTranslation("it", "no ticket with this code")
	if body := rec.Body.String(); !strings.Contains(body, `"code":"unknown_ticket"`) || !strings.Contains(body, it) {
		t.Errorf("WriteError in Italian: %s", body)
	}
}

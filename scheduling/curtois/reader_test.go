package curtois

import (
	"errors"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"turno/scheduling/roster"
)

// benchDir is the shared benchmark folder, beside the repository.
const benchDir = "../../../shared/benchmarks/curtois"

// needBench skips the test when the shared benchmark folder is absent.
func needBench(t testing.TB) {
	t.Helper()
	if _, err := os.Stat(filepath.Join(benchDir, "Instance1.txt")); err != nil {
		t.Skipf("benchmark instances not found at %s (the shared folder beside the repository): %v", benchDir, err)
	}
}

func instancePath(n int) string {
	return filepath.Join(benchDir, "Instance"+strconv.Itoa(n)+".txt")
}

func TestReadTiny(t *testing.T) {
	m, err := ReadFile("testdata/tiny.txt")
	if err != nil {
		t.Fatal(err)
	}
	if m.Name != "tiny" || m.Days != 7 || len(m.Shifts) != 2 || len(m.Staff) != 3 || len(m.Cover) != 14 || len(m.Requests) != 3 {
		t.Fatalf("model %s: %d days, %d shifts, %d staff, %d covers, %d requests", m.Name, m.Days, len(m.Shifts), len(m.Staff), len(m.Cover), len(m.Requests))
	}
	a := m.Staff[0]
	if a.MaxMinutes != 2880 || a.MinMinutes != 960 || a.MaxConsecutive != 3 || a.MinConsecutive != 2 || a.MinConsecutiveOff != 2 || a.MaxWeekends != 1 {
		t.Errorf("staff A = %+v", a)
	}
	if got := m.Staff[1].MaxShifts; got[0] != 0 || got[1] != 7 {
		t.Errorf("staff B max shifts = %v", got)
	}
	if got := m.Shifts[1].ForbiddenNext; len(got) != 1 || got[0] != 0 {
		t.Errorf("L forbidden successors = %v", got)
	}
	if got := m.Staff[1].Unavailable; len(got) != 2 || got[1] != 1 {
		t.Errorf("B days off = %v", got)
	}

	f, err := os.Open("testdata/tiny.roster.txt")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	r, err := ReadRoster("tiny.roster.txt", f, m)
	if err != nil {
		t.Fatal(err)
	}
	ev, err := roster.Evaluate(m, r)
	if err != nil {
		t.Fatal(err)
	}
	// Worked out by hand: nobody on L on days 5 and 6 (2 × 100); C works E
	// instead of the requested L on day 3 (1); B works L on day 4 against
	// an off-request (3).
	if ev.Objective != 204 || ev.CoverCost != 200 || ev.RequestCost != 4 || !ev.Feasible() {
		t.Errorf("evaluation = %+v, want objective 204 (200 cover + 4 requests), feasible", ev)
	}

	var sb strings.Builder
	if err := WriteRoster(&sb, m, r); err != nil {
		t.Fatal(err)
	}
	want, _ := os.ReadFile("testdata/tiny.roster.txt")
	if sb.String() != string(want) {
		t.Errorf("WriteRoster =\n%q\nwant\n%q", sb.String(), want)
	}
}

func TestReadBenchmarkInstances(t *testing.T) {
	needBench(t)
	// Days, staff and shift types from BEST_KNOWN.md.
	sizes := [][3]int{{14, 8, 1}, {14, 14, 2}, {14, 20, 3}, {28, 10, 2}, {28, 16, 2}, {28, 18, 3},
		{28, 20, 3}, {28, 30, 4}, {28, 36, 4}, {28, 40, 5}, {28, 50, 6}, {28, 60, 10}}
	for i, want := range sizes {
		m, err := ReadFile(instancePath(i + 1))
		if err != nil {
			t.Fatal(err)
		}
		if got := [3]int{m.Days, len(m.Staff), len(m.Shifts)}; got != want {
			t.Errorf("%s: days, staff, shifts = %v, want %v", m.Name, got, want)
		}
		if len(m.Cover) != m.Days*len(m.Shifts) {
			t.Errorf("%s: %d cover rows", m.Name, len(m.Cover))
		}
	}
}

func TestReadErrors(t *testing.T) {
	valid, err := os.ReadFile("testdata/tiny.txt")
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(string(valid), "\n")
	// replace returns the valid file with line no (1-based) replaced.
	replace := func(no int, text string) string {
		c := append([]string(nil), lines...)
		c[no-1] = text
		return strings.Join(c, "\n")
	}
	lineOf := func(prefix string) int {
		for i, l := range lines {
			if strings.HasPrefix(l, prefix) {
				return i + 1
			}
		}
		t.Fatalf("no line starting %q", prefix)
		return 0
	}
	tests := []struct {
		name  string
		input string
		line  int
		msg   string
	}{
		{"empty", "", 0, "missing section SECTION_HORIZON"},
		{"bad horizon", replace(3, "x"), 3, `horizon: "x" is not an integer`},
		{"zero horizon", replace(3, "0"), 3, "horizon: 0 outside"},
		{"unknown section", replace(2, "SECTION_FOO"), 2, "unknown section"},
		{"record outside", "7\n", 1, "record outside any section"},
		{"shift fields", replace(lineOf("E,480"), "E,480"), lineOf("E,480"), "shift: 2 fields, want 3"},
		{"shift length", replace(lineOf("E,480"), "E,-5,"), lineOf("E,480"), "length: -5 outside"},
		{"unknown successor", replace(lineOf("L,600"), "L,600,X"), lineOf("L,600"), `unknown forbidden successor "X"`},
		{"bad shift ID", replace(lineOf("L,600"), "L x,600,"), lineOf("L,600"), `shift ID "L x"`},
		{"duplicate shift", replace(lineOf("L,600"), "E,600,"), lineOf("L,600"), `shift "E" defined twice`},
		{"staff fields", replace(lineOf("A,E=7"), "A,E=7|L=2,2880"), lineOf("A,E=7"), "staff: 3 fields, want 8"},
		{"max shifts pair", replace(lineOf("A,E=7"), "A,E7|L=2,2880,960,3,2,2,1"), lineOf("A,E=7"), "not ShiftID=n"},
		{"max shifts shift", replace(lineOf("A,E=7"), "A,X=7|L=2,2880,960,3,2,2,1"), lineOf("A,E=7"), `unknown shift type "X"`},
		{"max shifts value", replace(lineOf("A,E=7"), "A,E=x|L=2,2880,960,3,2,2,1"), lineOf("A,E=7"), "max E shifts"},
		{"staff number", replace(lineOf("A,E=7"), "A,E=7|L=2,2880,960,3,2,2,-1"), lineOf("A,E=7"), "max weekends: -1 outside"},
		{"day off staff", replace(lineOf("A,6"), "Z,6"), lineOf("A,6"), `unknown staff member "Z"`},
		{"day off range", replace(lineOf("A,6"), "A,7"), lineOf("A,6"), "day off: 7 outside 0..6"},
		{"request fields", replace(lineOf("A,0,E"), "A,0,E"), lineOf("A,0,E"), "request: 3 fields, want 4"},
		{"request shift", replace(lineOf("A,0,E"), "A,0,Q,2"), lineOf("A,0,E"), `unknown shift type "Q"`},
		{"request weight", replace(lineOf("A,0,E"), "A,0,E,w"), lineOf("A,0,E"), `request weight: "w" is not an integer`},
		{"cover day", replace(lineOf("6,L"), "9,L,1,100,1"), lineOf("6,L"), "cover day: 9 outside"},
		{"cover repeated", replace(lineOf("6,L"), "6,E,1,100,1"), lineOf("6,L"), "cover for day 6 shift E repeated"},
		{"cover fields", replace(lineOf("6,L"), "6,L,1,100"), lineOf("6,L"), "cover: 4 fields, want 5"},
		{"section repeated", string(valid) + "\nSECTION_COVER\n", len(lines) + 1, "section SECTION_COVER repeated"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Read("bad.txt", strings.NewReader(tt.input))
			var pe *ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("Read error = %v, want a *ParseError", err)
			}
			if pe.File != "bad.txt" || pe.Line != tt.line || !strings.Contains(pe.Msg, tt.msg) {
				t.Errorf("error %q (line %d), want line %d containing %q", err, pe.Line, tt.line, tt.msg)
			}
		})
	}
}

func TestReadRosterErrors(t *testing.T) {
	m, err := ReadFile("testdata/tiny.txt")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct{ input, msg string }{
		{"Z\t\t\t\t\t\t\t\n", `unknown staff member "Z"`},
		{"A\tE\n", "A: 1 days, want 7"},
		{"A\tX\t\t\t\t\t\t\n", `unknown shift type "X"`},
		{"A\t\t\t\t\t\t\t\nA\t\t\t\t\t\t\t\n", "listed twice"},
		{"A\t\t\t\t\t\t\t\n", "staff member B missing"},
	}
	for _, tt := range tests {
		_, err := ReadRoster("r.txt", strings.NewReader(tt.input), m)
		if err == nil || !strings.Contains(err.Error(), tt.msg) || !strings.HasPrefix(err.Error(), "r.txt") {
			t.Errorf("ReadRoster(%q) error = %v, want one naming r.txt and containing %q", tt.input, err, tt.msg)
		}
	}
}

// FuzzRead checks that no input makes the reader panic, that errors name
// the file, and that accepted models can be evaluated and round-trip a
// roster. The seed corpus lives in testdata/fuzz/FuzzRead.
func FuzzRead(f *testing.F) {
	for _, path := range []string{"testdata/tiny.txt", instancePath(1), instancePath(3)} {
		if data, err := os.ReadFile(path); err == nil {
			f.Add(data)
		}
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := Read("fuzz.txt", strings.NewReader(string(data)))
		if err != nil {
			if !strings.HasPrefix(err.Error(), "fuzz.txt") {
				t.Fatalf("error %q does not name the file", err)
			}
			return
		}
		if m.Days*len(m.Staff) > 1_000_000 {
			return
		}
		r := roster.NewRoster(len(m.Staff), m.Days)
		for e := range r {
			for d := range r[e] {
				r[e][d] = (e + d) % (len(m.Shifts) + 1)
				r[e][d]--
			}
		}
		if _, err := roster.Evaluate(m, r); err != nil {
			t.Fatalf("Evaluate: %v", err)
		}
		var sb strings.Builder
		if err := WriteRoster(&sb, m, r); err != nil {
			t.Fatal(err)
		}
		back, err := ReadRoster("r.txt", strings.NewReader(sb.String()), m)
		if err != nil {
			t.Fatalf("reading back the written roster: %v", err)
		}
		for e := range r {
			for d := range r[e] {
				if back[e][d] != r[e][d] {
					t.Fatalf("roster round trip changed staff %d day %d", e, d)
				}
			}
		}
	})
}

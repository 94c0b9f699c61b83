// Package curtois reads the Curtois & Qu employee shift-scheduling
// benchmark instances (see ../shared/benchmarks/curtois/FORMAT.md) into a
// roster.Model, reads and writes rosters in a plain text form, parses the
// table of best-known values, and runs the benchmark.
package curtois

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"turno/scheduling/roster"
)

// Limits that keep a hostile or corrupt file from requesting absurd
// allocations or overflowing the objective.
const (
	maxDays    = 3660
	maxMinutes = 1_000_000_000
	maxWeight  = 1_000_000
	maxCount   = 1_000_000
)

// ParseError is a problem at one line of an instance or roster file.
type ParseError struct {
	// File is the file name given to the reader.
	File string
	// Line is the 1-based line number, or 0 for a problem with the file as
	// a whole (such as a missing section).
	Line int
	// Msg describes the problem.
	Msg string
}

// Error formats the problem as "file:line: message".
func (e *ParseError) Error() string {
	if e.Line == 0 {
		return fmt.Sprintf("%s: %s", e.File, e.Msg)
	}
	return fmt.Sprintf("%s:%d: %s", e.File, e.Line, e.Msg)
}

// ReadFile reads the instance file at path.
func ReadFile(path string) (*roster.Model, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	return Read(path, f)
}

// line is one record of a section with its position in the file.
type line struct {
	no     int
	fields []string
}

// Section keywords, in the order the sections are processed.
var sections = []string{
	"SECTION_HORIZON",
	"SECTION_SHIFTS",
	"SECTION_STAFF",
	"SECTION_DAYS_OFF",
	"SECTION_SHIFT_ON_REQUESTS",
	"SECTION_SHIFT_OFF_REQUESTS",
	"SECTION_COVER",
}

// Read parses an instance from r; name (usually the file path) is used in
// error messages and, without directory and extension, as the model name.
func Read(name string, r io.Reader) (*roster.Model, error) {
	p := &parser{file: name, byKeyword: map[string][]line{}, at: map[string]int{}}
	if err := p.split(r); err != nil {
		return nil, err
	}
	m := &roster.Model{Name: modelName(name), FirstWeekday: time.Monday}
	p.m = m
	steps := []func() error{p.horizon, p.shifts, p.staff, p.daysOff, p.onRequests, p.offRequests, p.cover}
	for _, step := range steps {
		if err := step(); err != nil {
			return nil, err
		}
	}
	if err := m.Validate(); err != nil {
		return nil, p.errorf(0, "%v", err)
	}
	return m, nil
}

func modelName(path string) string {
	base := path[strings.LastIndexAny(path, `/\`)+1:]
	return strings.TrimSuffix(base, ".txt")
}

type parser struct {
	file      string
	m         *roster.Model
	byKeyword map[string][]line
	at        map[string]int // line number of each section keyword
	shiftIdx  map[string]int
	staffIdx  map[string]int
}

func (p *parser) errorf(no int, format string, args ...any) error {
	return &ParseError{File: p.file, Line: no, Msg: fmt.Sprintf(format, args...)}
}

// split reads the file into sections of comma-separated records.
func (p *parser) split(r io.Reader) error {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	current := ""
	no := 0
	for sc.Scan() {
		no++
		text := strings.TrimSpace(strings.TrimSuffix(sc.Text(), "\r"))
		switch {
		case text == "":
			current = ""
		case strings.HasPrefix(text, "#"):
		case strings.HasPrefix(text, "SECTION_"):
			if !isSection(text) {
				return p.errorf(no, "unknown section %q", text)
			}
			if prev, dup := p.at[text]; dup {
				return p.errorf(no, "section %s repeated (first at line %d)", text, prev)
			}
			current = text
			p.at[text] = no
		case current == "":
			return p.errorf(no, "record outside any section: %q", clip(text))
		default:
			fields := strings.Split(text, ",")
			for i := range fields {
				fields[i] = strings.TrimSpace(fields[i])
			}
			p.byKeyword[current] = append(p.byKeyword[current], line{no, fields})
		}
	}
	if err := sc.Err(); err != nil {
		return p.errorf(no+1, "reading: %v", err)
	}
	return nil
}

func isSection(s string) bool {
	for _, kw := range sections {
		if s == kw {
			return true
		}
	}
	return false
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "..."
	}
	return s
}

// checkID rejects empty identifiers and those with characters that would
// be ambiguous in the instance or roster formats.
func (p *parser) checkID(l line, what, id string) error {
	if id == "" {
		return p.errorf(l.no, "%s: empty ID", what)
	}
	for _, c := range id {
		if c <= ' ' || c > '~' || strings.ContainsRune(",|=#", c) {
			return p.errorf(l.no, "%s ID %q: only printable ASCII without spaces, commas, '|', '=' or '#'", what, clip(id))
		}
	}
	return nil
}

// want checks the number of fields of a record.
func (p *parser) want(l line, n int, what string) error {
	if len(l.fields) != n {
		return p.errorf(l.no, "%s: %d fields, want %d", what, len(l.fields), n)
	}
	return nil
}

// integer parses field i of l as an integer in [lo, hi].
func (p *parser) integer(l line, i int, what string, lo, hi int) (int, error) {
	s := l.fields[i]
	n, err := strconv.Atoi(s)
	if err != nil {
		return 0, p.errorf(l.no, "%s: %q is not an integer", what, clip(s))
	}
	if n < lo || n > hi {
		return 0, p.errorf(l.no, "%s: %d outside %d..%d", what, n, lo, hi)
	}
	return n, nil
}

// require reports a missing mandatory section.
func (p *parser) require(kw string) error {
	if _, ok := p.at[kw]; !ok {
		return p.errorf(0, "missing section %s", kw)
	}
	return nil
}

func (p *parser) horizon() error {
	if err := p.require("SECTION_HORIZON"); err != nil {
		return err
	}
	ls := p.byKeyword["SECTION_HORIZON"]
	if len(ls) != 1 {
		return p.errorf(p.at["SECTION_HORIZON"], "horizon section has %d records, want 1", len(ls))
	}
	if err := p.want(ls[0], 1, "horizon"); err != nil {
		return err
	}
	days, err := p.integer(ls[0], 0, "horizon", 1, maxDays)
	p.m.Days = days
	return err
}

func (p *parser) shifts() error {
	if err := p.require("SECTION_SHIFTS"); err != nil {
		return err
	}
	ls := p.byKeyword["SECTION_SHIFTS"]
	if len(ls) == 0 {
		return p.errorf(p.at["SECTION_SHIFTS"], "no shift types")
	}
	p.shiftIdx = map[string]int{}
	for _, l := range ls {
		if err := p.want(l, 3, "shift"); err != nil {
			return err
		}
		id := l.fields[0]
		if err := p.checkID(l, "shift", id); err != nil {
			return err
		}
		if _, dup := p.shiftIdx[id]; dup {
			return p.errorf(l.no, "shift %q defined twice", id)
		}
		length, err := p.integer(l, 1, "shift "+id+" length", 1, 1440)
		if err != nil {
			return err
		}
		p.shiftIdx[id] = len(p.m.Shifts)
		p.m.Shifts = append(p.m.Shifts, roster.Shift{ID: id, Duration: length})
	}
	for i, l := range ls {
		if l.fields[2] == "" {
			continue
		}
		for _, next := range strings.Split(l.fields[2], "|") {
			s, ok := p.shiftIdx[next]
			if !ok {
				return p.errorf(l.no, "shift %s: unknown forbidden successor %q", l.fields[0], clip(next))
			}
			p.m.Shifts[i].ForbiddenNext = append(p.m.Shifts[i].ForbiddenNext, s)
		}
	}
	return nil
}

func (p *parser) staff() error {
	if err := p.require("SECTION_STAFF"); err != nil {
		return err
	}
	p.staffIdx = map[string]int{}
	for _, l := range p.byKeyword["SECTION_STAFF"] {
		if err := p.want(l, 8, "staff"); err != nil {
			return err
		}
		id := l.fields[0]
		if err := p.checkID(l, "staff", id); err != nil {
			return err
		}
		if _, dup := p.staffIdx[id]; dup {
			return p.errorf(l.no, "staff member %q defined twice", id)
		}
		st := roster.NewStaff(id)
		st.MaxShifts = make([]int, len(p.m.Shifts))
		for i := range st.MaxShifts {
			st.MaxShifts[i] = roster.Unlimited
		}
		seen := map[string]bool{}
		if l.fields[1] != "" {
			for _, pair := range strings.Split(l.fields[1], "|") {
				sid, n, ok := strings.Cut(pair, "=")
				if !ok {
					return p.errorf(l.no, "staff %s: max shifts %q is not ShiftID=n", id, clip(pair))
				}
				s, known := p.shiftIdx[sid]
				if !known {
					return p.errorf(l.no, "staff %s: unknown shift type %q", id, clip(sid))
				}
				if seen[sid] {
					return p.errorf(l.no, "staff %s: shift type %s capped twice", id, sid)
				}
				seen[sid] = true
				limit, err := strconv.Atoi(n)
				if err != nil || limit < 0 || limit > maxCount {
					return p.errorf(l.no, "staff %s: max %s shifts %q is not an integer in 0..%d", id, sid, clip(n), maxCount)
				}
				st.MaxShifts[s] = limit
			}
		}
		var err error
		fields := []struct {
			dst  *int
			what string
		}{
			{&st.MaxMinutes, "max total minutes"},
			{&st.MinMinutes, "min total minutes"},
			{&st.MaxConsecutive, "max consecutive shifts"},
			{&st.MinConsecutive, "min consecutive shifts"},
			{&st.MinConsecutiveOff, "min consecutive days off"},
			{&st.MaxWeekends, "max weekends"},
		}
		for i, f := range fields {
			if *f.dst, err = p.integer(l, i+2, "staff "+id+" "+f.what, 0, maxMinutes); err != nil {
				return err
			}
		}
		p.staffIdx[id] = len(p.m.Staff)
		p.m.Staff = append(p.m.Staff, st)
	}
	return nil
}

// staffMember resolves the staff ID in field i of l.
func (p *parser) staffMember(l line, i int) (int, error) {
	e, ok := p.staffIdx[l.fields[i]]
	if !ok {
		return 0, p.errorf(l.no, "unknown staff member %q", clip(l.fields[i]))
	}
	return e, nil
}

func (p *parser) shiftType(l line, i int) (int, error) {
	s, ok := p.shiftIdx[l.fields[i]]
	if !ok {
		return 0, p.errorf(l.no, "unknown shift type %q", clip(l.fields[i]))
	}
	return s, nil
}

func (p *parser) daysOff() error {
	for _, l := range p.byKeyword["SECTION_DAYS_OFF"] {
		if len(l.fields) < 1 {
			return p.errorf(l.no, "days off: empty record")
		}
		e, err := p.staffMember(l, 0)
		if err != nil {
			return err
		}
		for i := 1; i < len(l.fields); i++ {
			d, err := p.integer(l, i, "day off", 0, p.m.Days-1)
			if err != nil {
				return err
			}
			p.m.Staff[e].Unavailable = append(p.m.Staff[e].Unavailable, d)
		}
	}
	return nil
}

func (p *parser) onRequests() error  { return p.requests("SECTION_SHIFT_ON_REQUESTS", true) }
func (p *parser) offRequests() error { return p.requests("SECTION_SHIFT_OFF_REQUESTS", false) }

func (p *parser) requests(kw string, on bool) error {
	for _, l := range p.byKeyword[kw] {
		if err := p.want(l, 4, "request"); err != nil {
			return err
		}
		e, err := p.staffMember(l, 0)
		if err != nil {
			return err
		}
		d, err := p.integer(l, 1, "request day", 0, p.m.Days-1)
		if err != nil {
			return err
		}
		s, err := p.shiftType(l, 2)
		if err != nil {
			return err
		}
		w, err := p.integer(l, 3, "request weight", 0, maxWeight)
		if err != nil {
			return err
		}
		p.m.Requests = append(p.m.Requests, roster.Request{Staff: e, Day: d, Shift: s, On: on, Weight: w})
	}
	return nil
}

func (p *parser) cover() error {
	seen := map[[2]int]int{}
	for _, l := range p.byKeyword["SECTION_COVER"] {
		if err := p.want(l, 5, "cover"); err != nil {
			return err
		}
		d, err := p.integer(l, 0, "cover day", 0, p.m.Days-1)
		if err != nil {
			return err
		}
		s, err := p.shiftType(l, 1)
		if err != nil {
			return err
		}
		if prev, dup := seen[[2]int{d, s}]; dup {
			return p.errorf(l.no, "cover for day %d shift %s repeated (first at line %d)", d, l.fields[1], prev)
		}
		seen[[2]int{d, s}] = l.no
		c := roster.Cover{Day: d, Shifts: []int{s}}
		if c.Target, err = p.integer(l, 2, "cover requirement", 0, maxCount); err != nil {
			return err
		}
		if c.WeightUnder, err = p.integer(l, 3, "cover weight under", 0, maxWeight); err != nil {
			return err
		}
		if c.WeightOver, err = p.integer(l, 4, "cover weight over", 0, maxWeight); err != nil {
			return err
		}
		p.m.Cover = append(p.m.Cover, c)
	}
	return nil
}

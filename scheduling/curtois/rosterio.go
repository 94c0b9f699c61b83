package curtois

import (
	"bufio"
	"fmt"
	"io"
	"strings"

	"turno/scheduling/roster"
)

// WriteRoster writes r as text: one line per staff member in model order,
// holding the staff ID and then one field per day with the shift ID, or
// nothing for a day off, separated by tabs.
func WriteRoster(w io.Writer, m *roster.Model, r roster.Roster) error {
	bw := bufio.NewWriter(w)
	for e, row := range r {
		bw.WriteString(m.Staff[e].ID)
		for _, v := range row {
			bw.WriteByte('\t')
			if v != roster.Off {
				bw.WriteString(m.Shifts[v].ID)
			}
		}
		bw.WriteByte('\n')
	}
	return bw.Flush()
}

// ReadRoster reads a roster written by WriteRoster for model m. Staff lines
// may come in any order but every staff member must appear exactly once;
// name is used in error messages.
func ReadRoster(name string, rd io.Reader, m *roster.Model) (roster.Roster, error) {
	r := roster.NewRoster(len(m.Staff), m.Days)
	seen := make([]bool, len(m.Staff))
	sc := bufio.NewScanner(rd)
	sc.Buffer(make([]byte, 64*1024), 16*1024*1024)
	errorf := func(no int, format string, args ...any) error {
		return &ParseError{File: name, Line: no, Msg: fmt.Sprintf(format, args...)}
	}
	no := 0
	for sc.Scan() {
		no++
		text := strings.TrimSuffix(sc.Text(), "\r")
		if strings.TrimSpace(text) == "" {
			continue
		}
		fields := strings.Split(text, "\t")
		e, ok := m.StaffIndex(fields[0])
		if !ok {
			return nil, errorf(no, "unknown staff member %q", clip(fields[0]))
		}
		if seen[e] {
			return nil, errorf(no, "staff member %s listed twice", fields[0])
		}
		seen[e] = true
		if len(fields)-1 != m.Days {
			return nil, errorf(no, "staff member %s: %d days, want %d", fields[0], len(fields)-1, m.Days)
		}
		for d, id := range fields[1:] {
			if id == "" {
				continue
			}
			s, ok := m.ShiftIndex(id)
			if !ok {
				return nil, errorf(no, "staff member %s day %d: unknown shift type %q", fields[0], d, clip(id))
			}
			r[e][d] = s
		}
	}
	if err := sc.Err(); err != nil {
		return nil, errorf(no+1, "reading: %v", err)
	}
	for e, ok := range seen {
		if !ok {
			return nil, errorf(0, "staff member %s missing", m.Staff[e].ID)
		}
	}
	return r, nil
}

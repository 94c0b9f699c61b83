// Package ical writes and reads RFC 5545 calendars (iCalendar, .ics): the one encoder of Turno's calendar
// files, shared by the staff's roster feed and the citizens' booking confirmations. It covers what those
// need: a VCALENDAR of VEVENTs with times in UTC, escaped TEXT values and lines folded at 75 octets.
package ical

import (
	"bufio"
	"bytes"
	"fmt"
	"strconv"
	"strings"
	"time"
)

// Calendar is a VCALENDAR.
type Calendar struct {
	ProdID string // e.g. "-//Turno//Roster//IT"
	Method string // e.g. "PUBLISH"; empty: none
	Name   string // X-WR-CALNAME, the name calendar clients show; empty: none
	Events []Event
}

// Event is a VEVENT. Start and End are written in UTC.
type Event struct {
	UID         string
	Stamp       time.Time // DTSTAMP: when the calendar was made
	Start, End  time.Time
	Summary     string
	Location    string
	Description string
	// Sequence is the revision of the event: a changed or cancelled event has a higher one.
	Sequence int
	Status   string // CONFIRMED, TENTATIVE or CANCELLED; empty: none
}

// utcFormat is the form of a DATE-TIME in UTC (RFC 5545 §3.3.5, form #2).
const utcFormat = "20060102T150405Z"

// Encode renders the calendar with CRLF line ends, lines folded at 75 octets and TEXT values escaped.
func (c *Calendar) Encode() []byte {
	var b bytes.Buffer
	line := func(name, value string) { b.WriteString(fold(name + ":" + value)) }
	line("BEGIN", "VCALENDAR")
	line("VERSION", "2.0")
	line("PRODID", c.ProdID)
	line("CALSCALE", "GREGORIAN")
	if c.Method != "" {
		line("METHOD", c.Method)
	}
	if c.Name != "" {
		line("X-WR-CALNAME", EscapeText(c.Name))
	}
	for _, e := range c.Events {
		line("BEGIN", "VEVENT")
		line("UID", e.UID)
		line("DTSTAMP", e.Stamp.UTC().Format(utcFormat))
		line("DTSTART", e.Start.UTC().Format(utcFormat))
		line("DTEND", e.End.UTC().Format(utcFormat))
		line("SUMMARY", EscapeText(e.Summary))
		if e.Location != "" {
			line("LOCATION", EscapeText(e.Location))
		}
		if e.Description != "" {
			line("DESCRIPTION", EscapeText(e.Description))
		}
		line("SEQUENCE", strconv.Itoa(e.Sequence))
		if e.Status != "" {
			line("STATUS", e.Status)
		}
		line("END", "VEVENT")
	}
	line("END", "VCALENDAR")
	return b.Bytes()
}

// EscapeText escapes an RFC 5545 TEXT value (§3.3.11): backslash, semicolon, comma and line breaks.
func EscapeText(s string) string {
	return textEscaper.Replace(strings.ReplaceAll(s, "\r\n", "\n"))
}

var textEscaper = strings.NewReplacer(`\`, `\\`, ";", `\;`, ",", `\,`, "\n", `\n`)

var textUnescaper = strings.NewReplacer(`\\`, `\`, `\;`, ";", `\,`, ",", `\n`, "\n", `\N`, "\n")

// fold ends a content line with CRLF, folding it into lines of at most 75 octets without splitting a
// UTF-8 character (§3.1).
func fold(s string) string {
	var b strings.Builder
	n := 0
	for _, r := range s {
		size := len(string(r))
		if n+size > 75 {
			b.WriteString("\r\n ")
			n = 1
		}
		b.WriteRune(r)
		n += size
	}
	b.WriteString("\r\n")
	return b.String()
}

// Parse reads a calendar written by Encode or by another program: it unfolds lines, ignores parameters
// and properties it does not know, and reads DTSTART and DTEND in UTC or with a TZID it can load. It
// refuses a file that is not a VCALENDAR, or whose events are not closed.
func Parse(data []byte) (*Calendar, error) {
	var lines []string
	sc := bufio.NewScanner(bytes.NewReader(data))
	sc.Buffer(make([]byte, 64*1024), 1<<20)
	for sc.Scan() {
		l := strings.TrimRight(sc.Text(), "\r")
		if (strings.HasPrefix(l, " ") || strings.HasPrefix(l, "\t")) && len(lines) > 0 {
			lines[len(lines)-1] += l[1:]
			continue
		}
		if l != "" {
			lines = append(lines, l)
		}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("ical: %w", err)
	}
	if len(lines) == 0 || lines[0] != "BEGIN:VCALENDAR" || lines[len(lines)-1] != "END:VCALENDAR" {
		return nil, fmt.Errorf("ical: not a VCALENDAR")
	}
	c := &Calendar{}
	var ev *Event
	for _, l := range lines[1 : len(lines)-1] {
		head, value, ok := strings.Cut(l, ":")
		if !ok {
			return nil, fmt.Errorf("ical: malformed line %q", l)
		}
		name, params, _ := strings.Cut(head, ";")
		name = strings.ToUpper(name)
		switch {
		case name == "BEGIN" && value == "VEVENT":
			if ev != nil {
				return nil, fmt.Errorf("ical: VEVENT inside VEVENT")
			}
			ev = &Event{}
		case name == "END" && value == "VEVENT":
			if ev == nil {
				return nil, fmt.Errorf("ical: END:VEVENT without BEGIN")
			}
			c.Events = append(c.Events, *ev)
			ev = nil
		case ev == nil:
			switch name {
			case "PRODID":
				c.ProdID = value
			case "METHOD":
				c.Method = value
			case "X-WR-CALNAME":
				c.Name = textUnescaper.Replace(value)
			}
		default:
			if err := ev.set(name, params, value); err != nil {
				return nil, err
			}
		}
	}
	if ev != nil {
		return nil, fmt.Errorf("ical: VEVENT not closed")
	}
	return c, nil
}

// set reads one property of an event.
func (e *Event) set(name, params, value string) error {
	var err error
	switch name {
	case "UID":
		e.UID = value
	case "DTSTAMP":
		e.Stamp, err = parseTime(params, value)
	case "DTSTART":
		e.Start, err = parseTime(params, value)
	case "DTEND":
		e.End, err = parseTime(params, value)
	case "SUMMARY":
		e.Summary = textUnescaper.Replace(value)
	case "LOCATION":
		e.Location = textUnescaper.Replace(value)
	case "DESCRIPTION":
		e.Description = textUnescaper.Replace(value)
	case "SEQUENCE":
		e.Sequence, err = strconv.Atoi(value)
	case "STATUS":
		e.Status = value
	}
	if err != nil {
		return fmt.Errorf("ical: %s: %w", name, err)
	}
	return nil
}

// parseTime reads a DATE-TIME in UTC ("…Z") or local to a TZID parameter.
func parseTime(params, value string) (time.Time, error) {
	if strings.HasSuffix(value, "Z") {
		return time.Parse(utcFormat, value)
	}
	loc := time.UTC
	for _, p := range strings.Split(params, ";") {
		if tz, ok := strings.CutPrefix(p, "TZID="); ok {
			l, err := time.LoadLocation(strings.Trim(tz, `"`))
			if err != nil {
				return time.Time{}, err
			}
			loc = l
		}
	}
	return time.ParseInLocation("20060102T150405", value, loc)
}

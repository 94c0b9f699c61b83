package ical

import (
	"strings"
	"testing"
	"time"
)

// A calendar encodes to RFC 5545's line rules and reads back the same, with long, escaped and multi-byte
// text intact.
func TestEncodeParseRoundTrip(t *testing.T) {
	start := time.Date(2026, 3, 29, 9, 30, 0, 0, time.FixedZone("CEST", 2*3600))
	c := &Calendar{ProdID: "-//Turno//Test//IT", Method: "PUBLISH", Name: "Turni – Maria, Rossi",
		Events: []Event{{
			UID: "ABC123@turno", Stamp: start.Add(-time.Hour), Start: start, End: start.Add(20 * time.Minute),
			Summary:     "Carta d'identità; rinnovo, con foto",
			Location:    "Sportello polifunzionale — Palazzo comunale",
			Description: "Codice ABC123\nPortare: documento scaduto, due fototessere, codice fiscale; " + strings.Repeat("è", 60),
			Sequence:    2, Status: "CONFIRMED",
		}}}
	data := c.Encode()
	text := string(data)
	if !strings.HasPrefix(text, "BEGIN:VCALENDAR\r\nVERSION:2.0\r\n") || !strings.HasSuffix(text, "END:VCALENDAR\r\n") {
		t.Fatalf("calendar frame:\n%s", text)
	}
	for _, l := range strings.Split(strings.TrimSuffix(text, "\r\n"), "\r\n") {
		if len(l) > 75 || strings.ContainsAny(l, "\r\n") {
			t.Errorf("line of %d octets or with a bare line break: %q", len(l), l)
		}
	}
	if !strings.Contains(text, "DTSTART:20260329T073000Z\r\n") {
		t.Errorf("DTSTART not in UTC:\n%s", text)
	}
	if !strings.Contains(text, `SUMMARY:Carta d'identità\; rinnovo\, con foto`) {
		t.Errorf("SUMMARY not escaped:\n%s", text)
	}
	got, err := Parse(data)
	if err != nil {
		t.Fatal(err)
	}
	if got.ProdID != c.ProdID || got.Method != "PUBLISH" || got.Name != c.Name || len(got.Events) != 1 {
		t.Fatalf("parsed %+v", got)
	}
	e, want := got.Events[0], c.Events[0]
	if !e.Start.Equal(want.Start) || !e.End.Equal(want.End) || !e.Stamp.Equal(want.Stamp) {
		t.Errorf("times: %v–%v stamp %v", e.Start, e.End, e.Stamp)
	}
	if e.UID != want.UID || e.Summary != want.Summary || e.Location != want.Location || e.Description != want.Description ||
		e.Sequence != 2 || e.Status != "CONFIRMED" {
		t.Errorf("parsed event %+v\nwant %+v", e, want)
	}
}

// Parse reads times with a TZID and refuses what is not a closed VCALENDAR.
func TestParseOtherWriters(t *testing.T) {
	in := "BEGIN:VCALENDAR\nVERSION:2.0\nBEGIN:VEVENT\nUID:x\nDTSTART;TZID=Europe/Rome:20261025T023000\n" +
		"DTEND;TZID=\"Europe/Rome\":20261025T040000\nSUMMARY:long\n  folded\nEND:VEVENT\nEND:VCALENDAR\n"
	c, err := Parse([]byte(in))
	if err != nil {
		t.Fatal(err)
	}
	if e := c.Events[0]; e.Summary != "long folded" || e.End.UTC().Hour() != 3 {
		t.Errorf("parsed %+v (end %v)", e, e.End.UTC())
	}
	for _, bad := range []string{"", "BEGIN:VEVENT\nEND:VEVENT\n", "BEGIN:VCALENDAR\nBEGIN:VEVENT\nEND:VCALENDAR\n",
		"BEGIN:VCALENDAR\nBEGIN:VEVENT\nDTSTART:tomorrow\nEND:VEVENT\nEND:VCALENDAR\n", "BEGIN:VCALENDAR\nnonsense\nEND:VCALENDAR\n"} {
		if _, err := Parse([]byte(bad)); err == nil {
			t.Errorf("Parse(%q) accepted", bad)
		}
	}
}

package ticketing

import (
	"fmt"
	"time"

	"github.com/jackc/pgx/v5/pgtype"
)

// TimeOfDay is a local wall-clock time as minutes after midnight, from 0 (00:00) to 1440 (24:00, the end
// of the day). JSON and pages write it "08:30"; PostgreSQL stores it as time. It is the one type for
// opening hours, shift times and forecast slots.
type TimeOfDay int

// EndOfDay is 24:00, the end of a day.
const EndOfDay TimeOfDay = 24 * 60

// Clock returns the time of day h:m.
func Clock(h, m int) TimeOfDay { return TimeOfDay(h*60 + m) }

// ParseTimeOfDay parses "08:30" (00:00 to 24:00).
func ParseTimeOfDay(s string) (TimeOfDay, error) {
	if s == "24:00" {
		return EndOfDay, nil
	}
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a time like 08:30", s)
	}
	return Clock(t.Hour(), t.Minute()), nil
}

// String formats t as "08:30".
func (t TimeOfDay) String() string { return fmt.Sprintf("%02d:%02d", int(t)/60, int(t)%60) }

// Duration is t as an offset from midnight.
func (t TimeOfDay) Duration() time.Duration { return time.Duration(t) * time.Minute }

// On returns the instant of t on a date (any time of that day; only its date counts) in loc, by wall
// clock: a daylight-saving day keeps its hours, so 08:30 is 08:30 whether the day has 23, 24 or 25 hours.
func (t TimeOfDay) On(date time.Time, loc *time.Location) time.Time {
	return time.Date(date.Year(), date.Month(), date.Day(), int(t)/60, int(t)%60, 0, 0, loc)
}

// TimeOfDayOf returns the wall-clock time of an instant in loc, to the minute.
func TimeOfDayOf(at time.Time, loc *time.Location) TimeOfDay {
	l := at.In(loc)
	return Clock(l.Hour(), l.Minute())
}

// MarshalText writes "08:30".
func (t TimeOfDay) MarshalText() ([]byte, error) { return []byte(t.String()), nil }

// invalidTime marks a time of day that did not parse. Decoding a request never fails on a time, so that
// the owner's validation can name the field at fault (Valid reports it).
const invalidTime TimeOfDay = -1

// UnmarshalText reads "08:30"; anything else decodes as a time that is not Valid.
func (t *TimeOfDay) UnmarshalText(b []byte) error {
	v, err := ParseTimeOfDay(string(b))
	if err != nil {
		v = invalidTime
	}
	*t = v
	return nil
}

// Valid reports whether t is a time from 00:00 to 24:00.
func (t TimeOfDay) Valid() bool { return t >= 0 && t <= EndOfDay }

// TimeValue lets pgx write t into a time column.
func (t TimeOfDay) TimeValue() (pgtype.Time, error) {
	return pgtype.Time{Microseconds: int64(t) * 60_000_000, Valid: true}, nil
}

// ScanTime lets pgx read a time column into t.
func (t *TimeOfDay) ScanTime(v pgtype.Time) error {
	if !v.Valid {
		return fmt.Errorf("ticketing: NULL time of day")
	}
	*t = TimeOfDay(v.Microseconds / 60_000_000)
	return nil
}

// ISOWeekday returns 1 for Monday … 7 for Sunday.
func ISOWeekday(t time.Time) int {
	if wd := int(t.Weekday()); wd != 0 {
		return wd
	}
	return 7
}

// Date returns the calendar date of t as a time at UTC midnight, the form dates are kept in.
func Date(t time.Time) time.Time {
	return time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
}

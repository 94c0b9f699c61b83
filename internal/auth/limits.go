package auth

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/netip"
	"regexp"
	"slices"
	"time"

	"github.com/jackc/pgx/v5"

	"turno/internal/web"
)

// LoginLimit is how sign-in failures counted under one key (a username, or a client address) slow down
// and lock further attempts. Every attempt counts as a failure from the moment it is let through until
// its password proves right, so attempts in parallel cannot all slip through before the first failure is
// written.
type LoginLimit struct {
	// Free is how many failures in a row cost nothing; after them each attempt waits Delay, doubled per
	// further failure, up to MaxDelay, counted from the last failure.
	Free     int
	Delay    time.Duration
	MaxDelay time.Duration
	// LockAfter failures in a row lock the key for Lock, doubled per lock since the failures were last
	// forgotten, up to MaxLock; zero never locks.
	LockAfter int
	Lock      time.Duration
	MaxLock   time.Duration
	// Forget is how long after its last failure (and the end of its lock) a key starts over.
	Forget time.Duration
}

// LoginLimits are the limits of sign-in: per normalised username and per client address.
type LoginLimits struct {
	User LoginLimit
	Addr LoginLimit
}

// DefaultLoginLimits are Turno's sign-in limits.
//
// A username gets 3 free failures (typing mistakes), then waits 1 s, 2 s, 4 s … (at most 1 minute)
// before each attempt; the 10th failure in a row locks it for 15 minutes, the next lock 30, then 60 …
// up to 24 hours, until a successful sign-in or a manager's unlock clears it (a day without failures
// forgets them). Guessing one account's password is so held to about 10 tries in the first quarter of an
// hour and a few dozen a day, far below what a common-password list needs, while its owner who mistypes
// waits seconds.
//
// A client address gets 20 free failures in an hour, since a whole office signs in from behind one
// address, then waits 1 s, 2 s, 4 s … up to 5 minutes before each attempt: one machine trying one
// password on many usernames is slowed to a few tries per 5 minutes. Addresses are never locked, so that
// nobody can lock a whole office out by failing on purpose. An IPv6 client counts by its /64 network.
var DefaultLoginLimits = LoginLimits{
	User: LoginLimit{Free: 3, Delay: time.Second, MaxDelay: time.Minute,
		LockAfter: 10, Lock: 15 * time.Minute, MaxLock: 24 * time.Hour, Forget: 24 * time.Hour},
	Addr: LoginLimit{Free: 20, Delay: time.Second, MaxDelay: 5 * time.Minute, Forget: time.Hour},
}

// delay is how long after the last of n failures in a row the next attempt waits.
func (l LoginLimit) delay(n int) time.Duration {
	if n < l.Free || l.Delay <= 0 {
		return 0
	}
	d := l.Delay
	for i := l.Free; i < n && d < l.MaxDelay; i++ {
		d *= 2
	}
	return min(d, l.MaxDelay)
}

// lock is how long the lock after locks earlier locks lasts.
func (l LoginLimit) lock(locks int) time.Duration {
	d := l.Lock
	for i := 0; i < locks && d < l.MaxLock; i++ {
		d *= 2
	}
	return min(d, l.MaxLock)
}

// LimitError is a sign-in refused by the login limits before the password was looked at: the username is
// locked, or attempts come too fast for the username or the address. It unwraps to a 429 *web.Error
// (code account_locked or too_many_attempts); the sign-in handlers also send Retry-After and translate it.
type LimitError struct {
	Locked bool      // the username is locked (a manager may lift it)
	Until  time.Time // when the next attempt is let through
	now    time.Time
}

// Error describes the refusal in English.
func (e *LimitError) Error() string { return e.web("en").Error() }

// Unwrap gives the 429 *web.Error in English.
func (e *LimitError) Unwrap() error { return e.web("en") }

// RetryAfter is the whole number of seconds to wait, at least 1.
func (e *LimitError) RetryAfter() int {
	s := int((e.Until.Sub(e.now) + time.Second - 1) / time.Second)
	return max(s, 1)
}

// Localized gives the refusal in lang (it or en; English otherwise), for web.WriteError.
func (e *LimitError) Localized(lang string) *web.Error { return e.web(lang) }

// web returns the error in lang (it or en).
func (e *LimitError) web(lang string) *web.Error {
	if e.Locked {
		until := e.Until.In(zone)
		day := ""
		if y, m, d := until.Date(); y != e.now.In(zone).Year() || m != e.now.In(zone).Month() || d != e.now.In(zone).Day() {
			day = until.Format("02/01 ")
		}
		return &web.Error{Status: http.StatusTooManyRequests, Code: "account_locked",
			Message: fmt.Sprintf(message(lang, "locked"), day+until.Format("15:04"))}
	}
	wait := message(lang, "second")
	if n := e.RetryAfter(); n > 1 {
		wait = fmt.Sprintf(message(lang, "seconds"), n)
	}
	return &web.Error{Status: http.StatusTooManyRequests, Code: "too_many_attempts", Message: fmt.Sprintf(message(lang, "wait"), wait)}
}

// zone is the time zone of the unlock time the user is told: Italian time. The office's own zone is not
// used because it would tell whether a username exists (an unknown one has no office).
var zone = func() *time.Location {
	if l, err := time.LoadLocation("Europe/Rome"); err == nil {
		return l
	}
	return time.FixedZone("CET", 3600)
}()

// messages are the texts of the sign-in limits, in the staff languages.
var messages = map[string]map[string]string{
	"it": {
		"locked":  "Troppi tentativi non riusciti: l'account è bloccato fino alle %s (ora italiana). Un responsabile dell'ufficio può sbloccarlo prima.",
		"wait":    "Troppi tentativi non riusciti: riprova tra %s.",
		"second":  "un secondo",
		"seconds": "%d secondi",
	},
	"en": {
		"locked":  "Too many failed attempts: the account is locked until %s (Italian time). A manager of the office can unlock it sooner.",
		"wait":    "Too many failed attempts: try again in %s.",
		"second":  "a second",
		"seconds": "%d seconds",
	},
}

func message(lang, key string) string {
	if m, ok := messages[lang]; ok {
		return m[key]
	}
	return messages["en"][key]
}

// validUsername is the shape of every username (the users table checks the same).
var validUsername = regexp.MustCompile(`^[a-z0-9._-]{2,64}$`)

// limitKeys returns the keys an attempt counts under, sorted: "user:<name>" for a well-formed normalised
// username (no user has another kind, so an ill-formed one is only counted by address) and
// "ip:<address>" when the address is known.
func limitKeys(username, addr string) []string {
	var keys []string
	if validUsername.MatchString(username) {
		keys = append(keys, "user:"+username)
	}
	if addr != "" {
		keys = append(keys, "ip:"+addrKey(addr))
	}
	slices.Sort(keys)
	return keys
}

// addrKey is the address an attempt is counted by: the address itself, an IPv6 one's /64 network (one
// subscriber's, which it may fill with addresses at will).
func addrKey(addr string) string {
	a, err := netip.ParseAddr(addr)
	if err != nil {
		if len(addr) > 64 {
			addr = addr[:64]
		}
		return addr
	}
	a = a.Unmap().WithZone("")
	if a.Is6() {
		p, _ := a.Prefix(64)
		return p.String()
	}
	return a.String()
}

func (s *Store) limitOf(key string) LoginLimit {
	if key[0] == 'u' {
		return s.Limits.User
	}
	return s.Limits.Addr
}

// failureRow is a row of login_failures.
type failureRow struct {
	key      string
	failures int
	last     time.Time
	locked   *time.Time
	locks    int
}

// admit lets an attempt through the limits of keys or refuses it with a *LimitError. A let-through
// attempt is already counted as a failure under every key, and a username it brings to LockAfter is
// already locked; lockedNow is that lock's end (the attempt's answer if its password proves wrong).
func (s *Store) admit(ctx context.Context, keys []string, now time.Time) (lockedNow time.Time, err error) {
	if len(keys) == 0 {
		return time.Time{}, nil
	}
	err = pgx.BeginFunc(ctx, s.pool, func(tx pgx.Tx) error {
		if _, err := tx.Exec(ctx, `INSERT INTO login_failures (key, last_failure_at) SELECT k, $2 FROM unnest($1::text[]) k
			ORDER BY k ON CONFLICT (key) DO NOTHING`, keys, now); err != nil {
			return err
		}
		rows, err := tx.Query(ctx, `SELECT key, failures, last_failure_at, locked_until, locks FROM login_failures
			WHERE key = ANY($1) ORDER BY key FOR UPDATE`, keys)
		if err != nil {
			return err
		}
		list, err := pgx.CollectRows(rows, func(row pgx.CollectableRow) (failureRow, error) {
			var f failureRow
			return f, row.Scan(&f.key, &f.failures, &f.last, &f.locked, &f.locks)
		})
		if err != nil {
			return err
		}
		var refused *LimitError
		for i := range list {
			f := &list[i]
			l := s.limitOf(f.key)
			lockOver := f.locked == nil || !f.locked.After(now)
			if lockOver && now.Sub(f.last) > l.Forget {
				f.failures, f.locks = 0, 0
			}
			switch {
			case !lockOver:
				if refused == nil || !refused.Locked || f.locked.After(refused.Until) {
					refused = &LimitError{Locked: true, Until: *f.locked, now: now}
				}
			case f.last.Add(l.delay(f.failures)).After(now) && f.failures > 0:
				if until := f.last.Add(l.delay(f.failures)); refused == nil || (!refused.Locked && until.After(refused.Until)) {
					refused = &LimitError{Until: until, now: now}
				}
			}
		}
		if refused != nil {
			return refused
		}
		b := &pgx.Batch{}
		for _, f := range list {
			l := s.limitOf(f.key)
			f.failures++
			var locked *time.Time
			if l.LockAfter > 0 && f.failures >= l.LockAfter {
				until := now.Add(l.lock(f.locks))
				locked, lockedNow = &until, until
				f.failures, f.locks = 0, f.locks+1
			}
			b.Queue(`UPDATE login_failures SET failures = $2, last_failure_at = $3, locked_until = $4, locks = $5 WHERE key = $1`,
				f.key, f.failures, now, locked, f.locks)
		}
		return tx.SendBatch(ctx, b).Close()
	})
	var le *LimitError
	if errors.As(err, &le) {
		return time.Time{}, le
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("auth: login limits: %w", err)
	}
	return lockedNow, nil
}

// succeeded settles a let-through attempt whose password was right: the username's failures and locks
// are forgotten, and the address's count loses the failure admit charged. Now and then it also deletes
// the rows that are over.
func (s *Store) succeeded(ctx context.Context, keys []string, now time.Time) error {
	if len(keys) == 0 {
		return nil
	}
	b := &pgx.Batch{}
	for _, k := range keys {
		if k[0] == 'u' {
			b.Queue(`DELETE FROM login_failures WHERE key = $1`, k)
		} else {
			b.Queue(`UPDATE login_failures SET failures = failures - 1 WHERE key = $1 AND failures > 0`, k)
		}
	}
	if rand.N(32) == 0 {
		forget := max(s.Limits.User.Forget, s.Limits.Addr.Forget)
		b.Queue(`DELETE FROM login_failures WHERE (locked_until IS NULL OR locked_until < $1)
			AND (last_failure_at < $2 OR (failures = 0 AND locks = 0))`, now, now.Add(-forget))
	}
	if err := s.pool.SendBatch(ctx, b).Close(); err != nil {
		return fmt.Errorf("auth: login limits: %w", err)
	}
	return nil
}

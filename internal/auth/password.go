package auth

import (
	"bufio"
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	_ "embed"
	"encoding/base64"
	"fmt"
	"strings"
	"unicode"
	"unicode/utf8"

	"golang.org/x/crypto/bcrypt"

	"turno/internal/web"
)

// The length rules of a password, in characters (Unicode code points, not bytes). Long passphrases of
// ordinary words are welcome: four words of three letters or more with their spaces already make twelve
// characters, so they need no rule of their own; they pass the checks below as long as they are not one
// word repeated.
const (
	MinPasswordLength = 12
	MaxPasswordLength = 128
)

// The lists CheckPassword refuses passwords from.
var (
	//go:embed common_passwords.txt
	commonPasswordsFile []byte
	//go:embed common_it.txt
	commonItalianFile []byte

	// common holds every listed password and word, lower case.
	common = wordSet(commonPasswordsFile, commonItalianFile)
	// parts holds what a two-part password is commonly glued from (mario+rossi, forza+juve): the Italian
	// list and the alphabetic entries of the 2,000 most common passwords.
	parts = partSet(commonItalianFile, commonPasswordsFile, 2000)
)

func listLines(b []byte) []string {
	var out []string
	sc := bufio.NewScanner(bytes.NewReader(b))
	for sc.Scan() {
		if l := strings.TrimSpace(sc.Text()); l != "" && !strings.HasPrefix(l, "#") {
			out = append(out, strings.ToLower(l))
		}
	}
	return out
}

func wordSet(files ...[]byte) map[string]bool {
	m := map[string]bool{}
	for _, f := range files {
		for _, l := range listLines(f) {
			m[l] = true
		}
	}
	return m
}

func partSet(italian, passwords []byte, top int) map[string]bool {
	m := wordSet(italian)
	for i, l := range listLines(passwords) {
		if i >= top {
			break
		}
		if len(l) >= 3 && strings.IndexFunc(l, func(r rune) bool { return !unicode.IsLetter(r) }) < 0 {
			m[l] = true
		}
	}
	return m
}

// CheckPassword applies the password rules, after NIST SP 800-63B: between MinPasswordLength and
// MaxPasswordLength characters of valid text without control characters, and not guessable. Guessable is
// a password that is, ignoring case and the usual letter-for-digit swaps (p@ssw0rd):
//   - one of the 10,000 most common leaked passwords, or a common Italian password, word, name, surname,
//     football team or city;
//   - such a word or name, repeated or glued to another, with digits or symbols before or after it
//     (password1234, ciaociao1234, francesca1990, mariorossi85!);
//   - one character or a short group repeated, or mostly a run of sequential characters or of
//     neighbouring keys (aaaaaaaaaaaa, 123456789012, qwertyuiop12, 1qaz2wsx3edc);
//   - anything containing the username (or a part of it of four letters or more, for "mario.rossi").
//
// A refused password is a 422 on the field "password" that says why.
func CheckPassword(password, username string) error {
	if !utf8.ValidString(password) {
		return web.InvalidField("password", "the password must be valid text (UTF-8)")
	}
	if strings.IndexFunc(password, unicode.IsControl) >= 0 {
		return web.InvalidField("password", "the password must not contain control characters")
	}
	n := utf8.RuneCountInString(password)
	if n < MinPasswordLength {
		return web.InvalidField("password", "the password must have at least %d characters (it has %d); a few words with spaces make a good one", MinPasswordLength, n)
	}
	if n > MaxPasswordLength {
		return web.InvalidField("password", "the password must have at most %d characters", MaxPasswordLength)
	}
	p := strings.ToLower(password)
	if u := NormalizeUsername(username); len(u) >= 3 && strings.Contains(p, u) {
		return web.InvalidField("password", "the password must not contain the username")
	} else if len(u) >= 3 {
		for _, part := range strings.FieldsFunc(u, func(r rune) bool { return !unicode.IsLetter(r) }) {
			if len(part) >= 4 && strings.Contains(p, part) {
				return web.InvalidField("password", "the password must not contain a part of the username (%q)", part)
			}
		}
	}
	return guessable(p)
}

// guessable says why the lower-case password p is easy to guess, or returns nil. Each reason is a whole
// message so that it translates as one sentence.
func guessable(p string) error {
	if common[p] || common[strings.Join(strings.Fields(p), "")] {
		return web.InvalidField("password", "this password is too easy to guess: it is a common password; choose another, for example a few unrelated words")
	}
	if runsOrRepeats(p) {
		return web.InvalidField("password", "this password is too easy to guess: it is mostly repeated, sequential or neighbouring keys; choose another, for example a few unrelated words")
	}
	if unit := repeatedUnit(squeeze(p)); unit != "" && utf8.RuneCountInString(unit) < MinPasswordLength {
		return web.InvalidField("password", "this password is too easy to guess: it is %q repeated; choose another, for example a few unrelated words", unit)
	}
	// The core: p without the digits and symbols around it, spaces and separators inside it dropped.
	core := strings.TrimFunc(p, func(r rune) bool { return !unicode.IsLetter(r) })
	for _, c := range []string{squeeze(core), squeeze(unleet(core))} {
		if c == "" {
			continue
		}
		if common[c] {
			return web.InvalidField("password", "this password is too easy to guess: it is the common word %q with digits or symbols around it; choose another, for example a few unrelated words", c)
		}
		if unit := repeatedUnit(c); unit != "" && (common[unit] || utf8.RuneCountInString(unit) <= 4) {
			return web.InvalidField("password", "this password is too easy to guess: it is %q repeated; choose another, for example a few unrelated words", unit)
		}
		for i := 3; i <= len(c)-3; i++ {
			if parts[c[:i]] && parts[c[i:]] {
				return web.InvalidField("password", "this password is too easy to guess: it is made of the common words %q and %q; choose another, for example a few unrelated words", c[:i], c[i:])
			}
		}
	}
	return nil
}

// squeeze drops the spaces and separators (anything not a letter or digit) inside s.
func squeeze(s string) string {
	return strings.Map(func(r rune) rune {
		if unicode.IsLetter(r) || unicode.IsDigit(r) {
			return r
		}
		return -1
	}, s)
}

// unleet undoes the usual swaps of letters for digits and symbols.
var unleet = strings.NewReplacer("0", "o", "1", "i", "3", "e", "4", "a", "5", "s", "7", "t", "8", "b", "@", "a", "$", "s", "!", "i", "+", "t").Replace

// repeatedUnit returns u when s is u repeated at least twice, else "".
func repeatedUnit(s string) string {
	for n := 1; n <= len(s)/2; n++ {
		if len(s)%n == 0 && strings.Repeat(s[:n], len(s)/n) == s {
			return s[:n]
		}
	}
	return ""
}

// keyboard gives the (row, column) of a key on an Italian/US keyboard's letter and digit rows.
var keyboard = func() map[rune][2]int {
	m := map[rune][2]int{}
	for row, keys := range []string{"1234567890", "qwertyuiop", "asdfghjkl", "zxcvbnm"} {
		for col, k := range keys {
			m[k] = [2]int{row, col}
		}
	}
	return m
}()

// runsOrRepeats reports whether p is made of at most three distinct characters, or whether at least
// three quarters of its neighbouring characters are repeats, steps of one (ab, 21) or neighbouring keys
// (qw, 1q, az).
func runsOrRepeats(p string) bool {
	rs := []rune(p)
	distinct := map[rune]bool{}
	for _, r := range rs {
		distinct[r] = true
	}
	if len(distinct) <= 3 {
		return true
	}
	linked := 0
	for i := 1; i < len(rs); i++ {
		a, b := rs[i-1], rs[i]
		d := a - b
		if d >= -1 && d <= 1 || (a == '9' && b == '0') || (a == '0' && b == '9') || adjacentKeys(a, b) {
			linked++
		}
	}
	return linked*4 >= (len(rs)-1)*3
}

func adjacentKeys(a, b rune) bool {
	ka, okA := keyboard[a]
	kb, okB := keyboard[b]
	if !okA || !okB {
		return false
	}
	switch ka[0] - kb[0] {
	case 0:
		return ka[1]-kb[1] == 1 || kb[1]-ka[1] == 1
	case -1: // b is on the row below a, shifted half a key right
		return kb[1] == ka[1] || kb[1] == ka[1]-1
	case 1:
		return ka[1] == kb[1] || ka[1] == kb[1]-1
	}
	return false
}

// hashPrefix marks a hash of the current scheme: bcrypt of an HMAC-SHA-256 of the password (base64),
// so that a password of up to MaxPasswordLength characters counts whole (bcrypt alone reads 72 bytes)
// and the stored hash cannot be matched against lists of plain SHA-256 hashes. Hashes without it are
// plain bcrypt, from before, and still verify.
const hashPrefix = "hs256-bcrypt$"

var pepper = []byte("turno password v1")

func prehash(password string) []byte {
	m := hmac.New(sha256.New, pepper)
	m.Write([]byte(password))
	sum := m.Sum(nil)
	out := make([]byte, base64.StdEncoding.EncodedLen(len(sum)))
	base64.StdEncoding.Encode(out, sum)
	return out
}

// hashPassword returns the stored form of password at bcrypt cost cost.
func hashPassword(password string, cost int) (string, error) {
	h, err := bcrypt.GenerateFromPassword(prehash(password), cost)
	if err != nil {
		return "", fmt.Errorf("auth: hash password: %w", err)
	}
	return hashPrefix + string(h), nil
}

// checkHash reports whether password matches the stored hash, and whether the hash should be redone
// (an older scheme or a cost below cost).
func checkHash(hash, password string, cost int) (ok, stale bool) {
	if h, found := strings.CutPrefix(hash, hashPrefix); found {
		if bcrypt.CompareHashAndPassword([]byte(h), prehash(password)) != nil {
			return false, false
		}
		c, err := bcrypt.Cost([]byte(h))
		return true, err != nil || c < cost
	}
	// bcrypt alone reads 72 bytes: a longer password never matches an old hash (none was made of one).
	if bcrypt.CompareHashAndPassword([]byte(hash), []byte(password)) != nil || len(password) > 72 {
		return false, false
	}
	return true, true
}

package booking

import (
	"crypto/rand"
	"strings"
)

// codeAlphabet is Crockford's base32 without the letters people confuse (I, L, O, U): a booking code is
// typed at the kiosk from a printout or a phone.
const codeAlphabet = "0123456789ABCDEFGHJKMNPQRSTVWXYZ"

// codeLength is the length of a booking code: 10 characters of 5 bits, 50 bits, never guessed among the
// bookings of a region, and short enough to type.
const codeLength = 10

// newCode returns a fresh random booking code.
func newCode() string {
	b := make([]byte, codeLength)
	_, _ = rand.Read(b)
	for i := range b {
		b[i] = codeAlphabet[int(b[i])%len(codeAlphabet)]
	}
	return string(b)
}

// NormalizeCode turns what a citizen typed into a code: upper case, without spaces or dashes, with the
// letters Crockford's base32 reads as digits (O → 0, I and L → 1).
func NormalizeCode(s string) string {
	s = strings.ToUpper(strings.TrimSpace(s))
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '-':
			return -1
		case 'O':
			return '0'
		case 'I', 'L':
			return '1'
		}
		return r
	}, s)
}

// validCode reports whether s is a well-formed booking code.
func validCode(s string) bool {
	if len(s) != codeLength {
		return false
	}
	for i := range len(s) {
		if !strings.ContainsRune(codeAlphabet, rune(s[i])) {
			return false
		}
	}
	return true
}

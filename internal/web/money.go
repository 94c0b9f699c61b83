package web

import (
	"math"
	"strconv"
	"strings"
)

// numberMarks are a language's decimal mark and thousands separator.
func numberMarks(lang string) (decimal, group string) {
	switch lang {
	case "en", "zh":
		return ".", ","
	case "fr", "uk":
		return ",", "\u202f" // narrow no-break space
	case "sq":
		return ",", "\u00a0"
	}
	return ",", "." // Italian and the rest of the kiosk's languages
}

// groupDigits inserts sep between groups of three digits of a non-negative integer written in decimal.
func groupDigits(digits, sep string) string {
	if len(digits) <= 3 {
		return digits
	}
	var b strings.Builder
	head := len(digits) % 3
	if head > 0 {
		b.WriteString(digits[:head])
	}
	for i := head; i < len(digits); i += 3 {
		if b.Len() > 0 {
			b.WriteString(sep)
		}
		b.WriteString(digits[i : i+3])
	}
	return b.String()
}

// FormatDecimal prints x with the given number of decimals in lang's way: "1.234,5" (it), "1,234.5" (en).
func FormatDecimal(lang string, x float64, decimals int) string {
	dec, grp := numberMarks(lang)
	s := strconv.FormatFloat(math.Abs(x), 'f', decimals, 64)
	whole, frac, _ := strings.Cut(s, ".")
	out := groupDigits(whole, grp)
	if frac != "" {
		out += dec + frac
	}
	if x < 0 && strings.Trim(s, "0.") != "" {
		out = "−" + out
	}
	return out
}

// FormatEuro prints an amount of euro cents in lang's way, exactly (no float rounding): "1.234,56 €" (it),
// "€1,234.56" (en), "−12,00 €" for a negative amount.
func FormatEuro(lang string, cents int64) string {
	dec, grp := numberMarks(lang)
	neg := cents < 0
	u := uint64(cents)
	if neg {
		u = uint64(-(cents + 1)) + 1 // the magnitude, also of the smallest int64
	}
	n := groupDigits(strconv.FormatUint(u/100, 10), grp) + dec + strconv.FormatUint(100+u%100, 10)[1:]
	sign := ""
	if neg {
		sign = "−"
	}
	if lang == "en" || lang == "zh" {
		return sign + "€" + n
	}
	return sign + n + "\u00a0€"
}

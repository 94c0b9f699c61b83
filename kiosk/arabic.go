package kiosk

import "slices"

// The printed ticket's PDF library (gofpdf) draws one glyph per character, left to right, and knows
// neither Arabic joining nor right-to-left text. shapeArabic and visualOrder do what a text engine would
// for the ticket's short lines: Arabic letters become their contextual presentation forms (Unicode's
// Arabic Presentation Forms-B, which DejaVu Sans maps), and each line is reordered from the logical order
// it is stored in to the left-to-right order it is drawn in. No Go library on the module proxy does this
// and is kept up (golang.org/x/text/unicode/bidi reorders but does not shape and is still marked
// unfinished); the ticket needs the basic Arabic alphabet, lam-alef ligatures and a simple bidi, which
// fit in this file.

// joining is how an Arabic letter connects to its neighbours (Unicode's Joining_Type).
type joining uint8

const (
	joinNone        joining = iota // U: connects to nothing (hamza, and every non-Arabic character)
	joinRight                      // R: connects to the letter before it only (alef, dal, reh, waw…)
	joinDual                       // D: connects on both sides (beh, seen, lam…)
	joinCausing                    // C: tatweel, which connects on both sides and has no forms
	joinTransparent                // T: harakat, skipped when looking for neighbours
)

// arabicForm is a letter's joining type and its isolated form in Presentation Forms-B; the final form
// follows it, and for dual-joining letters the initial and medial forms follow that.
type arabicForm struct {
	join     joining
	isolated rune
}

// arabicForms covers U+0621–U+064A, the letters of the Arabic language.
var arabicForms = map[rune]arabicForm{
	0x0621: {joinNone, 0xFE80}, // hamza
	0x0622: {joinRight, 0xFE81}, 0x0623: {joinRight, 0xFE83}, 0x0624: {joinRight, 0xFE85},
	0x0625: {joinRight, 0xFE87}, 0x0626: {joinDual, 0xFE89}, 0x0627: {joinRight, 0xFE8D},
	0x0628: {joinDual, 0xFE8F}, 0x0629: {joinRight, 0xFE93}, 0x062A: {joinDual, 0xFE95},
	0x062B: {joinDual, 0xFE99}, 0x062C: {joinDual, 0xFE9D}, 0x062D: {joinDual, 0xFEA1},
	0x062E: {joinDual, 0xFEA5}, 0x062F: {joinRight, 0xFEA9}, 0x0630: {joinRight, 0xFEAB},
	0x0631: {joinRight, 0xFEAD}, 0x0632: {joinRight, 0xFEAF}, 0x0633: {joinDual, 0xFEB1},
	0x0634: {joinDual, 0xFEB5}, 0x0635: {joinDual, 0xFEB9}, 0x0636: {joinDual, 0xFEBD},
	0x0637: {joinDual, 0xFEC1}, 0x0638: {joinDual, 0xFEC5}, 0x0639: {joinDual, 0xFEC9},
	0x063A: {joinDual, 0xFECD}, 0x0641: {joinDual, 0xFED1}, 0x0642: {joinDual, 0xFED5},
	0x0643: {joinDual, 0xFED9}, 0x0644: {joinDual, 0xFEDD}, 0x0645: {joinDual, 0xFEE1},
	0x0646: {joinDual, 0xFEE5}, 0x0647: {joinDual, 0xFEE9}, 0x0648: {joinRight, 0xFEED},
	0x0649: {joinRight, 0xFEEF}, 0x064A: {joinDual, 0xFEF1},
}

// lamAlef is the isolated lam-alef ligature for each alef that follows a lam; the final form follows it.
var lamAlef = map[rune]rune{0x0622: 0xFEF5, 0x0623: 0xFEF7, 0x0625: 0xFEF9, 0x0627: 0xFEFB}

const (
	lam     = 0x0644
	tatweel = 0x0640
)

func joiningOf(r rune) joining {
	switch {
	case r == tatweel:
		return joinCausing
	case isArabicMark(r):
		return joinTransparent
	}
	if f, ok := arabicForms[r]; ok {
		return f.join
	}
	return joinNone
}

// isArabicMark reports the Arabic combining marks (harakat, superscript alef).
func isArabicMark(r rune) bool {
	return r >= 0x064B && r <= 0x065F || r == 0x0670 || r >= 0x06D6 && r <= 0x06ED
}

// shapeArabic replaces the Arabic letters of s, in logical order, by their contextual forms: isolated,
// final, initial or medial after the letters around them, and lam followed by alef by one ligature.
// Other characters are left as they are.
func shapeArabic(s string) string {
	in := []rune(s)
	out := make([]rune, 0, len(in))
	// neighbour finds the joining type of the next non-transparent character from i in direction step.
	neighbour := func(i, step int) joining {
		for i += step; i >= 0 && i < len(in); i += step {
			if j := joiningOf(in[i]); j != joinTransparent {
				return j
			}
		}
		return joinNone
	}
	for i := 0; i < len(in); i++ {
		r := in[i]
		f, ok := arabicForms[r]
		if !ok {
			out = append(out, r)
			continue
		}
		prev := neighbour(i, -1)
		joinsBefore := f.join != joinNone && (prev == joinDual || prev == joinCausing)
		if r == lam && i+1 < len(in) {
			if lig, ok := lamAlef[in[i+1]]; ok {
				if joinsBefore {
					lig++ // final
				}
				out = append(out, lig)
				i++
				continue
			}
		}
		next := neighbour(i, 1)
		joinsAfter := f.join == joinDual && (next == joinRight || next == joinDual || next == joinCausing)
		form := f.isolated
		switch {
		case joinsBefore && joinsAfter:
			form += 3 // medial
		case joinsBefore:
			form++ // final
		case joinsAfter:
			form += 2 // initial
		}
		out = append(out, form)
	}
	return string(out)
}

// bidiClass is the part of Unicode's Bidi_Class that the simple reordering tells apart.
type bidiClass uint8

const (
	bidiNeutral   bidiClass = iota // spaces, punctuation, symbols
	bidiLTR                        // strong left-to-right: Latin, Cyrillic, CJK…
	bidiRTL                        // strong right-to-left: Arabic and Hebrew letters
	bidiNumber                     // European and Arabic-Indic digits
	bidiSeparator                  // what joins two numbers into one: 2026/03/02, 09:41, 1.500
	bidiMark                       // combining marks, which go with the character before them
)

func classOf(r rune) bidiClass {
	switch {
	case r >= '0' && r <= '9', r >= 0x0660 && r <= 0x0669, r >= 0x06F0 && r <= 0x06F9:
		return bidiNumber
	case r == '/' || r == ':' || r == '.' || r == ',' || r == 0x066B || r == 0x066C:
		return bidiSeparator
	case isArabicMark(r) || r >= 0x0300 && r <= 0x036F:
		return bidiMark
	case r >= 0x0590 && r <= 0x08FF, r >= 0xFB1D && r <= 0xFDFF, r >= 0xFE70 && r <= 0xFEFF:
		return bidiRTL
	case r >= 'A' && r <= 'Z', r >= 'a' && r <= 'z', r >= 0x00C0 && r <= 0x024F && r != 0x00D7 && r != 0x00F7,
		r >= 0x0370 && r <= 0x058F, r >= 0x2E80 && r <= 0x9FFF, r >= 0xAC00 && r <= 0xD7AF, r >= 0xFF21 && r <= 0xFF5A:
		return bidiLTR
	}
	return bidiNeutral
}

// mirrored are the paired characters that right-to-left text draws mirrored.
var mirrored = map[rune]rune{'(': ')', ')': '(', '[': ']', ']': '[', '{': '}', '}': '{', '<': '>', '>': '<', '«': '»', '»': '«'}

// visualOrder reorders one line from logical to drawing order with a simplified Unicode bidirectional
// algorithm: the line is right-to-left when its first strong character is; Arabic runs read right to
// left and numbers and Latin runs left to right; spaces and punctuation between two runs of one direction
// take it, and otherwise the line's; a separator between digits (09:41, 02/03/2026) stays in its number;
// marks stay after their letter; brackets in right-to-left runs are mirrored. Lines without right-to-left
// characters come back unchanged.
func visualOrder(s string) string {
	in := []rune(s)
	if !slices.ContainsFunc(in, func(r rune) bool { return classOf(r) == bidiRTL }) {
		return s
	}
	// Clusters: a character with the marks after it.
	type cluster struct {
		runes []rune
		class bidiClass
		level int
	}
	var cs []*cluster
	for _, r := range in {
		c := classOf(r)
		if c == bidiMark && len(cs) > 0 {
			last := cs[len(cs)-1]
			last.runes = append(last.runes, r)
			continue
		}
		if c == bidiMark {
			c = bidiNeutral
		}
		cs = append(cs, &cluster{runes: []rune{r}, class: c})
	}
	base := bidiLTR
	for _, c := range cs {
		if c.class == bidiLTR || c.class == bidiRTL {
			base = c.class
			break
		}
	}
	// A separator between two digits belongs to the number (W4); other separators are neutral.
	for i, c := range cs {
		if c.class == bidiSeparator {
			if i > 0 && i+1 < len(cs) && cs[i-1].class == bidiNumber && cs[i+1].class == bidiNumber {
				c.class = bidiNumber
			} else {
				c.class = bidiNeutral
			}
		}
	}
	// Numbers after left-to-right text (or at the start of a left-to-right line) are left-to-right text (W7).
	last := base
	for _, c := range cs {
		switch c.class {
		case bidiLTR, bidiRTL:
			last = c.class
		case bidiNumber:
			if last == bidiLTR {
				c.class = bidiLTR
			}
		}
	}
	// Neutrals between two runs of one direction take it, otherwise the line's (N1, N2); numbers count as
	// right-to-left here.
	strong := func(c bidiClass) bidiClass {
		if c == bidiNumber {
			return bidiRTL
		}
		return c
	}
	for i := 0; i < len(cs); {
		if cs[i].class != bidiNeutral {
			i++
			continue
		}
		j := i
		for j < len(cs) && cs[j].class == bidiNeutral {
			j++
		}
		before, after := base, base
		if i > 0 {
			before = strong(cs[i-1].class)
		}
		if j < len(cs) {
			after = strong(cs[j].class)
		}
		dir := base
		if before == after {
			dir = before
		}
		for k := i; k < j; k++ {
			cs[k].class = dir
		}
		i = j
	}
	// Levels (I1, I2): even is left to right.
	maxLevel := 0
	for _, c := range cs {
		switch {
		case base == bidiLTR && c.class == bidiRTL:
			c.level = 1
		case base == bidiLTR && c.class == bidiNumber:
			c.level = 2
		case base == bidiRTL && (c.class == bidiLTR || c.class == bidiNumber):
			c.level = 2
		case base == bidiRTL:
			c.level = 1
		}
		maxLevel = max(maxLevel, c.level)
	}
	// Reverse every run at or above each level, from the highest down to the lowest odd one (L2).
	for level := maxLevel; level >= 1; level-- {
		for i := 0; i < len(cs); {
			if cs[i].level < level {
				i++
				continue
			}
			j := i
			for j < len(cs) && cs[j].level >= level {
				j++
			}
			slices.Reverse(cs[i:j])
			i = j
		}
	}
	out := make([]rune, 0, len(in))
	for _, c := range cs {
		for _, r := range c.runes {
			if m, ok := mirrored[r]; ok && c.level%2 == 1 {
				r = m
			}
			out = append(out, r)
		}
	}
	return string(out)
}

// printable prepares one logical line of ticket text for gofpdf: shaped, then in drawing order.
func printable(line string) string {
	return visualOrder(shapeArabic(line))
}

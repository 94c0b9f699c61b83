package kiosk

import (
	"encoding/binary"
	"encoding/json"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"testing"
)

// The expected sequences are written from Unicode's Arabic Presentation Forms-B chart, not from the table
// in arabic.go.
func TestShapeArabic(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"isolated reh, initial qaf, medial meem, final kaf", "رقمك", "\uFEAD\uFED7\uFEE4\uFEDA"},
		{"lam-alef alone", "لا", "\uFEFB"},
		{"final lam-alef, then an isolated meem", "سلام", "\uFEB3\uFEFC\uFEE1"},
		{"isolated lam-alef with hamza below", "الإلكترونية",
			"\uFE8D\uFEF9\uFEDF\uFEDC\uFE98\uFEAE\uFEED\uFEE7\uFEF4\uFE94"},
		{"final alef, final teh marbuta", "بطاقة", "\uFE91\uFEC4\uFE8E\uFED7\uFE94"},
		{"isolated lam-alef with hamza above, sad after alef isolated", "الأشخاص", "\uFE8D\uFEF7\uFEB7\uFEA8\uFE8E\uFEB9"},
		{"hamza never joins", "ماء", "\uFEE3\uFE8E\uFE80"},
		{"harakat are transparent", "بَب", "\uFE91\u064E\uFE90"},
		{"tatweel joins", "بـ", "\uFE91\u0640"},
		{"words do not join across a space", "بب بب", "\uFE91\uFE90 \uFE91\uFE90"},
		{"digits and Latin stay", "A023: 4 min", "A023: 4 min"},
		{"joining stops at punctuation", "ب.ب", "\uFE8F.\uFE8F"},
	} {
		if got := shapeArabic(tc.in); got != tc.want {
			t.Errorf("%s: shapeArabic(%q) = %U, want %U", tc.name, tc.in, []rune(got), []rune(tc.want))
		}
	}
}

func TestVisualOrder(t *testing.T) {
	for _, tc := range []struct{ name, in, want string }{
		{"left-to-right text stays", "Sportello 1 – 09:41", "Sportello 1 – 09:41"},
		{"Arabic reads right to left", "ابج", "جبا"},
		{"a number stays left to right", "ابج 125", "125 جبا"},
		{"a colon and space before a number go with the Arabic", "ابج: 4", "4 :جبا"},
		{"a time stays one number", "ابج 09:41", "09:41 جبا"},
		{"a number inside Arabic", "اب 25 جد", "دج 25 با"},
		{"Latin inside Arabic stays left to right", "اب Turno جد", "دج Turno با"},
		{"brackets are mirrored", "اب (جد)", "(دج) با"},
		{"Arabic inside a left-to-right line", "Sala ابج", "Sala جبا"},
		{"a mark stays after its letter", "بَت", "تبَ"},
		{"a final full stop goes to the left end", "ابج.", ".جبا"},
	} {
		if got := visualOrder(tc.in); got != tc.want {
			t.Errorf("%s: visualOrder(%q) = %q, want %q", tc.name, tc.in, got, tc.want)
		}
	}
	// Shaped and reordered: the letters of رقمك in drawing order.
	if got, want := printable("رقمك"), "\uFEDA\uFEE4\uFED7\uFEAD"; got != want {
		t.Errorf("printable(رقمك) = %U, want %U", []rune(got), []rune(want))
	}
}

// TestFontsCoverTheirScripts checks that the embedded fonts have a glyph for every presentation form
// shapeArabic can produce and for every character of the Arabic and Chinese translations.
func TestFontsCoverTheirScripts(t *testing.T) {
	dejaVu, cjk := cmap(t, dejaVuSans), cmap(t, droidSansGB2312)
	t.Logf("DejaVu Sans maps %d characters, the CJK subset %d", len(dejaVu), len(cjk))
	for base, f := range arabicForms {
		n := rune(2)
		switch f.join {
		case joinNone:
			n = 1
		case joinDual:
			n = 4
		}
		for form := f.isolated; form < f.isolated+n; form++ {
			if !dejaVu[form] {
				t.Errorf("DejaVu Sans lacks %U, a form of %U", form, base)
			}
		}
	}
	for _, lig := range lamAlef {
		if !dejaVu[lig] || !dejaVu[lig+1] {
			t.Errorf("DejaVu Sans lacks the lam-alef %U", lig)
		}
	}
	for lang, font := range map[string]map[rune]bool{"ar": dejaVu, "zh": cjk} {
		files, _ := filepath.Glob(filepath.Join("..", "internal", "web", "i18n", "*"+lang+".json"))
		if len(files) == 0 {
			t.Fatalf("no %s translations", lang)
		}
		for _, file := range files {
			b, err := os.ReadFile(file)
			if err != nil {
				t.Fatal(err)
			}
			var keys any
			if err := json.Unmarshal(b, &keys); err != nil {
				t.Fatalf("%s: %v", file, err)
			}
			for key, text := range translations(keys, "") {
				for _, r := range shapeArabic(text) {
					if (lang == "zh" && isCJK(r) || lang == "ar" && r >= 0x0600) && !font[r] {
						t.Errorf("%s %s: no glyph for %q (%U)", filepath.Base(file), key, r, r)
					}
				}
			}
		}
	}
}

// translations gathers the strings of a translation file, by key path, at any depth.
func translations(v any, path string) map[string]string {
	out := map[string]string{}
	switch v := v.(type) {
	case string:
		out[path] = v
	case map[string]any:
		for k, child := range v {
			maps.Copy(out, translations(child, path+"."+k))
		}
	case []any:
		for i, child := range v {
			maps.Copy(out, translations(child, fmt.Sprintf("%s[%d]", path, i)))
		}
	}
	return out
}

// cmap reads the characters a TrueType font maps (its format 4 and 12 subtables).
func cmap(t *testing.T, font []byte) map[rune]bool {
	t.Helper()
	u16 := func(b []byte) int { return int(binary.BigEndian.Uint16(b)) }
	u32 := func(b []byte) int { return int(binary.BigEndian.Uint32(b)) }
	var table []byte
	for i, n := 0, u16(font[4:]); i < n; i++ {
		rec := font[12+16*i:]
		if string(rec[:4]) == "cmap" {
			table = font[u32(rec[8:]) : u32(rec[8:])+u32(rec[12:])]
		}
	}
	if table == nil {
		t.Fatal("no cmap table")
	}
	chars := map[rune]bool{}
	for i, n := 0, u16(table[2:]); i < n; i++ {
		sub := table[u32(table[8+8*i:]):]
		switch u16(sub) {
		case 4:
			segs := u16(sub[6:]) / 2
			ends, starts := sub[14:], sub[16+2*segs:]
			deltas, offsets := sub[16+4*segs:], sub[16+6*segs:]
			for s := 0; s < segs; s++ {
				start, end := u16(starts[2*s:]), u16(ends[2*s:])
				for c := start; c <= end && c != 0xFFFF; c++ {
					glyph := (c + u16(deltas[2*s:])) & 0xFFFF
					if ro := u16(offsets[2*s:]); ro != 0 {
						at := 2*s + ro + 2*(c-start)
						glyph = u16(offsets[at:])
						if glyph != 0 {
							glyph = (glyph + u16(deltas[2*s:])) & 0xFFFF
						}
					}
					if glyph != 0 {
						chars[rune(c)] = true
					}
				}
			}
		case 12:
			for g, groups := 0, u32(sub[12:]); g < groups; g++ {
				grp := sub[16+12*g:]
				for c := u32(grp); c <= u32(grp[4:]); c++ {
					chars[rune(c)] = true
				}
			}
		}
	}
	if len(chars) == 0 {
		t.Fatal("no characters in the cmap")
	}
	return chars
}

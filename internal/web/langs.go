package web

// CitizenLangs are the languages citizens are served in at the kiosk, on the phone page and on the
// printed ticket, Italian first. The catalogue's texts (service names, what to bring, priority labels)
// may be given in each; a language without its own text shows the Italian one.
var CitizenLangs = []Language{
	{"it", "Italiano"}, {"en", "English"}, {"fr", "Français"}, {"es", "Español"}, {"ro", "Română"},
	{"sq", "Shqip"}, {"ar", "العربية"}, {"zh", "中文"}, {"uk", "Українська"},
}

// IsCitizenLang reports whether lang is one of CitizenLangs.
func IsCitizenLang(lang string) bool {
	for _, l := range CitizenLangs {
		if l.Code == lang {
			return true
		}
	}
	return false
}

package ticketing

import (
	"fmt"

	"turno/internal/web"
)

// centsInput writes euro cents as a form's number input takes them, "28.50".
func centsInput(cents int64) string { return fmt.Sprintf("%d.%02d", cents/100, cents%100) }

// HourlyCostEuro is the office's default hourly cost as the settings form shows it, "28.00".
func (o *Office) HourlyCostEuro() string { return centsInput(int64(o.HourlyCostCents)) }

// MonthlyEuro is the agency's monthly contribution as the catalogue's form shows it, "1500.00".
func (a *Agency) MonthlyEuro() string { return centsInput(a.ContributionMonthlyCents) }

// PerTicketEuro is the agency's contribution per ticket as the catalogue's form shows it, "2.50".
func (a *Agency) PerTicketEuro() string { return centsInput(a.ContributionPerTicketCents) }

// ContributionText is the agency's agreed contribution as the catalogue lists it in lang, e.g.
// "1.500,00 € / mese + 2,50 € / biglietto".
func (a *Agency) ContributionText(lang string) string {
	return web.FormatEuro(lang, a.ContributionMonthlyCents) + " " + web.Translate(lang, "manage.catalogue.per_month") + " + " +
		web.FormatEuro(lang, a.ContributionPerTicketCents) + " " + web.Translate(lang, "manage.catalogue.per_ticket")
}

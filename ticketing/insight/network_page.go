package insight

import (
	"embed"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/go-chi/chi/v5"

	"turno/internal/auth"
	"turno/internal/web"
	"turno/ticketing"
)

//go:embed templates/network.html
var networkTemplates embed.FS

var networkPageT = web.ManagePage(networkTemplates, "templates/network.html")

// networkPage mounts /manage/network: the comparison of a month for administrators of every office.
func (h *Handler) networkPage(r chi.Router) {
	r.With(auth.RequirePage).Get("/manage/network", h.Tickets.ManageHandler(networkPageT, "network", h.networkData))
}

// networkView is the network page's data: the month shown, its neighbours, the comparison laid out as
// rows of cells, and the export links of the managed office.
type networkView struct {
	Month      string // YYYY-MM
	MonthTitle string
	Prev, Next string
	Columns    []networkColumn
	Rows       []networkRow
	Median     []string
	ExportJSON string
	ExportCSV  string
}

// networkColumn is a KPI of the table: its label key, its unit key and which way is better.
type networkColumn struct {
	Key    string
	Better Better
}

// networkRow is one office of the table.
type networkRow struct {
	Installation string
	Label        string
	Local        bool
	Cells        []networkCell
}

// networkCell is one figure and its rank ("" when not ranked).
type networkCell struct {
	Value string
	Rank  string
	Best  bool
}

func (h *Handler) networkData(r *http.Request, o *ticketing.Office) (any, error) {
	if err := networkAdmin(r); err != nil {
		return nil, err
	}
	lang := web.RequestLang(r, web.StaffLangs)
	month := time.Date(time.Now().Year(), time.Now().Month(), 1, 0, 0, 0, 0, time.UTC).AddDate(0, -1, 0) // the last whole month
	if q := r.URL.Query().Get("month"); q != "" {
		m, err := ParseMonth(q)
		if err != nil {
			return nil, err
		}
		month = m
	}
	c, err := h.Store.Network(r.Context(), InstallationOf(web.BaseURL(r)), month)
	if err != nil {
		return nil, err
	}
	m := month.Format("2006-01")
	v := &networkView{Month: m, MonthTitle: web.FormatMonthYear(lang, month),
		Prev: month.AddDate(0, -1, 0).Format("2006-01"), Next: month.AddDate(0, 1, 0).Format("2006-01"),
		ExportJSON: "/api/v1/offices/" + o.Slug + "/export?month=" + m,
		ExportCSV:  "/api/v1/offices/" + o.Slug + "/export.csv?month=" + m}
	for _, k := range c.KPIs {
		v.Columns = append(v.Columns, networkColumn(k))
		v.Median = append(v.Median, formatKPI(lang, k.Key, c.Median[k.Key]))
	}
	for _, of := range c.Offices {
		row := networkRow{Installation: of.Installation, Label: of.Label, Local: of.Local}
		for _, k := range c.KPIs {
			cell := networkCell{Value: formatKPI(lang, k.Key, of.Values[k.Key])}
			if rk := of.Ranks[k.Key]; rk != nil {
				cell.Rank, cell.Best = strconv.Itoa(*rk), *rk == 1
			}
			row.Cells = append(row.Cells, cell)
		}
		v.Rows = append(v.Rows, row)
	}
	return v, nil
}

// formatKPI writes a figure for the page: seconds as minutes with one decimal, shares and means with
// the language's decimal mark, "–" for none.
func formatKPI(lang, key string, v *float64) string {
	if v == nil {
		return "–"
	}
	x, prec := *v, 1
	switch {
	case strings.HasSuffix(key, "_seconds"):
		x /= 60
	case key == "arrivals" || key == "served":
		prec = 0
	case key == "feedback_mean":
		prec = 2
	}
	s := strconv.FormatFloat(x, 'f', prec, 64)
	if lang != "en" {
		s = strings.Replace(s, ".", ",", 1)
	}
	return s
}

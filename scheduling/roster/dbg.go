package roster

import "fmt"

func DebugPlans(m *Model) string {
	p := compile(m)
	s := ""
	for e := range p.nstaff {
		rs := p.newRowSolver(e)
		l := 0
		if rs.loose != nil {
			l = rs.loose.nstates
		}
		s += fmt.Sprintf(" %d/%d%v", rs.full.nstates, l, rs.full.dims)
		if e > 6 {
			break
		}
	}
	return s
}

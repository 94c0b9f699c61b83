package roster

import "time"

// problem is the model compiled into flat tables for the solver. Cell
// values are shifted by one so that 0 means off and s+1 means shift type s;
// every table indexed by a value has nv = len(Shifts)+1 entries.
type problem struct {
	m      *Model
	days   int
	nstaff int
	nv     int

	// minutes[v] is the duration of value v (0 for off).
	minutes []int
	// cellCost[e][d*nv+v] is the cost of the requests and reference changes
	// when staff member e takes value v on day d.
	cellCost [][]int32
	// allowed[e][d*nv+v] is false when value v on day d breaks a hard
	// constraint by itself (unavailable day, shift type capped at zero).
	allowed [][]bool
	// succOK[e][a*nv+b] is false when value b may not follow value a on the
	// next day (forbidden succession or too little rest).
	succOK [][]bool
	// coverAt[(d*nv+v)] lists the covers a staff member on value v on day d
	// may count toward; coverSkill says which skill each needs (-1: none).
	coverAt    [][]int32
	coverSkill []int
	// skills[e][k] reports whether staff member e holds skill k.
	skills [][]bool
	// weekend[d] identifies the weekend of day d (-1 on weekdays);
	// saturday[d] reports whether d is a Saturday.
	weekend  []int
	saturday []bool
	// balanceDay[b][d] and balanceVal[b][v] select what balance term b counts.
	balanceDay [][]bool
	balanceVal [][]bool
	// hardWeight converts one unit of hard violation into objective units;
	// it exceeds any soft gain a single move can make.
	hardWeight int64
}

func compile(m *Model) *problem {
	nv := len(m.Shifts) + 1
	p := &problem{m: m, days: m.Days, nstaff: len(m.Staff), nv: nv}
	p.minutes = make([]int, nv)
	for s, sh := range m.Shifts {
		p.minutes[s+1] = sh.Duration
	}

	skillID := map[string]int{}
	p.coverSkill = make([]int, len(m.Cover))
	p.coverAt = make([][]int32, m.Days*nv)
	maxCoverWeight := 0
	for i, c := range m.Cover {
		p.coverSkill[i] = -1
		if c.Skill != "" {
			if _, ok := skillID[c.Skill]; !ok {
				skillID[c.Skill] = len(skillID)
			}
			p.coverSkill[i] = skillID[c.Skill]
		}
		for _, s := range c.Shifts {
			k := c.Day*nv + s + 1
			p.coverAt[k] = append(p.coverAt[k], int32(i))
		}
		maxCoverWeight = max(maxCoverWeight, c.WeightUnder+c.WeightBelowMin, c.WeightOver)
	}
	p.skills = make([][]bool, p.nstaff)
	for e, st := range m.Staff {
		p.skills[e] = make([]bool, len(skillID))
		for _, k := range st.Skills {
			if id, ok := skillID[k]; ok {
				p.skills[e][id] = true
			}
		}
	}

	p.weekend = make([]int, m.Days)
	p.saturday = make([]bool, m.Days)
	for d := range m.Days {
		p.weekend[d] = m.weekendOf(d)
		p.saturday[d] = m.Weekday(d) == time.Saturday
	}

	p.cellCost = make([][]int32, p.nstaff)
	p.allowed = make([][]bool, p.nstaff)
	p.succOK = make([][]bool, p.nstaff)
	maxRequest := 0
	for e, st := range m.Staff {
		cc := make([]int32, m.Days*nv)
		al := make([]bool, m.Days*nv)
		for i := range al {
			al[i] = true
		}
		for _, d := range st.Unavailable {
			for v := 1; v < nv; v++ {
				al[d*nv+v] = false
			}
		}
		if st.MaxShifts != nil {
			for s, limit := range st.MaxShifts {
				if limit == 0 {
					for d := range m.Days {
						al[d*nv+s+1] = false
					}
				}
			}
		}
		if m.Reference != nil {
			for d, ref := range m.Reference[e] {
				for v := range nv {
					if v != ref+1 {
						cc[d*nv+v] += int32(m.ChangeWeight)
					}
				}
			}
		}
		p.cellCost[e] = cc
		p.allowed[e] = al

		ok := make([]bool, nv*nv)
		for a := range nv {
			for b := range nv {
				ok[a*nv+b] = a == 0 || b == 0 || succeeds(m.Shifts[a-1], b-1, m.Shifts[b-1], st.MinRest)
			}
		}
		p.succOK[e] = ok
	}
	for _, q := range m.Requests {
		cc := p.cellCost[q.Staff]
		for v := range nv {
			if !requestGranted(q, v-1) {
				cc[q.Day*nv+v] += int32(q.Weight)
			}
		}
		maxRequest = max(maxRequest, q.Weight)
	}

	p.balanceDay = make([][]bool, len(m.Balance))
	p.balanceVal = make([][]bool, len(m.Balance))
	for i, b := range m.Balance {
		days := make([]bool, m.Days)
		for d := range days {
			days[d] = b.Days == nil
		}
		for _, d := range b.Days {
			days[d] = true
		}
		vals := make([]bool, nv)
		for v := 1; v < nv; v++ {
			vals[v] = b.Shifts == nil
		}
		for _, s := range b.Shifts {
			vals[s+1] = true
		}
		p.balanceDay[i], p.balanceVal[i] = days, vals
	}

	p.hardWeight = int64(1000 + 10*(maxCoverWeight+maxRequest+m.ChangeWeight))
	return p
}

// succeeds reports whether shift b (index bi) may be worked the day after
// shift a by someone needing minRest minutes of rest.
func succeeds(a Shift, bi int, b Shift, minRest int) bool {
	return !contains(a.ForbiddenNext, bi) && 1440+b.Start-a.End() >= minRest
}

// counts reports whether staff member e holds the skill cover c asks for,
// so that working one of its shift types counts toward it.
func (p *problem) counts(e int, c int32) bool {
	k := p.coverSkill[c]
	return k < 0 || p.skills[e][k]
}

// coverCounts sets n[c], for every cover c, to the number of staff members
// roster x (cells e·days+d) counts toward it.
func (p *problem) coverCounts(x []int16, n []int32) {
	clear(n)
	for i, v := range x {
		if v > 0 {
			for _, c := range p.coverAt[(i%p.days)*p.nv+int(v)] {
				if p.counts(i/p.days, c) {
					n[c]++
				}
			}
		}
	}
}

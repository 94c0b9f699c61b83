package roster

// state is a roster under local search with its score kept up to date
// incrementally: coverage counts per cover, and per staff row the cell
// costs, the hard-violation units and the balance cost. A move changes a
// few cells with set and then calls refresh on each row it touched.
type state struct {
	p   *problem
	x   []int16 // x[e*days+d] is the value (0 off, s+1 shift s)
	cov []int32 // staff counted per cover

	rowCell []int64 // Σ cellCost over the row
	rowHard []int64 // hard-violation units of the row
	rowBal  []int64 // balance cost of the row

	coverCost int64
	soft      int64 // coverCost + Σ rowCell + Σ rowBal
	hard      int64 // Σ rowHard

	scratch []int32
}

func newState(p *problem) *state {
	s := &state{
		p:       p,
		x:       make([]int16, p.nstaff*p.days),
		cov:     make([]int32, len(p.m.Cover)),
		rowCell: make([]int64, p.nstaff),
		rowHard: make([]int64, p.nstaff),
		rowBal:  make([]int64, p.nstaff),
		scratch: make([]int32, p.nv),
	}
	for i := range p.m.Cover {
		s.coverCost += int64(p.m.Cover[i].Cost(0))
	}
	s.soft = s.coverCost
	for e := range p.nstaff {
		for d := range p.days {
			c := int64(p.cellCost[e][d*p.nv])
			s.rowCell[e] += c
			s.soft += c
		}
		s.refresh(e)
	}
	return s
}

// score is the penalised objective the search minimises.
func (s *state) score() int64 { return s.hard*s.p.hardWeight + s.soft }

func (s *state) row(e int) []int16 { return s.x[e*s.p.days : (e+1)*s.p.days] }

// set gives staff member e value v on day d, updating coverage and cell
// costs. The row's hard units and balance stay stale until refresh(e).
func (s *state) set(e, d int, v int16) {
	p := s.p
	i := e*p.days + d
	old := s.x[i]
	if old == v {
		return
	}
	s.x[i] = v
	cc := p.cellCost[e]
	dc := int64(cc[d*p.nv+int(v)] - cc[d*p.nv+int(old)])
	s.rowCell[e] += dc
	s.soft += dc
	for _, c := range p.coverAt[d*p.nv+int(old)] {
		if p.counts(e, c) {
			s.bump(c, -1)
		}
	}
	for _, c := range p.coverAt[d*p.nv+int(v)] {
		if p.counts(e, c) {
			s.bump(c, +1)
		}
	}
}

func (s *state) bump(c int32, by int32) {
	cv := &s.p.m.Cover[c]
	n := s.cov[c]
	dc := int64(cv.Cost(int(n+by)) - cv.Cost(int(n)))
	s.cov[c] = n + by
	s.coverCost += dc
	s.soft += dc
}

// marginal returns the change in cover cost if staff member e, currently
// off on day d, took value v.
func (s *state) marginal(e, d, v int) int64 {
	p := s.p
	var dc int64
	for _, c := range p.coverAt[d*p.nv+v] {
		if p.counts(e, c) {
			cv := &p.m.Cover[c]
			n := int(s.cov[c])
			dc += int64(cv.Cost(n+1) - cv.Cost(n))
		}
	}
	return dc
}

// refresh recomputes the hard units and balance cost of row e.
func (s *state) refresh(e int) {
	h, b := s.p.rowScore(e, s.row(e), s.scratch)
	s.hard += h - s.rowHard[e]
	s.soft += b - s.rowBal[e]
	s.rowHard[e], s.rowBal[e] = h, b
}

// restore sets the hard units and balance cost of row e to values known
// to be right, e.g. saved before a move that was then undone.
func (s *state) restore(e int, hard, bal int64) {
	s.hard += hard - s.rowHard[e]
	s.soft += bal - s.rowBal[e]
	s.rowHard[e], s.rowBal[e] = hard, bal
}

// load replaces the whole roster with x.
func (s *state) load(x []int16) {
	p := s.p
	for e := range p.nstaff {
		for d := range p.days {
			s.set(e, d, x[e*p.days+d])
		}
		s.refresh(e)
	}
}

// rowScore returns the hard-violation units and the balance cost of staff
// member e's row. Minutes count in started hours, everything else in the
// natural unit of its limit.
func (p *problem) rowScore(e int, row []int16, counts []int32) (hard, balance int64) {
	st := &p.m.Staff[e]
	nv := p.nv
	al := p.allowed[e]
	ok := p.succOK[e]
	clear(counts)
	minutes := 0
	prev := int16(0)
	run := 0      // length of the current run
	runStart := 0 // first day of the current run
	weekends, sats := 0, 0
	lastWeekend := -1 // last weekend already counted
	for d, v := range row {
		counts[v]++
		minutes += p.minutes[v]
		if v != 0 {
			if !al[d*nv+int(v)] {
				hard++
			}
			if !ok[int(prev)*nv+int(v)] {
				hard++
			}
			if w := p.weekend[d]; w >= 0 && w != lastWeekend {
				weekends++
				lastWeekend = w
			}
			if p.saturday[d] {
				sats++
			}
		}
		if d > 0 && (v == 0) != (prev == 0) {
			hard += p.runPenalty(st, prev != 0, run, runStart == 0, false)
			run, runStart = 0, d
		}
		run++
		prev = v
	}
	hard += p.runPenalty(st, prev != 0, run, runStart == 0, true)

	if st.MaxShifts != nil {
		for s, limit := range st.MaxShifts {
			if limit > 0 && int(counts[s+1]) > limit {
				hard += int64(int(counts[s+1]) - limit)
			}
		}
	}
	if minutes < st.MinMinutes {
		hard += int64((st.MinMinutes - minutes + 59) / 60)
	}
	if st.MaxMinutes != Unlimited && minutes > st.MaxMinutes {
		hard += int64((minutes - st.MaxMinutes + 59) / 60)
	}
	if st.MaxWeekends != Unlimited && weekends > st.MaxWeekends {
		hard += int64(weekends - st.MaxWeekends)
	}
	if st.MaxSaturdays != Unlimited && sats > st.MaxSaturdays {
		hard += int64(sats - st.MaxSaturdays)
	}

	for b, term := range p.m.Balance {
		n := int64(0)
		days, vals := p.balanceDay[b], p.balanceVal[b]
		for d, v := range row {
			if vals[v] && days[d] {
				n++
			}
		}
		balance += int64(term.Weight) * n * n
	}
	return hard, balance
}

// runPenalty returns the hard units of one maximal run of n working days
// (or days off) that touches the start or the end of the horizon as told.
func (p *problem) runPenalty(st *Staff, working bool, n int, atStart, atEnd bool) int64 {
	edge := atStart || atEnd
	switch {
	case working && st.MaxConsecutive != Unlimited && n > st.MaxConsecutive:
		return int64(n - st.MaxConsecutive)
	case working && !edge && n < st.MinConsecutive:
		return int64(st.MinConsecutive - n)
	case !working && !edge && n < st.MinConsecutiveOff:
		return int64(st.MinConsecutiveOff - n)
	}
	return 0
}

// cellSum returns the cell costs (requests, reference changes) of staff
// member e's row.
func (p *problem) cellSum(e int, row []int16) int64 {
	cc := p.cellCost[e]
	var sum int64
	for d, v := range row {
		sum += int64(cc[d*p.nv+int(v)])
	}
	return sum
}

// rowCost returns the row-local part of the objective of staff member e's
// row, its cell costs plus its balance cost, and false when the row
// breaks a hard constraint.
func (p *problem) rowCost(e int, row []int16, scratch []int32) (int64, bool) {
	hard, bal := p.rowScore(e, row, scratch)
	return p.cellSum(e, row) + bal, hard == 0
}

package roster

import (
	"fmt"
	"slices"
	"strings"
)

// rowPlan is the state space of the dynamic program that re-optimises one
// staff member's row while the other rows stay fixed. Every hard constraint
// is local to the row, so the program finds a cheapest feasible row for
// given per-cell costs. A state after day d holds:
//
//   - last: 0 if day d is off, else the class of its shift type (shift
//     types with the same succession rules and no tracked cap share a class);
//   - run: the length of the current run of working days or days off,
//     capped where the exact length no longer matters;
//   - the minutes worked so far, in units of the gcd of the durations;
//   - the weekends and Saturdays worked so far, when capped;
//   - how often each tightly capped shift type was worked.
//
// A run touches day 0 exactly when its length is d+1, so the edge exemption
// of the minimum run rules needs no extra state.
type rowPlan struct {
	e     int
	nv    int
	class []int // class[v]: 0 for off, 1..nclass for shifts, -1 if never allowed
	repr  []int // repr[c]: a value of class c

	workCap, offCap int
	exactMaxRun     bool // the work-run cap is MaxConsecutive itself
	minRun, minOff  int

	unit     int   // minutes per unit
	units    []int // units[v]: duration of v in units
	minUnits int   // MinMinutes in units, rounded up
	exactMax bool  // the top unit value is MaxMinutes itself (not a saturation cap)
	// maxMore[d] bounds the units that can still be worked after day d; a
	// state that cannot reach minUnits even so is dropped early.
	maxMore []int

	trackWeekends, trackSaturdays bool
	counter                       []int // counter[v]: index of v's counted cap, or -1
	counterLimit                  []int

	// dims and strides of the mixed-radix state index; field order is
	// last, run-1, minutes, weekends, saturdays, counters...
	dims    []int
	strides []int
	nstates int
	// fields[s*len(dims)+i] is field i of state s, decoded in advance.
	fields []uint16
	// complete is false when some caps could not be tracked within the
	// state budget; rows must then be checked before use.
	complete bool
}

// maxDPCells bounds states × days of one row program; it keeps the
// back-pointer tables of a program within a few tens of megabytes.
const maxDPCells = 6_000_000

// planRow builds the dynamic program for staff member e, or returns nil
// when its state space would exceed the budget. With trackCaps false it
// tracks no per-shift-type cap, which makes the program much smaller; the
// caller must then check the caps of the row it returns.
func (p *problem) planRow(e int, trackCaps bool) *rowPlan {
	st := &p.m.Staff[e]
	nv, days := p.nv, p.days
	pl := &rowPlan{e: e, nv: nv, minRun: st.MinConsecutive, minOff: st.MinConsecutiveOff, complete: true}

	usable := make([]int, nv) // days on which v is allowed
	for v := 1; v < nv; v++ {
		for d := range days {
			if p.allowed[e][d*nv+v] {
				usable[v]++
			}
		}
	}

	if st.MaxConsecutive == 0 || st.MaxMinutes == 0 {
		clear(usable) // the staff member may not work at all
	}

	pl.offCap = max(1, st.MinConsecutiveOff)
	if st.MaxConsecutive != Unlimited && st.MaxConsecutive < days {
		pl.workCap, pl.exactMaxRun = max(1, st.MaxConsecutive), true
	} else {
		pl.workCap = max(1, st.MinConsecutive)
	}

	for v := 1; v < nv; v++ {
		if usable[v] > 0 {
			pl.unit = gcd(pl.unit, p.minutes[v])
		}
	}
	pl.units = make([]int, nv)
	unitDim := 1
	switch {
	case pl.unit == 0:
	case st.MaxMinutes != Unlimited:
		unitDim = st.MaxMinutes/pl.unit + 1
		pl.exactMax = true
	case st.MinMinutes > 0:
		unitDim = (st.MinMinutes+pl.unit-1)/pl.unit + 1
	}
	if pl.unit > 0 && (pl.exactMax || st.MinMinutes > 0) {
		for v := 1; v < nv; v++ {
			pl.units[v] = p.minutes[v] / pl.unit
		}
		pl.minUnits = (st.MinMinutes + pl.unit - 1) / pl.unit
	}
	pl.maxMore = maxMoreUnits(pl, usable, days, st)

	weekendDim, satDim := 1, 1
	nWeekends, nSats := countWeekends(p)
	if st.MaxWeekends != Unlimited && st.MaxWeekends < nWeekends {
		weekendDim, pl.trackWeekends = st.MaxWeekends+1, true
	}
	if st.MaxSaturdays != Unlimited && st.MaxSaturdays < nSats {
		satDim, pl.trackSaturdays = st.MaxSaturdays+1, true
	}

	// Caps that can bind, tightest first; tracked while the budget allows.
	pl.counter = make([]int, nv)
	for v := range pl.counter {
		pl.counter[v] = -1
	}
	var capped []int
	if st.MaxShifts != nil && trackCaps {
		for v := 1; v < nv; v++ {
			if limit := st.MaxShifts[v-1]; limit > 0 && limit < usable[v] {
				capped = append(capped, v)
			}
		}
	}
	slices.SortStableFunc(capped, func(a, b int) int { return st.MaxShifts[a-1] - st.MaxShifts[b-1] })

	// Classes depend on which caps are tracked, and the state count on the
	// classes, so add caps one at a time while the budget allows.
	runDim := max(pl.workCap, pl.offCap)
	size := func(tracked []int) int {
		pl.buildClasses(p, usable, tracked)
		n := len(pl.repr) * runDim * unitDim * weekendDim * satDim
		for _, v := range tracked {
			n *= st.MaxShifts[v-1] + 1
		}
		return n * days
	}
	if size(nil) > maxDPCells {
		return nil
	}
	var tracked []int
	for _, v := range capped {
		if size(append(tracked, v)) > maxDPCells {
			break
		}
		tracked = append(tracked, v)
	}
	pl.buildClasses(p, usable, tracked)
	pl.complete = len(tracked) == len(capped) && (trackCaps || !p.hasBindingCap(e, usable))
	pl.counterLimit = nil
	for i, v := range tracked {
		pl.counter[v] = i
		pl.counterLimit = append(pl.counterLimit, st.MaxShifts[v-1])
	}

	pl.dims = []int{len(pl.repr), runDim, unitDim, weekendDim, satDim}
	for _, l := range pl.counterLimit {
		pl.dims = append(pl.dims, l+1)
	}
	pl.strides = make([]int, len(pl.dims))
	pl.nstates = 1
	for i, d := range pl.dims {
		pl.strides[i] = pl.nstates
		pl.nstates *= d
	}
	nf := len(pl.dims)
	pl.fields = make([]uint16, pl.nstates*nf)
	for si := range pl.nstates {
		rest := si
		for i, dim := range pl.dims {
			pl.fields[si*nf+i] = uint16(rest % dim)
			rest /= dim
		}
	}
	return pl
}

// maxMoreUnits returns, for each day d, an upper bound on the units a row
// can add after day d: no more working days than the densest pattern of
// maximal work runs separated by minimal rests, each at the longest shift.
func maxMoreUnits(pl *rowPlan, usable []int, days int, st *Staff) []int {
	longest := 0
	for v, n := range usable {
		if n > 0 {
			longest = max(longest, pl.units[v])
		}
	}
	run, rest := days, 0
	if st.MaxConsecutive != Unlimited {
		run, rest = st.MaxConsecutive, max(1, st.MinConsecutiveOff)
	}
	more := make([]int, days)
	for d := range days {
		k := days - 1 - d
		work := k
		if run < days {
			work = k/(run+rest)*run + min(k%(run+rest), run)
		}
		more[d] = work * longest
	}
	return more
}

// hasBindingCap reports whether some per-shift-type cap of staff member e
// could be exceeded, given on how many days each value is usable.
func (p *problem) hasBindingCap(e int, usable []int) bool {
	st := &p.m.Staff[e]
	if st.MaxShifts == nil {
		return false
	}
	for v := 1; v < p.nv; v++ {
		if limit := st.MaxShifts[v-1]; limit > 0 && limit < usable[v] {
			return true
		}
	}
	return false
}

// rowSolver re-optimises one staff member's row: it first runs the small
// program that ignores per-shift-type caps and falls back to the one that
// tracks them only when the row found breaks a cap.
type rowSolver struct {
	loose, full *rowPlan
}

// newRowSolvers returns a row solver for every staff member.
func (p *problem) newRowSolvers() []rowSolver {
	rows := make([]rowSolver, p.nstaff)
	for e := range rows {
		rows[e] = p.newRowSolver(e)
	}
	return rows
}

func (p *problem) newRowSolver(e int) rowSolver {
	rs := rowSolver{full: p.planRow(e, true)}
	if rs.full != nil && len(rs.full.counterLimit) > 0 {
		rs.loose = p.planRow(e, false)
	}
	return rs
}

// solve is rowPlan.solve with the fallback described at rowSolver. The
// row it returns may still break a cap when even the full program could
// not track them all; the exact score then rejects it.
func (rs rowSolver) solve(p *problem, cost []int32, fix cellFix, sc *dpScratch, out []int16) (work int, ok bool) {
	if rs.loose != nil {
		w, ok := rs.loose.solve(p, cost, fix, sc, out)
		work += w
		if !ok || p.capsHold(rs.loose.e, out) {
			return work, ok
		}
	}
	if rs.full == nil {
		return work, false
	}
	w, ok := rs.full.solve(p, cost, fix, sc, out)
	return work + w, ok
}

// capsHold reports whether row respects staff member e's per-shift-type caps.
func (p *problem) capsHold(e int, row []int16) bool {
	st := &p.m.Staff[e]
	if st.MaxShifts == nil {
		return true
	}
	for s, limit := range st.MaxShifts {
		if limit == Unlimited || limit >= len(row) {
			continue
		}
		n := 0
		for _, v := range row {
			if int(v) == s+1 {
				n++
			}
		}
		if n > limit {
			return false
		}
	}
	return true
}

// buildClasses groups the usable shift types into classes of values that
// behave alike in the program: same successors, same predecessors, and no
// tracked cap (each tracked value gets a class of its own).
func (pl *rowPlan) buildClasses(p *problem, usable []int, tracked []int) {
	nv := pl.nv
	ok := p.succOK[pl.e]
	pl.class = make([]int, nv)
	pl.repr = []int{0}
	keys := map[string]int{}
	for v := 1; v < nv; v++ {
		if usable[v] == 0 {
			pl.class[v] = -1
			continue
		}
		var b strings.Builder
		for w := 1; w < nv; w++ {
			b.WriteByte(boolByte(ok[v*nv+w]))
			b.WriteByte(boolByte(ok[w*nv+v]))
		}
		if slices.Contains(tracked, v) {
			fmt.Fprintf(&b, "#%d", v)
		}
		key := b.String()
		c, seen := keys[key]
		if !seen {
			c = len(pl.repr)
			keys[key] = c
			pl.repr = append(pl.repr, v)
		}
		pl.class[v] = c
	}
}

func boolByte(b bool) byte {
	if b {
		return '1'
	}
	return '0'
}

func countWeekends(p *problem) (weekends, saturdays int) {
	seen := map[int]bool{}
	for d := range p.days {
		if w := p.weekend[d]; w >= 0 {
			seen[w] = true
		}
		if p.saturday[d] {
			saturdays++
		}
	}
	return len(seen), saturdays
}

func gcd(a, b int) int {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

// dpScratch holds the reusable buffers of the row program.
type dpScratch struct {
	cur, next   []int32
	curR, nextR []int32 // reachable state indices of cur and next
	pred        []int32 // pred[d*nstates+s]: state on day d-1
	choice      []int16 // choice[d*nstates+s]: value on day d
	vals        []int   // the values a day may take
}

const infCost = int32(1 << 30)

// cellFix restricts the cells of a row: it forces value v on day day (a
// day of -1 forces nothing), and ban, when not nil, lists further cells
// d*nv+v the row may not use.
type cellFix struct {
	day int
	v   int
	ban []bool
}

// noFix forces no cell.
var noFix = cellFix{day: -1}

// solve fills out with a cheapest feasible row for the per-cell costs
// cost[d*nv+v] that has the value fix asks for, and returns the work done
// (states expanded times values tried). It returns ok=false when no such
// feasible row exists.
func (pl *rowPlan) solve(p *problem, cost []int32, fix cellFix, sc *dpScratch, out []int16) (work int, ok bool) {
	nv, days, ns := pl.nv, p.days, pl.nstates
	st := &p.m.Staff[pl.e]
	if cap(sc.cur) < ns {
		sc.cur = make([]int32, ns)
		sc.next = make([]int32, ns)
		for i := range sc.cur {
			sc.cur[i], sc.next[i] = infCost, infCost
		}
	}
	sc.cur, sc.next = sc.cur[:ns], sc.next[:ns]
	if cap(sc.pred) < ns*days {
		sc.pred = make([]int32, ns*days)
		sc.choice = make([]int16, ns*days)
	}
	nf := len(pl.dims)
	allowed := p.allowed[pl.e]
	succ := p.succOK[pl.e]
	unitTop := pl.dims[2] - 1

	vals := sc.vals[:0]
	// Before day 0: an endless run of days off, nothing worked yet.
	start := (pl.offCap - 1) * pl.strides[1]
	sc.cur[start] = 0
	sc.curR = append(sc.curR[:0], int32(start))

	for d := range days {
		sc.nextR = sc.nextR[:0]
		newWeekend := p.weekend[d] >= 0 && (d == 0 || p.weekend[d-1] != p.weekend[d])
		// The values this day may take.
		vals = vals[:0]
		for v := range nv {
			if pl.class[v] < 0 || (v > 0 && !allowed[d*nv+v]) || (d == fix.day && v != fix.v) ||
				(fix.ban != nil && fix.ban[d*nv+v]) {
				continue
			}
			vals = append(vals, v)
		}
		// Scan densely populated layers in index order, which keeps the
		// memory accesses sequential; sparse ones through their list.
		dense := len(sc.curR)*4 > ns
		n := len(sc.curR)
		if dense {
			n = ns
		}
		for i := range n {
			si := int32(i)
			if !dense {
				si = sc.curR[i]
			} else if sc.cur[i] == infCost {
				continue
			}
			base := sc.cur[si]
			f := pl.fields[int(si)*nf : int(si)*nf+nf]
			last, run := int(f[0]), int(f[1])+1
			for _, v := range vals {
				cls := pl.class[v]
				work++
				idx := int(si)
				if v == 0 {
					if int(f[2])+pl.maxMore[d] < pl.minUnits {
						continue
					}
					if last > 0 {
						if run < pl.minRun && run != d {
							continue
						}
						idx += -last*pl.strides[0] - (run-1)*pl.strides[1]
					} else if run < pl.offCap {
						idx += pl.strides[1]
					}
				} else {
					if last == 0 {
						if run < pl.minOff && run != d {
							continue
						}
						idx += cls*pl.strides[0] - (run-1)*pl.strides[1]
					} else {
						if !succ[pl.repr[last]*nv+v] {
							continue
						}
						idx += (cls - last) * pl.strides[0]
						switch {
						case run < pl.workCap:
							idx += pl.strides[1]
						case pl.exactMaxRun:
							continue
						}
					}
					if u := pl.units[v]; u > 0 {
						nu := int(f[2]) + u
						if nu > unitTop {
							if pl.exactMax {
								continue
							}
							nu = unitTop
						}
						if nu+pl.maxMore[d] < pl.minUnits {
							continue
						}
						idx += (nu - int(f[2])) * pl.strides[2]
					} else if int(f[2])+pl.maxMore[d] < pl.minUnits {
						continue
					}
					if pl.trackWeekends && (newWeekend || (p.weekend[d] >= 0 && last == 0)) {
						if int(f[3])+1 >= pl.dims[3] {
							continue
						}
						idx += pl.strides[3]
					}
					if pl.trackSaturdays && p.saturday[d] {
						if int(f[4])+1 >= pl.dims[4] {
							continue
						}
						idx += pl.strides[4]
					}
					if k := pl.counter[v]; k >= 0 {
						if int(f[5+k])+1 >= pl.dims[5+k] {
							continue
						}
						idx += pl.strides[5+k]
					}
				}
				c := base + cost[d*nv+v]
				if old := sc.next[idx]; c < old {
					if old == infCost {
						sc.nextR = append(sc.nextR, int32(idx))
					}
					sc.next[idx] = c
					sc.pred[d*ns+idx] = si
					sc.choice[d*ns+idx] = int16(v)
				}
			}
		}
		for _, si := range sc.curR {
			sc.cur[si] = infCost
		}
		sc.cur, sc.next = sc.next, sc.cur
		sc.curR, sc.nextR = sc.nextR, sc.curR
	}

	sc.vals = vals
	best, bestCost := -1, infCost
	for _, si := range sc.curR {
		units := int(si) / pl.strides[2] % pl.dims[2]
		if units*pl.unit >= st.MinMinutes {
			if c := sc.cur[si]; c < bestCost || (c == bestCost && int(si) < best) {
				best, bestCost = int(si), c
			}
		}
	}
	for _, si := range sc.curR {
		sc.cur[si] = infCost
	}
	if best < 0 {
		return work, false
	}
	s := best
	for d := days - 1; d >= 0; d-- {
		out[d] = sc.choice[d*ns+s]
		s = int(sc.pred[d*ns+s])
	}
	return work, true
}

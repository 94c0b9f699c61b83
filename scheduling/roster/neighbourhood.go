package roster

import (
	"errors"
	"slices"
)

// Neighbourhood search by branch and price: free the cells of a window of
// consecutive days in the rows of a random half of the staff, keep every
// other cell of the best roster, and search the tree (tree.go) of the
// master restricted to the free cells for a better roster. The staff left
// out keep their row as their only column, the free staff's row programs
// ban every kept cell's other values, and only the covers a free cell
// counts toward have a row, so a neighbourhood's master is small; where
// the row programs track every cap, its pricing is exact too. Row moves
// change one row at a time and cannot make the chains of changes across
// several rows that grant a request while keeping the cover; a
// neighbourhood's tree, or the rounding of one of its nodes, finds them.
// Half the windows are placed around a cost of the best roster (a cell
// with a cost of its own, such as a refused request, or a short cover).
// The windows grow while their trees end within the node limit, and
// shrink while they do not.
//
// On masters too large for the even threads' column generation on every
// row (Curtois & Qu Instance12) it takes the column share of the even
// threads, the odd ones solving the whole master if the dense simplex
// still can; on the others, it takes that of the odd threads.

// Neighbourhood parameters.
const (
	// nbhNodes is the node limit of one neighbourhood's tree.
	nbhNodes = 100
	// A window spans size·days/rows days, where size starts at nbhStart
	// and stays at least nbhMin. It grows by one after a neighbourhood
	// whose tree ended within the limit, up to the largest size, and
	// shrinks by one after one that did not, or when the window's master
	// would exceed maxSubRows (the largest size then shrinks with it).
	// The largest size starts at nbhMax.
	nbhStart = 4
	nbhMin   = 2
	nbhMax   = 12
	// After nbhStall neighbourhoods in a row without a better roster,
	// the largest size grows by two: small windows have then been
	// searched out, and larger ones are worth their cost.
	nbhStall = 100
)

// neighbourhood is the state of a worker's neighbourhood search.
type neighbourhood struct {
	cg    *colgen // the current neighbourhood's master, or nil
	size  int     // the next window's cells, in rows (see nbhStart)
	staff []bool  // per staff member: has a free cell
	cells []bool  // per cell e*days+d: free
	off   bool    // a master could not be set up: the search is disabled
	base  int64   // objective of the best roster the search has seen
	// opened is base when the neighbourhood opened; stall counts the
	// neighbourhoods in a row that found nothing better, and limit is the
	// current largest size.
	opened       int64
	stall, limit int
	from         []int16 // the best roster when the neighbourhood opened
	cov          []int32 // scratch: staff per cover in the best roster
}

// newNeighbourhood returns the initial search state for problem p.
func newNeighbourhood(p *problem) *neighbourhood {
	return &neighbourhood{
		size:  nbhStart,
		limit: nbhMax,
		staff: make([]bool, p.nstaff),
		cells: make([]bool, p.nstaff*p.days),
		cov:   make([]int32, len(p.m.Cover)),
	}
}

// neighbourhoodStep advances the neighbourhood search by one pricing round
// or tree decision, starting a new neighbourhood when none is open. It
// reports false when it cannot run: no feasible roster is known yet, or no
// neighbourhood master could be set up.
func (w *worker) neighbourhoodStep() bool {
	p, n := w.p, w.nbh
	if n.cg == nil {
		if n.off || w.bestHard > 0 {
			return false
		}
		if err := n.open(w); err != nil {
			// A smallest window placed elsewhere may still fit, unless
			// the staff alone overflow the master.
			if !errors.Is(err, errMasterSize) || p.nstaff >= maxSubRows {
				n.off = true
			}
			return false
		}
	}
	t := &n.cg.tree
	if w.bestSoft < n.base && n.inside(w.best) {
		// The better roster differs from the base only in free cells, so
		// the master still holds: search on, for a roster better again.
		n.base = w.bestSoft
	}
	if w.bestSoft < n.base {
		n.stall = 0
		n.cg = nil // the best roster moved on: this neighbourhood is stale
		return true
	}
	if !t.active && (len(t.open) == 0 || t.nodes >= nbhNodes) {
		n.close()
		return true
	}
	if err := n.cg.treeStep(w); err != nil {
		n.cg = nil // numerical trouble: drop this neighbourhood
	}
	return true
}

// open chooses the next neighbourhood around the best roster and sets up
// its master. A window whose master would be too large shrinks until it
// fits; open returns an error when not even the smallest one does or no
// master can be set up at all.
func (n *neighbourhood) open(w *worker) error {
	p := w.p
	if p.nstaff == 0 || p.days == 0 {
		return errNoMaster
	}
	for {
		n.place(w)
		cg, err := newColgen(w, w.best, n.cells)
		// Charge the set-up to the column share: the scan of the cells,
		// and the row costs and basis inverse of a master set up.
		w.lagWork += int64(len(w.best) * p.nv)
		if err == nil {
			m := int64(cg.nE + cg.nC)
			w.lagWork += m * m
			n.cg = cg
			break
		}
		if !errors.Is(err, errMasterSize) || n.size <= nbhMin {
			return err
		}
		// Too many covers under the window: shrink it, and the largest
		// size with it until a stall grows it again.
		n.size--
		n.limit = max(n.size, nbhMin)
	}
	n.base, n.opened = w.bestSoft, w.bestSoft
	n.from = append(n.from[:0], w.best...)
	n.cg.startTree(w)
	nstaff, days, nv := p.nstaff, p.days, p.nv
	t := &n.cg.tree
	if t.keep == nil {
		t.keep = make([][]bool, nstaff)
	}
	for e := range nstaff {
		t.keep[e] = nil
		if !n.staff[e] {
			continue
		}
		var keep []bool
		for d := range days {
			if n.cells[e*days+d] {
				continue
			}
			if keep == nil {
				keep = make([]bool, days*nv)
			}
			for v := range nv {
				keep[d*nv+v] = v != int(w.best[e*days+d])
			}
		}
		t.keep[e] = keep
	}
	return nil
}

// place marks the free staff and cells of the next window.
func (n *neighbourhood) place(w *worker) {
	p := w.p
	nstaff, days := p.nstaff, p.days
	clear(n.staff)
	clear(n.cells)
	rows := (nstaff + 1) / 2
	span := min(max(n.size*days/rows, 2), days)
	// Half the windows are placed around a cost of the best roster.
	from := w.rng.IntN(days - span + 1)
	perm := w.rng.Perm(nstaff)
	if e, d, ok := n.hotCell(w); ok && w.rng.IntN(2) == 0 {
		from = min(max(d-w.rng.IntN(span), 0), days-span)
		if k := slices.Index(perm, e); k >= rows {
			perm[0], perm[k] = perm[k], perm[0]
		}
	}
	for _, e := range perm[:rows] {
		n.staff[e] = true
		for d := from; d < from+span; d++ {
			n.cells[e*days+d] = true
		}
	}
}

// hotCell picks at random a cost of the best roster: a cell with a cost
// of its own (a refused request, or a change from the reference roster),
// or, with -1 for the staff member, a day on which a cover is short. It
// reports false when there is neither.
func (n *neighbourhood) hotCell(w *worker) (e, d int, ok bool) {
	p := w.p
	days, nv := p.days, p.nv
	seen := 0
	pick := func(pe, pd int) {
		if seen++; w.rng.IntN(seen) == 0 {
			e, d = pe, pd
		}
	}
	p.coverCounts(w.best, n.cov)
	for i, v := range w.best {
		if p.cellCost[i/days][(i%days)*nv+int(v)] > 0 {
			pick(i/days, i%days)
		}
	}
	for c, k := range n.cov {
		if cv := &p.m.Cover[c]; int(k) < cv.Target {
			pick(-1, cv.Day)
		}
	}
	return e, d, seen > 0
}

// inside reports whether roster x differs from the one the neighbourhood
// opened around only in its free cells.
func (n *neighbourhood) inside(x []int16) bool {
	for i, v := range x {
		if v != n.from[i] && !n.cells[i] {
			return false
		}
	}
	return true
}

// close ends the current neighbourhood and sizes the next one.
func (n *neighbourhood) close() {
	if len(n.cg.tree.open) == 0 {
		n.size = min(n.size+1, n.limit)
	} else {
		n.size = max(n.size-1, nbhMin)
	}
	n.stall++
	if n.base < n.opened {
		n.stall = 0
	}
	if n.stall >= nbhStall {
		n.limit += 2
		n.stall = 0
	}
	n.cg = nil
}

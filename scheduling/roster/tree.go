package roster

import (
	"math"
	"slices"
)

// Branch and price: after the first dives, column generation searches a
// tree depth first. A node is the master problem restricted by branching
// decisions on single cells (staff member e works value v on day d, or
// does not), which the row programs respect by never using the banned
// cells, so the pricing stays exact and the Lagrangian bound valid at
// every node. A node is dropped when its bound shows it cannot beat the
// best roster known, solved when its relaxation is integral, and
// otherwise split on the most fractional cell (LP value closest to ½),
// the branch that sets it explored first. When the tree is searched to the
// end with every node solved exactly, the best roster is optimal.

// Tree search parameters.
const (
	// treeAfter is the number of dives before the tree search starts: the
	// dives find good rosters quickly, and the tree prunes best with a good
	// roster known. After that the two take turns of turnNodes tree nodes
	// and turnDives dives, so that a deep subtree cannot hold the search.
	treeAfter = 20
	turnNodes = 200
	turnDives = 10
	// treeRounds caps the pricing rounds at a tree node; a node left
	// unsolved makes the search inexact.
	treeRounds = 60
	// treeGap is the largest gap between the best roster and the root
	// bound, relative to the former, at which the tree search starts; with
	// a wider gap the tree is too large to help and dives go on.
	treeGap = 0.02
)

// branch is one branching decision: staff member e works value v on day d
// (up) or does not.
type branch struct {
	e, d int32
	v    int16
	up   bool
}

// treeNode is an open node: its decisions, and its parent's bound, which
// holds for it too.
type treeNode struct {
	path  []branch
	bound float64
}

// tree is the state of the branch-and-price search.
type tree struct {
	started bool
	on      bool // the tree search has the turn (dives have it otherwise)
	active  bool // a node is being solved
	turn    int  // nodes solved in the current turn
	divesAt int  // dives done when the last turn ended
	open    []treeNode
	path    []branch // decisions of the current node
	// ban[e][d*nv+v] is set when the current node bans the cell; banned[e]
	// says whether any cell of e is banned.
	ban    [][]bool
	banned []bool
	// keep[e], when not nil, holds the cells of e banned at every node: a
	// neighbourhood's (see neighbourhood.go) cells outside it.
	keep  [][]bool
	nv    int  // values per cell: off and the shift types
	exact bool // every node so far was solved to optimality
	nodes int
	z     []float64 // scratch: per cell e*days*nv+d*nv+v, the LP value
}

// bans reports whether the current node rules out staff member e's row.
func (t *tree) bans(e int, row []int16) bool {
	if !t.on || !t.banned[e] {
		return false
	}
	for d, v := range row {
		if t.ban[e][d*t.nv+int(v)] {
			return true
		}
	}
	return false
}

// clearBans lifts every ban but those of keep.
func (t *tree) clearBans() {
	for e := range t.ban {
		switch {
		case t.keep != nil && t.keep[e] != nil:
			copy(t.ban[e], t.keep[e])
			t.banned[e] = true
		case t.banned[e]:
			clear(t.ban[e])
			t.banned[e] = false
		}
	}
}

// banOf returns the cells the current node bans for staff member e, or nil.
func (cg *colgen) banOf(e int) []bool {
	if !cg.tree.on || !cg.tree.banned[e] {
		return nil
	}
	return cg.tree.ban[e]
}

// treeReady reports whether the tree search should start: the first dives
// are done, the bound is valid, and the best roster is close to it.
func (cg *colgen) treeReady(w *worker) bool {
	gap := float64(w.bestSoft) - cg.root
	return cg.dives >= treeAfter && cg.exact && w.bestHard == 0 && gap <= treeGap*float64(w.bestSoft)
}

// startTree opens a tree whose root is the unrestricted master.
func (cg *colgen) startTree(w *worker) {
	p := cg.p
	t := &cg.tree
	t.started, t.on, t.active, t.exact = true, true, false, true
	t.nv = p.nv
	t.turn = 0
	t.open = append(t.open[:0], treeNode{bound: cg.root})
	if t.ban == nil {
		t.ban = make([][]bool, cg.nE)
		for e := range t.ban {
			t.ban[e] = make([]bool, p.days*p.nv)
		}
		t.banned = make([]bool, cg.nE)
		t.z = make([]float64, cg.nE*p.days*p.nv)
	}
}

// enter makes node n the current one: it sets its bans and penalises the
// columns they rule out.
func (cg *colgen) enter(n treeNode) {
	p, t := cg.p, &cg.tree
	t.path = n.path
	t.clearBans()
	for _, b := range n.path {
		ban := t.ban[b.e]
		t.banned[b.e] = true
		at := int(b.d) * p.nv
		for v := range p.nv {
			if (v == int(b.v)) != b.up {
				ban[at+v] = true
			}
		}
	}
	for j, e := range cg.owner {
		if e >= 0 {
			cg.lp.cost[j] = cg.base[j]
			if t.bans(int(e), cg.pattern[j]) {
				cg.lp.cost[j] += fixPenalty
			}
		}
	}
	cg.resetNode()
	cg.bound = n.bound
}

// treeStep advances the tree search by one pricing round, or by one
// decision about the current node once its relaxation is solved.
func (cg *colgen) treeStep(w *worker) error {
	t := &cg.tree
	if !t.active {
		if t.turn >= turnNodes && !cg.local {
			cg.suspendTree()
			return nil
		}
		if len(t.open) == 0 {
			cg.finishTree(w)
			return nil
		}
		n := t.open[len(t.open)-1]
		t.open = t.open[:len(t.open)-1]
		cg.enter(n)
		if cg.cutOff(w) {
			return nil
		}
		t.active = true
	}
	done, err := cg.round(w)
	if err != nil {
		return err
	}
	if cg.cutOff(w) {
		t.active = false
		return nil
	}
	if !done && cg.node < treeRounds {
		return nil
	}
	t.active = false
	t.nodes++
	t.turn++
	// A node is solved exactly when its bound meets its relaxation's value,
	// or when no column prices in and pricing is exact.
	if !done || !(cg.lpExact || cg.bound >= cg.value()-1e-6) {
		t.exact = false
	}
	if cg.lp.value() >= fixPenalty/2 {
		return nil // no roster within the decisions
	}
	b, ok := cg.branchCell(w)
	if !ok {
		cg.loadIntegral(w)
		return nil
	}
	cg.roundNode(w)
	down := append(append(make([]branch, 0, len(t.path)+1), t.path...), b)
	up := append(append(make([]branch, 0, len(t.path)+1), t.path...), b)
	up[len(up)-1].up = true
	t.open = append(t.open, treeNode{down, cg.bound}, treeNode{up, cg.bound})
	return nil
}

// branchCell returns the decision to branch on: the cell whose LP value is
// closest to ½, ties broken at random; splitting it moves the bound most.
// It reports false when the relaxation is integral.
func (cg *colgen) branchCell(w *worker) (branch, bool) {
	p, t, l := cg.p, &cg.tree, cg.lp
	clear(t.z)
	cells := p.days * p.nv
	for j, e := range cg.owner {
		if e < 0 {
			continue
		}
		x := l.x(j)
		if x <= 1e-9 {
			continue
		}
		z := t.z[int(e)*cells : (int(e)+1)*cells]
		for d, v := range cg.pattern[j] {
			z[d*p.nv+int(v)] += x
		}
	}
	best, bestDist, n := -1, 1.0, 0
	for i, z := range t.z {
		if z < 1e-6 || z > 1-1e-6 {
			continue
		}
		switch dist := math.Abs(z - 0.5); {
		case dist < bestDist-1e-9:
			best, bestDist, n = i, dist, 1
		case dist < bestDist+1e-9:
			if n++; w.rng.IntN(n) == 0 {
				best = i
			}
		}
	}
	if best < 0 {
		return branch{}, false
	}
	e, c := best/cells, best%cells
	return branch{e: int32(e), d: int32(c / p.nv), v: int16(c % p.nv)}, true
}

// loadIntegral loads the roster of an integral relaxation: each staff
// member's column at value one, which is their largest.
func (cg *colgen) loadIntegral(w *worker) {
	if cols, ok := cg.largestColumns(); ok {
		cg.load(w, cols)
	}
}

// largestColumns returns, per staff member, the column of largest value in
// the relaxation. It reports false when a staff member has none.
func (cg *colgen) largestColumns() ([]int32, bool) {
	cols := make([]int32, cg.nE)
	top := make([]float64, cg.nE)
	for e := range cols {
		cols[e] = -1
	}
	for j, e := range cg.owner {
		if e >= 0 {
			if x := cg.lp.x(j); x > top[e] {
				cols[e], top[e] = int32(j), x
			}
		}
	}
	return cols, !slices.Contains(cols, -1)
}

// roundNode rounds the node's relaxation, each staff member taking their
// column of largest value, and loads the roster when the master prices it
// below the best known.
func (cg *colgen) roundNode(w *worker) {
	l := cg.lp
	cols, ok := cg.largestColumns()
	if !ok {
		return
	}
	n := make([]int, cg.nC)
	cost := int(cg.offset)
	for _, j := range cols {
		cost += int(cg.base[j])
		for _, r := range l.entries(int(j))[1:] {
			n[int(r)-cg.nE]++
		}
	}
	for i, c := range cg.covers {
		cost += cg.p.m.Cover[c].Cost(n[i])
	}
	if w.bestHard > 0 || int64(cost) < w.bestSoft {
		cg.load(w, cols)
	}
}

// suspendTree hands the turn to the dives, keeping the open nodes. A
// neighbourhood's tree has no dives and is never suspended.
func (cg *colgen) suspendTree() {
	t := &cg.tree
	t.on, t.path, t.turn, t.divesAt = false, nil, 0, cg.dives
	t.clearBans()
	copy(cg.lp.cost, cg.base)
	cg.resetNode()
	cg.nodeDone, cg.rootDone = false, false
}

// resumeTree gives the turn back to the tree search.
func (cg *colgen) resumeTree() {
	cg.tree.on, cg.tree.turn = true, 0
}

// finishTree ends a tree searched to the end. If every node was solved
// exactly, no roster beats the best one known, which is then optimal; the
// worker stops column generation. Otherwise a new tree starts. A
// neighbourhood's tree proves nothing beyond its neighbourhood, which the
// neighbourhood search closes.
func (cg *colgen) finishTree(w *worker) {
	if cg.local {
		return
	}
	t := &cg.tree
	if t.exact && cg.exact && w.bestHard == 0 {
		cg.root = max(cg.root, float64(w.bestSoft))
		w.colShare = 0
		return
	}
	cg.startTree(w)
}

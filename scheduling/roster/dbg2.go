package roster

import (
	"fmt"
	
)



func DebugLR(m *Model, iters int) {
	p := compile(m)
	rows := make([]rowSolver, p.nstaff)
	for e := range rows {
		rows[e] = p.newRowSolver(e)
	}
	w := newWorker(p, rows, 1)
	w.construct()
	fmt.Println("start", w.st.soft, w.st.hard)
	lg := newLagrangian(p)
	lg.initPrices(w)
	for i := range iters {
		lg.iterate(w, 1100)
		if i%20 == 0 {
			fmt.Println(i, lg.bound, lg.theta)
		}
	}
}

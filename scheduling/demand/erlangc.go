// Package demand forecasts an office's arrivals per slot, weekday and skill group from its ticket history and
// turns them into staff needed with Erlang C and shrinkage. Its Store owns the planning settings, the stored
// forecasts and the manual overrides: Store.Refresh recomputes an office's forecast (nightly, through
// ForecastJob), and the roster planner reads it with Store.Load.
package demand

import "math"

// ErlangC returns the probability that an arrival waits in an M/M/n queue with traffic a (in Erlangs:
// arrival rate × mean handling time). With no more agents than traffic the queue grows without bound and
// every arrival waits.
//
// It uses the Erlang B recursion B_0 = 1, B_k = a·B_{k−1}/(k + a·B_{k−1}) and C = B_n / (1 − (a/n)(1 − B_n)),
// which stays finite where factorials would overflow float64.
func ErlangC(n int, a float64) float64 {
	if a <= 0 {
		return 0
	}
	if float64(n) <= a {
		return 1
	}
	b := 1.0
	for k := 1; k <= n; k++ {
		b = a * b / (float64(k) + a*b)
	}
	return b / (1 - (a/float64(n))*(1-b))
}

// ServiceLevel returns the share of arrivals answered within wait seconds by n agents, for traffic a and a
// mean handling time of aht seconds: 1 − C·exp(−(n−a)·wait/aht).
func ServiceLevel(n int, a, aht, wait float64) float64 {
	if a <= 0 {
		return 1
	}
	if float64(n) <= a {
		return 0
	}
	return 1 - ErlangC(n, a)*math.Exp(-(float64(n)-a)*wait/aht)
}

// ASA returns the average speed of answer in seconds (mean wait of all arrivals): C·aht/(n−a).
func ASA(n int, a, aht float64) float64 {
	if a <= 0 {
		return 0
	}
	if float64(n) <= a {
		return math.Inf(1)
	}
	return ErlangC(n, a) * aht / (float64(n) - a)
}

// maxAgents bounds the search in Agents; no counter hall has more desks than this.
const maxAgents = 1000

// Agents returns the fewest agents that answer at least the share level (0 < level < 1) of arrivals within
// wait seconds, for traffic a and mean handling time aht seconds. No traffic needs no agent.
func Agents(a, aht, wait, level float64) int {
	if a <= 0 || aht <= 0 {
		return 0
	}
	n := int(math.Floor(a)) + 1
	for n < maxAgents && ServiceLevel(n, a, aht, wait) < level {
		n++
	}
	return n
}

// WithShrinkage returns the staff to roster so that agents remain at their desks after the share shrinkage
// (breaks, back-office work, short absences) is lost: ceil(agents / (1 − shrinkage)).
func WithShrinkage(agents int, shrinkage float64) int {
	if agents <= 0 {
		return 0
	}
	// The epsilon keeps 0.85/(1−0.15) at 1 despite float rounding.
	return int(math.Ceil(float64(agents)/(1-shrinkage) - 1e-9))
}

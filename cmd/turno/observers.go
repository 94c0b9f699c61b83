package main

import "turno/ticketing"

// observers hands each ticket event to several observers in turn: ticketing.Store has one Observer, and
// both the metrics and the "your turn is near" watcher listen.
type observers []ticketing.Observer

// Observe implements ticketing.Observer.
func (os observers) Observe(e ticketing.ObservedEvent) {
	for _, o := range os {
		o.Observe(e)
	}
}

// alsoObserve adds o to the observers of the ticketing store.
func (a *app) alsoObserve(o ticketing.Observer) {
	switch cur := a.tickets.Observer.(type) {
	case nil:
		a.tickets.Observer = o
	case observers:
		a.tickets.Observer = append(cur, o)
	default:
		a.tickets.Observer = observers{cur, o}
	}
}

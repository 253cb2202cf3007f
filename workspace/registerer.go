package workspace

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// closingRegisterer remembers what it registered so that all of it can be
// unregistered when the owner goes away: a workspace's TSDB is closed and
// opened again, or deleted, while the process and its registry live on.
type closingRegisterer struct {
	reg prometheus.Registerer

	mtx        sync.Mutex
	collectors []prometheus.Collector
}

func newClosingRegisterer(reg prometheus.Registerer) *closingRegisterer {
	return &closingRegisterer{reg: reg}
}

func (r *closingRegisterer) Register(c prometheus.Collector) error {
	if err := r.reg.Register(c); err != nil {
		return err
	}
	r.mtx.Lock()
	r.collectors = append(r.collectors, c)
	r.mtx.Unlock()
	return nil
}

func (r *closingRegisterer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := r.Register(c); err != nil {
			panic(err)
		}
	}
}

// Unregister leaves c in the list: unregistering it again on close is a
// no-op, and collectors need not be comparable.
func (r *closingRegisterer) Unregister(c prometheus.Collector) bool {
	return r.reg.Unregister(c)
}

// unregisterAll unregisters everything registered through r.
func (r *closingRegisterer) unregisterAll() {
	r.mtx.Lock()
	cs := r.collectors
	r.collectors = nil
	r.mtx.Unlock()
	for _, c := range cs {
		r.reg.Unregister(c)
	}
}

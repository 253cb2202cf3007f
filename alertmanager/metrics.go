package alertmanager

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
)

// metricsRegisterer takes the metrics of one workspace's Alertmanager
// packages, which register fixed names: into a registry of the
// workspace's own (Instance.Gatherer) and, with a "workspace" label, into
// the host's Registerer, from which Close unregisters them.
type metricsRegisterer struct {
	own  *prometheus.Registry
	host prometheus.Registerer // nil without Options.Registerer

	mtx  sync.Mutex
	done []prometheus.Collector // registered with host
}

func newMetricsRegisterer(host prometheus.Registerer, workspaceID string) *metricsRegisterer {
	m := &metricsRegisterer{own: prometheus.NewRegistry()}
	if host != nil {
		m.host = prometheus.WrapRegistererWith(prometheus.Labels{"workspace": workspaceID}, host)
	}
	return m
}

func (m *metricsRegisterer) Register(c prometheus.Collector) error {
	if err := m.own.Register(c); err != nil {
		return err
	}
	if m.host == nil {
		return nil
	}
	if err := m.host.Register(c); err != nil {
		m.own.Unregister(c)
		return err
	}
	m.mtx.Lock()
	m.done = append(m.done, c)
	m.mtx.Unlock()
	return nil
}

func (m *metricsRegisterer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := m.Register(c); err != nil {
			panic(err)
		}
	}
}

func (m *metricsRegisterer) Unregister(c prometheus.Collector) bool {
	ok := m.own.Unregister(c)
	if m.host != nil {
		ok = m.host.Unregister(c) || ok
	}
	return ok
}

// unregisterAll takes the workspace's metrics out of the host's
// Registerer.
func (m *metricsRegisterer) unregisterAll() {
	m.mtx.Lock()
	defer m.mtx.Unlock()
	for _, c := range m.done {
		m.host.Unregister(c)
	}
	m.done = nil
}

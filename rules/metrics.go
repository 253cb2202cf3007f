package rules

import (
	"sync"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	promrules "github.com/prometheus/prometheus/rules"
)

// workspaceMetrics are one workspace's rule metrics: Prometheus' group
// metrics and the alerts held back by MaxActiveAlerts, all with the
// workspace's "workspace" label. Groups are keyed by namespace, which
// another workspace may share, hence a set per workspace.
type workspaceMetrics struct {
	rules           *promrules.Metrics
	alertsOverLimit prometheus.Counter
	reg             *unregisterer
}

func newWorkspaceMetrics(reg prometheus.Registerer, workspaceID string) *workspaceMetrics {
	var u *unregisterer
	var wrapped prometheus.Registerer
	if reg != nil {
		u = &unregisterer{reg: prometheus.WrapRegistererWith(prometheus.Labels{"workspace": workspaceID}, reg)}
		wrapped = u
	}
	m := &workspaceMetrics{
		rules: promrules.NewGroupMetrics(wrapped),
		alertsOverLimit: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "promspace_rules_alerts_over_limit_total",
			Help: "Firing alerts not sent because the workspace had more than its MaxActiveAlerts, counted at each send.",
		}),
		reg: u,
	}
	if wrapped != nil {
		wrapped.MustRegister(m.alertsOverLimit)
	}
	return m
}

func (m *workspaceMetrics) unregister() {
	if m.reg != nil {
		m.reg.unregisterAll()
	}
}

// unregisterer remembers what it registered, to unregister it all when the
// workspace closes.
type unregisterer struct {
	reg        prometheus.Registerer
	mtx        sync.Mutex
	collectors []prometheus.Collector
}

func (u *unregisterer) Register(c prometheus.Collector) error {
	if err := u.reg.Register(c); err != nil {
		return err
	}
	u.mtx.Lock()
	u.collectors = append(u.collectors, c)
	u.mtx.Unlock()
	return nil
}

func (u *unregisterer) MustRegister(cs ...prometheus.Collector) {
	for _, c := range cs {
		if err := u.Register(c); err != nil {
			panic(err)
		}
	}
}

func (u *unregisterer) Unregister(c prometheus.Collector) bool { return u.reg.Unregister(c) }

func (u *unregisterer) unregisterAll() {
	u.mtx.Lock()
	cs := u.collectors
	u.collectors = nil
	u.mtx.Unlock()
	for _, c := range cs {
		u.reg.Unregister(c)
	}
}

func counterValue(c prometheus.Counter) float64 {
	var m dto.Metric
	if err := c.Write(&m); err != nil {
		return 0
	}
	return m.GetCounter().GetValue()
}

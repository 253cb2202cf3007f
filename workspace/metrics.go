package workspace

import (
	"github.com/prometheus/client_golang/prometheus"
)

// registryCollector exposes how many workspaces a registry holds, by status.
type registryCollector struct {
	r    *Registry
	desc *prometheus.Desc
}

func newRegistryCollector(r *Registry) *registryCollector {
	return &registryCollector{
		r: r,
		desc: prometheus.NewDesc("promspace_workspaces",
			"Workspaces in the registry, by status.", []string{"status"}, nil),
	}
}

func (c *registryCollector) Describe(ch chan<- *prometheus.Desc) { ch <- c.desc }

func (c *registryCollector) Collect(ch chan<- prometheus.Metric) {
	counts := map[Status]int{StatusCreating: 0, StatusActive: 0, StatusDeleting: 0}
	c.r.mtx.RLock()
	for _, w := range c.r.workspaces {
		counts[w.Status()]++
	}
	c.r.mtx.RUnlock()
	for s, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), string(s))
	}
}

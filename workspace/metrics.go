package workspace

import (
	"github.com/prometheus/client_golang/prometheus"
)

// registryCollector exposes how many workspaces a registry holds, by status.
type registryCollector struct {
	r          *Registry
	desc       *prometheus.Desc
	unreadable *prometheus.Desc
}

func newRegistryCollector(r *Registry) *registryCollector {
	return &registryCollector{
		r: r,
		desc: prometheus.NewDesc("promspace_workspaces",
			"Workspaces in the registry, by status.", []string{"status"}, nil),
		unreadable: prometheus.NewDesc("promspace_workspace_records_unreadable",
			"Workspace records that could neither be read nor recovered when the registry opened; their data is left in place.", nil, nil),
	}
}

func (c *registryCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.desc
	ch <- c.unreadable
}

func (c *registryCollector) Collect(ch chan<- prometheus.Metric) {
	counts := map[Status]int{StatusCreating: 0, StatusActive: 0, StatusDeleting: 0}
	c.r.mtx.RLock()
	for _, w := range c.r.workspaces {
		counts[w.Status()]++
	}
	unreadable := len(c.r.unreadable)
	c.r.mtx.RUnlock()
	ch <- prometheus.MustNewConstMetric(c.unreadable, prometheus.GaugeValue, float64(unreadable))
	for s, n := range counts {
		ch <- prometheus.MustNewConstMetric(c.desc, prometheus.GaugeValue, float64(n), string(s))
	}
}

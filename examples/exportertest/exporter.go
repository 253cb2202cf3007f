// Package exportertest shows how an exporter's unit test uses promspacetest:
// the exporter's metrics are registered on a client_golang registry, pushed
// over real remote write into an in-process workspace, and asserted with
// PromQL; the exporter's alerting rules (alerts.yaml) are loaded into the
// workspace, evaluated at chosen times and their alerts asserted.
package exportertest

import "github.com/prometheus/client_golang/prometheus"

// QueueExporter is a small exporter of a job queue's state.
type QueueExporter struct {
	Processed *prometheus.CounterVec
	Depth     prometheus.Gauge
	Latency   prometheus.Histogram
}

// NewQueueExporter registers the exporter's metrics on reg.
func NewQueueExporter(reg prometheus.Registerer) *QueueExporter {
	e := &QueueExporter{
		Processed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "queue_jobs_processed_total",
			Help: "Jobs processed, by outcome.",
		}, []string{"outcome"}),
		Depth: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "queue_depth",
			Help: "Jobs waiting.",
		}),
		Latency: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "queue_job_duration_seconds",
			Help:    "Time to process a job.",
			Buckets: []float64{0.1, 1, 10},
		}),
	}
	reg.MustRegister(e.Processed, e.Depth, e.Latency)
	return e
}

// Done records a finished job.
func (e *QueueExporter) Done(outcome string, seconds float64) {
	e.Processed.WithLabelValues(outcome).Inc()
	e.Latency.Observe(seconds)
}

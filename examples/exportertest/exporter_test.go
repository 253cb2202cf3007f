package exportertest

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/promspace/promspace/promspacetest"
)

func TestQueueExporter(t *testing.T) {
	srv := promspacetest.NewServer(t)

	reg := prometheus.NewRegistry()
	e := NewQueueExporter(reg)
	e.Done("ok", 0.05)
	e.Done("ok", 2)
	e.Done("failed", 0.5)
	e.Depth.Set(7)

	srv.PushGatherer(t, reg, labels.Label{Name: "job", Value: "queue"})

	srv.AssertQuery(t, `sum by (outcome) (queue_jobs_processed_total{job="queue"})`, map[string]float64{
		`{outcome="failed"}`: 1,
		`{outcome="ok"}`:     2,
	})
	srv.AssertQuery(t, `queue_depth`, map[string]float64{
		`queue_depth{job="queue"}`: 7,
	})
	srv.AssertQuery(t, `queue_job_duration_seconds_bucket{le="1.0"}`, map[string]float64{
		`queue_job_duration_seconds_bucket{job="queue", le="1.0"}`: 2,
	})
	srv.AssertQuery(t, `histogram_quantile(1, queue_job_duration_seconds_bucket)`, map[string]float64{
		`{job="queue"}`: 10,
	})
}

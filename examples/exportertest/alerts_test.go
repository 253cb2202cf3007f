package exportertest

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/promspace/promspace/promspacetest"
)

// TestQueueAlerts tests the exporter's alerting rules (alerts.yaml) against
// its real output: the backlog alert waits for its `for`; the failure
// alert, on the recording rule's ratio, fires once most jobs fail.
func TestQueueAlerts(t *testing.T) {
	srv := promspacetest.NewServer(t)
	srv.LoadRulesFile(t, "alerts.yaml")

	reg := prometheus.NewRegistry()
	e := NewQueueExporter(reg)
	e.Done("ok", 0.05)
	e.Done("ok", 2)
	e.Done("failed", 0.5)
	e.Depth.Set(7)
	now := time.Now()
	srv.PushGathererAt(t, now, reg, labels.Label{Name: "job", Value: "queue"})

	srv.EvalRules(t, now)
	srv.AssertFiring(t) // the backlog is pending: for 1m
	srv.EvalRules(t, now.Add(time.Minute))
	backlog := promspacetest.Alert{
		Labels:      map[string]string{"alertname": "QueueBacklog", "job": "queue", "severity": "warning"},
		Annotations: map[string]string{"summary": "queue has 7 jobs waiting"},
	}
	srv.AssertFiring(t, backlog)

	for range 3 {
		e.Done("failed", 0.5)
	}
	srv.PushGathererAt(t, now.Add(2*time.Minute), reg, labels.Label{Name: "job", Value: "queue"})
	srv.EvalRules(t, now.Add(2*time.Minute))
	srv.AssertFiring(t, backlog, promspacetest.Alert{
		Labels:      map[string]string{"alertname": "QueueFailing", "severity": "page"},
		Annotations: map[string]string{},
	})
}

package exportertest

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/promspace/promspace/promspacetest"
)

// TestQueuePages tests where the exporter's alerts go: with this routing,
// only the page-severity alert reaches the on-call receiver (the
// harness's), the warning going to a receiver of its own.
func TestQueuePages(t *testing.T) {
	srv := promspacetest.NewServer(t)
	srv.LoadRulesFile(t, "alerts.yaml")
	srv.LoadAlertmanagerConfig(t, `route:
  receiver: tickets
  group_by: [alertname]
  group_wait: 0s
  routes:
  - matchers: [severity="page"]
    receiver: promspacetest
receivers:
- name: tickets
`)
	reg := prometheus.NewRegistry()
	e := NewQueueExporter(reg)
	e.Done("failed", 0.5)
	e.Depth.Set(9)
	now := time.Now()
	srv.PushGathererAt(t, now, reg, labels.Label{Name: "job", Value: "queue"})
	srv.EvalRules(t, now)
	srv.PushGathererAt(t, now.Add(time.Minute), reg, labels.Label{Name: "job", Value: "queue"})
	srv.EvalRules(t, now.Add(time.Minute)) // the backlog fires too: for 1m
	srv.AssertFiring(t, promspacetest.Alert{
		Labels:      map[string]string{"alertname": "QueueBacklog", "job": "queue", "severity": "warning"},
		Annotations: map[string]string{"summary": "queue has 9 jobs waiting"},
	}, promspacetest.Alert{
		Labels:      map[string]string{"alertname": "QueueFailing", "severity": "page"},
		Annotations: map[string]string{},
	})

	n := srv.WaitNotifications(t, 1)
	if len(n) != 1 || n[0].GroupLabels["alertname"] != "QueueFailing" || n[0].Status != "firing" {
		t.Errorf("notifications: %+v", n)
	}
}

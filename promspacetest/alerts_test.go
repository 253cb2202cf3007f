package promspacetest_test

import (
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"

	"github.com/promspace/promspace/promspacetest"
)

const downRule = `groups:
- name: up
  rules:
  - alert: Down
    expr: up == 0
    labels:
      severity: page
    annotations:
      summary: '{{ $labels.job }} is down'
`

// TestNotifications: an alert of the harness's rules reaches its
// receiver through the workspace's alert manager, with the route of the
// configuration loaded, and a configuration the alert manager refuses
// fails the test.
func TestNotifications(t *testing.T) {
	srv := promspacetest.NewServer(t)
	srv.LoadRules(t, "up", []byte(downRule))
	srv.LoadAlertmanagerConfig(t, `route:
  receiver: nobody
  group_wait: 0s
  routes:
  - matchers: [severity="page"]
    receiver: promspacetest
    group_by: [job]
receivers:
- name: nobody
`)
	now := time.Now()
	srv.Push(t, []prompb.TimeSeries{{
		Labels:  []prompb.Label{{Name: "__name__", Value: "up"}, {Name: "job", Value: "api"}},
		Samples: []prompb.Sample{{Timestamp: now.UnixMilli(), Value: 0}},
	}})
	srv.EvalRules(t, now)
	n := srv.WaitNotifications(t, 1)[0]
	if n.Status != "firing" || n.GroupLabels["job"] != "api" || len(n.Alerts) != 1 ||
		n.Alerts[0].Labels["alertname"] != "Down" || n.Alerts[0].Annotations["summary"] != "api is down" {
		t.Errorf("notification: %+v", n)
	}

	ft := &fakeT{TB: t}
	func() {
		defer func() { recover() }() // Fatalf's Goexit, as a panic here
		srv.LoadAlertmanagerConfig(ft, "route:\n  receiver: missing\n")
	}()
	if !ft.failed {
		t.Error("a configuration routing to an undefined receiver did not fail the test")
	}
}

// fakeT records a failure instead of failing the test.
type fakeT struct {
	testing.TB
	failed bool
}

func (f *fakeT) Fatalf(string, ...any) { f.failed = true; panic("fatal") }
func (f *fakeT) Helper()               {}

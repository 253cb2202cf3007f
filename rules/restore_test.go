package rules

import (
	"context"
	"testing"
	"time"

	promrules "github.com/prometheus/prometheus/rules"

	"github.com/promspace/promspace/quota"
)

// TestForStateRestoredAfterRestart checks that an alert pending when its
// workspace closed resumes its `for` from ALERTS_FOR_STATE after reopening,
// shifted by the time the workspace was down, as Prometheus restores it.
func TestForStateRestoredAfterRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	opts := Options{ForGracePeriod: time.Minute}
	r, _, m := openWorkspace(t, dir, opts, quota.DefaultLimits())
	const always = "groups:\n- name: g\n  rules:\n  - alert: Always\n    expr: vector(1)\n    for: 10m\n"
	if _, err := m.Create(ctx, CreateInput{Name: "ns", Data: []byte(always)}); err != nil {
		t.Fatal(err)
	}
	t0 := time.Now().Truncate(time.Second)
	m.EvalAt(ctx, t0)
	m.EvalAt(ctx, t0.Add(5*time.Minute)) // the last ALERTS_FOR_STATE before the outage
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	_, _, m = openWorkspace(t, dir, opts, quota.DefaultLimits())
	m.EvalAt(ctx, t0.Add(6*time.Minute))
	m.EvalAt(ctx, t0.Add(7*time.Minute)) // restores: down for 2m
	alerts := m.AlertingRules()[0].ActiveAlerts()
	if len(alerts) != 1 || !alerts[0].ActiveAt.Equal(t0.Add(2*time.Minute)) {
		t.Fatalf("after restore: %+v, want one alert active since %v", alerts, t0.Add(2*time.Minute))
	}
	m.EvalAt(ctx, t0.Add(12*time.Minute))
	if s := m.AlertingRules()[0].ActiveAlerts()[0].State; s != promrules.StateFiring {
		t.Errorf("at t0+12m the restored alert is %v, want firing", s)
	}
}

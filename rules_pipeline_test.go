package promspace_test

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/promspace/promspace"
	"github.com/promspace/promspace/quota"
	"github.com/promspace/promspace/rules"
	"github.com/promspace/promspace/workspace"
)

// TestRuleResultsThroughPipeline checks that recording rules append
// through the workspace's write pipeline, as remote write does: a recorded
// series over the label value length quota is refused, the others are
// stored.
func TestRuleResultsThroughPipeline(t *testing.T) {
	ctx := context.Background()
	limits := quota.DefaultLimits()
	limits.MaxLabelValueLength = 16
	svc, err := promspace.New(ctx, promspace.Options{
		DataDir: t.TempDir(),
		Rules:   rules.Options{ManualEvaluation: true},
		Quota:   quota.Options{Limits: &limits},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	w, err := svc.EnsureWorkspace(ctx, "rules")
	if err != nil {
		t.Fatal(err)
	}
	m, ok := workspace.InstanceOf[*rules.RuleManager](w, rules.ComponentName)
	if !ok {
		t.Fatal("no rules manager")
	}
	if _, err := m.Create(ctx, rules.CreateInput{Name: "recorded", Data: []byte(`groups:
  - name: recorded
    rules:
      - record: short:one
        expr: vector(1)
        labels: {v: short}
      - record: long:one
        expr: vector(1)
        labels: {v: a-value-longer-than-sixteen}
`)}); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	m.EvalAt(ctx, now)

	q, err := w.Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	for name, want := range map[string]bool{"short:one": true, "long:one": false} {
		ss := q.Select(ctx, false, nil, labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, name))
		got := ss.Next()
		if err := ss.Err(); err != nil {
			t.Fatal(err)
		}
		if got != want {
			t.Errorf("recorded series %s stored: %v, want %v", name, got, want)
		}
	}
}

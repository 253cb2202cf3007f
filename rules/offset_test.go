package rules

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/promspace/promspace/quota"
	"github.com/promspace/promspace/workspace"
)

// TestRuleQueryOffset checks that the configuration's RuleQueryOffset moves
// the evaluation back: a recording rule of time() evaluated at ts writes,
// at ts minus the offset, that time.
func TestRuleQueryOffset(t *testing.T) {
	ctx := context.Background()
	r, w, m := openWorkspace(t, t.TempDir(), Options{}, quota.DefaultLimits())
	if _, err := r.UpdateConfiguration(ctx, workspace.UpdateConfigurationInput{ID: w.ID(), RuleQueryOffsetInSeconds: new(90)}); err != nil {
		t.Fatal(err)
	}
	const rec = "groups:\n- name: g\n  rules:\n  - record: evaluated_at\n    expr: time()\n"
	if _, err := m.Create(ctx, CreateInput{Name: "ns", Data: []byte(rec)}); err != nil {
		t.Fatal(err)
	}
	ts := time.Now().Truncate(time.Second)
	m.EvalAt(ctx, ts)

	want := ts.Add(-90 * time.Second)
	q, err := w.Querier(want.Add(-time.Hour).UnixMilli(), ts.UnixMilli())
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	ss := q.Select(ctx, false, nil, labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, "evaluated_at"))
	var got [][2]float64
	for ss.Next() {
		it := ss.At().Iterator(nil)
		for it.Next() == chunkenc.ValFloat {
			tt, v := it.At()
			got = append(got, [2]float64{float64(tt), v})
		}
	}
	if err := ss.Err(); err != nil {
		t.Fatal(err)
	}
	if len(got) != 1 || int64(got[0][0]) != want.UnixMilli() || int64(got[0][1]) != want.Unix() {
		t.Errorf("evaluated_at samples %v, want one at %d of value %d", got, want.UnixMilli(), want.Unix())
	}
}

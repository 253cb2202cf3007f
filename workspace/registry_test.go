package workspace

import (
	"context"
	"errors"
	"math"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
)

var testNow = time.Date(2025, 3, 4, 5, 6, 7, 891e6, time.UTC)

func testOptions(t *testing.T, dir string) Options {
	t.Helper()
	opts := DefaultOptions()
	opts.DataDir = dir
	opts.Now = func() time.Time { return testNow }
	return opts
}

func openRegistry(t *testing.T, opts Options) *Registry {
	t.Helper()
	r, err := Open(context.Background(), opts)
	if err != nil {
		t.Fatalf("open registry: %v", err)
	}
	t.Cleanup(func() {
		if err := r.Close(); err != nil {
			t.Errorf("close registry: %v", err)
		}
	})
	return r
}

// waitBackground waits for the registry's background openings and
// deletions; nothing else may start them meanwhile.
func waitBackground(r *Registry) { r.bg.Wait() }

func appendSample(t *testing.T, w *Workspace, lset labels.Labels, ts int64, v float64) error {
	t.Helper()
	app := w.DB().Appender(context.Background())
	if _, err := app.Append(0, lset, ts, v); err != nil {
		app.Rollback()
		return err
	}
	return app.Commit()
}

func querySamples(t *testing.T, w *Workspace, name string) map[int64]float64 {
	t.Helper()
	q, err := w.DB().Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	ss := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, name))
	got := map[int64]float64{}
	for ss.Next() {
		it := ss.At().Iterator(nil)
		for it.Next() != 0 {
			ts, v := it.At()
			got[ts] = v
		}
		if err := it.Err(); err != nil {
			t.Fatal(err)
		}
	}
	if err := ss.Err(); err != nil {
		t.Fatal(err)
	}
	return got
}

func gaugeValue(t *testing.T, g prometheus.Gatherer, name, workspace string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			if labelValue(m, "workspace") == workspace {
				return m.GetGauge().GetValue()
			}
		}
	}
	t.Fatalf("no %s for workspace %s", name, workspace)
	return 0
}

func labelValue(m *dto.Metric, name string) string {
	for _, l := range m.GetLabel() {
		if l.GetName() == name {
			return l.GetValue()
		}
	}
	return ""
}

func TestCreateGetAndDefaults(t *testing.T) {
	r := openRegistry(t, testOptions(t, t.TempDir()))
	ctx := context.Background()

	w, err := r.Create(ctx, CreateInput{Alias: "  prod  ", Tags: map[string]string{"team": "obs"}})
	if err != nil {
		t.Fatal(err)
	}
	if got := w.Alias(); got != "prod" {
		t.Errorf("alias = %q, want the trimmed %q", got, "prod")
	}
	wantARN := "arn:aws:aps:us-east-1:000000000000:workspace/" + w.ID()
	if w.ARN() != wantARN {
		t.Errorf("arn = %q, want %q", w.ARN(), wantARN)
	}
	if !w.CreatedAt().Equal(testNow) {
		t.Errorf("createdAt = %v, want %v", w.CreatedAt(), testNow)
	}

	got, err := r.Get(ctx, w.ID())
	if err != nil {
		t.Fatal(err)
	}
	if got.Status() != StatusActive || got.DB() == nil {
		t.Fatalf("Get returned status %s, db %v; want an ACTIVE workspace with an open TSDB", got.Status(), got.DB())
	}
	c := got.Config()
	if c.Retention != 150*24*time.Hour || c.OutOfOrderTimeWindow != time.Minute {
		t.Errorf("config = %+v, want AMP's defaults (150 days, 60 s)", c)
	}
	if _, err := r.Get(ctx, "ws-unknown"); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get(unknown) = %v, want ErrNotFound", err)
	}

	// The default out-of-order window accepts a sample 30 s in the past.
	lset := labels.FromStrings("__name__", "up", "job", "a")
	if err := appendSample(t, got, lset, 100_000, 1); err != nil {
		t.Fatal(err)
	}
	if err := appendSample(t, got, lset, 70_000, 2); err != nil {
		t.Errorf("out-of-order sample within 60 s: %v", err)
	}
}

func TestSeveralWorkspacesShareARegisterer(t *testing.T) {
	reg := prometheus.NewRegistry()
	opts := testOptions(t, t.TempDir())
	opts.Registerer = reg
	r := openRegistry(t, opts)
	ctx := context.Background()
	var ids []string
	for range 3 {
		w, err := r.Create(ctx, CreateInput{})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Get(ctx, w.ID()); err != nil {
			t.Fatal(err)
		}
		ids = append(ids, w.ID())
	}
	for _, id := range ids {
		if got := gaugeValue(t, reg, "prometheus_tsdb_retention_limit_seconds", id); got != (150 * 24 * time.Hour).Seconds() {
			t.Errorf("retention of %s = %v", id, got)
		}
	}
}

func TestCreateIdempotency(t *testing.T) {
	r := openRegistry(t, testOptions(t, t.TempDir()))
	ctx := context.Background()
	in := CreateInput{Alias: "a", ClientToken: "token-1", Tags: map[string]string{"k": "v"}}
	w1, err := r.Create(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	w2, err := r.Create(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if w1.ID() != w2.ID() {
		t.Errorf("same token and input created %s and %s", w1.ID(), w2.ID())
	}
	in.Alias = "b"
	if _, err := r.Create(ctx, in); !errors.Is(err, ErrConflict) {
		t.Errorf("same token, other alias: %v, want ErrConflict", err)
	}
	// Tokens are per account.
	in.Account = "111111111111"
	w3, err := r.Create(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if w3.ID() == w1.ID() {
		t.Error("another account got the workspace of the same token")
	}
}

func TestMaxWorkspaces(t *testing.T) {
	opts := testOptions(t, t.TempDir())
	opts.MaxWorkspaces = 2
	r := openRegistry(t, opts)
	ctx := context.Background()
	var last *Workspace
	for range 2 {
		w, err := r.Create(ctx, CreateInput{})
		if err != nil {
			t.Fatal(err)
		}
		last = w
	}
	if _, err := r.Create(ctx, CreateInput{}); !errors.Is(err, ErrQuotaExceeded) {
		t.Fatalf("third workspace: %v, want ErrQuotaExceeded", err)
	}
	if _, err := r.Create(ctx, CreateInput{Account: "222222222222"}); err != nil {
		t.Errorf("another account: %v", err)
	}
	// A workspace being deleted no longer counts.
	if err := r.Delete(ctx, last.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Create(ctx, CreateInput{}); err != nil {
		t.Errorf("after a delete: %v", err)
	}
}

func TestDeleteRemovesData(t *testing.T) {
	opts := testOptions(t, t.TempDir())
	r := openRegistry(t, opts)
	ctx := context.Background()
	w, err := r.Create(ctx, CreateInput{ClientToken: "t"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Get(ctx, w.ID()); err != nil {
		t.Fatal(err)
	}
	if err := appendSample(t, w, labels.FromStrings("__name__", "x"), 1000, 1); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(ctx, w.ID()); err != nil {
		t.Fatal(err)
	}
	if _, err := r.Get(ctx, w.ID()); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of a deleting workspace: %v, want ErrNotFound", err)
	}
	if err := r.Delete(ctx, w.ID()); err != nil {
		t.Errorf("deleting twice: %v", err)
	}
	waitBackground(r)

	if _, err := os.Stat(w.Dir()); !os.IsNotExist(err) {
		t.Errorf("workspace directory still there: %v", err)
	}
	if ok, err := r.opts.Bucket.Exists(ctx, recordName(w.ID())); err != nil || ok {
		t.Errorf("record still in the bucket: %v, %v", ok, err)
	}
	if _, err := r.Describe(ctx, w.ID()); !errors.Is(err, ErrNotFound) {
		t.Errorf("Describe after deletion: %v, want ErrNotFound", err)
	}
	// The token is free again.
	w2, err := r.Create(ctx, CreateInput{ClientToken: "t"})
	if err != nil || w2.ID() == w.ID() {
		t.Errorf("create with the token of a deleted workspace: %v, %v", w2, err)
	}
}

func TestConfigurationReachesLiveTSDB(t *testing.T) {
	reg := prometheus.NewRegistry()
	opts := testOptions(t, t.TempDir())
	opts.Registerer = reg
	r := openRegistry(t, opts)
	ctx := context.Background()
	w, err := r.Create(ctx, CreateInput{})
	if err != nil {
		t.Fatal(err)
	}

	status, err := r.UpdateConfiguration(ctx, UpdateConfigurationInput{
		ID:                            w.ID(),
		RetentionPeriodInDays:         new(30),
		OutOfOrderTimeWindowInSeconds: new(0),
		RuleQueryOffsetInSeconds:      new(45),
		LimitsPerLabelSet: []LabelSetLimit{
			{LabelSet: labels.FromStrings("team", "a"), MaxSeries: 1000},
			{LabelSet: labels.FromStrings("__name__", "up"), MaxSeries: 0},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if status != ConfigurationUpdating {
		t.Errorf("status = %s, want UPDATING", status)
	}
	d, err := r.DescribeConfiguration(ctx, w.ID())
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != ConfigurationActive || d.Retention != 30*24*time.Hour || d.OutOfOrderTimeWindow != 0 ||
		d.RuleQueryOffset != 45*time.Second || len(d.LimitsPerLabelSet) != 2 {
		t.Errorf("configuration = %+v", d)
	}
	if got := gaugeValue(t, reg, "prometheus_tsdb_retention_limit_seconds", w.ID()); got != (30 * 24 * time.Hour).Seconds() {
		t.Errorf("live retention = %vs, want 30 days", got)
	}

	lset := labels.FromStrings("__name__", "up")
	if err := appendSample(t, w, lset, 100_000, 1); err != nil {
		t.Fatal(err)
	}
	if err := appendSample(t, w, lset, 90_000, 1); !errors.Is(err, storage.ErrOutOfOrderSample) {
		t.Errorf("out-of-order sample with the window off: %v, want %v", err, storage.ErrOutOfOrderSample)
	}
	if _, err := r.UpdateConfiguration(ctx, UpdateConfigurationInput{ID: w.ID(), OutOfOrderTimeWindowInSeconds: new(600)}); err != nil {
		t.Fatal(err)
	}
	if err := appendSample(t, w, lset, 90_000, 2); err != nil {
		t.Errorf("out-of-order sample within a 600 s window: %v", err)
	}
	if err := appendSample(t, w, lset, 100_000-601_000, 2); !errors.Is(err, storage.ErrTooOldSample) {
		t.Errorf("sample older than the window: %v, want %v", err, storage.ErrTooOldSample)
	}
	// Fields left out stay as they were.
	if c := w.Config(); c.Retention != 30*24*time.Hour || len(c.LimitsPerLabelSet) != 2 || c.RuleQueryOffset != 45*time.Second {
		t.Errorf("config after a partial update = %+v", c)
	}
	// An empty list removes the limits.
	if _, err := r.UpdateConfiguration(ctx, UpdateConfigurationInput{ID: w.ID(), LimitsPerLabelSet: []LabelSetLimit{}}); err != nil {
		t.Fatal(err)
	}
	if c := w.Config(); len(c.LimitsPerLabelSet) != 0 {
		t.Errorf("limits after clearing them: %v", c.LimitsPerLabelSet)
	}
}

func TestUpdateConfigurationValidation(t *testing.T) {
	r := openRegistry(t, testOptions(t, t.TempDir()))
	ctx := context.Background()
	w, err := r.Create(ctx, CreateInput{})
	if err != nil {
		t.Fatal(err)
	}
	for name, tc := range map[string]struct {
		in    UpdateConfigurationInput
		field string
	}{
		"nothing set":          {UpdateConfigurationInput{}, "workspaceConfiguration"},
		"retention 0":          {UpdateConfigurationInput{RetentionPeriodInDays: new(0)}, "retentionPeriodInDays"},
		"retention 1096":       {UpdateConfigurationInput{RetentionPeriodInDays: new(1096)}, "retentionPeriodInDays"},
		"negative ooo":         {UpdateConfigurationInput{OutOfOrderTimeWindowInSeconds: new(-1)}, "outOfOrderTimeWindowInSeconds"},
		"negative rule offset": {UpdateConfigurationInput{RuleQueryOffsetInSeconds: new(-1)}, "ruleQueryOffsetInSeconds"},
		"bad label name": {UpdateConfigurationInput{LimitsPerLabelSet: []LabelSetLimit{
			{LabelSet: labels.FromStrings("1team", "a"), MaxSeries: 1},
		}}, "limitsPerLabelSet[0].labelSet"},
		"bad metric name": {UpdateConfigurationInput{LimitsPerLabelSet: []LabelSetLimit{
			{LabelSet: labels.FromStrings("__name__", "a-b"), MaxSeries: 1},
		}}, "limitsPerLabelSet[0].labelSet"},
		"blank value": {UpdateConfigurationInput{LimitsPerLabelSet: []LabelSetLimit{
			{LabelSet: labels.FromStrings("team", "  "), MaxSeries: 1},
		}}, "limitsPerLabelSet[0].labelSet"},
		"empty label set": {UpdateConfigurationInput{LimitsPerLabelSet: []LabelSetLimit{
			{LabelSet: labels.EmptyLabels(), MaxSeries: 1},
		}}, "limitsPerLabelSet[0].labelSet"},
		"negative max series": {UpdateConfigurationInput{LimitsPerLabelSet: []LabelSetLimit{
			{LabelSet: labels.FromStrings("team", "a"), MaxSeries: -1},
		}}, "limitsPerLabelSet[0].limits.maxSeries"},
		"duplicate label set": {UpdateConfigurationInput{LimitsPerLabelSet: []LabelSetLimit{
			{LabelSet: labels.FromStrings("team", "a"), MaxSeries: 1},
			{LabelSet: labels.FromStrings("team", "a"), MaxSeries: 2},
		}}, "limitsPerLabelSet[1].labelSet"},
	} {
		t.Run(name, func(t *testing.T) {
			tc.in.ID = w.ID()
			_, err := r.UpdateConfiguration(ctx, tc.in)
			var ve *ValidationError
			if !errors.As(err, &ve) || !errors.Is(err, ErrInvalid) {
				t.Fatalf("err = %v, want a ValidationError", err)
			}
			if len(ve.Fields) == 0 || ve.Fields[0].Name != tc.field {
				t.Errorf("fields = %+v, want %s", ve.Fields, tc.field)
			}
		})
	}
	if c := w.Config(); c.Retention != DefaultRetention {
		t.Errorf("a rejected update changed the configuration: %+v", c)
	}
}

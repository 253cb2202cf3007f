package quota_test

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/promspace/promspace/ingest"
	"github.com/promspace/promspace/query"
	"github.com/promspace/promspace/quota"
	"github.com/promspace/promspace/workspace"
)

// openWorkspace opens a registry with components in t.TempDir() and
// returns it with a new, active workspace.
func openWorkspace(t *testing.T, cs ...workspace.Component) (*workspace.Registry, *workspace.Workspace) {
	t.Helper()
	ctx := context.Background()
	r, err := workspace.Open(ctx, workspace.Options{DataDir: t.TempDir(), Components: cs})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	w, err := r.Create(ctx, workspace.CreateInput{Alias: "quota"})
	if err != nil {
		t.Fatal(err)
	}
	if w, err = r.Get(ctx, w.ID()); err != nil {
		t.Fatal(err)
	}
	return r, w
}

// TestDefaultLimitsAgree: the defaults that other packages enforce today
// are the same numbers as Limits', so that moving them here changes
// nothing.
func TestDefaultLimitsAgree(t *testing.T) {
	l := quota.DefaultLimits()
	for _, c := range []struct {
		name      string
		got, want any
	}{
		{"MaxSamplesPerQuery", l.MaxSamplesPerQuery, query.DefaultMaxSamples},
		{"MaxChunksPerQuery", l.MaxChunksPerQuery, query.DefaultMaxChunksPerQuery},
		{"MaxBytesPerQuery", l.MaxBytesPerQuery, int64(query.DefaultMaxBytesPerQuery)},
		{"MaxQueryLength", l.MaxQueryLength, query.DefaultMaxQueryLength},
		{"QueryTimeout", l.QueryTimeout, query.DefaultTimeout},
		{"Retention", l.Retention, workspace.DefaultRetention},
		{"OutOfOrderTimeWindow", l.OutOfOrderTimeWindow, workspace.DefaultOutOfOrderTimeWindow},
		{"MaxMetadataFamilies", l.MaxMetadataFamilies, workspace.MaxMetadataFamilies},
	} {
		if c.got != c.want {
			t.Errorf("%s = %v, want %v", c.name, c.got, c.want)
		}
	}
}

func TestComponent(t *testing.T) {
	ctx := context.Background()
	r, w := openWorkspace(t, quota.New(quota.Options{}).Component())
	q, ok := workspace.InstanceOf[*quota.Quota](w, quota.ComponentName)
	if !ok {
		t.Fatal("no *quota.Quota for an open workspace")
	}
	if got := q.Limits(); got.MaxActiveSeries != quota.DefaultMaxActiveSeries || got.Retention != workspace.DefaultRetention {
		t.Errorf("default limits: MaxActiveSeries %d, Retention %v", got.MaxActiveSeries, got.Retention)
	}
	if err := q.Process(ctx, ingest.Target{ID: w.ID()}, &ingest.Request{}); err != nil {
		t.Errorf("Process: %v, want every request passed", err)
	}

	// The configuration's quotas replace the options'.
	set := []workspace.LabelSetLimit{{LabelSet: labels.FromStrings("job", "api"), MaxSeries: 5}}
	if _, err := r.UpdateConfiguration(ctx, workspace.UpdateConfigurationInput{
		ID: w.ID(), RetentionPeriodInDays: new(7), LimitsPerLabelSet: set,
	}); err != nil {
		t.Fatal(err)
	}
	got := q.Limits()
	if got.Retention != 7*24*time.Hour || len(got.LimitsPerLabelSet) != 1 || got.LimitsPerLabelSet[0].MaxSeries != 5 {
		t.Errorf("after UpdateConfiguration: Retention %v, LimitsPerLabelSet %v", got.Retention, got.LimitsPerLabelSet)
	}
	got.LimitsPerLabelSet[0].MaxSeries = 99
	if q.Limits().LimitsPerLabelSet[0].MaxSeries != 5 {
		t.Error("Limits shares its LimitsPerLabelSet with the caller")
	}

	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if w.Instance(quota.ComponentName) != nil {
		t.Error("instance kept after close")
	}
}

// TestOverrides: a workspace's override replaces Options.Limits, and the
// configuration's quotas still come from the configuration.
func TestOverrides(t *testing.T) {
	custom := quota.DefaultLimits()
	custom.MaxActiveSeries = 10
	custom.Retention = time.Hour
	var asked []string // written by the registry's opening goroutine, read after Get
	qs := quota.New(quota.Options{Overrides: func(w *workspace.Workspace) (quota.Limits, bool) {
		asked = append(asked, w.ID())
		return custom, true
	}})
	_, w := openWorkspace(t, qs.Component())
	q, _ := workspace.InstanceOf[*quota.Quota](w, quota.ComponentName)
	if got := q.Limits(); got.MaxActiveSeries != 10 || got.Retention != workspace.DefaultRetention {
		t.Errorf("overridden limits: MaxActiveSeries %d, Retention %v", got.MaxActiveSeries, got.Retention)
	}
	if len(asked) != 1 || asked[0] != w.ID() {
		t.Errorf("Overrides called for %q, want once for %s", asked, w.ID())
	}
}

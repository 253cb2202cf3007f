package quota_test

import (
	"context"
	"net/http"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"

	"github.com/promspace/promspace/quota"
	"github.com/promspace/promspace/workspace"
)

// overrides is an Options.Overrides whose answer a test changes.
type overrides struct {
	mtx sync.Mutex
	l   quota.Limits
}

func (o *overrides) get(*workspace.Workspace) (quota.Limits, bool) {
	o.mtx.Lock()
	defer o.mtx.Unlock()
	return o.l, true
}

func (o *overrides) set(fn func(*quota.Limits)) {
	o.mtx.Lock()
	defer o.mtx.Unlock()
	fn(&o.l)
}

// reconfigure sends UpdateWorkspaceConfiguration, which applies the
// Overrides' current answer too.
func (e *env) reconfigure(in workspace.UpdateConfigurationInput) {
	e.t.Helper()
	in.ID = e.w.ID()
	if in.RetentionPeriodInDays == nil && in.LimitsPerLabelSet == nil {
		in.RetentionPeriodInDays = new(150)
	}
	if _, err := e.reg.UpdateConfiguration(context.Background(), in); err != nil {
		e.t.Fatal(err)
	}
}

// TestOverridesLive: an override changed and applied through
// UpdateWorkspaceConfiguration takes effect on the running workspace.
// Lowering a series limit keeps the series already active and refuses
// new ones; lowering a label limit refuses the series over it, active or
// not; the rate, burst and metadata limits change at once.
func TestOverridesLive(t *testing.T) {
	o := &overrides{l: quota.DefaultLimits()}
	o.l.MaxActiveSeries = 3
	e := newEnv(t, quota.Options{Overrides: o.get})
	e.push(e.numbered("a", 0, 3)...).expect(t, http.StatusNoContent, "")

	o.set(func(l *quota.Limits) { l.MaxActiveSeries = 2 })
	e.reconfigure(workspace.UpdateConfigurationInput{})
	if got := e.q.Limits().MaxActiveSeries; got != 2 {
		t.Fatalf("MaxActiveSeries %d after the override, want 2", got)
	}
	e.clock.Advance(time.Second)
	e.push(e.numbered("a", 0, 3)...).expect(t, http.StatusNoContent, "")
	e.clock.Advance(time.Second)
	e.push(e.numbered("a", 3, 1)...).expect(t, http.StatusBadRequest,
		`per-user series limit of 2 exceeded, please contact administrator to raise it (series: {__name__="a", i="3"})`)

	o.set(func(l *quota.Limits) { l.MaxActiveSeries = 4 })
	e.reconfigure(workspace.UpdateConfigurationInput{})
	e.push(e.numbered("a", 3, 1)...).expect(t, http.StatusNoContent, "")
	if got := e.q.IngestUsage().ActiveSeries; got != 4 {
		t.Errorf("%d active series, want 4", got)
	}

	// A label limit applies to series already active.
	o.set(func(l *quota.Limits) { l.MaxLabelsPerSeries = 1 })
	e.reconfigure(workspace.UpdateConfigurationInput{})
	e.clock.Advance(time.Second)
	e.push(e.numbered("a", 0, 2)...).expect(t, http.StatusBadRequest,
		`series has too many labels (actual: 2, limit: 1) series: 'a{i="0"}' (and 1 more series)`)

	o.set(func(l *quota.Limits) {
		l.MaxLabelsPerSeries = quota.DefaultMaxLabelsPerSeries
		l.IngestionRate, l.IngestionBurst = 1, 5
		l.MaxMetadataFamilies = 7
	})
	e.reconfigure(workspace.UpdateConfigurationInput{})
	if got := e.w.Metadata().MaxFamilies(); got != 7 {
		t.Errorf("metadata families limit %d, want 7", got)
	}
	if got := e.q.IngestUsage().IngestionTokens; got != 5 {
		t.Errorf("%v tokens after the burst was lowered, want 5", got)
	}
	e.push(e.numbered("a", 0, 4)...).expect(t, http.StatusNoContent, "")
	res := e.push(e.numbered("a", 0, 2)...)
	if res.status != http.StatusTooManyRequests || res.body != "ingestion rate limit (1) exceeded while adding 2 samples and 0 metadata" || res.retryAfter != "1" {
		t.Errorf("over the new rate: %+v", res)
	}
}

// TestLabelSetLimits: a label-set limit configured after its series are
// active counts them at once and throttles only the series that match it;
// changing only its number keeps the count; removing it stops it.
func TestLabelSetLimits(t *testing.T) {
	e := newEnv(t, quota.Options{})
	e.push(append(e.numbered("a", 0, 3, "job", "api"), e.numbered("a", 0, 3, "job", "web")...)...).expect(t, http.StatusNoContent, "")

	api := labels.FromStrings("job", "api")
	e.reconfigure(workspace.UpdateConfigurationInput{LimitsPerLabelSet: []workspace.LabelSetLimit{{LabelSet: api, MaxSeries: 3}}})
	checkLabelSets(t, e.q.IngestUsage(), quota.LabelSetUsage{LabelSet: api, MaxSeries: 3, ActiveSeries: 3})

	e.clock.Advance(time.Second)
	// Only the job="api" series over the limit are refused.
	e.push(append(e.numbered("a", 3, 2, "job", "api"), e.numbered("a", 3, 2, "job", "web")...)...).expect(t, http.StatusBadRequest,
		`per-labelset series limit of 3 exceeded (labelSet: {job="api"}) (series: {__name__="a", i="3", job="api"}, and 1 more series)`)

	e.reconfigure(workspace.UpdateConfigurationInput{LimitsPerLabelSet: []workspace.LabelSetLimit{{LabelSet: api, MaxSeries: 4}}})
	checkLabelSets(t, e.q.IngestUsage(), quota.LabelSetUsage{LabelSet: api, MaxSeries: 4, ActiveSeries: 3})
	e.push(e.numbered("a", 3, 1, "job", "api")...).expect(t, http.StatusNoContent, "")
	checkLabelSets(t, e.q.IngestUsage(), quota.LabelSetUsage{LabelSet: api, MaxSeries: 4, ActiveSeries: 4})

	e.reconfigure(workspace.UpdateConfigurationInput{LimitsPerLabelSet: []workspace.LabelSetLimit{}})
	checkLabelSets(t, e.q.IngestUsage())
	e.push(e.numbered("a", 4, 5, "job", "api")...).expect(t, http.StatusNoContent, "")
	if got := e.q.IngestUsage().ActiveSeries; got != 14 {
		t.Errorf("%d active series, want 14", got)
	}
}

func checkLabelSets(t *testing.T, u quota.IngestUsage, want ...quota.LabelSetUsage) {
	t.Helper()
	if len(u.LabelSets) != len(want) {
		t.Fatalf("label sets %+v, want %+v", u.LabelSets, want)
	}
	for i, w := range want {
		if g := u.LabelSets[i]; !labels.Equal(g.LabelSet, w.LabelSet) || g.MaxSeries != w.MaxSeries || g.ActiveSeries != w.ActiveSeries {
			t.Errorf("label set %d: %+v, want %+v", i, g, w)
		}
	}
}

// TestMetadataLimit: the workspace keeps metadata for MaxMetadataFamilies
// metric families; the metadata of one more is dropped and its samples
// are written.
func TestMetadataLimit(t *testing.T) {
	e := newEnv(t, quota.Options{Limits: limits(func(l *quota.Limits) { l.MaxMetadataFamilies = 2 })})
	md := func(names ...string) []prompb.MetricMetadata {
		var out []prompb.MetricMetadata
		for _, n := range names {
			out = append(out, prompb.MetricMetadata{MetricFamilyName: n, Type: prompb.MetricMetadata_GAUGE, Help: n})
		}
		return out
	}
	e.pushRequest(&prompb.WriteRequest{Timeseries: e.numbered("a", 0, 1), Metadata: md("a", "b")}).expect(t, http.StatusNoContent, "")
	e.pushRequest(&prompb.WriteRequest{Timeseries: e.numbered("c", 0, 1), Metadata: md("c")}).expect(t, http.StatusNoContent, "")
	if got := e.w.Metadata().List("", 0, 0); len(got) != 2 || got["c"] != nil {
		t.Errorf("metadata of %d families (c: %v), want a and b", len(got), got["c"])
	}
	u := e.q.IngestUsage()
	if u.MetadataFamilies != 2 || u.MetadataDropped != 1 || e.stored() != 2 {
		t.Errorf("%d families, %d dropped, %d samples; want 2, 1, 2", u.MetadataFamilies, u.MetadataDropped, e.stored())
	}
}

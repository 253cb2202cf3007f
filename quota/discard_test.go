package quota_test

import (
	"maps"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/promspace/promspace/quota"
	"github.com/promspace/promspace/workspace"
)

// TestDiscardReasons: the samples of every series an ingest limit refuses,
// and of a request refused for the rate, are counted on ingest's
// discarded-samples metric by Cortex's reason names, each exactly.
func TestDiscardReasons(t *testing.T) {
	e := newEnv(t, quota.Options{Limits: limits(func(l *quota.Limits) {
		l.MaxActiveSeries, l.MaxActiveSeriesPerMetric = 4, 2
		l.MaxLabelsPerSeries, l.MaxLabelNameLength, l.MaxLabelValueLength = 3, 8, 8
		l.IngestionRate, l.IngestionBurst = 0.5, 30
	})})
	e.reconfigure(workspace.UpdateConfigurationInput{LimitsPerLabelSet: []workspace.LabelSetLimit{
		{LabelSet: labels.FromStrings("job", "api"), MaxSeries: 1},
	}})
	long := strings.Repeat("x", 9)
	for _, c := range []struct {
		samples int
		pairs   []string
		status  int
	}{
		{1, []string{"__name__", "a", "i", "0"}, http.StatusNoContent},
		{1, []string{"__name__", "a", "i", "1"}, http.StatusNoContent},
		{3, []string{"__name__", "a", "i", "2"}, http.StatusBadRequest}, // per metric
		{1, []string{"__name__", "b", "job", "api"}, http.StatusNoContent},
		{2, []string{"__name__", "b", "i", "1", "job", "api"}, http.StatusBadRequest}, // per label set
		{1, []string{"__name__", "c"}, http.StatusNoContent},
		{4, []string{"__name__", "d"}, http.StatusBadRequest},                               // per workspace
		{5, []string{"__name__", "e", "x", "1", "y", "2", "z", "3"}, http.StatusBadRequest}, // 4 labels
		{6, []string{"__name__", "f", long, "1"}, http.StatusBadRequest},
		{7, []string{"__name__", "g", "x", long}, http.StatusBadRequest},
		{20, []string{"__name__", "c"}, http.StatusNoContent},
		{20, []string{"__name__", "c"}, http.StatusTooManyRequests}, // 15 tokens
	} {
		e.clock.Advance(10 * time.Second)
		if res := e.push(e.series(c.samples, c.pairs...)); res.status != c.status {
			t.Errorf("%v: %d %s, want %d", c.pairs, res.status, res.body, c.status)
		}
	}
	want := map[string]float64{
		quota.ReasonPerMetricSeriesLimit:   3,
		quota.ReasonPerLabelSetSeriesLimit: 2,
		quota.ReasonPerUserSeriesLimit:     4,
		quota.ReasonMaxLabelNamesPerSeries: 5,
		quota.ReasonLabelNameTooLong:       6,
		quota.ReasonLabelValueTooLong:      7,
		quota.ReasonRateLimited:            20,
	}
	if got := e.discarded(); !maps.Equal(got, want) {
		t.Errorf("discarded samples by reason %v,\nwant %v", got, want)
	}
}

// discarded returns the workspace's discarded samples, by reason.
func (e *env) discarded() map[string]float64 {
	e.t.Helper()
	mfs, err := e.metrics.Gather()
	if err != nil {
		e.t.Fatal(err)
	}
	out := map[string]float64{}
	for _, mf := range mfs {
		if mf.GetName() != "promspace_ingest_discarded_samples_total" {
			continue
		}
		for _, m := range mf.GetMetric() {
			var ws, reason string
			for _, lp := range m.GetLabel() {
				switch lp.GetName() {
				case "workspace":
					ws = lp.GetValue()
				case "reason":
					reason = lp.GetValue()
				}
			}
			if ws == e.w.ID() {
				out[reason] = m.GetCounter().GetValue()
			}
		}
	}
	return out
}

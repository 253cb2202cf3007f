package quota_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/promspace/promspace/quota"
	"github.com/promspace/promspace/workspace"
)

// TestActiveSeriesRestart: the active series, in total and per label set,
// survive closing and reopening the registry, still count against the
// limits, and fall once they have been idle for ActiveSeriesWindow, before
// a restart or after.
func TestActiveSeriesRestart(t *testing.T) {
	e := newEnv(t, quota.Options{Limits: limits(func(l *quota.Limits) { l.MaxActiveSeries = 5 })})
	api := labels.FromStrings("job", "api")
	e.reconfigure(workspace.UpdateConfigurationInput{LimitsPerLabelSet: []workspace.LabelSetLimit{{LabelSet: api, MaxSeries: 10}}})
	e.push(append(e.numbered("a", 0, 3, "job", "api"), e.numbered("b", 0, 2)...)...).expect(t, http.StatusNoContent, "")

	e.restart()
	u := e.q.IngestUsage()
	if u.ActiveSeries != 5 || u.LargestMetric != "a" || u.LargestMetricSeries != 3 {
		t.Errorf("after a restart: %d active series, largest metric %q with %d; want 5, a with 3", u.ActiveSeries, u.LargestMetric, u.LargestMetricSeries)
	}
	checkLabelSets(t, u, quota.LabelSetUsage{LabelSet: api, MaxSeries: 10, ActiveSeries: 3})
	e.clock.Advance(time.Minute)
	e.push(e.numbered("c", 0, 1)...).expect(t, http.StatusBadRequest,
		`per-user series limit of 5 exceeded, please contact administrator to raise it (series: {__name__="c", i="0"})`)

	// An hour later two series get samples; an hour and a purge after,
	// the other three have been idle for over two hours.
	e.clock.Advance(time.Hour)
	e.push(e.numbered("b", 0, 2)...).expect(t, http.StatusNoContent, "")
	e.clock.Advance(time.Hour + quota.PurgeInterval)
	u = e.q.IngestUsage()
	if u.ActiveSeries != 2 || u.LargestMetric != "b" {
		t.Errorf("after 2h idle: %d active series, largest metric %q; want 2, b", u.ActiveSeries, u.LargestMetric)
	}
	checkLabelSets(t, u, quota.LabelSetUsage{LabelSet: api, MaxSeries: 10, ActiveSeries: 0})

	e.restart()
	if got := e.q.IngestUsage().ActiveSeries; got != 2 {
		t.Errorf("after a second restart: %d active series, want 2", got)
	}
	e.clock.Advance(2 * time.Hour)
	if got := e.q.IngestUsage().ActiveSeries; got != 0 {
		t.Errorf("after 2h more: %d active series, want 0", got)
	}
}

// TestIdleSeriesMakeRoom: at the series limit, a request that comes once
// the purge of idle series is due gets their room, although the purge it
// starts runs in the background.
func TestIdleSeriesMakeRoom(t *testing.T) {
	e := newEnv(t, quota.Options{Limits: limits(func(l *quota.Limits) { l.MaxActiveSeries = 2 })})
	e.push(e.numbered("a", 0, 2)...).expect(t, http.StatusNoContent, "")
	e.clock.Advance(time.Hour)
	e.push(e.numbered("a", 0, 1)...).expect(t, http.StatusNoContent, "")
	e.clock.Advance(time.Hour + quota.PurgeInterval)
	// a{i="0"} is active (seen 1h1m ago), a{i="1"} is not.
	e.push(e.numbered("b", 0, 1)...).expect(t, http.StatusNoContent, "")
	e.push(e.numbered("b", 1, 1)...).expect(t, http.StatusBadRequest,
		`per-user series limit of 2 exceeded, please contact administrator to raise it (series: {__name__="b", i="1"})`)
	if got := e.q.IngestUsage().ActiveSeries; got != 2 {
		t.Errorf("%d active series, want 2", got)
	}
}

package quota_test

import (
	"context"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"

	"github.com/promspace/promspace/quota"
	"github.com/promspace/promspace/workspace"
)

// limits returns DefaultLimits changed by fn.
func limits(fn func(*quota.Limits)) *quota.Limits {
	l := quota.DefaultLimits()
	fn(&l)
	return &l
}

// TestSeriesLimits: at every series limit, a request that brings the
// workspace exactly to it is accepted and one more series is refused with
// 400 and AMP's text naming the first refused series and how many more
// there were, while every other sample of the request is written.
func TestSeriesLimits(t *testing.T) {
	for _, c := range []struct {
		name   string
		limits func(*quota.Limits)
		sets   []workspace.LabelSetLimit
		// fill brings the workspace to the limit; over adds three series
		// over it, and other series that no limit refuses.
		fill, over, others func(e *env) []prompb.TimeSeries
		// grow is how many of others are new active series.
		grow int64
		want string
	}{{
		name:   "per-user",
		limits: func(l *quota.Limits) { l.MaxActiveSeries = 3 },
		fill:   func(e *env) []prompb.TimeSeries { return e.numbered("a", 0, 3) },
		over:   func(e *env) []prompb.TimeSeries { return e.numbered("b", 0, 3) },
		// At the limit, series already active are still written.
		others: func(e *env) []prompb.TimeSeries { return e.numbered("a", 0, 3) },
		want:   `per-user series limit of 3 exceeded, please contact administrator to raise it (series: {__name__="b", i="0"}, and 2 more series)`,
	}, {
		name:   "per-metric",
		limits: func(l *quota.Limits) { l.MaxActiveSeriesPerMetric = 2 },
		fill:   func(e *env) []prompb.TimeSeries { return e.numbered("a", 0, 2) },
		over:   func(e *env) []prompb.TimeSeries { return e.numbered("a", 2, 3) },
		others: func(e *env) []prompb.TimeSeries { return e.numbered("b", 0, 2) },
		grow:   2,
		want:   `per-metric series limit of 2 exceeded, please contact administrator to raise it (series: {__name__="a", i="2"}, and 2 more series)`,
	}, {
		name: "per-labelset",
		sets: []workspace.LabelSetLimit{
			{LabelSet: labels.FromStrings("job", "api", "env", "prod"), MaxSeries: 2},
			{LabelSet: labels.FromStrings("job", "web"), MaxSeries: 0},
		},
		fill: func(e *env) []prompb.TimeSeries { return e.numbered("a", 0, 2, "env", "prod", "job", "api") },
		over: func(e *env) []prompb.TimeSeries { return e.numbered("a", 2, 3, "env", "prod", "job", "api") },
		// Series holding only some of the set's labels do not match it.
		others: func(e *env) []prompb.TimeSeries {
			return append(e.numbered("a", 0, 3, "env", "dev", "job", "api"), e.numbered("a", 0, 3, "job", "web")...)
		},
		grow: 6,
		want: `per-labelset series limit of 2 exceeded (labelSet: {env="prod", job="api"}) (series: {__name__="a", env="prod", i="2", job="api"}, and 2 more series)`,
	}} {
		t.Run(c.name, func(t *testing.T) {
			l := quota.DefaultLimits()
			if c.limits != nil {
				c.limits(&l)
			}
			e := newEnv(t, quota.Options{Limits: &l})
			if c.sets != nil {
				if _, err := e.reg.UpdateConfiguration(context.Background(), workspace.UpdateConfigurationInput{ID: e.w.ID(), LimitsPerLabelSet: c.sets}); err != nil {
					t.Fatal(err)
				}
			}
			fill := c.fill(e)
			e.push(fill...).expect(t, http.StatusNoContent, "")
			active := e.q.IngestUsage().ActiveSeries

			e.clock.Advance(time.Second)
			over, others := c.over(e), c.others(e)
			// The series over the limit come between the others.
			req := append(append(append([]prompb.TimeSeries{}, others[:1]...), over...), others[1:]...)
			e.push(req...).expect(t, http.StatusBadRequest, c.want)
			if got, want := e.stored(), len(fill)+len(others); got != want {
				t.Errorf("%d samples stored, want %d", got, want)
			}
			if got, want := e.q.IngestUsage().ActiveSeries, active+c.grow; got != want {
				t.Errorf("%d active series, want %d", got, want)
			}

			// A single series over says nothing of more.
			e.clock.Advance(time.Second)
			res := e.push(c.over(e)[0])
			if want := strings.Replace(c.want, ", and 2 more series)", ")", 1); res.status != http.StatusBadRequest || res.body != want {
				t.Errorf("one series over: %d %q, want 400 %q", res.status, res.body, want)
			}
		})
	}
}

// TestLabelLimits: a series exactly at a label limit is written, one over
// is refused with Cortex's text, and the rest of its request is written.
func TestLabelLimits(t *testing.T) {
	long := func(n int) string { return strings.Repeat("x", n) }
	e := newEnv(t, quota.Options{Limits: limits(func(l *quota.Limits) {
		l.MaxLabelsPerSeries = 4
		l.MaxLabelNameLength = 10
		l.MaxLabelValueLength = 12
	})})
	for _, c := range []struct {
		name     string
		at, over prompb.TimeSeries
		want     string
	}{{
		name: "labels per series",
		at:   e.series(1, "__name__", "m", "a", "1", "b", "2", "c", "3"),
		over: e.series(1, "__name__", "m", "a", "1", "b", "2", "c", "3", "d", "4"),
		want: `series has too many labels (actual: 5, limit: 4) series: 'm{a="1", b="2", c="3", d="4"}'`,
	}, {
		name: "label name length",
		at:   e.series(1, "__name__", "m", long(10), "v"),
		over: e.series(1, "__name__", "m", long(11), "v"),
		want: `label name too long for metric (actual: 11, limit: 10) metric: "m{xxxxxxxxxxx=\"v\"}" label name: "xxxxxxxxxxx"`,
	}, {
		name: "label value length",
		at:   e.series(1, "__name__", "m", "a", long(12)),
		over: e.series(1, "__name__", "m", "a", long(13)),
		want: `label value too long for metric (actual: 13, limit: 12) metric: "m{a=\"xxxxxxxxxxxxx\"}" label name: "a" label value: "xxxxxxxxxxxxx"`,
	}} {
		t.Run(c.name, func(t *testing.T) {
			e.clock.Advance(time.Second)
			before := e.stored()
			e.push(c.at).expect(t, http.StatusNoContent, "")
			ok := e.series(1, "__name__", "ok")
			e.push(c.over, ok, c.over).expect(t, http.StatusBadRequest, c.want+" (and 1 more series)")
			if got := e.stored(); got != before+2 {
				t.Errorf("%d samples stored, want %d", got, before+2)
			}
		})
	}

}

// TestRateLimit: the token bucket passes a request of exactly the burst,
// refuses the next one whole with 429, AMP's text and Retry-After rounded
// up to whole seconds, passes it again once the tokens are back, and
// answers 400 to a request larger than the burst, which no wait admits.
func TestRateLimit(t *testing.T) {
	e := newEnv(t, quota.Options{Limits: limits(func(l *quota.Limits) {
		l.IngestionRate = 10
		l.IngestionBurst = 20
		l.MaxActiveSeries = 100
	})})
	e.push(e.series(20, "__name__", "a")).expect(t, http.StatusNoContent, "")
	if got := e.q.IngestUsage().IngestionTokens; got != 0 {
		t.Errorf("%v tokens left, want 0", got)
	}

	e.clock.Advance(time.Second)
	over := e.pushRequest(&prompb.WriteRequest{
		Timeseries: e.numbered("b", 0, 15),
		Metadata:   []prompb.MetricMetadata{{MetricFamilyName: "b", Type: prompb.MetricMetadata_GAUGE, Help: "b"}},
	})
	// 10 tokens earned, 16 wanted: 0.6 s to wait, 1 s to say.
	over.expect(t, http.StatusTooManyRequests, "ingestion rate limit (10) exceeded while adding 15 samples and 1 metadata")
	if over.retryAfter != "1" {
		t.Errorf("Retry-After %q, want 1", over.retryAfter)
	}
	u := e.q.IngestUsage()
	if u.ActiveSeries != 1 || u.IngestionTokens != 10 {
		t.Errorf("after a 429: %d active series, %v tokens; want 1 and 10 (nothing taken)", u.ActiveSeries, u.IngestionTokens)
	}

	e.clock.Advance(600 * time.Millisecond)
	e.push(e.numbered("b", 0, 15)...).expect(t, http.StatusNoContent, "")

	// 20 wanted with 1 token: 1.9 s to wait, 2 s to say.
	e.clock.Advance(100 * time.Millisecond)
	res := e.push(e.series(20, "__name__", "c"))
	if res.status != http.StatusTooManyRequests || res.retryAfter != "2" {
		t.Errorf("20 samples with 1 token: %d, Retry-After %q, want 429 and 2", res.status, res.retryAfter)
	}

	e.clock.Advance(time.Hour)
	e.push(e.series(21, "__name__", "c")).expect(t, http.StatusBadRequest,
		"ingestion burst size limit (20) exceeded while adding 21 samples and 0 metadata")
	if got := e.q.IngestUsage().IngestionTokens; got != 20 {
		t.Errorf("%v tokens after a request over the burst, want 20", got)
	}
	if got := e.stored(); got != 35 {
		t.Errorf("%d samples stored, want 35", got)
	}
}

// TestRateLimitCountsValidSeries: as in Cortex, only the samples of series
// that pass the label limits take tokens, whether the bucket holds the
// whole request or only its valid part.
func TestRateLimitCountsValidSeries(t *testing.T) {
	e := newEnv(t, quota.Options{Limits: limits(func(l *quota.Limits) {
		l.IngestionRate, l.IngestionBurst = 1, 20
		l.MaxLabelsPerSeries = 2
	})})
	tooMany := e.series(10, "__name__", "bad", "a", "1", "b", "2")
	want := `series has too many labels (actual: 3, limit: 2) series: 'bad{a="1", b="2"}'`
	// The bucket holds all 15: the 10 refused go back.
	e.push(tooMany, e.series(5, "__name__", "ok")).expect(t, http.StatusBadRequest, want)
	if got := e.q.IngestUsage().IngestionTokens; got != 15 {
		t.Errorf("%v tokens left, want 15", got)
	}
	// 15 tokens for 25 samples, 15 of them valid: written.
	e.clock.Advance(time.Second / 2)
	e.push(tooMany, e.series(15, "__name__", "ok2")).expect(t, http.StatusBadRequest, want)
	if u := e.q.IngestUsage(); u.IngestionTokens != 0.5 || u.ActiveSeries != 2 {
		t.Errorf("%v tokens left, %d active series; want 0.5 and 2", u.IngestionTokens, u.ActiveSeries)
	}
	if got := e.stored(); got != 20 {
		t.Errorf("%d samples stored, want 20", got)
	}
}

package promspacetest_test

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/promspace/promspace"
	"github.com/promspace/promspace/promspacetest"
)

func TestPushGathererSummaryAndHistogram(t *testing.T) {
	srv := promspacetest.NewServer(t)
	reg := prometheus.NewRegistry()
	sum := prometheus.NewSummary(prometheus.SummaryOpts{
		Name: "rpc_seconds", Help: "RPC latency.", Objectives: map[float64]float64{0.5: 0.01},
	})
	hist := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "size_bytes", Help: "Sizes.", Buckets: []float64{100, 1000},
	}, []string{"kind"})
	reg.MustRegister(sum, hist)
	for _, v := range []float64{1, 2, 3} {
		sum.Observe(v)
	}
	hist.WithLabelValues("a").Observe(50)
	hist.WithLabelValues("a").Observe(5000)

	srv.PushGatherer(t, reg, labels.Label{Name: "job", Value: "unit"})

	srv.AssertQuery(t, `rpc_seconds{quantile="0.5"}`, map[string]float64{`rpc_seconds{job="unit", quantile="0.5"}`: 2})
	srv.AssertQuery(t, `rpc_seconds_count`, map[string]float64{`rpc_seconds_count{job="unit"}`: 3})
	srv.AssertQuery(t, `rpc_seconds_sum`, map[string]float64{`rpc_seconds_sum{job="unit"}`: 6})
	srv.AssertQuery(t, `size_bytes_bucket`, map[string]float64{
		`size_bytes_bucket{job="unit", kind="a", le="100.0"}`:  1,
		`size_bytes_bucket{job="unit", kind="a", le="1000.0"}`: 1,
		`size_bytes_bucket{job="unit", kind="a", le="+Inf"}`:   2,
	})

	md, err := srv.API().Metadata(t.Context(), "rpc_seconds", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := md["rpc_seconds"]; len(got) != 1 || got[0].Type != "summary" || got[0].Help != "RPC latency." {
		t.Errorf("metadata rpc_seconds = %+v", got)
	}
}

func TestPushSeries(t *testing.T) {
	srv := promspacetest.NewServer(t)
	at := time.Now().Truncate(time.Second)
	srv.Push(t, []prompb.TimeSeries{{
		Labels:  prompb.FromLabels(labels.FromStrings("__name__", "pushed", "k", "v"), nil),
		Samples: []prompb.Sample{{Timestamp: at.UnixMilli(), Value: 4}},
	}})
	v, ok := srv.Query(t, `pushed`, at).(model.Vector)
	if !ok || len(v) != 1 || v[0].Metric.String() != `pushed{k="v"}` || v[0].Value != 4 {
		t.Errorf("pushed = %v", v)
	}
}

// The exporter of the report: a native histogram only, which Prometheus
// scrapes as one series of native histogram samples.
func TestPushGathererNativeHistogram(t *testing.T) {
	srv := promspacetest.NewServer(t)
	reg := prometheus.NewRegistry()
	hist := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "latency_seconds", Help: "Latency.", NativeHistogramBucketFactor: 1.1,
	})
	reg.MustRegister(hist)
	for _, v := range []float64{0.5, 1, 2, 4.5} {
		hist.Observe(v)
	}

	srv.PushGatherer(t, reg, labels.Label{Name: "job", Value: "unit"})

	srv.AssertQuery(t, `histogram_count(latency_seconds)`, map[string]float64{`{job="unit"}`: 4})
	srv.AssertQuery(t, `histogram_sum(latency_seconds)`, map[string]float64{`{job="unit"}`: 8})
	// No classic buckets, so no classic series.
	srv.AssertQuery(t, `{__name__=~"latency_seconds_.+"}`, map[string]float64{})

	md, err := srv.API().Metadata(t.Context(), "latency_seconds", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := md["latency_seconds"]; len(got) != 1 || got[0].Type != "histogram" || got[0].Help != "Latency." {
		t.Errorf("metadata latency_seconds = %+v", got)
	}
}

// A histogram with both native and classic buckets is sent both ways, as
// Prometheus scrapes it with always_scrape_classic_histograms.
func TestPushGathererNativeAndClassicHistogram(t *testing.T) {
	srv := promspacetest.NewServer(t)
	reg := prometheus.NewRegistry()
	hist := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name: "size_bytes", Help: "Sizes.", Buckets: []float64{100, 1000}, NativeHistogramBucketFactor: 1.1,
	}, []string{"kind"})
	reg.MustRegister(hist)
	for _, v := range []float64{50, 500, 5000} {
		hist.WithLabelValues("a").Observe(v)
	}

	srv.PushGatherer(t, reg, labels.Label{Name: "job", Value: "unit"})

	srv.AssertQuery(t, `histogram_count(size_bytes)`, map[string]float64{`{job="unit", kind="a"}`: 3})
	srv.AssertQuery(t, `histogram_sum(size_bytes)`, map[string]float64{`{job="unit", kind="a"}`: 5550})
	srv.AssertQuery(t, `size_bytes_bucket`, map[string]float64{
		`size_bytes_bucket{job="unit", kind="a", le="100.0"}`:  1,
		`size_bytes_bucket{job="unit", kind="a", le="1000.0"}`: 2,
		`size_bytes_bucket{job="unit", kind="a", le="+Inf"}`:   3,
	})
	srv.AssertQuery(t, `size_bytes_count`, map[string]float64{`size_bytes_count{job="unit", kind="a"}`: 3})
	srv.AssertQuery(t, `size_bytes_sum`, map[string]float64{`size_bytes_sum{job="unit", kind="a"}`: 5550})
}

func TestPushGathererExemplars(t *testing.T) {
	srv := promspacetest.NewServer(t)
	reg := prometheus.NewRegistry()
	requests := prometheus.NewCounter(prometheus.CounterOpts{Name: "requests_total", Help: "Requests."})
	native := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "latency_seconds", Help: "Latency.", NativeHistogramBucketFactor: 1.1,
	})
	classic := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "size_bytes", Help: "Sizes.", Buckets: []float64{100},
	})
	reg.MustRegister(requests, native, classic)
	requests.(prometheus.ExemplarAdder).AddWithExemplar(2, prometheus.Labels{"trace_id": "counter"})
	native.(prometheus.ExemplarObserver).ObserveWithExemplar(0.25, prometheus.Labels{"trace_id": "native"})
	classic.(prometheus.ExemplarObserver).ObserveWithExemplar(50, prometheus.Labels{"trace_id": "classic"})

	start := time.Now().Add(-time.Minute)
	srv.PushGatherer(t, reg, labels.Label{Name: "job", Value: "unit"})

	for q, want := range map[string]string{
		`requests_total`:    `{__name__="requests_total", job="unit"} {trace_id="counter"} 2`,
		`latency_seconds`:   `{__name__="latency_seconds", job="unit"} {trace_id="native"} 0.25`,
		`size_bytes_bucket`: `{__name__="size_bytes_bucket", job="unit", le="100.0"} {trace_id="classic"} 50`,
	} {
		res, err := srv.API().QueryExemplars(t.Context(), q, start, time.Now().Add(time.Minute))
		if err != nil {
			t.Fatalf("query_exemplars %s: %v", q, err)
		}
		var got []string
		for _, r := range res {
			for _, e := range r.Exemplars {
				got = append(got, fmt.Sprintf("%s %s %v", r.SeriesLabels, e.Labels, e.Value))
			}
		}
		if len(got) != 1 || got[0] != want {
			t.Errorf("exemplars of %s = %q, want %q", q, got, want)
		}
	}
}

// Created timestamps travel as 2.0 start timestamps; a TSDB that stores them
// as zero samples shows them.
func TestPushGathererCreatedTimestamps(t *testing.T) {
	srv := promspacetest.NewServer(t, promspacetest.WithOptions(func(o *promspace.Options) {
		o.Workspace.TSDBOptions = func() *tsdb.Options {
			opts := tsdb.DefaultOptions()
			opts.EnableSTAsZeroSample = true
			return opts
		}
	}))
	created := time.Now().Add(-30 * time.Second).Truncate(time.Second)
	counter := prometheus.NewDesc("jobs_total", "Jobs.", nil, nil)
	native := prometheus.NewDesc("latency_seconds", "Latency.", nil, nil)
	reg := prometheus.NewRegistry()
	reg.MustRegister(constCollector{
		prometheus.MustNewConstMetricWithCreatedTimestamp(counter, prometheus.CounterValue, 5, created),
		must(prometheus.NewConstNativeHistogram(native, 2, 3, map[int]int64{0: 1, 1: 1}, nil, 0, 0, 0, created)),
	})

	srv.PushGatherer(t, reg)

	srv.AssertQuery(t, `jobs_total`, map[string]float64{`jobs_total`: 5})
	srv.AssertQuery(t, `histogram_count(latency_seconds)`, map[string]float64{`{}`: 2})
	for q, want := range map[string]float64{
		`jobs_total`:                       0,
		`histogram_count(latency_seconds)`: 0,
	} {
		v, ok := srv.Query(t, q, created).(model.Vector)
		if !ok || len(v) != 1 || float64(v[0].Value) != want {
			t.Errorf("%s at the created time = %v, want the zero sample", q, v)
		}
	}
}

// FromMetricFamilies gives the same samples in 1.0 form, which Push sends
// with their native histograms and exemplars.
func TestPushFromMetricFamilies(t *testing.T) {
	srv := promspacetest.NewServer(t)
	reg := prometheus.NewRegistry()
	hist := prometheus.NewHistogram(prometheus.HistogramOpts{
		Name: "latency_seconds", Help: "Latency.", NativeHistogramBucketFactor: 1.1,
	})
	reg.MustRegister(hist)
	hist.(prometheus.ExemplarObserver).ObserveWithExemplar(0.25, prometheus.Labels{"trace_id": "native"})
	hist.Observe(1)
	mfs, err := reg.Gather()
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	series, md := promspacetest.FromMetricFamilies(mfs, now, labels.FromStrings("job", "unit"))
	// client_golang exposes the exemplar in a +Inf bucket too, for scrapers
	// of classic histograms: that makes the classic series appear as well.
	var names []string
	for _, s := range series {
		names = append(names, s.Labels[0].Value)
	}
	if want := "latency_seconds latency_seconds_count latency_seconds_sum latency_seconds_bucket"; strings.Join(names, " ") != want {
		t.Fatalf("FromMetricFamilies gives %q, want %q", names, want)
	}
	if len(series[0].Histograms) != 1 || len(series[0].Exemplars) != 1 || len(md) != 1 {
		t.Fatalf("FromMetricFamilies = %+v, %+v", series[0], md)
	}

	srv.Push(t, series, md...)

	srv.AssertQuery(t, `histogram_count(latency_seconds)`, map[string]float64{`{job="unit"}`: 2})
	srv.AssertQuery(t, `latency_seconds_bucket`, map[string]float64{`latency_seconds_bucket{job="unit", le="+Inf"}`: 2})
	res, err := srv.API().QueryExemplars(t.Context(), `latency_seconds`, now.Add(-time.Minute), now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(res) != 1 || len(res[0].Exemplars) != 1 || res[0].Exemplars[0].Labels["trace_id"] != "native" {
		t.Errorf("exemplars = %+v", res)
	}
}

type constCollector []prometheus.Metric

func (c constCollector) Describe(ch chan<- *prometheus.Desc) { prometheus.DescribeByCollect(c, ch) }

func (c constCollector) Collect(ch chan<- prometheus.Metric) {
	for _, m := range c {
		ch <- m
	}
}

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

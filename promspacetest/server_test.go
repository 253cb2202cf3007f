package promspacetest_test

import (
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"

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

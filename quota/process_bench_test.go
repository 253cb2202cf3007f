package quota

import (
	"context"
	"fmt"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/promspace/promspace/ingest"
)

// BenchmarkProcess measures Quota.Process alone on requests of 2,000
// series already active, out of 100,000, with every limit on: the cost per
// series of the ingest limits in the steady state, without the rest of
// the remote-write path (BenchmarkRemoteWriteLimits has it).
//
//	go test -run '^$' -bench BenchmarkProcess ./quota/
func BenchmarkProcess(b *testing.B) {
	const series, perReq = 100_000, 2000
	l := DefaultLimits()
	l.IngestionRate, l.IngestionBurst = 1e12, 1e12
	qs := New(Options{Limits: &l})
	q := qs.newQuota("bench")
	reqs := make([]*ingest.Request, series/perReq)
	for r := range reqs {
		req := &ingest.Request{Version: ingest.V1, Series: make([]ingest.Series, perReq)}
		for j := range req.Series {
			n := r*perReq + j
			req.Series[j] = ingest.Series{
				Labels: labels.FromStrings(
					"__name__", fmt.Sprintf("container_resource_usage_%d_total", n%100),
					"cluster", "prod-eu-west-1",
					"instance", fmt.Sprintf("10.0.%d.%d:9100", n/100%256, n%100),
					"job", "kubernetes-pods",
					"pod", fmt.Sprintf("app-%d-7d9f8c6b5-%06d", n%7, n),
				),
				Samples: []ingest.Sample{{Timestamp: 1, Value: 1}},
			}
		}
		reqs[r] = req
	}
	ctx := context.Background()
	for _, req := range reqs {
		if err := q.Process(ctx, ingest.Target{}, req); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if err := q.Process(ctx, ingest.Target{}, reqs[i%len(reqs)]); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*perReq), "ns/series")
}

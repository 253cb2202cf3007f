package dedupe_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"runtime/pprof"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/promspace/promspace/dedupe"
	"github.com/promspace/promspace/ingest"
)

const (
	benchSeries       = 100_000
	benchSeriesPerReq = 2000 // Prometheus' max_samples_per_send
	benchReqsPerRound = benchSeries / benchSeriesPerReq
	// benchCacheSize bounds ingest's labels cache and the tracker's cache
	// of stripped labels alike.
	benchCacheSize = 1 << 17
)

// BenchmarkRemoteWrite sends the same snappy-encoded 1.0 requests of an HA
// pair's leader (100,000 series of 12 labels, cluster and __replica__
// among them, 2,000 a request) into two identically configured TSDBs, one
// with the workspace's tracker as its pipeline and one without,
// alternating between the two. Each has an ingest handler of its own,
// whose labels cache keeps its series' TSDB references: one cache would
// trade each entry's reference between the two TSDBs on every request. The series exist
// in both heads before timing starts and every round advances the
// timestamps: the steady state. It reports samples/s of both and the
// ratio of their times (with/without): the stage's cost is ratio-1. The
// requests of each side run with the pprof label side=with or
// side=without (side=with-warm, side=without-warm before timing), so that
// a CPU profile tells the two apart (go tool pprof -tagfocus side=^with$).
//
//	go test -run '^$' -bench BenchmarkRemoteWrite -benchtime 1000x ./dedupe/
func BenchmarkRemoteWrite(b *testing.B) {
	// Ingest's labels cache holds every series, so that the path without
	// the stage is its steady state. The tracker's cache of stripped
	// labels is as large.
	var handlers [2]*ingest.Handler
	for k := range handlers {
		handlers[k] = ingest.NewHandler(ingest.Options{Registerer: prometheus.NewRegistry(), LabelsCacheSize: benchCacheSize})
	}
	ts, err := dedupe.New(dedupe.Options{Registerer: prometheus.NewRegistry(), StrippedCacheSize: benchCacheSize})
	if err != nil {
		b.Fatal(err)
	}
	tr, err := ts.Open("with")
	if err != nil {
		b.Fatal(err)
	}
	targets := [2]ingest.Target{
		{ID: "without", Appendable: openDB(b)},
		{ID: "with", Appendable: openDB(b), Pipeline: []ingest.Stage{tr}},
	}
	encodeRound := benchRounds(b)
	var w benchWriter
	phase := "-warm"
	do := func(k int, body []byte) time.Duration {
		r := benchRequest(body)
		w.status = 0
		start := time.Now()
		pprof.Do(context.Background(), pprof.Labels("side", targets[k].ID+phase), func(context.Context) { handlers[k].Write(&w, r, targets[k]) })
		d := time.Since(start)
		if w.status != http.StatusNoContent {
			b.Fatalf("%s answered %d", targets[k].ID, w.status)
		}
		return d
	}
	for range 2 { // every series in both heads; pools and caches warm
		for _, body := range encodeRound() {
			do(0, body)
			do(1, body)
		}
	}

	var elapsed [2]time.Duration
	var bodies [][]byte
	phase = ""
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%benchReqsPerRound == 0 {
			b.StopTimer()
			bodies = encodeRound()
			b.StartTimer()
		}
		body := bodies[i%benchReqsPerRound]
		// Alternate which goes first, so that neither always pays for the
		// garbage of the other.
		for _, k := range [2]int{i % 2, 1 - i%2} {
			elapsed[k] += do(k, body)
		}
	}
	b.StopTimer()
	samples := float64(b.N * benchSeriesPerReq)
	b.ReportMetric(samples/elapsed[0].Seconds(), "without-samples/s")
	b.ReportMetric(samples/elapsed[1].Seconds(), "with-samples/s")
	b.ReportMetric(elapsed[1].Seconds()/elapsed[0].Seconds(), "ratio")
}

// BenchmarkProcess is the stage alone on a leader's request of 2,000
// series whose labels the ingest cache would hand it, again and again:
// with its cache of stripped labels, which then always hits, and without.
func BenchmarkProcess(b *testing.B) {
	for _, bc := range []struct {
		name string
		size int
	}{{"cache", 0}, {"nocache", -1}} {
		b.Run(bc.name, func(b *testing.B) {
			ts, _ := dedupe.New(dedupe.Options{StrippedCacheSize: bc.size})
			tr, _ := ts.Open("ws")
			orig := make([]ingest.Series, benchSeriesPerReq)
			for j := range orig {
				orig[j] = series(1, benchLabels(j)...)
			}
			req := &ingest.Request{Series: make([]ingest.Series, len(orig))}
			b.ReportAllocs()
			for b.Loop() {
				copy(req.Series, orig)
				if err := tr.Process(context.Background(), ingest.Target{}, req); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*benchSeriesPerReq), "ns/series")
		})
	}
}

func openDB(b *testing.B) *tsdb.DB {
	db, err := tsdb.Open(b.TempDir(), nil, nil, tsdb.DefaultOptions(), nil)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { db.Close() })
	return db
}

// benchLabels are the label pairs of series n, as Prometheus sends them
// with its external labels cluster and __replica__.
func benchLabels(n int) []string {
	return []string{
		"__name__", fmt.Sprintf("container_resource_usage_%d_total", n%100),
		"__replica__", "prometheus-0",
		"cluster", "prod-eu-west-1",
		"container", fmt.Sprintf("app-%d", n%7),
		"env", "production",
		"instance", fmt.Sprintf("10.0.%d.%d:9100", n/100%256, n%100),
		"job", "kubernetes-pods",
		"namespace", fmt.Sprintf("team-%d", n%13),
		"node", fmt.Sprintf("ip-10-0-%d-%d.eu-west-1.compute.internal", n%50, n%31),
		"pod", fmt.Sprintf("app-%d-7d9f8c6b5-%05d", n%7, n),
		"zone", fmt.Sprintf("eu-west-1%c", 'a'+n%3),
	}
}

// benchRounds returns a function that encodes the requests of the next
// round, one sample per series, a second later than the last round's.
func benchRounds(b *testing.B) func() [][]byte {
	reqs := make([]*prompb.WriteRequest, benchReqsPerRound)
	for r := range reqs {
		req := &prompb.WriteRequest{Timeseries: make([]prompb.TimeSeries, benchSeriesPerReq)}
		for j := range req.Timeseries {
			pairs := benchLabels(r*benchSeriesPerReq + j)
			ts := &req.Timeseries[j]
			for k := 0; k < len(pairs); k += 2 {
				ts.Labels = append(ts.Labels, prompb.Label{Name: pairs[k], Value: pairs[k+1]})
			}
			ts.Samples = make([]prompb.Sample, 1)
		}
		reqs[r] = req
	}
	base := time.Now().Add(-time.Hour).UnixMilli()
	round := 0
	return func() [][]byte {
		t := base + int64(round)*time.Second.Milliseconds()
		round++
		bodies := make([][]byte, len(reqs))
		for i, req := range reqs {
			for j := range req.Timeseries {
				req.Timeseries[j].Samples[0] = prompb.Sample{Timestamp: t, Value: float64(round*j%1000) + 0.5}
			}
			raw, err := req.Marshal()
			if err != nil {
				b.Fatal(err)
			}
			bodies[i] = snappy.Encode(nil, raw)
		}
		return bodies
	}
}

func benchRequest(body []byte) *http.Request {
	r, err := http.NewRequest(http.MethodPost, "/api/v1/remote_write", bytes.NewReader(body))
	if err != nil {
		panic(err)
	}
	r.Header.Set("Content-Type", "application/x-protobuf")
	r.Header.Set("Content-Encoding", "snappy")
	r.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	return r
}

// benchWriter is a ResponseWriter that keeps only the status.
type benchWriter struct {
	header http.Header
	status int
}

func (w *benchWriter) Header() http.Header {
	if w.header == nil {
		w.header = http.Header{}
	}
	return w.header
}
func (w *benchWriter) Write(p []byte) (int, error) { return len(p), nil }
func (w *benchWriter) WriteHeader(code int)        { w.status = code }

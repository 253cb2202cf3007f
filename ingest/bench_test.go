package ingest

import (
	"bytes"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage/remote"

	"github.com/promspace/promspace/workspace"
)

const (
	benchSeries        = 10000
	benchSeriesPerReq  = 2000
	benchLabels        = 10
	benchReqsPerRound  = benchSeries / benchSeriesPerReq
	benchRoundInterval = time.Second
)

// BenchmarkRemoteWrite sends the same snappy-encoded 1.0 requests (10,000
// series of 10 labels, 2,000 samples a request) through promspace's handler
// and through Prometheus' own remote.NewWriteHandler, each writing into an
// identically configured TSDB, alternating between the two. The series
// exist in both heads before timing starts and every round advances the
// timestamps, so appends are in order: the steady state of a remote-write
// receiver. It reports samples/s of both and their ratio
// (promspace/prometheus), plus allocations per request of both.
//
//	go test -run '^$' -bench BenchmarkRemoteWrite -benchtime 400x ./ingest/
func BenchmarkRemoteWrite(b *testing.B) {
	ours := NewHandler(Options{Registerer: prometheus.NewRegistry()})
	ourDB := openTestDB(b)
	target := Target{ID: "bench", Appendable: ourDB, Metadata: &memSink{}}
	promDB := openTestDB(b)
	prom := remote.NewWriteHandler(slog.New(slog.DiscardHandler), prometheus.NewRegistry(), promDB,
		remoteapi.MessageTypes{remoteapi.WriteV1MessageType, remoteapi.WriteV2MessageType}, false, false)

	send := []func(w http.ResponseWriter, r *http.Request){
		func(w http.ResponseWriter, r *http.Request) { ours.Write(w, r, target) },
		prom.ServeHTTP,
	}
	encodeRound := benchRounds(b)
	var w benchWriter
	do := func(k int, body []byte) time.Duration {
		r := benchRequest(body)
		w.reset()
		start := time.Now()
		send[k](&w, r)
		d := time.Since(start)
		if w.status != http.StatusNoContent {
			b.Fatalf("handler %d answered %d", k, w.status)
		}
		return d
	}

	// Create every series in both heads, and warm the pools.
	for range 2 {
		for _, body := range encodeRound() {
			do(0, body)
			do(1, body)
		}
	}

	var (
		elapsed [2]time.Duration
		allocs  [2]uint64
		ms      runtime.MemStats
		bodies  [][]byte
	)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%benchReqsPerRound == 0 {
			b.StopTimer()
			bodies = encodeRound()
			b.StartTimer()
		}
		body := bodies[i%benchReqsPerRound]
		// Alternate which handler goes first, so that neither always
		// pays for the garbage of the other.
		for _, k := range [2]int{i % 2, 1 - i%2} {
			runtime.ReadMemStats(&ms)
			before := ms.Mallocs
			elapsed[k] += do(k, body)
			runtime.ReadMemStats(&ms)
			allocs[k] += ms.Mallocs - before
		}
	}
	b.StopTimer()

	samples := float64(b.N * benchSeriesPerReq)
	oursRate := samples / elapsed[0].Seconds()
	promRate := samples / elapsed[1].Seconds()
	b.ReportMetric(oursRate, "promspace-samples/s")
	b.ReportMetric(promRate, "prometheus-samples/s")
	b.ReportMetric(oursRate/promRate, "ratio")
	b.ReportMetric(float64(allocs[0])/float64(b.N), "promspace-allocs/req")
	b.ReportMetric(float64(allocs[1])/float64(b.N), "prometheus-allocs/req")
}

// BenchmarkRemoteWriteParallel measures what ordering commits costs under
// concurrency: it sends the requests of BenchmarkRemoteWrite through
// promspace's handler into two identically configured TSDBs, one directly
// and one through workspace.OrderedAppendable (the commit-ordering appendable
// of workspace.Workspace.Appendable), alternating between the two. In each
// round the round's requests are split among the senders, which send them
// concurrently, each round to one TSDB at a time. It reports samples/s of
// both and their ratio (ordered/raw).
//
//	go test -run '^$' -bench BenchmarkRemoteWriteParallel -benchtime 400x ./ingest/
func BenchmarkRemoteWriteParallel(b *testing.B) {
	for _, senders := range []int{1, benchReqsPerRound} {
		b.Run(fmt.Sprintf("senders=%d", senders), func(b *testing.B) {
			h := NewHandler(Options{Registerer: prometheus.NewRegistry()})
			ordered := openTestDB(b)
			targets := [2]Target{
				{ID: "raw", Appendable: openTestDB(b), Metadata: &memSink{}},
				{ID: "ordered", Appendable: workspace.OrderedAppendable(ordered), Metadata: &memSink{}},
			}
			encodeRound := benchRounds(b)
			writers := make([]benchWriter, senders)
			sendRound := func(k int, bodies [][]byte) time.Duration {
				var wg sync.WaitGroup
				start := time.Now()
				for s := range senders {
					wg.Go(func() {
						w := &writers[s]
						for i := s; i < len(bodies); i += senders {
							w.reset()
							h.Write(w, benchRequest(bodies[i]), targets[k])
							if w.status != http.StatusNoContent {
								b.Errorf("%s answered %d", targets[k].ID, w.status)
								return
							}
						}
					})
				}
				wg.Wait()
				return time.Since(start)
			}

			// Create every series in both heads, and warm the pools.
			for range 2 {
				bodies := encodeRound()
				sendRound(0, bodies)
				sendRound(1, bodies)
			}

			var elapsed [2]time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				b.StopTimer()
				bodies := encodeRound()
				b.StartTimer()
				for _, k := range [2]int{i % 2, 1 - i%2} {
					elapsed[k] += sendRound(k, bodies)
				}
			}
			b.StopTimer()

			samples := float64(b.N * benchSeries)
			rawRate := samples / elapsed[0].Seconds()
			orderedRate := samples / elapsed[1].Seconds()
			b.ReportMetric(rawRate, "raw-samples/s")
			b.ReportMetric(orderedRate, "ordered-samples/s")
			b.ReportMetric(orderedRate/rawRate, "ratio")
		})
	}
}

// benchRounds returns a function that encodes the requests of the next
// round: snappy-encoded 1.0 requests, one sample per series, the timestamps
// a round later than the last round's.
func benchRounds(b *testing.B) func() [][]byte {
	reqs := benchRequests()
	base := time.Now().Add(-time.Hour).UnixMilli()
	round := 0
	return func() [][]byte {
		ts := base + int64(round)*benchRoundInterval.Milliseconds()
		round++
		bodies := make([][]byte, len(reqs))
		for i, req := range reqs {
			for j := range req.Timeseries {
				req.Timeseries[j].Samples[0] = prompb.Sample{Timestamp: ts, Value: float64(round*j%1000) + 0.5}
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

// benchRequest returns a remote write 1.0 request of body.
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

// benchRequests returns the requests of one round, one sample per series.
func benchRequests() []*prompb.WriteRequest {
	reqs := make([]*prompb.WriteRequest, benchReqsPerRound)
	for r := range reqs {
		req := &prompb.WriteRequest{Timeseries: make([]prompb.TimeSeries, benchSeriesPerReq)}
		for j := range req.Timeseries {
			n := r*benchSeriesPerReq + j
			req.Timeseries[j] = prompb.TimeSeries{
				Labels: pl(
					"__name__", fmt.Sprintf("container_resource_usage_%d_total", n%100),
					"cluster", "prod-eu-west-1",
					"container", fmt.Sprintf("app-%d", n%7),
					"env", "production",
					"instance", fmt.Sprintf("10.0.%d.%d:9100", n/100%256, n%100),
					"job", "kubernetes-pods",
					"namespace", fmt.Sprintf("team-%d", n%13),
					"node", fmt.Sprintf("ip-10-0-%d-%d.eu-west-1.compute.internal", n%50, n%31),
					"pod", fmt.Sprintf("app-%d-7d9f8c6b5-%05d", n%7, n),
					"zone", fmt.Sprintf("eu-west-1%c", 'a'+n%3),
				),
				Samples: make([]prompb.Sample, 1),
			}
		}
		if len(req.Timeseries[0].Labels) != benchLabels {
			panic("benchmark series must have 10 labels")
		}
		reqs[r] = req
	}
	return reqs
}

// benchWriter is a ResponseWriter that keeps only the status.
type benchWriter struct {
	header http.Header
	status int
}

func (w *benchWriter) reset() {
	if w.header == nil {
		w.header = http.Header{}
	}
	clear(w.header)
	w.status = 0
}

func (w *benchWriter) Header() http.Header { return w.header }

func (w *benchWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return io.Discard.Write(b)
}

func (w *benchWriter) WriteHeader(code int) { w.status = code }

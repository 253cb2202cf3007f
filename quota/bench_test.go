package quota_test

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"slices"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"

	"github.com/promspace/promspace/ingest"
	"github.com/promspace/promspace/quota"
	"github.com/promspace/promspace/workspace"
)

const (
	benchSeries       = 100_000
	benchSeriesPerReq = 2000
	benchReqsPerRound = benchSeries / benchSeriesPerReq
)

// BenchmarkRemoteWriteLimits measures what the ingest limits cost: the
// same snappy-encoded 1.0 requests (100,000 active series of 10 labels,
// 2,000 samples a request) go into three workspaces of one registry: "on"
// with its Quota as its pipeline, "off" and "control" without, in an
// order that rotates with each request. Each has an ingest.Handler of its
// own, whose labels cache keeps its series' TSDB references: a cache
// shared by workspaces that receive the same series would trade each
// entry's reference between them, on every request.
// Every limit is on: the active series limits per workspace and per
// metric, two label-set limits that some of the series match, the label
// limits, and an ingestion rate and burst high enough to refuse nothing.
// Every series exists before timing starts and every round advances the
// timestamps: the steady state.
//
// It reports samples/s of each, and the ratio of on to off as the median
// of the requests' ratios (ratio) and from the total times (mean-ratio):
// the median is the figure to compare, since a pause of the machine,
// shared with others, skews the totals but few of the pairs. The same
// median for control, which runs the very path of off, shows how far
// from 1 noise alone takes a ratio (control-ratio).
//
//	go test -run '^$' -bench BenchmarkRemoteWriteLimits -benchtime 500x ./quota/
func BenchmarkRemoteWriteLimits(b *testing.B) {
	const off, on, control = 0, 1, 2
	ctx := context.Background()
	l := quota.DefaultLimits()
	l.IngestionRate, l.IngestionBurst = 1e12, 1e12
	r, err := workspace.Open(ctx, workspace.Options{
		DataDir:    b.TempDir(),
		Components: []workspace.Component{quota.New(quota.Options{Limits: &l}).Component()},
	})
	if err != nil {
		b.Fatal(err)
	}
	defer r.Close()
	var handlers [3]*ingest.Handler
	var targets [3]ingest.Target
	var q *quota.Quota
	for k, alias := range []string{"off", "on", "control"} {
		w, err := r.Create(ctx, workspace.CreateInput{Alias: alias})
		if err != nil {
			b.Fatal(err)
		}
		if w, err = r.Get(ctx, w.ID()); err != nil {
			b.Fatal(err)
		}
		handlers[k] = ingest.NewHandler(ingest.Options{LabelsCacheSize: 2 * benchSeries})
		targets[k] = ingest.Target{ID: alias, Appendable: w, Metadata: w.Metadata()}
		if k == on {
			if _, err := r.UpdateConfiguration(ctx, workspace.UpdateConfigurationInput{ID: w.ID(), LimitsPerLabelSet: []workspace.LabelSetLimit{
				{LabelSet: labels.FromStrings("zone", "eu-west-1a"), MaxSeries: benchSeries},
				{LabelSet: labels.FromStrings("env", "production", "container", "app-1"), MaxSeries: benchSeries},
			}}); err != nil {
				b.Fatal(err)
			}
			q, _ = workspace.InstanceOf[*quota.Quota](w, quota.ComponentName)
			targets[k].Pipeline = []ingest.Stage{q}
		}
	}

	encodeRound := benchRounds(b)
	var w benchWriter
	do := func(k int, body []byte) time.Duration {
		req := benchRequest(body)
		w.reset()
		start := time.Now()
		handlers[k].Write(&w, req, targets[k])
		d := time.Since(start)
		if w.status != http.StatusNoContent {
			b.Fatalf("%s answered %d", targets[k].ID, w.status)
		}
		return d
	}
	// Create every series in every head, and warm the pools.
	for range 2 {
		for _, body := range encodeRound() {
			for k := range targets {
				do(k, body)
			}
		}
	}
	if u := q.IngestUsage(); u.ActiveSeries != benchSeries {
		b.Fatalf("%d active series, want %d", u.ActiveSeries, benchSeries)
	}

	var elapsed [3]time.Duration
	ratios := [3][]float64{nil, make([]float64, 0, b.N), make([]float64, 0, b.N)}
	var bodies [][]byte
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if i%benchReqsPerRound == 0 {
			b.StopTimer()
			bodies = encodeRound()
			b.StartTimer()
		}
		body := bodies[i%benchReqsPerRound]
		var d [3]time.Duration
		for j := range targets {
			k := (i + j) % len(targets)
			d[k] = do(k, body)
			elapsed[k] += d[k]
		}
		for _, k := range []int{on, control} {
			ratios[k] = append(ratios[k], float64(d[off])/float64(d[k]))
		}
	}
	b.StopTimer()

	samples := float64(b.N * benchSeriesPerReq)
	for k, unit := range []string{"off-samples/s", "on-samples/s", "control-samples/s"} {
		b.ReportMetric(samples/elapsed[k].Seconds(), unit)
	}
	b.ReportMetric(float64(elapsed[off])/float64(elapsed[on]), "mean-ratio")
	for k, unit := range map[int]string{on: "ratio", control: "control-ratio"} {
		slices.Sort(ratios[k])
		b.ReportMetric(ratios[k][len(ratios[k])/2], unit)
	}
	b.ReportMetric(float64(elapsed[on]-elapsed[off])/samples, "overhead-ns/sample")
}

// benchRounds returns a function that encodes the requests of the next
// round: every series once, one sample each, a second after the last
// round's.
func benchRounds(b *testing.B) func() [][]byte {
	reqs := make([]*prompb.WriteRequest, benchReqsPerRound)
	for r := range reqs {
		req := &prompb.WriteRequest{Timeseries: make([]prompb.TimeSeries, benchSeriesPerReq)}
		for j := range req.Timeseries {
			n := r*benchSeriesPerReq + j
			req.Timeseries[j] = prompb.TimeSeries{
				Labels: pairs(
					"__name__", fmt.Sprintf("container_resource_usage_%d_total", n%100),
					"cluster", "prod-eu-west-1",
					"container", fmt.Sprintf("app-%d", n%7),
					"env", "production",
					"instance", fmt.Sprintf("10.0.%d.%d:9100", n/100%256, n%100),
					"job", "kubernetes-pods",
					"namespace", fmt.Sprintf("team-%d", n%13),
					"node", fmt.Sprintf("ip-10-0-%d-%d.eu-west-1.compute.internal", n%50, n%31),
					"pod", fmt.Sprintf("app-%d-7d9f8c6b5-%06d", n%7, n),
					"zone", fmt.Sprintf("eu-west-1%c", 'a'+n%2),
				),
				Samples: make([]prompb.Sample, 1),
			}
		}
		reqs[r] = req
	}
	base := time.Now().Add(-time.Hour).UnixMilli()
	round := 0
	return func() [][]byte {
		ts := base + int64(round)*time.Second.Milliseconds()
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

func pairs(kv ...string) []prompb.Label {
	ls := make([]prompb.Label, 0, len(kv)/2)
	for i := 0; i < len(kv); i += 2 {
		ls = append(ls, prompb.Label{Name: kv[i], Value: kv[i+1]})
	}
	return ls
}

// benchRequest returns a remote write 1.0 request of body.
func benchRequest(body []byte) *http.Request {
	r, err := http.NewRequest(http.MethodPost, "/api/v1/remote_write", bytes.NewReader(body))
	if err != nil {
		panic(err)
	}
	r.Header.Set("Content-Type", "application/x-protobuf")
	r.Header.Set("Content-Encoding", "snappy")
	return r
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

func (w *benchWriter) Write(p []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	return io.Discard.Write(p)
}

func (w *benchWriter) WriteHeader(code int) { w.status = code }

package ingest

import (
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"github.com/prometheus/prometheus/tsdb/tsdbutil"
)

// BenchmarkDecode decodes one decompressed request of BenchmarkRemoteWrite
// (2,000 series of 10 labels, one sample each), as 1.0 and as 2.0, alone
// ("floats") and with an exemplar on every series and a histogram on every
// tenth ("mixed"). It alternates between promspace's decoder, with a warm
// labels cache as in the handler's steady state, and Prometheus' path: the
// gogo-generated Unmarshal, then labels, exemplars and histograms converted
// as its write handler converts them. It reports the time per request of
// both and their ratio (prometheus/promspace, above 1 when promspace is
// faster), the same way round as BenchmarkRemoteWrite's.
//
//	go test -run '^$' -bench 'BenchmarkDecode$' -benchtime 2s ./ingest/
func BenchmarkDecode(b *testing.B) {
	for _, mixed := range []bool{false, true} {
		name := "floats"
		if mixed {
			name = "mixed"
		}
		v1 := benchDecodeRequest(mixed)
		body1, err := v1.Marshal()
		if err != nil {
			b.Fatal(err)
		}
		body2, err := benchDecodeRequestV2(v1).Marshal()
		if err != nil {
			b.Fatal(err)
		}
		b.Run("v1/"+name, func(b *testing.B) {
			benchDecode(b, V1, body1, func(sb *labels.ScratchBuilder) error {
				var req prompb.WriteRequest
				if err := req.Unmarshal(body1); err != nil {
					return err
				}
				for _, ts := range req.Timeseries {
					ts.ToLabels(sb, nil)
					for _, e := range ts.Exemplars {
						e.ToExemplar(sb, nil)
					}
					for _, h := range ts.Histograms {
						h.ToIntHistogram()
					}
				}
				return nil
			})
		})
		b.Run("v2/"+name, func(b *testing.B) {
			benchDecode(b, V2, body2, func(sb *labels.ScratchBuilder) error {
				var req writev2.Request
				if err := req.Unmarshal(body2); err != nil {
					return err
				}
				for _, ts := range req.Timeseries {
					if _, err := ts.ToLabels(sb, req.Symbols); err != nil {
						return err
					}
					for _, e := range ts.Exemplars {
						if _, err := e.ToExemplar(sb, req.Symbols); err != nil {
							return err
						}
					}
					for _, h := range ts.Histograms {
						h.ToIntHistogram()
					}
				}
				return nil
			})
		})
	}
}

func benchDecode(b *testing.B, v Version, body []byte, prom func(*labels.ScratchBuilder) error) {
	cache := newLabelsCache(DefaultLabelsCacheSize, time.Now)
	req := newRequest()
	sb := labels.NewScratchBuilder(benchLabels)
	ours := func() error {
		req.reset()
		return decode(req, v, body, model.UTF8Validation, cache, "")
	}
	run := [2]func() error{ours, func() error { return prom(&sb) }}
	for _, f := range run {
		if err := f(); err != nil { // and fill the cache
			b.Fatal(err)
		}
	}
	if len(req.Series) != benchSeriesPerReq {
		b.Fatalf("decoded %d series, want %d", len(req.Series), benchSeriesPerReq)
	}
	for i := range req.Series {
		if req.Series[i].dropped {
			b.Fatalf("series %d dropped", i)
		}
	}

	var elapsed [2]time.Duration
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		for _, k := range [2]int{i % 2, 1 - i%2} {
			start := time.Now()
			err := run[k]()
			elapsed[k] += time.Since(start)
			if err != nil {
				b.Fatal(err)
			}
		}
	}
	b.StopTimer()
	ns := func(d time.Duration) float64 { return float64(d.Nanoseconds()) / float64(b.N) }
	b.ReportMetric(ns(elapsed[0]), "promspace-ns/req")
	b.ReportMetric(ns(elapsed[1]), "prometheus-ns/req")
	b.ReportMetric(elapsed[1].Seconds()/elapsed[0].Seconds(), "ratio")
}

// benchDecodeRequest returns the first request of a BenchmarkRemoteWrite
// round; mixed adds an exemplar to every series and an integer histogram
// to every tenth.
func benchDecodeRequest(mixed bool) *prompb.WriteRequest {
	ts := time.Now().UnixMilli()
	req := benchRequests()[0]
	h := prompb.FromIntHistogram(ts, tsdbutil.GenerateTestHistogram(1))
	for j := range req.Timeseries {
		s := &req.Timeseries[j]
		s.Samples[0] = prompb.Sample{Timestamp: ts, Value: float64(j) + 0.5}
		if !mixed {
			continue
		}
		s.Exemplars = []prompb.Exemplar{{Labels: pl("trace_id", "4bf92f3577b34da6a3ce929d0e0e4736"), Value: 1, Timestamp: ts}}
		if j%10 == 0 {
			s.Histograms = []prompb.Histogram{h}
		}
	}
	return req
}

// benchDecodeRequestV2 returns req as a 2.0 request.
func benchDecodeRequestV2(req *prompb.WriteRequest) *writev2.Request {
	st := writev2.NewSymbolTable()
	out := &writev2.Request{Timeseries: make([]writev2.TimeSeries, len(req.Timeseries))}
	sb := labels.NewScratchBuilder(benchLabels)
	for j, s := range req.Timeseries {
		ts := &out.Timeseries[j]
		ts.LabelsRefs = st.SymbolizeLabels(s.ToLabels(&sb, nil), nil)
		for _, smp := range s.Samples {
			ts.Samples = append(ts.Samples, writev2.Sample{Value: smp.Value, Timestamp: smp.Timestamp})
		}
		for _, e := range s.Exemplars {
			ex := e.ToExemplar(&sb, nil)
			ts.Exemplars = append(ts.Exemplars, writev2.Exemplar{LabelsRefs: st.SymbolizeLabels(ex.Labels, nil), Value: ex.Value, Timestamp: ex.Ts})
		}
		for _, h := range s.Histograms {
			ts.Histograms = append(ts.Histograms, writev2.FromIntHistogram(0, h.Timestamp, h.ToIntHistogram()))
		}
	}
	out.Symbols = st.Symbols()
	return out
}

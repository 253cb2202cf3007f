package ingest

import (
	"bytes"
	"errors"
	"math"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"github.com/prometheus/prometheus/tsdb/tsdbutil"
	"github.com/stretchr/testify/require"
)

// The fuzz targets take a decompressed protobuf message. Each input goes
// through the decoder, compared with the gogo-generated Unmarshal of the
// same message, and then through the whole handler (snappy, decoding,
// validation, pipeline, appending to a real TSDB), which must answer without
// panicking and never with a 5xx.

// addSeeds adds each message, marshaled, to the seed corpus.
func addSeeds[M marshaler](f *testing.F, ms []M) {
	for _, m := range ms {
		b, err := m.Marshal()
		require.NoError(f, err)
		f.Add(b)
	}
}

func FuzzDecodeV1(f *testing.F) {
	addSeeds(f, seedRequestsV1())
	// 2.0 requests sent as 1.0, and a body of unknown fields only.
	addSeeds(f, seedRequestsV2())
	f.Add([]byte{})
	f.Add([]byte("\x0a\x00"))
	f.Add([]byte("\x0a\x04\x0a\x02\x0a\x00"))
	f.Add([]byte("\x22\x00"))
	f.Add([]byte("\x10\x01"))
	target := newFuzzTarget(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		var want prompb.WriteRequest
		wantErr := want.Unmarshal(body)
		req := newRequest()
		err := decode(req, V1, body, model.UTF8Validation, nil, "")
		if wantErr != nil {
			if err == nil {
				t.Fatalf("gogo rejects the message (%v), the decoder accepts it", wantErr)
			}
		} else {
			// gogo skips unknown fields; the decoder rejects a non-empty
			// body that has nothing else.
			empty := len(body) > 0 && len(want.Timeseries) == 0 && len(want.Metadata) == 0
			checkContentError(t, err, empty)
			if err == nil {
				compareV1(t, &want, req)
			}
		}
		target.write(t, V1, body, err)
	})
}

func FuzzDecodeV2(f *testing.F) {
	addSeeds(f, seedRequestsV2())
	// 1.0 requests sent as 2.0, symbols not starting with "", a body of
	// unknown fields only.
	addSeeds(f, seedRequestsV1())
	f.Add([]byte{})
	f.Add([]byte("\x22\x00\x2a\x02\x0a\x00"))
	f.Add([]byte("\x2a\x04\x0a\x02\x00\x00\x22\x00"))
	noEmptySymbol, err := (&writev2.Request{
		Symbols:    []string{"__name__", "up"},
		Timeseries: []writev2.TimeSeries{{LabelsRefs: []uint32{0, 1}, Samples: []writev2.Sample{{Value: 1, Timestamp: testTS(0)}}}},
	}).Marshal()
	require.NoError(f, err)
	f.Add(noEmptySymbol)
	f.Add([]byte("\x08\x01"))
	target := newFuzzTarget(f)
	f.Fuzz(func(t *testing.T, body []byte) {
		var want writev2.Request
		wantErr := want.Unmarshal(body)
		req := newRequest()
		err := decode(req, V2, body, model.UTF8Validation, nil, "")
		if wantErr != nil {
			if err == nil {
				t.Fatalf("gogo rejects the message (%v), the decoder accepts it", wantErr)
			}
		} else if bad := (len(body) > 0 && len(want.Symbols) == 0 && len(want.Timeseries) == 0) ||
			(len(want.Symbols) > 0 && want.Symbols[0] != ""); bad || isContentError(err) {
			// gogo skips unknown fields and takes any symbols table; the
			// decoder rejects a non-empty body that has nothing else, and
			// a table not starting with "".
			checkContentError(t, err, bad)
		} else {
			if err != nil {
				// gogo lets a packed varint run past the end of its field;
				// the decoder does not. The same content encoded properly
				// must decode.
				canonical, merr := want.Marshal()
				require.NoError(t, merr)
				req = newRequest()
				if err2 := decode(req, V2, canonical, model.UTF8Validation, nil, ""); err2 != nil {
					t.Fatalf("gogo accepts the message, the decoder rejects it: %v, and its canonical form: %v", err, err2)
				}
			}
			compareV2(t, &want, req)
		}
		target.write(t, V2, body, err)
	})
}

func isContentError(err error) bool {
	var ce *contentError
	return errors.As(err, &ce)
}

// checkContentError checks that the decoder rejected a message gogo accepts
// as not a valid request exactly when want says it should have.
func checkContentError(t *testing.T, err error, want bool) {
	t.Helper()
	switch {
	case want && !isContentError(err):
		t.Fatalf("the decoder accepts a body that is no valid request of its version (err %v)", err)
	case !want && err != nil:
		t.Fatalf("gogo accepts the message, the decoder rejects it: %v", err)
	}
}

// compareV1 checks that the decoder read the same series as gogo.
func compareV1(t *testing.T, want *prompb.WriteRequest, got *Request) {
	var series []prompb.TimeSeries
	for _, ts := range want.Timeseries {
		if len(ts.Samples)+len(ts.Histograms) > 0 {
			series = append(series, ts)
		}
	}
	require.Len(t, got.Series, len(series))
	for i, ts := range series {
		s := got.Series[i]
		if !s.dropped {
			b := labels.NewScratchBuilder(0)
			require.Equal(t, ts.ToLabels(&b, nil).WithoutEmpty().String(), s.Labels.String())
		}
		require.Len(t, s.Samples, len(ts.Samples))
		for j, smp := range ts.Samples {
			requireSameSample(t, smp.Timestamp, smp.Value, s.Samples[j])
		}
		require.Len(t, s.Histograms, len(ts.Histograms))
		for j, h := range ts.Histograms {
			requireSameHistogram(t, h.Timestamp, h.IsFloatHistogram(), s.Histograms[j])
		}
		require.Len(t, s.Exemplars, len(ts.Exemplars))
		for j, e := range ts.Exemplars {
			b := labels.NewScratchBuilder(0)
			require.Equal(t, e.ToExemplar(&b, nil).Labels.String(), s.Exemplars[j].Labels.String())
			require.Equal(t, e.Timestamp, s.Exemplars[j].Ts)
		}
	}
	n := 0
	for _, m := range want.Metadata {
		if m.MetricFamilyName != "" && model.UTF8Validation.IsValidMetricName(m.MetricFamilyName) {
			require.Equal(t, m.MetricFamilyName, got.Metadata[n].MetricFamily)
			require.Equal(t, m.Help, got.Metadata[n].Metadata.Help)
			require.Equal(t, m.Unit, got.Metadata[n].Metadata.Unit)
			require.Equal(t, metricType(int32(m.Type)), got.Metadata[n].Metadata.Type)
			n++
		}
	}
	require.Len(t, got.Metadata, n)
}

func compareV2(t *testing.T, want *writev2.Request, got *Request) {
	require.Len(t, got.Series, len(want.Timeseries))
	for i, ts := range want.Timeseries {
		s := got.Series[i]
		b := labels.NewScratchBuilder(0)
		ls, err := ts.ToLabels(&b, want.Symbols)
		md, mdErr := ts.ToMetadata(want.Symbols)
		if err != nil || (mdErr != nil && len(want.Symbols) > 0) || len(ts.Samples)+len(ts.Histograms) == 0 {
			require.True(t, s.dropped, "series %d", i)
			continue
		}
		if !s.dropped {
			require.Equal(t, ls.WithoutEmpty().String(), s.Labels.String())
			if mdErr == nil {
				require.Equal(t, md, s.Metadata)
			}
		}
		require.Len(t, s.Samples, len(ts.Samples))
		for j, smp := range ts.Samples {
			requireSameSample(t, smp.Timestamp, smp.Value, s.Samples[j])
			require.Equal(t, smp.StartTimestamp, s.Samples[j].StartTimestamp)
		}
		require.Len(t, s.Histograms, len(ts.Histograms))
		for j, h := range ts.Histograms {
			requireSameHistogram(t, h.Timestamp, h.IsFloatHistogram(), s.Histograms[j])
			require.Equal(t, h.StartTimestamp, s.Histograms[j].StartTimestamp)
		}
		if s.dropped {
			continue
		}
		var exemplars []string
		for _, e := range ts.Exemplars {
			if ex, err := e.ToExemplar(&b, want.Symbols); err == nil {
				exemplars = append(exemplars, ex.Labels.String())
			}
		}
		var gotExemplars []string
		for _, e := range s.Exemplars {
			gotExemplars = append(gotExemplars, e.Labels.String())
		}
		require.Equal(t, exemplars, gotExemplars)
	}
}

func requireSameSample(t *testing.T, ts int64, v float64, got Sample) {
	require.Equal(t, ts, got.Timestamp)
	require.Equal(t, math.Float64bits(v), math.Float64bits(got.Value))
}

func requireSameHistogram(t *testing.T, ts int64, float bool, got Histogram) {
	require.Equal(t, ts, got.Timestamp)
	require.Equal(t, float, got.FH != nil)
	require.Equal(t, !float, got.H != nil)
}

// fuzzTarget sends fuzz inputs through the handler into one TSDB.
type fuzzTarget struct {
	mu      sync.Mutex
	handler *Handler
	target  Target
}

func newFuzzTarget(f *testing.F) *fuzzTarget {
	db := openTestDB(f)
	return &fuzzTarget{
		handler: NewHandler(Options{Now: func() time.Time { return testNow }}),
		target:  Target{ID: "fuzz", Appendable: db, Metadata: &memSink{}},
	}
}

// write sends body; decodeErr is what decoding it gave, a contentError of
// which must be answered 400.
func (ft *fuzzTarget) write(t *testing.T, v Version, body []byte, decodeErr error) {
	ct := "application/x-protobuf"
	if v == V2 {
		ct += ";proto=io.prometheus.write.v2.Request"
	}
	r := httptest.NewRequest(http.MethodPost, "/api/v1/remote_write", bytes.NewReader(snappyEncode(body)))
	r.Header.Set("Content-Type", ct)
	r.Header.Set("Content-Encoding", "snappy")
	w := httptest.NewRecorder()
	ft.mu.Lock()
	ft.handler.Write(w, r, ft.target)
	ft.mu.Unlock()
	if w.Code >= 500 {
		t.Fatalf("status %d for fuzz input: %s", w.Code, w.Body.String())
	}
	if w.Code != http.StatusNoContent && w.Code != http.StatusBadRequest {
		t.Fatalf("unexpected status %d: %s", w.Code, w.Body.String())
	}
	if isContentError(decodeErr) && (w.Code != http.StatusBadRequest || !strings.Contains(w.Body.String(), decodeErr.Error())) {
		t.Fatalf("status %d (%q) for a body the decoder rejects: %v", w.Code, w.Body.String(), decodeErr)
	}
}

// seedRequestsV1 are valid 1.0 requests: floats, metadata, histograms,
// exemplars, odd labels.
func seedRequestsV1() []*prompb.WriteRequest {
	now := testTS(0)
	return []*prompb.WriteRequest{
		{
			Timeseries: []prompb.TimeSeries{
				{Labels: pl("__name__", "up", "job", "a"), Samples: []prompb.Sample{{Timestamp: now, Value: 1}}},
				{Labels: pl("job", "b", "__name__", "up", "empty", ""), Samples: []prompb.Sample{{Timestamp: now - 1000, Value: 0}, {Timestamp: now, Value: math.NaN()}}},
			},
			Metadata: []prompb.MetricMetadata{{Type: prompb.MetricMetadata_GAUGE, MetricFamilyName: "up", Help: "Up."}},
		},
		{
			Timeseries: []prompb.TimeSeries{{
				Labels:     pl("__name__", "lat", "job", "a"),
				Histograms: []prompb.Histogram{prompb.FromIntHistogram(now, tsdbutil.GenerateTestHistogram(1)), prompb.FromFloatHistogram(now+1000, tsdbutil.GenerateTestFloatHistogram(2))},
				Exemplars:  []prompb.Exemplar{{Labels: pl("trace_id", "x"), Value: 1, Timestamp: now}},
			}},
		},
		{
			Timeseries: []prompb.TimeSeries{
				{Labels: pl("__name__", "dup", "a", "1", "a", "2"), Samples: []prompb.Sample{{Timestamp: now, Value: 1}}},
				{Labels: pl("no", "name"), Samples: []prompb.Sample{{Timestamp: now, Value: 1}}},
				{Labels: pl("__name__", "utf8.name", "label with space", strings.Repeat("v", 100)), Samples: []prompb.Sample{{Timestamp: now - 3600_000, Value: 1}}},
			},
		},
	}
}

func seedRequestsV2() []*writev2.Request {
	now := testTS(0)
	b := newV2Builder()
	b.series(labels.FromStrings("__name__", "jobs_total", "job", "a"), func(ts *writev2.TimeSeries) {
		ts.Metadata = b.meta(writev2.Metadata_METRIC_TYPE_COUNTER, "Jobs.", "")
		ts.Samples = []writev2.Sample{{Value: 1, Timestamp: now, StartTimestamp: now - 60_000}}
		ts.Exemplars = []writev2.Exemplar{{LabelsRefs: b.st.SymbolizeLabels(labels.FromStrings("trace_id", "t"), nil), Value: 1, Timestamp: now}}
	})
	b.series(labels.FromStrings("__name__", "lat_seconds"), func(ts *writev2.TimeSeries) {
		ts.Metadata = b.meta(writev2.Metadata_METRIC_TYPE_HISTOGRAM, "Latency.", "seconds")
		ts.Histograms = []writev2.Histogram{
			writev2.FromIntHistogram(now-60_000, now, tsdbutil.GenerateTestHistogram(1)),
			writev2.FromFloatHistogram(0, now+1000, tsdbutil.GenerateTestFloatHistogram(2)),
		}
	})
	b.series(labels.FromStrings("__name__", "x_bucket", "le", "+Inf"), func(ts *writev2.TimeSeries) {
		ts.Metadata = b.meta(writev2.Metadata_METRIC_TYPE_HISTOGRAM, "X.", "")
		ts.Samples = []writev2.Sample{{Value: 3, Timestamp: now}}
	})
	first := b.build()

	// Series referencing symbols out of range, odd references, no samples.
	bad := &writev2.Request{
		Symbols: []string{"", "__name__", "up", "job"},
		Timeseries: []writev2.TimeSeries{
			{LabelsRefs: []uint32{1, 2, 3}, Samples: []writev2.Sample{{Value: 1, Timestamp: now}}},
			{LabelsRefs: []uint32{1, 9}, Samples: []writev2.Sample{{Value: 1, Timestamp: now}}},
			{LabelsRefs: []uint32{1, 2}},
			{LabelsRefs: []uint32{1, 2, 3, 2}, Samples: []writev2.Sample{{Value: 1, Timestamp: now}}, Metadata: writev2.Metadata{HelpRef: 40}},
		},
	}
	return []*writev2.Request{first, bad}
}

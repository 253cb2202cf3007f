package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"github.com/prometheus/prometheus/storage/remote"
	"github.com/prometheus/prometheus/tsdb/tsdbutil"
	"github.com/stretchr/testify/require"
)

const (
	v1Msg = remoteapi.WriteV1MessageType
	v2Msg = remoteapi.WriteV2MessageType
)

func v1Series(ls []prompb.Label, samples ...prompb.Sample) prompb.TimeSeries {
	return prompb.TimeSeries{Labels: ls, Samples: samples}
}

func pl(kv ...string) []prompb.Label {
	var out []prompb.Label
	for i := 0; i < len(kv); i += 2 {
		out = append(out, prompb.Label{Name: kv[i], Value: kv[i+1]})
	}
	return out
}

func TestWriteV1FloatsAndMetadata(t *testing.T) {
	env := newTestEnv(t, Options{})
	req := &prompb.WriteRequest{
		Timeseries: []prompb.TimeSeries{
			v1Series(pl("__name__", "http_requests_total", "job", "api", "code", "200"),
				prompb.Sample{Timestamp: testTS(-2 * time.Second), Value: 1},
				prompb.Sample{Timestamp: testTS(-time.Second), Value: 2}),
			v1Series(pl("__name__", "rpc_duration_seconds_bucket", "le", "0.1", "job", "api"),
				prompb.Sample{Timestamp: testTS(-time.Second), Value: 7}),
		},
		Metadata: []prompb.MetricMetadata{
			{Type: prompb.MetricMetadata_COUNTER, MetricFamilyName: "http_requests_total", Help: "Requests.", Unit: ""},
			{Type: prompb.MetricMetadata_HISTOGRAM, MetricFamilyName: "rpc_duration_seconds", Help: "RPC latency.", Unit: "seconds"},
		},
	}
	stats, err := env.store(t, v1Msg, req)
	require.NoError(t, err)
	require.False(t, stats.Confirmed, "1.0 responses carry no written headers")

	got := query(t, env.db, nameMatcher("http_requests_total"))
	require.Equal(t, map[string][]sample{
		`{__name__="http_requests_total", code="200", job="api"}`: {{T: testTS(-2 * time.Second), V: 1}, {T: testTS(-time.Second), V: 2}},
	}, got)
	require.Len(t, query(t, env.db, nameMatcher("rpc_duration_seconds_bucket")), 1)

	require.Equal(t, map[string]metadata.Metadata{
		"http_requests_total":  {Type: model.MetricTypeCounter, Help: "Requests."},
		"rpc_duration_seconds": {Type: model.MetricTypeHistogram, Help: "RPC latency.", Unit: "seconds"},
	}, env.sink.get())

	require.Equal(t, 3.0, counterValue(t, env.handler.metrics.samples, "ws-1"))
	require.Equal(t, 2.0, counterValue(t, env.handler.metrics.metadata, "ws-1"))
	require.Equal(t, 1.0, counterValue(t, env.handler.metrics.requests, "ws-1", "1.0", "204"))
}

// v2Builder builds 2.0 requests.
type v2Builder struct {
	st  writev2.SymbolsTable
	req writev2.Request
}

func newV2Builder() *v2Builder { return &v2Builder{st: writev2.NewSymbolTable()} }

func (b *v2Builder) series(ls labels.Labels, fn func(ts *writev2.TimeSeries)) {
	ts := writev2.TimeSeries{LabelsRefs: b.st.SymbolizeLabels(ls, nil)}
	if fn != nil {
		fn(&ts)
	}
	b.req.Timeseries = append(b.req.Timeseries, ts)
}

func (b *v2Builder) meta(typ writev2.Metadata_MetricType, help, unit string) writev2.Metadata {
	return writev2.Metadata{Type: typ, HelpRef: b.st.Symbolize(help), UnitRef: b.st.Symbolize(unit)}
}

func (b *v2Builder) build() *writev2.Request {
	b.req.Symbols = b.st.Symbols()
	return &b.req
}

func TestWriteV2(t *testing.T) {
	env := newTestEnv(t, Options{})
	b := newV2Builder()
	counter := labels.FromStrings("__name__", "jobs_done_total", "job", "worker")
	intHist := labels.FromStrings("__name__", "latency_seconds", "job", "worker")
	floatHist := labels.FromStrings("__name__", "size_bytes", "job", "worker")
	gauge := labels.FromStrings("__name__", "temperature_celsius", "room", "a")
	h1, h2 := tsdbutil.GenerateTestHistogram(1), tsdbutil.GenerateTestHistogram(2)
	fh := tsdbutil.GenerateTestFloatHistogram(3)

	b.series(counter, func(ts *writev2.TimeSeries) {
		ts.Metadata = b.meta(writev2.Metadata_METRIC_TYPE_COUNTER, "Jobs done.", "")
		ts.Samples = []writev2.Sample{
			{Value: 5, Timestamp: testTS(-2 * time.Second), StartTimestamp: testTS(-time.Minute)},
			{Value: 6, Timestamp: testTS(-time.Second), StartTimestamp: testTS(-time.Minute)},
		}
		ts.Exemplars = []writev2.Exemplar{
			{LabelsRefs: b.st.SymbolizeLabels(labels.FromStrings("trace_id", "abc"), nil), Value: 6, Timestamp: testTS(-time.Second)},
			{LabelsRefs: b.st.SymbolizeLabels(labels.FromStrings("trace_id", "abd"), nil), Value: 5, Timestamp: testTS(-2 * time.Second)},
		}
	})
	b.series(intHist, func(ts *writev2.TimeSeries) {
		ts.Metadata = b.meta(writev2.Metadata_METRIC_TYPE_HISTOGRAM, "Latency.", "seconds")
		ts.Histograms = []writev2.Histogram{
			writev2.FromIntHistogram(0, testTS(-2*time.Second), h1),
			writev2.FromIntHistogram(0, testTS(-time.Second), h2),
		}
	})
	b.series(floatHist, func(ts *writev2.TimeSeries) {
		ts.Metadata = b.meta(writev2.Metadata_METRIC_TYPE_GAUGEHISTOGRAM, "Sizes.", "bytes")
		ts.Histograms = []writev2.Histogram{writev2.FromFloatHistogram(0, testTS(-time.Second), fh)}
	})
	b.series(gauge, func(ts *writev2.TimeSeries) {
		ts.Samples = []writev2.Sample{{Value: 21.5, Timestamp: testTS(-time.Second)}}
	})

	stats, err := env.store(t, v2Msg, b.build())
	require.NoError(t, err)
	require.True(t, stats.Confirmed)
	require.Equal(t, 3, stats.Samples)
	require.Equal(t, 3, stats.Histograms)
	require.Equal(t, 2, stats.Exemplars)

	// The start timestamp becomes a zero sample before the first one.
	require.Equal(t, []sample{
		{T: testTS(-time.Minute), V: 0},
		{T: testTS(-2 * time.Second), V: 5},
		{T: testTS(-time.Second), V: 6},
	}, query(t, env.db, nameMatcher("jobs_done_total"))[counter.String()])

	hs := query(t, env.db, nameMatcher("latency_seconds"))[intHist.String()]
	require.Len(t, hs, 2)
	require.Equal(t, testTS(-time.Second), hs[1].T)
	require.True(t, hs[1].H.Equals(h2), "got %v", hs[1].H)
	fhs := query(t, env.db, nameMatcher("size_bytes"))[floatHist.String()]
	require.Len(t, fhs, 1)
	require.True(t, fhs[0].FH.Equals(fh), "got %v", fhs[0].FH)
	require.Len(t, query(t, env.db, nameMatcher("temperature_celsius")), 1)

	exs := queryExemplars(t, env.db, nameMatcher("jobs_done_total"))
	require.Len(t, exs, 1)
	require.Len(t, exs[0].Exemplars, 2)
	require.Equal(t, "abd", exs[0].Exemplars[0].Labels.Get("trace_id"), "exemplars are stored in time order")
	require.Equal(t, "abc", exs[0].Exemplars[1].Labels.Get("trace_id"))

	require.Equal(t, map[string]metadata.Metadata{
		"jobs_done_total": {Type: model.MetricTypeCounter, Help: "Jobs done."},
		"latency_seconds": {Type: model.MetricTypeHistogram, Help: "Latency.", Unit: "seconds"},
		"size_bytes":      {Type: model.MetricTypeGaugeHistogram, Help: "Sizes.", Unit: "bytes"},
	}, env.sink.get())

	require.Equal(t, 3.0, counterValue(t, env.handler.metrics.samples, "ws-1"))
	require.Equal(t, 3.0, counterValue(t, env.handler.metrics.histograms, "ws-1"))
	require.Equal(t, 2.0, counterValue(t, env.handler.metrics.exemplars, "ws-1"))
	require.Equal(t, 1.0, counterValue(t, env.handler.metrics.requests, "ws-1", "2.0", "204"))
}

func TestWriteV2ClassicHistogramFamily(t *testing.T) {
	env := newTestEnv(t, Options{})
	b := newV2Builder()
	for _, name := range []string{"rpc_seconds_bucket", "rpc_seconds_sum", "rpc_seconds_count"} {
		ls := labels.FromStrings("__name__", name, "le", "1")
		b.series(ls, func(ts *writev2.TimeSeries) {
			ts.Metadata = b.meta(writev2.Metadata_METRIC_TYPE_HISTOGRAM, "RPCs.", "seconds")
			ts.Samples = []writev2.Sample{{Value: 1, Timestamp: testTS(0)}}
		})
	}
	_, err := env.store(t, v2Msg, b.build())
	require.NoError(t, err)
	require.Equal(t, map[string]metadata.Metadata{
		"rpc_seconds": {Type: model.MetricTypeHistogram, Help: "RPCs.", Unit: "seconds"},
	}, env.sink.get())
}

func TestWriteContentTypeAndEncoding(t *testing.T) {
	env := newTestEnv(t, Options{})
	body := encode(t, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		v1Series(pl("__name__", "up"), prompb.Sample{Timestamp: testTS(0), Value: 1}),
	}})
	for _, tc := range []struct {
		contentType, encoding string
		want                  int
	}{
		{"application/x-protobuf", "snappy", http.StatusNoContent},
		{"application/x-protobuf;proto=prometheus.WriteRequest", "snappy", http.StatusNoContent},
		{"application/x-protobuf; proto=prometheus.WriteRequest", "", http.StatusNoContent},
		{"", "", http.StatusNoContent},
		{"application/json", "snappy", http.StatusUnsupportedMediaType},
		{"text/plain", "snappy", http.StatusUnsupportedMediaType},
		{"application/x-protobuf;proto=io.prometheus.write.v3.Request", "snappy", http.StatusUnsupportedMediaType},
		{"application/x-protobuf;proto", "snappy", http.StatusUnsupportedMediaType},
		{"application/x-protobuf", "gzip", http.StatusUnsupportedMediaType},
		{"application/x-protobuf", "zstd", http.StatusUnsupportedMediaType},
	} {
		t.Run(tc.contentType+"/"+tc.encoding, func(t *testing.T) {
			h := map[string]string{}
			if tc.contentType != "" {
				h["Content-Type"] = tc.contentType
			}
			if tc.encoding != "" {
				h["Content-Encoding"] = tc.encoding
			}
			resp := env.post(t, body, h)
			require.Equal(t, tc.want, resp.StatusCode)
		})
	}

	req, err := http.NewRequest(http.MethodGet, env.srv.URL, nil)
	require.NoError(t, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	resp.Body.Close()
	require.Equal(t, http.StatusMethodNotAllowed, resp.StatusCode)
}

func TestWriteTooLarge(t *testing.T) {
	env := newTestEnv(t, Options{MaxRequestBytes: 1 << 10})
	var ts []prompb.TimeSeries
	for i := range 200 {
		ts = append(ts, v1Series(pl("__name__", "up", "instance", fmt.Sprintf("host-%d.example.com:9100", i*7919)),
			prompb.Sample{Timestamp: testTS(0), Value: float64(i)}))
	}
	body := encode(t, &prompb.WriteRequest{Timeseries: ts})
	require.Greater(t, len(body), 1<<10)
	_, err := env.store(t, v1Msg, &prompb.WriteRequest{Timeseries: ts})
	require.ErrorContains(t, err, "413")

	// Without Content-Length the body is read up to the limit only.
	resp := env.postChunked(t, body)
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	require.Equal(t, 2.0, counterValue(t, env.handler.metrics.requests, "ws-1", "1.0", "413"))

	// Within the limit the same path works.
	resp = env.postChunked(t, encode(t, &prompb.WriteRequest{Timeseries: ts[:3]}))
	require.Equal(t, http.StatusNoContent, resp.StatusCode)
	require.Len(t, query(t, env.db, nameMatcher("up")), 3)

	// A small body that decompresses past the decoded limit.
	env = newTestEnv(t, Options{MaxDecodedBytes: 8 << 10})
	resp = env.post(t, snappyEncode(make([]byte, 64<<10)), nil)
	require.Equal(t, http.StatusRequestEntityTooLarge, resp.StatusCode)
	msg, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Contains(t, string(msg), "decoded request of 65536 bytes exceeds the limit of 8192 bytes")
}

func TestWriteMalformed(t *testing.T) {
	env := newTestEnv(t, Options{})
	for name, body := range map[string][]byte{
		"not snappy":   []byte("\xff\xff\xff\xff\xff\xff"),
		"not protobuf": snappyEncode([]byte("\x0a\xff\xff\xff\xff\x0f")),
		"truncated":    snappyEncode([]byte("\x0a\x05\x0a\x03")),
	} {
		for _, ct := range []string{"application/x-protobuf", "application/x-protobuf;proto=io.prometheus.write.v2.Request"} {
			t.Run(name+" "+ct, func(t *testing.T) {
				resp := env.post(t, body, map[string]string{"Content-Type": ct})
				require.Equal(t, http.StatusBadRequest, resp.StatusCode)
			})
		}
	}
}

// A body of the other version, or of no known field, decodes to an empty
// request, as protobuf skips unknown fields: it must be a 400 with nothing
// written, not a 204.
func TestWriteWrongVersionBody(t *testing.T) {
	env := newTestEnv(t, Options{})
	b := newV2Builder()
	b.series(labels.FromStrings("__name__", "v2_sent_as_v1", "job", "a"), func(ts *writev2.TimeSeries) {
		ts.Samples = []writev2.Sample{{Value: 1, Timestamp: testTS(0)}}
	})
	v2Body := b.build()
	v1Body := &prompb.WriteRequest{
		Timeseries: []prompb.TimeSeries{v1Series(pl("__name__", "v1_sent_as_v2", "job", "a"), prompb.Sample{Timestamp: testTS(0), Value: 1})},
		Metadata:   []prompb.MetricMetadata{{Type: prompb.MetricMetadata_GAUGE, MetricFamilyName: "v1_sent_as_v2", Help: "H."}},
	}
	noEmptySymbol := &writev2.Request{
		Symbols: []string{"__name__", "no_empty_symbol", "job", "a"},
		Timeseries: []writev2.TimeSeries{{
			LabelsRefs: []uint32{0, 1, 2, 3},
			Samples:    []writev2.Sample{{Value: 1, Timestamp: testTS(0)}},
		}},
	}
	for _, tc := range []struct {
		name string
		msg  remoteapi.WriteMessageType
		body marshaler
		want string
	}{
		{"2.0 body as 1.0", v1Msg, v2Body, "decode remote write 1.0 request: body holds only fields of a 2.0 request (symbols, timeseries); Content-Type says 1.0"},
		{"1.0 body as 2.0", v2Msg, v1Body, "decode remote write 2.0 request: body holds only fields of a 1.0 request (timeseries, metadata); Content-Type says 2.0"},
		{"symbols[0] not empty", v2Msg, noEmptySymbol, `decode remote write 2.0 request: symbols[0] is "__name__", not the empty string that remote write 2.0 requires it to be`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			stats, err := env.store(t, tc.msg, tc.body)
			require.ErrorContains(t, err, "400 Bad Request")
			require.ErrorContains(t, err, tc.want)
			require.Zero(t, stats.Samples)
		})
	}
	require.Empty(t, query(t, env.db, labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+")))
	require.Empty(t, env.sink.get())
	require.Equal(t, 1.0, counterValue(t, env.handler.metrics.requests, "ws-1", "1.0", "400"))
	require.Equal(t, 2.0, counterValue(t, env.handler.metrics.requests, "ws-1", "2.0", "400"))

	for name, tc := range map[string]struct {
		ct   string
		body wire
		want string
	}{
		"unknown fields as 1.0":         {"application/x-protobuf", wire{}.varint(2, 1).str(7, "x").varint(7, 1), "body holds no field of a 1.0 request, only unknown fields 2 (wire type 0), 7 (wire type 2), 7 (wire type 0)"},
		"unknown fields as 2.0":         {"application/x-protobuf;proto=io.prometheus.write.v2.Request", wire{}.varint(1, 1).fixed32(9, 1), "body holds no field of a 2.0 request, only unknown fields 1 (wire type 0), 9 (wire type 5)"},
		"2.0 and unknown fields as 1.0": {"application/x-protobuf", wire{}.str(4, "").varint(6, 1), "body holds no field of a 1.0 request, only fields of a 2.0 request (symbols) and unknown fields 6 (wire type 0); Content-Type says 1.0"},
	} {
		t.Run(name, func(t *testing.T) {
			resp := env.post(t, snappyEncode(tc.body), map[string]string{"Content-Type": tc.ct})
			require.Equal(t, http.StatusBadRequest, resp.StatusCode)
			msg, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			require.Contains(t, string(msg), tc.want)
		})
	}
}

// Empty bodies and requests without series are answered 204, as by
// Prometheus' own receiver.
func TestWriteEmptyRequests(t *testing.T) {
	env := newTestEnv(t, Options{})
	promDB := openTestDB(t)
	prom := httptest.NewServer(remote.NewWriteHandler(slog.New(slog.DiscardHandler), prometheus.NewRegistry(), promDB,
		remoteapi.MessageTypes{remoteapi.WriteV1MessageType, remoteapi.WriteV2MessageType}, false, false))
	t.Cleanup(prom.Close)
	promEnv := &testEnv{srv: prom}

	for _, tc := range []struct {
		name string
		msg  remoteapi.WriteMessageType
		body marshaler
	}{
		{"1.0 empty", v1Msg, &prompb.WriteRequest{}},
		{"1.0 series without samples", v1Msg, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{Labels: pl("__name__", "up")}}}},
		{"1.0 only metadata", v1Msg, &prompb.WriteRequest{Metadata: []prompb.MetricMetadata{{Type: prompb.MetricMetadata_GAUGE, MetricFamilyName: "up"}}}},
		{"2.0 empty", v2Msg, &writev2.Request{}},
		{"2.0 only the empty symbol", v2Msg, &writev2.Request{Symbols: []string{""}}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := promEnv.store(t, tc.msg, tc.body)
			require.NoError(t, err, "Prometheus")
			_, err = env.store(t, tc.msg, tc.body)
			require.NoError(t, err, "promspace")
		})
	}
}

func TestWritePartialV1(t *testing.T) {
	env := newTestEnv(t, Options{})
	good := pl("__name__", "good", "job", "a")
	_, err := env.store(t, v1Msg, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		v1Series(good, prompb.Sample{Timestamp: testTS(0), Value: 1}),
	}})
	require.NoError(t, err)

	req := &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		v1Series(good, prompb.Sample{Timestamp: testTS(time.Second), Value: 2}),
		v1Series(pl("__name__", "bad", "job", "a", "invalid\xff", "x"), prompb.Sample{Timestamp: testTS(0), Value: 1}),
		v1Series(pl("job", "a"), prompb.Sample{Timestamp: testTS(0), Value: 1}),
		v1Series(pl("__name__", "dup", "job", "a", "job", "b"), prompb.Sample{Timestamp: testTS(0), Value: 1}),
		// Unsorted labels are sorted, empty values dropped, as Prometheus does.
		v1Series(pl("zone", "z1", "__name__", "unsorted", "empty", "", "app", "x"), prompb.Sample{Timestamp: testTS(0), Value: 2}),
		// Out of the 60 s out-of-order window.
		v1Series(good, prompb.Sample{Timestamp: testTS(-2 * time.Minute), Value: 0}),
	}}
	_, err = env.store(t, v1Msg, req)
	require.ErrorContains(t, err, "400")
	msg := err.Error()
	require.Contains(t, msg, `invalid label name "invalid\xff" for series {__name__="bad", "invalid\xff"="x", job="a"}`)
	require.Contains(t, msg, `missing metric name for series {job="a"}`)
	require.Contains(t, msg, `duplicate label name "job" for series {__name__="dup", job="a", job="b"}`)
	require.Contains(t, msg, `too old sample for series {__name__="good", job="a"} at timestamp `+fmt.Sprint(testTS(-2*time.Minute)))

	require.Equal(t, []sample{{T: testTS(0), V: 1}, {T: testTS(time.Second), V: 2}}, query(t, env.db, nameMatcher("good"))[`{__name__="good", job="a"}`])
	require.Equal(t, map[string][]sample{`{__name__="unsorted", app="x", zone="z1"}`: {{T: testTS(0), V: 2}}},
		query(t, env.db, nameMatcher("unsorted")))
	require.Empty(t, query(t, env.db, nameMatcher("bad")))
	require.Empty(t, query(t, env.db, nameMatcher("dup")))

	m := env.handler.metrics
	require.Equal(t, 1.0, counterValue(t, m.discarded, "ws-1", ReasonInvalidLabel))
	require.Equal(t, 1.0, counterValue(t, m.discarded, "ws-1", ReasonMissingMetricName))
	require.Equal(t, 1.0, counterValue(t, m.discarded, "ws-1", ReasonDuplicateLabelNames))
	require.Equal(t, 1.0, counterValue(t, m.discarded, "ws-1", ReasonTooOld))
	require.Equal(t, 1.0, counterValue(t, m.requests, "ws-1", "1.0", "400"))
}

func TestWritePartialV2Headers(t *testing.T) {
	env := newTestEnv(t, Options{})
	good := labels.FromStrings("__name__", "good", "job", "a")
	first := newV2Builder()
	first.series(good, func(ts *writev2.TimeSeries) {
		ts.Samples = []writev2.Sample{{Value: 1, Timestamp: testTS(0)}}
	})
	_, err := env.store(t, v2Msg, first.build())
	require.NoError(t, err)

	b := newV2Builder()
	b.series(good, func(ts *writev2.TimeSeries) {
		ts.Samples = []writev2.Sample{{Value: 2, Timestamp: testTS(time.Second)}, {Value: 3, Timestamp: testTS(2 * time.Second)}}
	})
	b.series(labels.FromStrings("__name__", "hist"), func(ts *writev2.TimeSeries) {
		ts.Histograms = []writev2.Histogram{writev2.FromIntHistogram(0, testTS(0), tsdbutil.GenerateTestHistogram(1))}
	})
	b.series(labels.FromStrings("__name__", "1bad-name\xff"), func(ts *writev2.TimeSeries) {
		ts.Samples = []writev2.Sample{{Value: 1, Timestamp: testTS(0)}}
	})
	b.series(labels.FromStrings("__name__", "future"), func(ts *writev2.TimeSeries) {
		ts.Samples = []writev2.Sample{{Value: 1, Timestamp: testTS(time.Hour)}}
	})
	b.series(labels.FromStrings("__name__", "nothing"), nil)
	b.series(good, func(ts *writev2.TimeSeries) {
		ts.Samples = []writev2.Sample{{Value: 0, Timestamp: testTS(-10 * time.Minute)}}
	})
	stats, err := env.store(t, v2Msg, b.build())
	require.ErrorContains(t, err, "400")
	require.Contains(t, err.Error(), `invalid metric name "1bad-name\xff"`)
	require.Contains(t, err.Error(), `out of bounds: timestamp is too far in the future for series {__name__="future"}`)
	require.Contains(t, err.Error(), `TimeSeries must contain at least one sample or histogram for series {__name__="nothing"}`)
	require.Contains(t, err.Error(), `too old sample for series {__name__="good", job="a"}`)
	require.True(t, stats.Confirmed)
	require.Equal(t, 2, stats.Samples)
	require.Equal(t, 1, stats.Histograms)
	require.Len(t, query(t, env.db, nameMatcher("good"))[good.String()], 3)
	require.Len(t, query(t, env.db, nameMatcher("hist")), 1)
}

func TestWriteErrorListIsBounded(t *testing.T) {
	env := newTestEnv(t, Options{MaxResponseErrors: 3})
	var ts []prompb.TimeSeries
	for i := range 50 {
		ts = append(ts, v1Series(pl("__name__", fmt.Sprintf("m%d", i), "bad-label", "x")))
		ts[i].Samples = []prompb.Sample{{Timestamp: testTS(0), Value: 1}}
	}
	resp := env.post(t, encode(t, &prompb.WriteRequest{Timeseries: ts}), nil)
	require.Equal(t, http.StatusNoContent, resp.StatusCode, "UTF-8 label names are valid by default")

	env = newTestEnv(t, Options{MaxResponseErrors: 3, NameValidation: model.LegacyValidation})
	resp = env.post(t, encode(t, &prompb.WriteRequest{Timeseries: ts}), nil)
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(string(body)), "\n")
	require.Len(t, lines, 4)
	require.Equal(t, "and 47 more errors", lines[3])
}

func TestPipeline(t *testing.T) {
	var stage StageFunc
	env := newTestEnv(t, Options{Pipeline: []Stage{StageFunc(func(ctx context.Context, tgt Target, req *Request) error {
		require.Equal(t, "ws-1", tgt.ID)
		return stage(ctx, tgt, req)
	})}})
	b := newV2Builder()
	b.series(labels.FromStrings("__name__", "up", "cluster", "c", "__replica__", "r1"), func(ts *writev2.TimeSeries) {
		ts.Samples = []writev2.Sample{{Value: 1, Timestamp: testTS(0)}}
	})
	b.series(labels.FromStrings("__name__", "over_limit", "cluster", "c", "__replica__", "r1"), func(ts *writev2.TimeSeries) {
		ts.Samples = []writev2.Sample{{Value: 1, Timestamp: testTS(0)}}
	})
	req := b.build()

	t.Run("dedupe", func(t *testing.T) {
		stage = func(context.Context, Target, *Request) error {
			return &StatusError{Status: http.StatusAccepted, Err: errors.New("replicas did not match, rejecting sample: replica=r1, elected=r2")}
		}
		stats, err := env.store(t, v2Msg, req)
		require.NoError(t, err, "202 is a success for the sender")
		require.Equal(t, 0, stats.Samples)
		require.Empty(t, query(t, env.db, nameMatcher("up")))
		require.Equal(t, 2.0, counterValue(t, env.handler.metrics.discarded, "ws-1", "deduplicated"))
	})
	t.Run("rate limit", func(t *testing.T) {
		stage = func(_ context.Context, _ Target, r *Request) error {
			return &StatusError{Status: http.StatusTooManyRequests, RetryAfter: 1500 * time.Millisecond,
				Err: fmt.Errorf("ingestion rate limit (140000) exceeded while adding %d samples and %d metadata", r.SampleCount(), r.MetadataCount())}
		}
		resp := env.post(t, encode(t, req), map[string]string{"Content-Type": "application/x-protobuf;proto=io.prometheus.write.v2.Request"})
		require.Equal(t, http.StatusTooManyRequests, resp.StatusCode)
		require.Equal(t, "2", resp.Header.Get("Retry-After"))
		require.Equal(t, "0", resp.Header.Get(writtenSamplesHeader))
		body, _ := io.ReadAll(resp.Body)
		require.Equal(t, "ingestion rate limit (140000) exceeded while adding 2 samples and 0 metadata\n", string(body))
	})
	t.Run("drop series and relabel", func(t *testing.T) {
		stage = func(_ context.Context, _ Target, r *Request) error {
			for i := range r.Series {
				s := &r.Series[i]
				if s.Labels.Get("__name__") == "over_limit" {
					r.Drop(i, "per_metric_series_limit", fmt.Errorf("per-metric series limit of 0 exceeded for series %s", s.Labels))
					continue
				}
				s.Labels = labels.NewBuilder(s.Labels).Del("__replica__").Labels()
			}
			return nil
		}
		stats, err := env.store(t, v2Msg, req)
		require.ErrorContains(t, err, `per-metric series limit of 0 exceeded for series {__name__="over_limit"`)
		require.Equal(t, 1, stats.Samples)
		require.Equal(t, map[string][]sample{`{__name__="up", cluster="c"}`: {{T: testTS(0), V: 1}}}, query(t, env.db, nameMatcher("up")))
		require.Equal(t, 1.0, counterValue(t, env.handler.metrics.discarded, "ws-1", "per_metric_series_limit"))
	})
	t.Run("content limit", func(t *testing.T) {
		stage = func(context.Context, Target, *Request) error {
			return Reject(http.StatusBadRequest, "too many HA clusters (limit: %d)", 500)
		}
		_, err := env.store(t, v2Msg, req)
		require.ErrorContains(t, err, "400 Bad Request: too many HA clusters (limit: 500)")
		require.Equal(t, 2.0, counterValue(t, env.handler.metrics.discarded, "ws-1", "rejected"))
	})
	t.Run("stage failure", func(t *testing.T) {
		stage = func(context.Context, Target, *Request) error { return errors.New("kv unavailable") }
		resp := env.post(t, encode(t, req), map[string]string{"Content-Type": "application/x-protobuf;proto=io.prometheus.write.v2.Request"})
		require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	})
	t.Run("unwritable status", func(t *testing.T) {
		stage = func(context.Context, Target, *Request) error { return &StatusError{Status: 42} }
		resp := env.post(t, encode(t, req), map[string]string{"Content-Type": "application/x-protobuf;proto=io.prometheus.write.v2.Request"})
		require.Equal(t, http.StatusInternalServerError, resp.StatusCode)
	})
}

func TestWriteExemplarsV1AndFamilyLookup(t *testing.T) {
	env := newTestEnv(t, Options{})
	req := &prompb.WriteRequest{
		Timeseries: []prompb.TimeSeries{{
			Labels:  pl("__name__", "rpc_seconds_count", "job", "a"),
			Samples: []prompb.Sample{{Timestamp: testTS(0), Value: 3}},
			Exemplars: []prompb.Exemplar{
				{Labels: pl("trace_id", "t1"), Value: 0.5, Timestamp: testTS(0)},
			},
		}},
		Metadata: []prompb.MetricMetadata{{Type: prompb.MetricMetadata_SUMMARY, MetricFamilyName: "rpc_seconds", Help: "RPCs."}},
	}
	_, err := env.store(t, v1Msg, req)
	require.NoError(t, err)
	exs := queryExemplars(t, env.db, nameMatcher("rpc_seconds_count"))
	require.Len(t, exs, 1)
	require.Equal(t, "t1", exs[0].Exemplars[0].Labels.Get("trace_id"))

	md, ok := v1Families{"rpc_seconds": {Type: model.MetricTypeSummary}}.lookup("rpc_seconds_count")
	require.True(t, ok)
	require.Equal(t, model.MetricTypeSummary, md.Type)
	_, ok = v1Families{"rpc_seconds": {Type: model.MetricTypeGauge}}.lookup("rpc_seconds_count")
	require.False(t, ok)
}

func TestWriteTSDBRejections(t *testing.T) {
	env := newTestEnv(t, Options{})
	series := labels.FromStrings("__name__", "requests_total", "job", "a")
	first := newV2Builder()
	first.series(series, func(ts *writev2.TimeSeries) {
		ts.Samples = []writev2.Sample{{Value: 1, Timestamp: testTS(0)}}
		ts.Exemplars = []writev2.Exemplar{{LabelsRefs: first.st.SymbolizeLabels(labels.FromStrings("trace_id", "new"), nil), Value: 1, Timestamp: testTS(0)}}
	})
	_, err := env.store(t, v2Msg, first.build())
	require.NoError(t, err)

	// A schema above 8 is brought down to 8, as Prometheus does.
	fine := tsdbutil.GenerateTestHistogram(1)
	fine.Schema = 10
	invalid := tsdbutil.GenerateTestHistogram(1)
	invalid.Count = 1 // fewer than in the buckets

	b := newV2Builder()
	b.series(series, func(ts *writev2.TimeSeries) {
		ts.Samples = []writev2.Sample{
			{Value: 2, Timestamp: testTS(0)}, // a new value for the same timestamp
			{Value: 3, Timestamp: testTS(time.Second)},
		}
		// Older than the exemplar already stored for the series, by more
		// than the out-of-order window.
		ts.Exemplars = []writev2.Exemplar{{LabelsRefs: b.st.SymbolizeLabels(labels.FromStrings("trace_id", "old"), nil), Value: 1, Timestamp: testTS(-2 * time.Minute)}}
	})
	b.series(labels.FromStrings("__name__", "fine_histogram"), func(ts *writev2.TimeSeries) {
		ts.Histograms = []writev2.Histogram{writev2.FromIntHistogram(0, testTS(0), fine)}
	})
	b.series(labels.FromStrings("__name__", "invalid_histogram"), func(ts *writev2.TimeSeries) {
		ts.Histograms = []writev2.Histogram{writev2.FromIntHistogram(0, testTS(0), invalid)}
	})
	stats, err := env.store(t, v2Msg, b.build())
	require.ErrorContains(t, err, "400")
	msg := err.Error()
	require.Contains(t, msg, `duplicate sample for timestamp`)
	require.Contains(t, msg, `out of order exemplar for series {__name__="requests_total", job="a"}`)
	require.Contains(t, msg, `for series {__name__="invalid_histogram"}`)
	require.Equal(t, 1, stats.Samples)
	require.Equal(t, 1, stats.Histograms)
	require.Equal(t, 0, stats.Exemplars)

	hs := query(t, env.db, nameMatcher("fine_histogram"))[`{__name__="fine_histogram"}`]
	require.Len(t, hs, 1)
	require.Equal(t, int32(8), hs[0].H.Schema)
	require.Empty(t, query(t, env.db, nameMatcher("invalid_histogram")))

	m := env.handler.metrics
	require.Equal(t, 1.0, counterValue(t, m.discarded, "ws-1", ReasonDuplicateTimestamp))
	require.Equal(t, 1.0, counterValue(t, m.discarded, "ws-1", ReasonInvalidHistogram))

	env.handler.Open(Target{ID: "ws-1"}).Close()
	n, err := testutil.GatherAndCount(env.reg, "promspace_ingest_discarded_samples_total", "promspace_ingest_requests_total")
	require.NoError(t, err)
	require.Zero(t, n)
}

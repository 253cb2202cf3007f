package ingest

import (
	"bytes"
	"context"
	"io"
	"math"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	config_util "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/storage/remote"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/stretchr/testify/require"
)

// testNow is the clock of every test: samples are written around it.
var testNow = time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)

func testTS(offset time.Duration) int64 { return testNow.Add(offset).UnixMilli() }

// openTestDB opens a TSDB configured as a workspace's: out-of-order window
// 60 s, exemplars, start timestamps as zero samples, metadata in the WAL.
func openTestDB(tb testing.TB) *tsdb.DB {
	tb.Helper()
	opts := tsdb.DefaultOptions()
	opts.OutOfOrderTimeWindow = (60 * time.Second).Milliseconds()
	opts.EnableExemplarStorage = true
	opts.MaxExemplars = 100000
	opts.EnableSTAsZeroSample = true
	opts.EnableMetadataWALRecords = true
	db, err := tsdb.Open(tb.TempDir(), nil, nil, opts, nil)
	require.NoError(tb, err)
	tb.Cleanup(func() { require.NoError(tb, db.Close()) })
	return db
}

// memSink is an in-memory MetadataSink.
type memSink struct {
	mu sync.Mutex
	m  map[string]metadata.Metadata
}

func (s *memSink) Set(family string, m metadata.Metadata) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.m == nil {
		s.m = map[string]metadata.Metadata{}
	}
	s.m[family] = m
}

func (s *memSink) get() map[string]metadata.Metadata {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := map[string]metadata.Metadata{}
	for k, v := range s.m {
		out[k] = v
	}
	return out
}

type testEnv struct {
	db      *tsdb.DB
	sink    *memSink
	reg     *prometheus.Registry
	handler *Handler
	srv     *httptest.Server
}

// newTestEnv serves a Handler writing into a fresh TSDB on loopback.
func newTestEnv(t *testing.T, opts Options) *testEnv {
	t.Helper()
	env := &testEnv{db: openTestDB(t), sink: &memSink{}, reg: prometheus.NewRegistry()}
	opts.Registerer = env.reg
	if opts.Now == nil {
		opts.Now = func() time.Time { return testNow }
	}
	env.handler = NewHandler(opts)
	env.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		env.handler.Write(w, r, Target{ID: "ws-1", Appendable: env.db, Metadata: env.sink})
	}))
	t.Cleanup(env.srv.Close)
	return env
}

// client returns Prometheus' own remote-write client for the given protocol.
func (env *testEnv) client(t *testing.T, msg remoteapi.WriteMessageType) remote.WriteClient {
	t.Helper()
	u, err := url.Parse(env.srv.URL)
	require.NoError(t, err)
	c, err := remote.NewWriteClient("test", &remote.ClientConfig{
		URL:              &config_util.URL{URL: u},
		Timeout:          model.Duration(10 * time.Second),
		HTTPClientConfig: config_util.DefaultHTTPClientConfig,
		WriteProtoMsg:    msg,
	})
	require.NoError(t, err)
	return c
}

type marshaler interface{ Marshal() ([]byte, error) }

func encode(t testing.TB, m marshaler) []byte {
	t.Helper()
	b, err := m.Marshal()
	require.NoError(t, err)
	return snappy.Encode(nil, b)
}

// store sends m with Prometheus' client.
func (env *testEnv) store(t *testing.T, msg remoteapi.WriteMessageType, m marshaler) (remote.WriteResponseStats, error) {
	t.Helper()
	return env.client(t, msg).Store(context.Background(), encode(t, m), 0)
}

// post sends a raw body with the given headers and returns the response.
func (env *testEnv) post(t *testing.T, body []byte, header map[string]string) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, env.srv.URL, bytes.NewReader(body))
	require.NoError(t, err)
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

// postChunked sends body without Content-Length.
func (env *testEnv) postChunked(t *testing.T, body []byte) *http.Response {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, env.srv.URL, io.MultiReader(bytes.NewReader(body)))
	require.NoError(t, err)
	req.Header.Set("Content-Encoding", "snappy")
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	t.Cleanup(func() { resp.Body.Close() })
	return resp
}

func snappyEncode(b []byte) []byte { return snappy.Encode(nil, b) }

type sample struct {
	T  int64
	V  float64
	H  *histogram.Histogram
	FH *histogram.FloatHistogram
}

// query returns every sample of the series matching the matchers, by series.
func query(t testing.TB, db *tsdb.DB, ms ...*labels.Matcher) map[string][]sample {
	t.Helper()
	q, err := db.Querier(math.MinInt64, math.MaxInt64)
	require.NoError(t, err)
	defer q.Close()
	ss := q.Select(context.Background(), true, nil, ms...)
	out := map[string][]sample{}
	var it chunkenc.Iterator
	for ss.Next() {
		s := ss.At()
		it = s.Iterator(it)
		var got []sample
		for vt := it.Next(); vt != chunkenc.ValNone; vt = it.Next() {
			switch vt {
			case chunkenc.ValFloat:
				ts, v := it.At()
				got = append(got, sample{T: ts, V: v})
			case chunkenc.ValHistogram:
				ts, h := it.AtHistogram(nil)
				got = append(got, sample{T: ts, H: h})
			case chunkenc.ValFloatHistogram:
				ts, fh := it.AtFloatHistogram(nil)
				got = append(got, sample{T: ts, FH: fh})
			}
		}
		require.NoError(t, it.Err())
		out[s.Labels().String()] = got
	}
	require.NoError(t, ss.Err())
	return out
}

func queryExemplars(t testing.TB, db *tsdb.DB, ms ...*labels.Matcher) []exemplar.QueryResult {
	t.Helper()
	eq, err := db.ExemplarQuerier(context.Background())
	require.NoError(t, err)
	res, err := eq.Select(math.MinInt64, math.MaxInt64, ms)
	require.NoError(t, err)
	return res
}

func nameMatcher(name string) *labels.Matcher {
	return labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, name)
}

func counterValue(t testing.TB, c *prometheus.CounterVec, lvs ...string) float64 {
	t.Helper()
	return testutil.ToFloat64(c.WithLabelValues(lvs...))
}

var _ storage.AppendableV2 = (*tsdb.DB)(nil)

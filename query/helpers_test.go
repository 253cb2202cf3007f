package query

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/tsdbutil"
)

var t0 = time.Unix(1_700_000_000, 0).UTC()

const (
	step   = 15 * time.Second
	points = 41 // ten minutes
)

// openDB opens a TSDB with exemplar storage in a temporary directory.
func openDB(t testing.TB) *tsdb.DB {
	t.Helper()
	opts := tsdb.DefaultOptions()
	opts.EnableExemplarStorage = true
	opts.MaxExemplars = 10_000
	db, err := tsdb.Open(t.TempDir(), nil, nil, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	return db
}

// fill writes series counters named metric (one exemplar every ten samples)
// and a native histogram named metric+"_seconds", from t0 every 15 s.
func fill(t testing.TB, db *tsdb.DB, metric string, series int) {
	t.Helper()
	app := db.AppenderV2(context.Background())
	for i := range points {
		ts := t0.Add(time.Duration(i) * step).UnixMilli()
		for s := range series {
			ls := labels.FromStrings("__name__", metric, "job", "api", "instance", fmt.Sprint(s))
			var opts storage.AppendV2Options
			if i%10 == 0 {
				opts.Exemplars = []exemplar.Exemplar{{
					Labels: labels.FromStrings("trace_id", fmt.Sprintf("%s-%d-%d", metric, s, i)),
					Value:  float64(i), Ts: ts, HasTs: true,
				}}
			}
			if _, err := app.Append(0, ls, 0, ts, float64(10*i), nil, nil, opts); err != nil {
				t.Fatal(err)
			}
		}
		ls := labels.FromStrings("__name__", metric+"_seconds", "job", "api")
		if _, err := app.Append(0, ls, 0, ts, 0, tsdbutil.GenerateTestHistogram(int64(i)), nil, storage.AppendV2Options{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
}

// memMetadata is a MetadataLister with Prometheus' limit semantics.
type memMetadata map[string]metadata.Metadata

func (m memMetadata) List(metric string, limit, limitPerMetric int) map[string][]metadata.Metadata {
	names := make([]string, 0, len(m))
	for name := range m {
		names = append(names, name)
	}
	slices.Sort(names)
	res := map[string][]metadata.Metadata{}
	for _, name := range names {
		if metric != "" && name != metric {
			continue
		}
		if limit >= 0 && len(res) >= limit {
			break
		}
		if limitPerMetric == 0 {
			continue
		}
		res[name] = []metadata.Metadata{m[name]}
	}
	return res
}

// queryLog records OnQuery calls.
type queryLog struct {
	mu    sync.Mutex
	calls []charge
}

type charge struct {
	workspace string
	samples   int64
}

func (l *queryLog) onQuery(id string, n int64) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.calls = append(l.calls, charge{id, n})
}

func (l *queryLog) take() []charge {
	l.mu.Lock()
	defer l.mu.Unlock()
	c := l.calls
	l.calls = nil
	return c
}

type fixture struct {
	url string
	log *queryLog
	reg *prometheus.Registry
}

// newFixture serves one workspace "ws-1" over a TSDB with "http_requests_total"
// (two series) and "http_requests_total_seconds".
func newFixture(t *testing.T, opts Options) *fixture {
	t.Helper()
	db := openDB(t)
	fill(t, db, "http_requests_total", 2)
	f := &fixture{log: &queryLog{}, reg: prometheus.NewRegistry()}
	opts.Registerer = f.reg
	opts.OnQuery = f.log.onQuery
	a := New(opts)
	srv := httptest.NewServer(a.Handler(Source{
		ID:        "ws-1",
		Queryable: db,
		Exemplars: db,
		Metadata: memMetadata{
			"http_requests_total":         {Type: model.MetricTypeCounter, Help: "Requests served."},
			"http_requests_total_seconds": {Type: model.MetricTypeHistogram, Help: "Request latency.", Unit: "seconds"},
		},
	}))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f
}

func (f *fixture) client(t *testing.T) promv1.API {
	t.Helper()
	c, err := api.NewClient(api.Config{Address: f.url})
	if err != nil {
		t.Fatal(err)
	}
	return promv1.NewAPI(c)
}

// do sends a request with form values, in the URL for GET and in the body
// otherwise, and returns the status and body.
func (f *fixture) do(t *testing.T, method, path string, form url.Values) (int, string) {
	t.Helper()
	var (
		req *http.Request
		err error
	)
	if method == http.MethodGet {
		req, err = http.NewRequest(method, f.url+path+"?"+form.Encode(), nil)
	} else {
		req, err = http.NewRequest(method, f.url+path, strings.NewReader(form.Encode()))
		req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	}
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, string(b)
}

func ts(d time.Duration) string {
	return fmt.Sprint(t0.Add(d).Unix())
}

// addParams adds query parameters to every request, as a client of AMP's
// extra parameters does.
type addParams map[string]string

func (p addParams) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	q := r.URL.Query()
	for k, v := range p {
		q.Set(k, v)
	}
	r.URL.RawQuery = q.Encode()
	return http.DefaultTransport.RoundTrip(r)
}

func testutilCounter(t *testing.T, g prometheus.Gatherer, name string) float64 {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() == name {
			var sum float64
			for _, m := range mf.GetMetric() {
				sum += m.GetCounter().GetValue()
			}
			return sum
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// stallingQueryable holds every Select until the query's context ends, as a
// storage too slow for the query timeout does.
type stallingQueryable struct {
	storage.SampleAndChunkQueryable
}

func (s stallingQueryable) Querier(mint, maxt int64) (storage.Querier, error) {
	q, err := s.SampleAndChunkQueryable.Querier(mint, maxt)
	return stallingQuerier{q}, err
}

type stallingQuerier struct{ storage.Querier }

func (s stallingQuerier) Select(ctx context.Context, sorted bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	<-ctx.Done()
	return s.Querier.Select(ctx, sorted, hints, ms...)
}

// ChunkQuerier stalls too: the engine reads chunks, to count them.
func (s stallingQueryable) ChunkQuerier(mint, maxt int64) (storage.ChunkQuerier, error) {
	q, err := s.SampleAndChunkQueryable.ChunkQuerier(mint, maxt)
	return stallingChunkQuerier{q}, err
}

type stallingChunkQuerier struct{ storage.ChunkQuerier }

func (s stallingChunkQuerier) Select(ctx context.Context, sorted bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.ChunkSeriesSet {
	<-ctx.Done()
	return s.ChunkQuerier.Select(ctx, sorted, hints, ms...)
}

// checkResponse checks a response's status and body; a want ending in "…"
// is a prefix of the body.
func checkResponse(t *testing.T, code int, body string, wantCode int, want string) {
	t.Helper()
	if code != wantCode {
		t.Errorf("status %d, want %d", code, wantCode)
	}
	if prefix, ok := strings.CutSuffix(want, "…"); ok {
		if !strings.HasPrefix(body, prefix) {
			t.Errorf("body %.300s\nwant prefix %s", body, prefix)
		}
	} else if body != want {
		t.Errorf("body %.300s\nwant %.300s", body, want)
	}
}

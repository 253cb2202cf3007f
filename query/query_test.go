package query

import (
	"context"
	"encoding/json"
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
	"github.com/prometheus/prometheus/promql/parser"
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

func TestClientReadsEverything(t *testing.T) {
	f := newFixture(t, Options{})
	c := f.client(t)
	ctx := context.Background()
	end := t0.Add(10 * time.Minute)

	t.Run("query", func(t *testing.T) {
		v, warns, _, err := c.Query(ctx, `sum by (job) (http_requests_total)`, end)
		if err != nil || len(warns) > 0 {
			t.Fatal(err, warns)
		}
		vec := v.(model.Vector)
		if len(vec) != 1 || vec[0].Value != 800 || vec[0].Metric["job"] != "api" {
			t.Fatalf("got %v", vec)
		}
		if got := f.log.take(); len(got) != 1 || got[0] != (charge{"ws-1", 2}) {
			t.Fatalf("charged %v, want one query of 2 samples on ws-1", got)
		}
	})

	t.Run("query_range floats and histograms", func(t *testing.T) {
		r := promv1.Range{Start: t0, End: end, Step: time.Minute}
		v, _, _, err := c.QueryRange(ctx, `http_requests_total{instance="0"}`, r)
		if err != nil {
			t.Fatal(err)
		}
		m := v.(model.Matrix)
		if len(m) != 1 || len(m[0].Values) != 11 || m[0].Values[10].Value != 400 {
			t.Fatalf("got %v", m)
		}
		v, _, _, err = c.QueryRange(ctx, `http_requests_total_seconds`, r)
		if err != nil {
			t.Fatal(err)
		}
		m = v.(model.Matrix)
		if len(m) != 1 || len(m[0].Histograms) != 11 {
			t.Fatalf("got %v", m)
		}
		if h := m[0].Histograms[10].Histogram; h.Count != 12+9*40 || len(h.Buckets) == 0 {
			t.Fatalf("last histogram %v", h)
		}
		v, _, _, err = c.Query(ctx, `histogram_count(rate(http_requests_total_seconds[5m]))`, end)
		if err != nil {
			t.Fatal(err)
		}
		if vec := v.(model.Vector); len(vec) != 1 || vec[0].Value != 9.0/15 {
			t.Fatalf("histogram_count(rate) = %v", vec)
		}
	})

	t.Run("series", func(t *testing.T) {
		series, _, _, err := c.Series(ctx, []string{`{__name__=~"http_.*", job="api"}`}, t0, end)
		if err != nil {
			t.Fatal(err)
		}
		if len(series) != 3 {
			t.Fatalf("got %v", series)
		}
	})

	t.Run("labels", func(t *testing.T) {
		names, _, _, err := c.LabelNames(ctx, nil, time.Time{}, time.Time{})
		if err != nil {
			t.Fatal(err)
		}
		if want := (model.LabelNames{"__name__", "instance", "job"}); !slices.Equal(names, want) {
			t.Fatalf("got %v, want %v", names, want)
		}
		values, _, _, err := c.LabelValues(ctx, "instance", []string{`http_requests_total`}, t0, end)
		if err != nil {
			t.Fatal(err)
		}
		if want := (model.LabelValues{"0", "1"}); !slices.Equal(values, want) {
			t.Fatalf("got %v, want %v", values, want)
		}
	})

	t.Run("metadata", func(t *testing.T) {
		md, err := c.Metadata(ctx, "", "")
		if err != nil {
			t.Fatal(err)
		}
		if len(md) != 2 || md["http_requests_total_seconds"][0] != (promv1.Metadata{Type: "histogram", Help: "Request latency.", Unit: "seconds"}) {
			t.Fatalf("got %v", md)
		}
		md, err = c.Metadata(ctx, "http_requests_total", "")
		if err != nil {
			t.Fatal(err)
		}
		if len(md) != 1 || md["http_requests_total"][0].Type != "counter" {
			t.Fatalf("got %v", md)
		}
		md, err = c.Metadata(ctx, "", "1")
		if err != nil || len(md) != 1 {
			t.Fatalf("limit 1: %v %v", md, err)
		}
	})

	t.Run("query_exemplars", func(t *testing.T) {
		res, err := c.QueryExemplars(ctx, `http_requests_total{instance="1"}`, t0, end)
		if err != nil {
			t.Fatal(err)
		}
		if len(res) != 1 || len(res[0].Exemplars) != 5 || res[0].SeriesLabels["instance"] != "1" {
			t.Fatalf("got %v", res)
		}
		if e := res[0].Exemplars[4]; e.Labels["trace_id"] != "http_requests_total-1-40" || e.Value != 40 {
			t.Fatalf("last exemplar %v", e)
		}
	})

	t.Run("buildinfo", func(t *testing.T) {
		bi, err := c.Buildinfo(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if bi.Version != Version || bi.GoVersion == "" {
			t.Fatalf("got %+v", bi)
		}
	})

	t.Run("format_query", func(t *testing.T) {
		// The client hands back the JSON string as it is.
		s, err := c.FormatQuery(ctx, `sum(rate(foo[5m]))by(job)`)
		if err != nil || s != `"sum by (job) (rate(foo[5m]))"` {
			t.Fatalf("got %q %v", s, err)
		}
	})
}

func TestRawResponses(t *testing.T) {
	f := newFixture(t, Options{})
	badQuery := `sum(rate(foo[5m])`
	_, perr := parser.NewParser(parser.Options{}).ParseExpr(badQuery)
	parseErr, _ := json.Marshal(`invalid parameter "query": ` + perr.Error())
	at := ts(10 * time.Minute)

	for _, tc := range []struct {
		name     string
		method   string
		path     string
		form     url.Values
		wantCode int
		want     string // exact body, or a prefix when it ends in "…"
	}{
		{
			name: "bad promql", method: "GET", path: "/api/v1/query",
			form:     url.Values{"query": {badQuery}},
			wantCode: 400, want: `{"status":"error","errorType":"bad_data","error":` + string(parseErr) + `}`,
		},
		{
			name: "bad promql in range query body", method: "POST", path: "/api/v1/query_range",
			form:     url.Values{"query": {badQuery}, "start": {ts(0)}, "end": {at}, "step": {"60"}},
			wantCode: 400, want: `{"status":"error","errorType":"bad_data","error":` + string(parseErr) + `}`,
		},
		{
			name: "query form body", method: "POST", path: "/api/v1/query",
			form:     url.Values{"query": {`http_requests_total{instance="0"}`}, "time": {at}},
			wantCode: 200, want: `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"__name__":"http_requests_total","instance":"0","job":"api"},"value":[` + at + `,"400"]}]}}`,
		},
		{
			name: "series form body", method: "POST", path: "/api/v1/series",
			form:     url.Values{"match[]": {`http_requests_total{instance="1"}`}},
			wantCode: 200, want: `{"status":"success","data":[{"__name__":"http_requests_total","instance":"1","job":"api"}]}`,
		},
		{
			name: "labels form body", method: "POST", path: "/api/v1/labels",
			form:     url.Values{"match[]": {`http_requests_total_seconds`}},
			wantCode: 200, want: `{"status":"success","data":["__name__","job"]}`,
		},
		{
			name: "label values", method: "GET", path: "/api/v1/label/__name__/values",
			wantCode: 200, want: `{"status":"success","data":["http_requests_total","http_requests_total_seconds"]}`,
		},
		{
			name: "series without match", method: "GET", path: "/api/v1/series",
			wantCode: 400, want: `{"status":"error","errorType":"bad_data","error":"no match[] parameter provided"}`,
		},
		{
			name: "metadata", method: "GET", path: "/api/v1/metadata",
			form:     url.Values{"metric": {"http_requests_total"}},
			wantCode: 200, want: `{"status":"success","data":{"http_requests_total":[{"type":"counter","unit":"","help":"Requests served."}]}}`,
		},
		{
			name: "metadata unknown metric", method: "GET", path: "/api/v1/metadata",
			form:     url.Values{"metric": {"nope"}},
			wantCode: 200, want: `{"status":"success","data":{}}`,
		},
		{
			name: "metadata bad limit", method: "GET", path: "/api/v1/metadata",
			form:     url.Values{"limit": {"x"}},
			wantCode: 400, want: `{"status":"error","errorType":"bad_data","error":"limit must be a number"}`,
		},
		{
			name: "metadata bad limit_per_metric", method: "GET", path: "/api/v1/metadata",
			form:     url.Values{"limit_per_metric": {"x"}},
			wantCode: 400, want: `{"status":"error","errorType":"bad_data","error":"limit_per_metric must be a number"}`,
		},
		{
			name: "metadata by POST", method: "POST", path: "/api/v1/metadata",
			wantCode: 405, want: "Method Not Allowed\n",
		},
		{
			name: "query by DELETE", method: "DELETE", path: "/api/v1/query",
			wantCode: 405, want: "Method Not Allowed\n",
		},
		{
			name: "format_query", method: "POST", path: "/api/v1/format_query",
			form:     url.Values{"query": {`sum(rate(foo{a="b"}[5m]))by(job)`}},
			wantCode: 200, want: `{"status":"success","data":"sum by (job) (rate(foo{a=\"b\"}[5m]))"}`,
		},
		{
			name: "format_query bad", method: "GET", path: "/api/v1/format_query",
			form:     url.Values{"query": {badQuery}},
			wantCode: 400, want: `{"status":"error","errorType":"bad_data","error":` + string(parseErr) + `}`,
		},
		{
			name: "parse_query", method: "GET", path: "/api/v1/parse_query",
			form:     url.Values{"query": {`up`}},
			wantCode: 200, want: `{"status":"success","data":{"anchored":false,"matchers":[{"name":"__name__","type":"=","value":"up"}],"name":"up",…`,
		},
		{
			name: "buildinfo", method: "GET", path: "/api/v1/status/buildinfo",
			wantCode: 200, want: `{"status":"success","data":{"version":"` + Version + `",…`,
		},
		{
			name: "bad threshold", method: "GET", path: "/api/v1/query",
			form:     url.Values{"query": {"1"}, paramWarningThreshold: {"many"}},
			wantCode: 400, want: `{"status":"error","errorType":"bad_data","error":"invalid parameter \"max_samples_processed_warning_threshold\": strconv.ParseInt: parsing \"many\": invalid syntax"}`,
		},
		{
			name: "negative threshold", method: "POST", path: "/api/v1/query_range",
			form:     url.Values{"query": {"1"}, "start": {ts(0)}, "end": {at}, "step": {"60"}, paramErrorThreshold: {"-1"}},
			wantCode: 400, want: `{"status":"error","errorType":"bad_data","error":"invalid parameter \"max_samples_processed_error_threshold\": must be non-negative"}`,
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := f.do(t, tc.method, tc.path, tc.form)
			checkResponse(t, code, body, tc.wantCode, tc.want)
		})
	}
}

func TestUnexposedEndpointsAreNotFound(t *testing.T) {
	f := newFixture(t, Options{})
	const want = `{"status":"error","errorType":"not_found","error":"not found"}`
	for _, tc := range []struct{ method, path string }{
		{"GET", "/api/v1/targets"},
		{"GET", "/api/v1/targets/metadata"},
		{"GET", "/api/v1/rules"},
		{"GET", "/api/v1/alerts"},
		{"GET", "/api/v1/status/config"},
		{"GET", "/api/v1/status/flags"},
		{"GET", "/api/v1/status/tsdb"},
		{"GET", "/api/v1/status/runtimeinfo"},
		{"POST", "/api/v1/admin/tsdb/snapshot"},
		{"POST", "/api/v1/admin/tsdb/delete_series"},
		{"POST", "/api/v1/read"},
		{"POST", "/api/v1/write"},
		{"POST", "/api/v1/otlp/v1/metrics"},
		{"GET", "/api/v1/openapi.yaml"},
		{"GET", "/api/v1/"},
		{"GET", "/"},
	} {
		code, body := f.do(t, tc.method, tc.path, nil)
		if code != http.StatusNotFound || body != want {
			t.Errorf("%s %s: %d %s", tc.method, tc.path, code, body)
		}
	}
}

func TestSamplesProcessedThresholds(t *testing.T) {
	f := newFixture(t, Options{})
	at := ts(10 * time.Minute)
	// Two series, 20 samples each in the window (t-5m, t]: 40 samples processed.
	const q = `sum(count_over_time(http_requests_total[5m]))`

	t.Run("below", func(t *testing.T) {
		code, body := f.do(t, "GET", "/api/v1/query", url.Values{"query": {q}, "time": {at},
			paramWarningThreshold: {"40"}, paramErrorThreshold: {"40"}})
		if code != 200 || strings.Contains(body, "warnings") {
			t.Fatalf("%d %s", code, body)
		}
		if got := f.log.take(); len(got) != 1 || got[0].samples != 40 {
			t.Fatalf("charged %v", got)
		}
	})

	t.Run("warning", func(t *testing.T) {
		code, body := f.do(t, "POST", "/api/v1/query", url.Values{"query": {q}, "time": {at},
			paramWarningThreshold: {"39"}})
		want := `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[` + at + `,"40"]}]},` +
			`"warnings":["query processed more samples than max_samples_processed_warning_threshold (samples processed: 40, threshold: 39)"]}`
		if code != 200 || body != want {
			t.Fatalf("%d %s\nwant %s", code, body, want)
		}
		if got := f.log.take(); len(got) != 1 || got[0].samples != 40 {
			t.Fatalf("charged %v", got)
		}
	})

	t.Run("error", func(t *testing.T) {
		code, body := f.do(t, "GET", "/api/v1/query", url.Values{"query": {q}, "time": {at},
			paramWarningThreshold: {"1"}, paramErrorThreshold: {"39"}})
		want := `{"status":"error","errorType":"execution","error":"query processed more samples than max_samples_processed_error_threshold (samples processed: 40, threshold: 39)"}`
		if code != 422 || body != want {
			t.Fatalf("%d %s\nwant %s", code, body, want)
		}
		if got := f.log.take(); len(got) != 0 {
			t.Fatalf("a rejected query was charged: %v", got)
		}
	})

	t.Run("range query error", func(t *testing.T) {
		code, body := f.do(t, "POST", "/api/v1/query_range", url.Values{"query": {`http_requests_total`},
			"start": {ts(0)}, "end": {at}, "step": {"60"}, paramErrorThreshold: {"21"}})
		// Two series over 11 steps: 22 samples.
		want := `{"status":"error","errorType":"execution","error":"query processed more samples than max_samples_processed_error_threshold (samples processed: 22, threshold: 21)"}`
		if code != 422 || body != want {
			t.Fatalf("%d %s\nwant %s", code, body, want)
		}
		if got := f.log.take(); len(got) != 0 {
			t.Fatalf("a rejected query was charged: %v", got)
		}
	})

	t.Run("client sees the warning", func(t *testing.T) {
		c, err := api.NewClient(api.Config{Address: f.url + "/", RoundTripper: addParams{paramWarningThreshold: "1"}})
		if err != nil {
			t.Fatal(err)
		}
		_, warns, _, err := promv1.NewAPI(c).Query(context.Background(), q, t0.Add(10*time.Minute))
		if err != nil || len(warns) != 1 || !strings.Contains(warns[0], "samples processed: 40") {
			t.Fatalf("warnings %v, err %v", warns, err)
		}
		f.log.take()
	})

	if got := testutilCounter(t, f.reg, "promspace_query_samples_processed_total"); got != 40*3 {
		t.Errorf("samples processed metric %v, want %v", got, 40*3)
	}
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

func TestQueryTimeRangeLimit(t *testing.T) {
	f := newFixture(t, Options{})
	day := 24 * time.Hour
	for _, tc := range []struct {
		name       string
		start, end string
		wantCode   int
		want       string
	}{
		{"at the limit", ts(-32 * day), ts(0), 200, ""},
		{"over the limit", ts(-33 * day), ts(0), 400,
			`{"status":"error","errorType":"bad_data","error":"the query time range exceeds the limit (query length: 33d, limit: 32d)"}`},
		{"over by a second, RFC 3339", t0.Add(-32*day - time.Second).Format(time.RFC3339), t0.Format(time.RFC3339Nano), 400,
			`{"status":"error","errorType":"bad_data","error":"the query time range exceeds the limit (query length: 32d1s, limit: 32d)"}`},
		{"bad start is Prometheus' error", "yesterday", ts(0), 400,
			`{"status":"error","errorType":"bad_data","error":"invalid parameter \"start\": cannot parse \"yesterday\" to a valid timestamp"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := f.do(t, "POST", "/api/v1/query_range", url.Values{
				"query": {"http_requests_total"}, "start": {tc.start}, "end": {tc.end}, "step": {"3600"}})
			if code != tc.wantCode || (tc.want != "" && body != tc.want) {
				t.Fatalf("%d %s\nwant %d %s", code, body, tc.wantCode, tc.want)
			}
		})
	}

	t.Run("configurable", func(t *testing.T) {
		f := newFixture(t, Options{MaxQueryLength: time.Hour})
		code, body := f.do(t, "GET", "/api/v1/query_range", url.Values{
			"query": {"1"}, "start": {ts(0)}, "end": {ts(90 * time.Minute)}, "step": {"60"}})
		want := `{"status":"error","errorType":"bad_data","error":"the query time range exceeds the limit (query length: 1h30m, limit: 1h)"}`
		if code != 400 || body != want {
			t.Fatalf("%d %s", code, body)
		}
		f = newFixture(t, Options{MaxQueryLength: -1})
		code, body = f.do(t, "GET", "/api/v1/query_range", url.Values{
			"query": {"1"}, "start": {ts(-365 * day)}, "end": {ts(0)}, "step": {"86400"}})
		if code != 200 {
			t.Fatalf("no limit: %d %s", code, body)
		}
	})
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

func TestQueryTimeout(t *testing.T) {
	db := openDB(t)
	fill(t, db, "up", 1)
	var log queryLog
	a := New(Options{Timeout: 20 * time.Millisecond, OnQuery: log.onQuery})
	srv := httptest.NewServer(a.Handler(Source{ID: "slow", Queryable: stallingQueryable{db}}))
	t.Cleanup(srv.Close)
	f := &fixture{url: srv.URL}

	const want = `{"status":"error","errorType":"execution","error":"query timed out - consider simplifying your query"}`
	code, body := f.do(t, "GET", "/api/v1/query", url.Values{"query": {"up"}, "time": {ts(0)}})
	if code != 422 || body != want {
		t.Fatalf("%d %s", code, body)
	}
	// The request's own, shorter timeout ends the same way.
	code, body = f.do(t, "POST", "/api/v1/query_range", url.Values{"query": {"up"}, "start": {ts(0)}, "end": {ts(time.Minute)}, "step": {"15"}, "timeout": {"0.01"}})
	if code != 422 || body != want {
		t.Fatalf("%d %s", code, body)
	}
	if got := log.take(); len(got) != 2 || got[0].workspace != "slow" {
		t.Fatalf("charged %v", got)
	}
	// Series and labels do not go through the engine and are not limited by it.
	if code, body := f.do(t, "GET", "/api/v1/label/__name__/values", nil); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
}

func TestWorkspacesAreIsolated(t *testing.T) {
	dbA, dbB := openDB(t), openDB(t)
	fill(t, dbA, "only_a", 1)
	fill(t, dbB, "only_b", 1)
	var log queryLog
	a := New(Options{OnQuery: log.onQuery})
	clients := map[string]promv1.API{}
	for id, db := range map[string]*tsdb.DB{"a": dbA, "b": dbB} {
		srv := httptest.NewServer(a.Handler(Source{ID: id, Queryable: db, Exemplars: db,
			Metadata: memMetadata{"only_" + id: {Type: model.MetricTypeGauge}}}))
		t.Cleanup(srv.Close)
		c, err := api.NewClient(api.Config{Address: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		clients[id] = promv1.NewAPI(c)
	}

	ctx := context.Background()
	end := t0.Add(10 * time.Minute)
	for id, c := range clients {
		other := map[string]string{"a": "b", "b": "a"}[id]
		v, _, _, err := c.Query(ctx, `count by (__name__) ({__name__=~".+"})`, end)
		if err != nil {
			t.Fatal(err)
		}
		for _, s := range v.(model.Vector) {
			if strings.HasPrefix(string(s.Metric["__name__"]), "only_"+other) {
				t.Errorf("workspace %s sees %v", id, s.Metric)
			}
		}
		if len(v.(model.Vector)) != 2 {
			t.Errorf("workspace %s: %v", id, v)
		}
		series, _, _, err := c.Series(ctx, []string{`{__name__=~".+"}`}, time.Time{}, time.Time{})
		if err != nil || len(series) != 2 {
			t.Errorf("workspace %s series: %v %v", id, series, err)
		}
		values, _, _, err := c.LabelValues(ctx, "__name__", nil, time.Time{}, time.Time{})
		if want := (model.LabelValues{model.LabelValue("only_" + id), model.LabelValue("only_" + id + "_seconds")}); err != nil || !slices.Equal(values, want) {
			t.Errorf("workspace %s label values: %v %v", id, values, err)
		}
		ex, err := c.QueryExemplars(ctx, `{__name__=~".+"}`, t0, end)
		if err != nil || len(ex) != 1 || ex[0].SeriesLabels["__name__"] != model.LabelValue("only_"+id) {
			t.Errorf("workspace %s exemplars: %v %v", id, ex, err)
		}
		md, err := c.Metadata(ctx, "", "")
		if _, ok := md["only_"+id]; err != nil || len(md) != 1 || !ok {
			t.Errorf("workspace %s metadata: %v %v", id, md, err)
		}
	}
	got := log.take()
	slices.SortFunc(got, func(x, y charge) int { return strings.Compare(x.workspace, y.workspace) })
	if len(got) != 2 || got[0].workspace != "a" || got[1].workspace != "b" {
		t.Errorf("charged %v", got)
	}
}

func TestSourceWithoutExemplarsOrMetadata(t *testing.T) {
	db := openDB(t)
	fill(t, db, "up", 1)
	srv := httptest.NewServer(New(Options{}).Handler(Source{ID: "bare", Queryable: db}))
	t.Cleanup(srv.Close)
	f := &fixture{url: srv.URL}
	if code, body := f.do(t, "GET", "/api/v1/query_exemplars", url.Values{"query": {"up"}}); code != 200 || body != `{"status":"success","data":[]}` {
		t.Errorf("exemplars: %d %s", code, body)
	}
	if code, body := f.do(t, "GET", "/api/v1/metadata", nil); code != 200 || body != `{"status":"success","data":{}}` {
		t.Errorf("metadata: %d %s", code, body)
	}
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

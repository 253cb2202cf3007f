package query

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/tsdb"
)

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

package query

import (
	"context"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/api"
	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
)

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

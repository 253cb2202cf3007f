package query

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
)

// liveLimits is a workspace's limits that a test changes between requests,
// as an override does.
type liveLimits struct{ p atomic.Pointer[Limits] }

func newLiveLimits(l Limits) *liveLimits {
	ll := &liveLimits{}
	ll.set(l)
	return ll
}

func (ll *liveLimits) set(l Limits)   { ll.p.Store(&l) }
func (ll *liveLimits) limits() Limits { return *ll.p.Load() }

// limitsFixture serves one workspace over q whose limits are ll's, with the
// API's clock at now.
func limitsFixture(t *testing.T, q storage.SampleAndChunkQueryable, ll *liveLimits, now time.Time) (*fixture, *API) {
	t.Helper()
	a := New(Options{Registerer: prometheus.NewRegistry()})
	a.now = func() time.Time { return now }
	f := &fixture{log: &queryLog{}}
	srv := httptest.NewServer(a.Handler(Source{ID: "ws", Queryable: q, Limits: ll.limits,
		OnQuery: func(n int64) { f.log.onQuery("source", n) }}))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f, a
}

// TestSourceLimits: every query limit of a Source applies at its boundary,
// exactly at the limit accepted and one over refused in AMP's words, and a
// change applies from the next request on, with no new handler.
func TestSourceLimits(t *testing.T) {
	db := openChunkedDB(t)
	chunksM, bytesM := countChunks(t, db, "m")
	end := t0.Add(longPoints * step)
	atEnd := fmt.Sprint(end.Add(10 * time.Minute).Unix())
	at := ts(time.Hour)
	ll := newLiveLimits(Limits{})
	f, a := limitsFixture(t, db, ll, end)
	day := 24 * time.Hour

	for _, tc := range []struct {
		name     string
		limits   Limits
		path     string
		form     url.Values
		wantCode int
		want     string
	}{
		{"samples at the limit", Limits{MaxSamples: 60}, "/api/v1/query",
			url.Values{"query": {"m[5m]"}, "time": {at}}, 200, ""},
		{"samples over the limit", Limits{MaxSamples: 59}, "/api/v1/query",
			url.Values{"query": {"m[5m]"}, "time": {at}}, 422,
			errorJSON("execution", promql.ErrTooManySamples("query execution").Error())},
		{"chunks at the limit", Limits{MaxChunksPerQuery: chunksM}, "/api/v1/query",
			url.Values{"query": {"count_over_time(m[5h])"}, "time": {atEnd}}, 200, ""},
		{"chunks over the limit", Limits{MaxChunksPerQuery: chunksM - 1}, "/api/v1/query",
			url.Values{"query": {"count_over_time(m[5h])"}, "time": {atEnd}}, 422,
			errorJSON("execution", fmt.Sprintf("the query hit the max number of chunks limit (limit: %d chunks)", chunksM-1))},
		{"bytes at the limit", Limits{MaxBytesPerQuery: int64(bytesM)}, "/api/v1/query",
			url.Values{"query": {"count_over_time(m[5h])"}, "time": {atEnd}}, 200, ""},
		{"bytes over the limit", Limits{MaxBytesPerQuery: int64(bytesM) - 1}, "/api/v1/query",
			url.Values{"query": {"count_over_time(m[5h])"}, "time": {atEnd}}, 422,
			errorJSON("execution", fmt.Sprintf("the query hit the aggregated data size limit (limit: %d bytes)", bytesM-1))},
		{"range at the limit", Limits{MaxQueryLength: 32 * day}, "/api/v1/query_range",
			url.Values{"query": {"m"}, "start": {ts(-32 * day)}, "end": {ts(0)}, "step": {"3600"}}, 200, ""},
		{"range over the limit", Limits{MaxQueryLength: 32 * day}, "/api/v1/query_range",
			url.Values{"query": {"m"}, "start": {ts(-32*day - time.Second)}, "end": {ts(0)}, "step": {"3600"}}, 400,
			errorJSON("bad_data", "the query time range exceeds the limit (query length: 32d1s, limit: 32d)")},
		{"range limit lowered", Limits{MaxQueryLength: time.Hour}, "/api/v1/query_range",
			url.Values{"query": {"m"}, "start": {ts(0)}, "end": {ts(90 * time.Minute)}, "step": {"60"}}, 400,
			errorJSON("bad_data", "the query time range exceeds the limit (query length: 1h30m, limit: 1h)")},
		{"no limits", Limits{}, "/api/v1/query_range",
			url.Values{"query": {"m"}, "start": {ts(-365 * day)}, "end": {ts(0)}, "step": {"86400"}}, 200, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ll.set(tc.limits)
			code, body := f.do(t, "POST", tc.path, tc.form)
			if code != tc.wantCode || (tc.want != "" && body != tc.want) {
				t.Fatalf("%d %.300s\nwant %d %s", code, body, tc.wantCode, tc.want)
			}
		})
	}
	// None of the limits above is Options': an engine for each samples
	// limit (60, 59, none), made once and kept.
	if n := len(a.engines.others); n != 3 {
		t.Errorf("%d engines besides the default, want 3", n)
	}
}

// TestSourceTimeout: a workspace's own timeout ends its queries, and raising
// it gives them longer than Options'.
func TestSourceTimeout(t *testing.T) {
	db := openDB(t)
	fill(t, db, "up", 1)
	ll := newLiveLimits(Limits{Timeout: 20 * time.Millisecond})
	a := New(Options{Timeout: 10 * time.Millisecond})
	srv := httptest.NewServer(a.Handler(Source{ID: "slow", Queryable: stallingQueryable{db}, Limits: ll.limits}))
	t.Cleanup(srv.Close)
	f := &fixture{url: srv.URL}
	const want = `{"status":"error","errorType":"execution","error":"query timed out - consider simplifying your query"}`
	begun := time.Now()
	code, body := f.do(t, "GET", "/api/v1/query", url.Values{"query": {"up"}, "time": {ts(0)}})
	if code != 422 || body != want {
		t.Fatalf("%d %s", code, body)
	}
	if took := time.Since(begun); took < 20*time.Millisecond {
		t.Errorf("timed out after %v: Options' 10ms, not the workspace's 20ms", took)
	}
	// Without stalling storage the same limits answer.
	srv2 := httptest.NewServer(a.Handler(Source{ID: "fast", Queryable: db, Limits: ll.limits}))
	t.Cleanup(srv2.Close)
	if code, body := (&fixture{url: srv2.URL}).do(t, "GET", "/api/v1/query", url.Values{"query": {"up"}, "time": {ts(0)}}); code != 200 {
		t.Fatalf("%d %s", code, body)
	}
}

// TestSelectedRange: the time range limit applies to what an instant or
// range query's selectors read, as Cortex's query frontend measures it.
func TestSelectedRange(t *testing.T) {
	db := openDB(t)
	fill(t, db, "x", 1)
	ll := newLiveLimits(Limits{MaxQueryLength: 32 * 24 * time.Hour})
	f, _ := limitsFixture(t, db, ll, t0.Add(time.Hour))
	over := func(length string) string {
		return errorJSON("bad_data", "the query time range exceeds the limit (query length: "+length+", limit: 32d)")
	}
	for _, tc := range []struct {
		query    string
		wantCode int
		want     string
	}{
		{"x", 200, ""},
		{"rate(x[32d])", 200, ""},
		{"rate(x[32d1s])", 400, over("32d1s")},
		{"rate(x[33d] @ 1700000000)", 400, over("33d")},
		{"x offset 40d", 200, ""},                                    // 5m of lookback, 40 days ago
		{"max_over_time(rate(x[1d])[31d:1h])", 200, ""},              // 32d
		{"max_over_time(rate(x[1d])[31d:1h] offset 1y)", 200, ""},    // 32d, a year ago
		{"max_over_time(x[31d:1h])", 200, ""},                        // 31d5m
		{"max_over_time(rate(x[1d])[31d1m:1h])", 400, over("32d1m")}, // a subquery's range counts
		{"rate(x[16d]) + rate(x[16d] offset 16d)", 200, ""},          // adjoining: 32d
		{"rate(x[20d]) + rate(x[20d] offset 30d)", 400, over("40d")}, // apart: each counts
		{"rate(x[20d]) + rate(x[20d] offset 10d)", 200, ""},          // overlapping: 30d
		// Measured at the query's time: pinned where it is, 25 days.
		{"max_over_time(rate(x[10d])[10d:] @ 1700000000) + rate(x[25d])", 200, ""},
		// Pinned three years before: 20 days then and 25 now.
		{"max_over_time(rate(x[10d])[10d:] @ 1600000000) + rate(x[25d])", 400, over("45d")},
	} {
		for _, path := range []string{"/api/v1/query", "/api/v1/query_range"} {
			// The range query ends at the instant query's time.
			code, body := f.do(t, "GET", path, url.Values{"query": {tc.query}, "time": {ts(0)}, "start": {ts(-time.Hour)}, "end": {ts(0)}, "step": {"60"}})
			if code != tc.wantCode || (tc.want != "" && body != tc.want) {
				t.Errorf("%s %s: %d %.300s\nwant %d %s", path, tc.query, code, body, tc.wantCode, tc.want)
			}
		}
	}
}

func TestSelectedLength(t *testing.T) {
	p := parser.NewParser(parser.Options{})
	for qs, want := range map[string]time.Duration{
		"1":                           0,
		"x":                           5 * time.Minute,
		"x[1h]":                       time.Hour,
		"x[1h] offset 1h":             time.Hour,
		"x + x offset 1h":             10 * time.Minute,
		"x + x offset 3m":             8 * time.Minute,
		"x @ 100 + x @ 100":           5 * time.Minute,
		"max_over_time(x[1h:1m])":     time.Hour + 5*time.Minute,
		"max_over_time(x[1h:1m] @ 0)": time.Hour + 5*time.Minute,
		"max_over_time(max_over_time(x[1m:])[1h:1m] offset 1d)": time.Hour + 6*time.Minute,
	} {
		expr, err := p.ParseExpr(qs)
		if err != nil {
			t.Fatal(err)
		}
		if got := selectedLength(expr, t0.UnixMilli(), 5*time.Minute); got != want {
			t.Errorf("%s: %v, want %v", qs, got, want)
		}
	}
}

// TestMetadataRange: series, labels and label values requests with a start
// are limited as Cortex limits them; without one they are not.
func TestMetadataRange(t *testing.T) {
	db := openDB(t)
	fill(t, db, "up", 1)
	now := t0.Add(10 * time.Minute)
	ll := newLiveLimits(Limits{MaxQueryLength: time.Hour})
	f, _ := limitsFixture(t, db, ll, now)
	sec := func(tm time.Time) string { return fmt.Sprint(tm.Unix()) }
	over := errorJSON("bad_data", "the query time range exceeds the limit (query length: 1h1s, limit: 1h)")
	for _, path := range []string{"/api/v1/series", "/api/v1/labels", "/api/v1/label/job/values"} {
		for _, tc := range []struct {
			name     string
			form     url.Values
			wantCode int
			want     string
		}{
			{"no start", url.Values{}, 200, ""},
			{"at the limit", url.Values{"start": {sec(now.Add(-time.Hour))}, "end": {sec(now)}}, 200, ""},
			{"over the limit", url.Values{"start": {sec(now.Add(-time.Hour - time.Second))}, "end": {sec(now)}}, 400, over},
			{"no end is now", url.Values{"start": {sec(now.Add(-time.Hour - time.Second))}}, 400, over},
			{"an end after now is now", url.Values{"start": {sec(now.Add(-time.Hour))}, "end": {sec(now.Add(time.Hour))}}, 200, ""},
			{"start at the epoch is none", url.Values{"start": {"0"}, "end": {sec(now)}}, 200, ""},
		} {
			tc.form.Set("match[]", "up")
			code, body := f.do(t, "GET", path, tc.form)
			if code != tc.wantCode || (tc.want != "" && body != tc.want) {
				t.Errorf("%s %s: %d %.300s\nwant %d %s", path, tc.name, code, body, tc.wantCode, tc.want)
			}
		}
	}
	ll.set(Limits{})
	if code, body := f.do(t, "GET", "/api/v1/series", url.Values{"match[]": {"up"}, "start": {sec(now.Add(-1000 * time.Hour))}}); code != 200 {
		t.Errorf("no limit: %d %s", code, body)
	}
}

// TestSamplesProcessedAreTheEngines: the query samples processed that
// Source.OnQuery and Options.OnQuery are told are the engine's own count,
// as Prometheus' stats=all reports it, for known queries over known data.
func TestSamplesProcessedAreTheEngines(t *testing.T) {
	db := openDB(t)
	fill(t, db, "http_requests_total", 2)
	var all queryLog
	a := New(Options{OnQuery: all.onQuery})
	var own queryLog
	srv := httptest.NewServer(a.Handler(Source{ID: "ws", Queryable: db, OnQuery: func(n int64) { own.onQuery("ws", n) }}))
	t.Cleanup(srv.Close)
	f := &fixture{url: srv.URL}
	at := ts(10 * time.Minute)
	for _, tc := range []struct {
		path string
		form url.Values
		want int64
	}{
		// Two series, 20 samples each in (t-5m, t].
		{"/api/v1/query", url.Values{"query": {"sum(count_over_time(http_requests_total[5m]))"}, "time": {at}}, 40},
		// Two series over 11 steps.
		{"/api/v1/query_range", url.Values{"query": {"http_requests_total"}, "start": {ts(0)}, "end": {at}, "step": {"60"}}, 22},
	} {
		tc.form.Set("stats", "all")
		code, body := f.do(t, "GET", tc.path, tc.form)
		if code != 200 {
			t.Fatalf("%d %s", code, body)
		}
		var resp struct {
			Data struct {
				Stats struct {
					Samples struct {
						TotalQueryableSamples int64 `json:"totalQueryableSamples"`
					} `json:"samples"`
				} `json:"stats"`
			} `json:"data"`
		}
		if err := json.Unmarshal([]byte(body), &resp); err != nil {
			t.Fatal(err)
		}
		engine := resp.Data.Stats.Samples.TotalQueryableSamples
		gotOwn, gotAll := own.take(), all.take()
		if engine != tc.want || len(gotOwn) != 1 || gotOwn[0].samples != engine || len(gotAll) != 1 || gotAll[0].samples != engine {
			t.Errorf("%s: engine %d (want %d), Source.OnQuery %v, Options.OnQuery %v", tc.path, engine, tc.want, gotOwn, gotAll)
		}
	}
}

package query

import (
	"encoding/json"
	"fmt"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
)

// The shapes of PromQL whose parsing and evaluation take time that grows
// with the square of their size.
func nestedParens(n int) string { return strings.Repeat("(", n) + "1" + strings.Repeat(")", n) }
func chainedSum(n int) string   { return "1" + strings.Repeat(" + 1", n-1) } // depth n-1

func errorJSON(errorType, msg string) string {
	b, _ := json.Marshal(msg)
	return `{"status":"error","errorType":"` + errorType + `","error":` + string(b) + `}`
}

func TestQueryExpressionLimits(t *testing.T) {
	f := newFixture(t, Options{})
	at := ts(10 * time.Minute)
	const (
		maxBytes = DefaultMaxQueryExpressionBytes
		maxDepth = DefaultMaxQueryExpressionDepth
	)
	// A selector of exactly n bytes.
	sized := func(n int) string {
		const pre, post = `http_requests_total{instance!="`, `"}`
		return pre + strings.Repeat("x", n-len(pre)-len(post)) + post
	}
	tooLarge := func(n int) string {
		return errorJSON("bad_data", fmt.Sprintf("the raw query size in bytes exceeds the limit (query size: %d, limit: %d)", n, maxBytes))
	}
	tooDeep := func(n int) string {
		return errorJSON("bad_data", fmt.Sprintf("the query expression is nested too deeply (depth: %d, limit: %d): nested parentheses, brackets, braces and chained operators each add one", n, maxDepth))
	}
	for _, tc := range []struct {
		name     string
		method   string
		path     string
		form     url.Values
		wantCode int
		want     string // exact body, or a prefix when it ends in "…"
	}{
		{"size at the limit", "POST", "/api/v1/query", url.Values{"query": {"count(" + sized(maxBytes-7) + ")"}, "time": {at}},
			200, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[` + at + `,"2"]}]}}`},
		{"size over the limit", "POST", "/api/v1/query", url.Values{"query": {sized(maxBytes + 1)}, "time": {at}},
			400, tooLarge(maxBytes + 1)},
		{"size over the limit in the URL", "GET", "/api/v1/query", url.Values{"query": {sized(maxBytes + 1)}},
			400, tooLarge(maxBytes + 1)},
		{"size over the limit, range query", "POST", "/api/v1/query_range", url.Values{"query": {sized(maxBytes + 1)}, "start": {ts(0)}, "end": {at}, "step": {"60"}},
			400, tooLarge(maxBytes + 1)},
		{"size over the limit, exemplars", "POST", "/api/v1/query_exemplars", url.Values{"query": {sized(maxBytes + 1)}},
			400, tooLarge(maxBytes + 1)},
		{"size over the limit, format_query", "POST", "/api/v1/format_query", url.Values{"query": {sized(maxBytes + 1)}},
			400, tooLarge(maxBytes + 1)},
		{"size over the limit, parse_query", "POST", "/api/v1/parse_query", url.Values{"query": {sized(maxBytes + 1)}},
			400, tooLarge(maxBytes + 1)},
		{"match[] at the limit", "POST", "/api/v1/series", url.Values{"match[]": {sized(maxBytes / 2), sized(maxBytes / 2)}},
			200, `{"status":"success","data":[{"__name__":"http_requests_total","instance":"0","job":"api"},{"__name__":"http_requests_total","instance":"1","job":"api"}]}`},
		{"match[] over the limit together", "POST", "/api/v1/series", url.Values{"match[]": {sized(maxBytes / 2), sized(maxBytes/2 + 1)}},
			400, errorJSON("bad_data", fmt.Sprintf("the raw query size in bytes exceeds the limit (query size: %d, limit: %d): the size of all match[] selectors", maxBytes+1, maxBytes))},
		{"match[] over the limit, labels", "GET", "/api/v1/labels", url.Values{"match[]": {sized(maxBytes + 1)}},
			400, errorJSON("bad_data", fmt.Sprintf("the raw query size in bytes exceeds the limit (query size: %d, limit: %d): the size of all match[] selectors", maxBytes+1, maxBytes))},
		{"match[] too deep, label values", "GET", "/api/v1/label/job/values", url.Values{"match[]": {strings.Repeat("(", maxDepth+1) + "up" + strings.Repeat(")", maxDepth+1)}},
			400, tooDeep(maxDepth + 1)},

		// Reported: 40,000 parentheses took 20 s; 25,000, 50,000 and 100,000
		// terms took 67 s, 115 s and more than 150 s.
		{"parentheses at the depth limit", "GET", "/api/v1/query", url.Values{"query": {nestedParens(maxDepth)}, "time": {at}},
			200, `{"status":"success","data":{"resultType":"scalar","result":[` + at + `,"1"]}}`},
		{"parentheses over the depth limit", "GET", "/api/v1/query", url.Values{"query": {nestedParens(maxDepth + 1)}, "time": {at}},
			400, tooDeep(maxDepth + 1)},
		{"40,000 parentheses", "POST", "/api/v1/query", url.Values{"query": {nestedParens(40_000)}},
			400, tooDeep(40_000)},
		{"sum at the depth limit", "POST", "/api/v1/query_range", url.Values{"query": {chainedSum(maxDepth + 1)}, "start": {ts(0)}, "end": {at}, "step": {"300"}},
			200, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[` + ts(0) + `,"1001"],[` + ts(5*time.Minute) + `,"1001"],[` + at + `,"1001"]]}]}}`},
		{"sum over the depth limit", "POST", "/api/v1/query_range", url.Values{"query": {chainedSum(maxDepth + 2)}, "start": {ts(0)}, "end": {at}, "step": {"300"}},
			400, tooDeep(maxDepth + 1)},
		{"sum of 25,000 terms", "POST", "/api/v1/query", url.Values{"query": {chainedSum(25_000)}},
			400, tooDeep(24_999)},
		{"sum of 50,000 terms", "POST", "/api/v1/query", url.Values{"query": {chainedSum(50_000)}},
			400, tooLarge(len(chainedSum(50_000)))},
		{"sum of vectors over the depth limit", "POST", "/api/v1/query", url.Values{"query": {"up" + strings.Repeat(" or up", maxDepth+1)}},
			400, tooDeep(maxDepth + 1)},
		{"over the depth limit, format_query", "GET", "/api/v1/format_query", url.Values{"query": {nestedParens(maxDepth + 1)}},
			400, tooDeep(maxDepth + 1)},
		{"bad promql is still Prometheus' error", "GET", "/api/v1/query", url.Values{"query": {"((("}},
			400, `{"status":"error","errorType":"bad_data","error":"invalid parameter \"query\": 1:4: parse error: unclosed left parenthesis"}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			code, body := f.do(t, tc.method, tc.path, tc.form)
			checkResponse(t, code, body, tc.wantCode, tc.want)
		})
	}
	if got := testutilCounter(t, f.reg, "promspace_query_limit_hits_total"); got != 16 {
		t.Errorf("limit hits %v, want 16", got)
	}
}

func TestQueryExpressionLimitsConfigurable(t *testing.T) {
	db := openDB(t)
	f, _ := chunkedFixture(t, db, Options{MaxQueryExpressionBytes: 10, MaxQueryExpressionDepth: 2})
	code, body := f.do(t, "GET", "/api/v1/query", url.Values{"query": {"count(up) + 1"}})
	if want := errorJSON("bad_data", "the raw query size in bytes exceeds the limit (query size: 13, limit: 10)"); code != 400 || body != want {
		t.Errorf("%d %s", code, body)
	}
	code, body = f.do(t, "GET", "/api/v1/query", url.Values{"query": {"((1))+1"}})
	if !strings.Contains(body, "(depth: 3, limit: 2)") || code != 400 {
		t.Errorf("%d %s", code, body)
	}
	f, _ = chunkedFixture(t, db, Options{MaxQueryExpressionBytes: -1, MaxQueryExpressionDepth: -1})
	if code, body := f.do(t, "GET", "/api/v1/query", url.Values{"query": {nestedParens(2000)}}); code != 200 {
		t.Errorf("no limits: %d %.200s", code, body)
	}
}

func TestExprDepth(t *testing.T) {
	for _, tc := range []struct {
		q    string
		want int
	}{
		{``, 0},
		{`up`, 0},
		{`1 + 1`, 1},
		{`1 + 1 + 1`, 2},
		{`(1)`, 1},
		{`-1`, 1},
		{`sum by (job) (rate(http_requests_total{job="api", code=~"5.."}[5m]))`, 5},
		{`a or b or c unless d`, 3},
		{`max_over_time(rate(x[5m])[1h:1m])`, 5},
		{`label_replace(up, "a", "$1", "b", "(.*)")`, 1},
		{`f(1+1+1, 1)`, 3},
		{`"((((("`, 0},
		{`up{a="))))"}`, 1},
		{`))) (`, 0}, // the lexer stops at the first ")"
		{`(((`, 3},
		{`1 + @`, 2},
	} {
		if got := exprDepth(tc.q); got != tc.want {
			t.Errorf("exprDepth(%q) = %d, want %d", tc.q, got, tc.want)
		}
	}

	// It bounds the depth of the tree the parser builds.
	p := parser.NewParser(parser.Options{})
	for _, q := range []string{
		`sum by (job) (rate(http_requests_total{job="api"}[5m])) / on (job) group_left count(up)`,
		`histogram_quantile(0.9, sum by (le) (rate(x_bucket[5m]))) > bool 0.5`,
		`-(-(-(1)))`, `1 - -1`, `a + b * c ^ d - e / f % g`, `a * b + c * d + e`,
		`max_over_time((rate(x[5m]) * 2)[1h:1m] @ 100 offset 5m)`, `max_over_time(rate(x[5m])[1h:1m])`,
		`topk(3, sum without (instance) (x)) and on () vector(1) == 1`,
		chainedSum(300), nestedParens(300), `(1 + (2 * (3 - (4 / 5)))) + 6`,
		`{__name__=~"a|b", job!="x"} unless ignoring (i) y`, `rate(x[5m:1m])[10m:2m]`, `max_over_time(max_over_time(max_over_time(x[1m:])[1m:])[1m:])`,
	} {
		expr, err := p.ParseExpr(q)
		if err != nil {
			t.Fatalf("%s: %v", q, err)
		}
		depth := 0
		parser.Inspect(expr, func(_ parser.Node, path []parser.Node) error {
			depth = max(depth, len(path))
			return nil
		})
		if got := exprDepth(q); got < depth {
			t.Errorf("exprDepth(%q) = %d, under the parse tree's depth %d", q, got, depth)
		}
	}
}

// stepClock is a clock that moves by step each time it is read.
type stepClock struct {
	mu   sync.Mutex
	now  time.Time
	step time.Duration
}

func (c *stepClock) read() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	t := c.now
	c.now = c.now.Add(c.step)
	return t
}

func TestQueryTimeoutCoversParsing(t *testing.T) {
	db := openDB(t)
	fill(t, db, "up", 1)
	var log queryLog
	a := New(Options{OnQuery: log.onQuery})
	// Each reading of the clock is 20 s after the last: the request arrives,
	// parsing seems to end 20 s later, and the query starts with 20 s left.
	clock := &stepClock{now: t0, step: 20 * time.Second}
	a.now = clock.read
	srv := httptest.NewServer(a.Handler(Source{ID: "ws", Queryable: db}))
	t.Cleanup(srv.Close)
	f := &fixture{url: srv.URL}
	if code, body := f.do(t, "GET", "/api/v1/query", url.Values{"query": {"up"}, "time": {ts(0)}}); code != 200 {
		t.Fatalf("%d %s", code, body)
	}

	// Parsing seems to end a minute after the request arrived: the query is
	// not executed, and times out.
	clock.step = time.Minute
	want := errorJSON("execution", ErrQueryTimeout.Error())
	for _, path := range []string{"/api/v1/query", "/api/v1/query_range"} {
		code, body := f.do(t, "POST", path, url.Values{"query": {"up"}, "time": {ts(0)}, "start": {ts(0)}, "end": {ts(time.Minute)}, "step": {"15"}})
		if code != 422 || body != want {
			t.Errorf("%s: %d %s", path, code, body)
		}
	}
	if got := log.take(); len(got) != 3 || got[1].samples != 0 || got[2].samples != 0 {
		t.Errorf("charged %v", got)
	}

	// The engine's deadline counts from the request too: the storage stalls
	// until the query's context ends, which is 10 ms after execution starts
	// rather than the engine's minute.
	clock.step = 30*time.Second - 5*time.Millisecond
	srv = httptest.NewServer(a.Handler(Source{ID: "ws", Queryable: stallingQueryable{db}}))
	t.Cleanup(srv.Close)
	f = &fixture{url: srv.URL}
	if code, body := f.do(t, "GET", "/api/v1/query", url.Values{"query": {"up"}, "time": {ts(0)}}); code != 422 || body != want {
		t.Errorf("stalling storage: %d %s", code, body)
	}
}

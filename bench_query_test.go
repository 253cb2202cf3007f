package promspace_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"runtime/pprof"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql"

	"github.com/promspace/promspace"
	"github.com/promspace/promspace/query"
	"github.com/promspace/promspace/workspace"
)

// BenchmarkQueryOverhead measures what promspace's HTTP path adds to a
// query over running it on Prometheus' engine directly. One workspace
// holds 100,000 float series of http_requests_total (10 labels: job of 10
// values, instance and pod of one value a series) and 1,000 native
// histograms of rpc_duration_seconds (10 jobs), a sample every 15 s for
// 70 minutes, appended to its storage before timing.
//
// Each case runs one query per side per iteration, the sides alternating
// in order:
//
//   - http: a POST of the query's form to /workspaces/{id}/api/v1/query
//     or query_range, as Grafana sends it, through the Service's handler
//     into an httptest recorder, every check on: SigV4 verification of a
//     credential whose policy allows aps:QueryMetrics (signed once per
//     run, outside the loop; the body is hashed by the server), AMP's
//     default quotas (time range, chunks, bytes, samples and result size
//     limits), QSP metering and Prometheus' JSON encoding;
//   - engine: NewInstantQuery or NewRangeQuery and Exec on an engine with
//     the query package's options (query.New's, the Service's defaults),
//     the workspace as Queryable, the result discarded.
//
// The queries: sum-rate, sum by (job) (rate(...[5m])); topk,
// topk(10, rate(...[5m])); regex, rate(...{pod=~"api-7d9f8c6b5-001.."}[5m]),
// a regular expression on the 100,000 pods that matches 100 of them, the
// 100 series returned; range, sum-rate over the last hour at a 15 s step
// (241 points of 10 series); histogram-quantile,
// histogram_quantile(0.99, sum by (job) (rate(rpc_duration_seconds[5m]))).
//
// It reports each side's CPU time per query (getrusage of the whole
// process around the side, so garbage collection counts) and wall time,
// and overhead = http / engine - 1 of both; samples/query is the engine's
// total samples. Profiles tell the sides apart by the pprof label
// side=http or side=engine.
//
//	go test -run '^$' -bench BenchmarkQueryOverhead -benchtime 20x .
func BenchmarkQueryOverhead(b *testing.B) {
	svc, w := newQueryBenchService(b)
	defer svc.Close()
	end := time.Now().Truncate(queryBenchScrape)
	fillQueryBench(b, w, end)
	env := &queryBench{svc: svc, w: w, engine: query.New(query.Options{}).Engine(), end: end}

	const rate = `rate(http_requests_total[5m])`
	for _, c := range []queryCase{
		{name: "sum-rate", query: `sum by (job) (` + rate + `)`, series: 10},
		{name: "topk", query: `topk(10, ` + rate + `)`, series: 10},
		{name: "regex", query: `rate(http_requests_total{pod=~"api-7d9f8c6b5-001.."}[5m])`, series: 100},
		{name: "range", query: `sum by (job) (` + rate + `)`, series: 10, rangeQuery: true},
		{name: "histogram-quantile", query: `histogram_quantile(0.99, sum by (job) (rate(rpc_duration_seconds[5m])))`, series: 10},
	} {
		b.Run(c.name, func(b *testing.B) { env.run(b, c) })
	}
}

type queryBench struct {
	svc    *promspace.Service
	w      *workspace.Workspace
	engine *promql.Engine
	end    time.Time // of the samples and the queries
}

type queryCase struct {
	name, query string
	// series is the number of series of the result.
	series     int
	rangeQuery bool
}

// queryRange is the range query's: the last hour at a scrape's step.
const (
	queryRange = time.Hour
	queryStep  = queryBenchScrape
)

func (e *queryBench) run(b *testing.B, c queryCase) {
	ctx := context.Background()
	path := "/api/v1/query"
	form := url.Values{"query": {c.query}}
	if c.rangeQuery {
		path = "/api/v1/query_range"
		form.Set("start", unixSeconds(e.end.Add(-queryRange)))
		form.Set("end", unixSeconds(e.end))
		form.Set("step", strconv.FormatFloat(queryStep.Seconds(), 'f', -1, 64))
	} else {
		form.Set("time", unixSeconds(e.end))
	}
	request := signedQuery(b, "http://127.0.0.1/workspaces/"+e.w.ID()+path, form)

	var samples int64
	viaEngine := func() int {
		var (
			qry promql.Query
			err error
		)
		if c.rangeQuery {
			qry, err = e.engine.NewRangeQuery(ctx, e.w, nil, c.query, e.end.Add(-queryRange), e.end, queryStep)
		} else {
			qry, err = e.engine.NewInstantQuery(ctx, e.w, nil, c.query, e.end)
		}
		if err != nil {
			b.Fatal(err)
		}
		defer qry.Close()
		res := qry.Exec(ctx)
		if res.Err != nil {
			b.Fatal(res.Err)
		}
		samples = qry.Stats().Samples.TotalSamples
		return resultLen(res.Value)
	}
	viaHTTP := func(rec *httptest.ResponseRecorder, r *http.Request) {
		e.svc.ServeHTTP(rec, r)
	}
	// Both sides answer the same, once before timing.
	rec := httptest.NewRecorder()
	viaHTTP(rec, request())
	if rec.Code != http.StatusOK {
		b.Fatalf("http answered %d: %.512s", rec.Code, rec.Body)
	}
	if n, typ := jsonResultLen(b, rec.Body.Bytes()); n != c.series {
		b.Fatalf("http answered %d series of %s, want %d", n, typ, c.series)
	}
	if n := viaEngine(); n != c.series {
		b.Fatalf("engine answered %d series, want %d", n, c.series)
	}

	var cpu, wall [2]time.Duration // http, engine
	measure := func(k int, side string, f func()) {
		pprof.Do(ctx, pprof.Labels("side", side), func(context.Context) {
			start, startCPU := time.Now(), cpuTime()
			f()
			cpu[k] += cpuTime() - startCPU
			wall[k] += time.Since(start)
		})
	}
	b.ResetTimer()
	for i := range b.N {
		rec, r := httptest.NewRecorder(), request()
		for _, k := range [2]int{i % 2, 1 - i%2} {
			if k == 0 {
				measure(0, "http", func() { viaHTTP(rec, r) })
				if rec.Code != http.StatusOK {
					b.Fatalf("http answered %d: %.512s", rec.Code, rec.Body)
				}
			} else {
				measure(1, "engine", func() { viaEngine() })
			}
		}
	}
	b.StopTimer()

	n := float64(b.N)
	b.ReportMetric(float64(cpu[0].Nanoseconds())/n, "http-cpu-ns/op")
	b.ReportMetric(float64(cpu[1].Nanoseconds())/n, "engine-cpu-ns/op")
	b.ReportMetric(cpu[0].Seconds()/cpu[1].Seconds()-1, "overhead")
	b.ReportMetric(float64(wall[0].Nanoseconds())/n, "http-wall-ns/op")
	b.ReportMetric(float64(wall[1].Nanoseconds())/n, "engine-wall-ns/op")
	b.ReportMetric(wall[0].Seconds()/wall[1].Seconds()-1, "wall-overhead")
	b.ReportMetric(float64(samples), "samples/query")
}

// unixSeconds is t as Prometheus' API takes it, in seconds.
func unixSeconds(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', -1, 64)
}

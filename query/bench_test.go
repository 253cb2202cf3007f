package query

import (
	"context"
	"fmt"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/prometheus/common/route"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
)

// BenchmarkInstantQuery runs one instant query over 100 series three ways:
// through a workspace handler, through Prometheus' own API handler over the
// same engine, and on the engine directly.
func BenchmarkInstantQuery(b *testing.B) {
	const (
		series = 100
		q      = `sum by (job) (rate(http_requests_total[5m]))`
	)
	samplesPerQuery := float64(series * 20)
	db := openDB(b)
	fill(b, db, "http_requests_total", series)
	a := New(Options{})
	at := t0.Add(10 * time.Minute)
	target := "/api/v1/query?" + url.Values{"query": {q}, "time": {ts(10 * time.Minute)}}.Encode()

	run := func(b *testing.B, do func()) {
		b.ReportAllocs()
		for b.Loop() {
			do()
		}
		b.ReportMetric(samplesPerQuery*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
	}

	b.Run("promspace-handler", func(b *testing.B) {
		h := a.Handler(Source{ID: "bench", Queryable: db})
		run(b, func() {
			rec := httptest.NewRecorder()
			h.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
			if rec.Code != 200 {
				b.Fatal(rec.Body)
			}
		})
	})

	b.Run("prometheus-handler", func(b *testing.B) {
		prom := *a.template
		prom.Queryable = db
		prom.QueryEngine = a.engine
		router := route.New()
		prom.Register(router.WithPrefix(apiPrefix))
		run(b, func() {
			rec := httptest.NewRecorder()
			router.ServeHTTP(rec, httptest.NewRequest("GET", target, nil))
			if rec.Code != 200 {
				b.Fatal(rec.Body)
			}
		})
	})

	b.Run("prometheus-engine", func(b *testing.B) {
		ctx := context.Background()
		run(b, func() {
			qry, err := a.engine.NewInstantQuery(ctx, db, nil, q, at)
			if err != nil {
				b.Fatal(err)
			}
			if res := qry.Exec(ctx); res.Err != nil {
				b.Fatal(res.Err)
			}
			qry.Close()
		})
	})
}

// BenchmarkHandler is the cost of a workspace's handler, built once per
// workspace.
func BenchmarkHandler(b *testing.B) {
	db := openDB(b)
	a := New(Options{})
	b.ReportAllocs()
	for b.Loop() {
		a.Handler(Source{ID: "bench", Queryable: db})
	}
}

// BenchmarkChunkLimits is the cost of counting chunks and bytes: the engine
// reading the TSDB's samples, and reading them decoded from its chunks by the
// counting querier.
func BenchmarkChunkLimits(b *testing.B) {
	db := openDB(b)
	fill(b, db, "http_requests_total", 100)
	// 100 series over 4h10m (about nine chunks each), the first two hours
	// compacted into a block.
	app := db.AppenderV2(context.Background())
	for i := range longPoints {
		ts := t0.Add(time.Duration(i) * step).UnixMilli()
		for s := range 100 {
			ls := labels.FromStrings("__name__", "m", "job", "api", "instance", fmt.Sprint(s))
			if _, err := app.Append(0, ls, 0, ts, float64(i*s), nil, nil, storage.AppendV2Options{}); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := app.Commit(); err != nil {
		b.Fatal(err)
	}
	if err := db.Compact(context.Background()); err != nil {
		b.Fatal(err)
	}
	a := New(Options{})
	ctx := context.Background()
	end := t0.Add(longPoints * step)
	for _, bc := range []struct {
		name       string
		q          string
		start, end time.Time
		step       time.Duration
	}{
		{"instant-rate-1-chunk", `sum by (job) (rate(http_requests_total[5m]))`, t0.Add(10 * time.Minute), t0.Add(10 * time.Minute), 0},
		{"instant-raw-1h", `m[1h]`, end, end, 0},
		{"range-rate-4h", `sum(rate(m[5m]))`, t0, end, time.Minute},
	} {
		for _, counted := range []bool{false, true} {
			name := bc.name + "/tsdb"
			if counted {
				name = bc.name + "/counted"
			}
			b.Run(name, func(b *testing.B) {
				b.ReportAllocs()
				for b.Loop() {
					var q storage.Queryable = db
					if counted {
						q = limitedQueryable{db, newChunkLimiter(a.opts.limits(), bc.start, bc.end)}
					}
					var (
						qry promql.Query
						err error
					)
					if bc.step == 0 {
						qry, err = a.engine.NewInstantQuery(ctx, q, nil, bc.q, bc.start)
					} else {
						qry, err = a.engine.NewRangeQuery(ctx, q, nil, bc.q, bc.start, bc.end, bc.step)
					}
					if err != nil {
						b.Fatal(err)
					}
					if res := qry.Exec(ctx); res.Err != nil {
						b.Fatal(res.Err)
					}
					qry.Close()
				}
			})
		}
	}
}

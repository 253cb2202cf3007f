package query

import (
	"context"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/prometheus/common/route"
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

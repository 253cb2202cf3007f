package query

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"net/http/httptest"
	"net/url"
	"slices"
	"sync"
	"testing"
	"time"

	promv1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/tsdb/tsdbutil"
)

const longPoints = 1000 // 15 s apart: 4h10m, chunks of 120 samples

// openChunkedDB opens a TSDB with series "m" (3 series) and a native
// histogram "h" of longPoints samples each from t0, the first two hours
// compacted into a block, and out-of-order samples of m in the block's range
// in the head.
func openChunkedDB(t testing.TB) *tsdb.DB {
	t.Helper()
	opts := tsdb.DefaultOptions()
	opts.OutOfOrderTimeWindow = (24 * time.Hour).Milliseconds()
	db, err := tsdb.Open(t.TempDir(), nil, nil, opts, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { db.Close() })
	appendAll := func(offset time.Duration, every int) {
		app := db.AppenderV2(context.Background())
		for i := 0; i < longPoints; i += every {
			ts := t0.Add(time.Duration(i)*step + offset).UnixMilli()
			for s := range 3 {
				ls := labels.FromStrings("__name__", "m", "job", "api", "instance", fmt.Sprint(s))
				if _, err := app.Append(0, ls, 0, ts, float64(i*(s+1))+0.25, nil, nil, storage.AppendV2Options{}); err != nil {
					t.Fatal(err)
				}
			}
			if offset == 0 {
				if _, err := app.Append(0, labels.FromStrings("__name__", "h", "job", "api"), 0, ts, 0, tsdbutil.GenerateTestHistogram(int64(i)), nil, storage.AppendV2Options{}); err != nil {
					t.Fatal(err)
				}
			}
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
	}
	appendAll(0, 1)
	if err := db.Compact(context.Background()); err != nil {
		t.Fatal(err)
	}
	if len(db.Blocks()) == 0 {
		t.Fatal("no block")
	}
	appendAll(7*time.Second, 50) // out of order, overlapping the block
	return db
}

// countChunks counts the chunks and bytes a selector of name reads.
func countChunks(t testing.TB, db *tsdb.DB, name string) (n, bytes int) {
	t.Helper()
	q, err := db.ChunkQuerier(math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	ss := q.Select(context.Background(), false, &storage.SelectHints{Start: math.MinInt64, End: math.MaxInt64, DisableTrimming: true},
		labels.MustNewMatcher(labels.MatchEqual, "__name__", name))
	var it chunks.Iterator
	for ss.Next() {
		it = ss.At().Iterator(it)
		for it.Next() {
			n++
			bytes += len(it.At().Chunk.Bytes())
		}
	}
	if ss.Err() != nil {
		t.Fatal(ss.Err())
	}
	return n, bytes
}

// TestLimitedQueryableAnswersAsTheTSDB compares the engine's answers over the
// counting storage with its answers over the TSDB itself.
func TestLimitedQueryableAnswersAsTheTSDB(t *testing.T) {
	db := openChunkedDB(t)
	a := apiWith(Options{})
	ctx := context.Background()
	end := t0.Add(longPoints * step)
	queries := []string{
		`m`, `m offset 1h`, `m @ 3600`, `m[10m]`, `m[2h] offset 30m`, `rate(m[5m])`, `sum by (instance) (increase(m[1h]))`,
		`max_over_time(m[37m:1m])`, `resets(m[3h])`, `timestamp(m)`, `h`, `h[10m]`, `rate(h[5m])`,
		`histogram_quantile(0.9, rate(h[10m]))`, `count_over_time({job="api"}[5h])`, `last_over_time(m[1m])`,
	}
	for _, q := range queries {
		for _, at := range []time.Time{t0.Add(time.Hour + 7*time.Second), t0.Add(2*time.Hour + time.Minute), end.Add(time.Minute)} {
			want := instant(t, a, db, q, at)
			got := instant(t, a, limitedQueryable{db, newChunkLimiter(a.opts.limits(), at, at)}, q, at)
			if got != want {
				t.Errorf("%s at %s:\n got %.500s\nwant %.500s", q, at, got, want)
			}
		}
		if _, isRange := a.engine.NewRangeQuery(ctx, db, nil, q, t0, end, time.Minute); isRange != nil {
			continue // a range vector
		}
		for _, step := range []time.Duration{47 * time.Second, 7 * time.Minute} {
			run := func(s storage.Queryable) string {
				qry, err := a.engine.NewRangeQuery(ctx, s, nil, q, t0.Add(-time.Hour), end.Add(time.Hour), step)
				if err != nil {
					t.Fatal(err)
				}
				defer qry.Close()
				res := qry.Exec(ctx)
				if res.Err != nil {
					t.Fatal(q, res.Err)
				}
				return res.Value.String()
			}
			if got, want := run(limitedQueryable{db, newChunkLimiter(a.opts.limits(), t0, end)}), run(db); got != want {
				t.Errorf("range %s step %s:\n got %.500s\nwant %.500s", q, step, got, want)
			}
		}
	}
}

func instant(t *testing.T, a *API, q storage.Queryable, qs string, at time.Time) string {
	t.Helper()
	ctx := context.Background()
	qry, err := a.engine.NewInstantQuery(ctx, q, nil, qs, at)
	if err != nil {
		t.Fatal(err)
	}
	defer qry.Close()
	res := qry.Exec(ctx)
	if res.Err != nil {
		t.Fatal(qs, res.Err)
	}
	return res.Value.String()
}

// TestChunksIterator checks Next and Seek over chunks, apart or
// overlapping, against a list of the same samples.
func TestChunksIterator(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	var got chunkenc.Iterator
	for round := range 400 {
		var (
			samples chunks.SampleSlice
			ts      int64
		)
		for range rng.IntN(15) {
			ts += 1 + rng.Int64N(3)
			samples = append(samples, floatSample{t: ts, f: rng.Float64()})
		}
		// Apart: consecutive runs of samples; overlapping: samples dealt
		// to chunks at random.
		overlapping := round%2 == 1
		parts := make([][]floatSample, 1+rng.IntN(4))
		for i, smpl := range samples {
			p := i * len(parts) / len(samples)
			if overlapping {
				p = rng.IntN(len(parts))
			}
			parts[p] = append(parts[p], smpl.(floatSample))
		}
		var metas []chunks.Meta
		for _, part := range parts {
			if len(part) == 0 {
				continue
			}
			c := chunkenc.NewXORChunk()
			app, err := c.Appender()
			if err != nil {
				t.Fatal(err)
			}
			for _, smpl := range part {
				app.Append(0, smpl.t, smpl.f)
			}
			metas = append(metas, chunks.Meta{Chunk: c, MinTime: part[0].t, MaxTime: part[len(part)-1].t})
		}
		slices.SortFunc(metas, func(a, b chunks.Meta) int { return cmp.Compare(a.MinTime, b.MinTime) })
		got = newChunkedSeries(labels.EmptyLabels(), metas).Iterator(got)
		want := storage.NewListSeriesIterator(samples)
		var ops string
		for range 10 {
			var g, w chunkenc.ValueType
			if rng.IntN(2) == 0 {
				ops += " next"
				g, w = got.Next(), want.Next()
			} else {
				to := rng.Int64N(ts + 3)
				ops += fmt.Sprintf(" seek(%d)", to)
				g, w = got.Seek(to), want.Seek(to)
			}
			if g != w {
				t.Fatalf("round %d:%s: %v, want %v", round, ops, g, w)
			}
			if g == chunkenc.ValNone {
				break
			}
			gt, gv := got.At()
			if wt, wv := want.At(); gt != wt || gv != wv || got.AtT() != wt {
				t.Fatalf("round %d:%s: at %d %v, want %d %v", round, ops, gt, gv, wt, wv)
			}
		}
		if got.Err() != nil {
			t.Fatal(got.Err())
		}
	}
}

// floatSample is a chunks.Sample of a float.
type floatSample struct {
	t int64
	f float64
}

func (s floatSample) T() int64                      { return s.t }
func (s floatSample) ST() int64                     { return 0 }
func (s floatSample) F() float64                    { return s.f }
func (s floatSample) H() *histogram.Histogram       { return nil }
func (s floatSample) FH() *histogram.FloatHistogram { return nil }
func (s floatSample) Type() chunkenc.ValueType      { return chunkenc.ValFloat }
func (s floatSample) Copy() chunks.Sample           { return s }

var (
	sharedOnce sync.Once
	shared     *API
)

// apiWith returns an API with opts: a copy of one API shared by the tests
// when opts differ from the defaults only in what the handler and the
// querier apply, since New takes a second under the race detector.
func apiWith(opts Options) *API {
	sharedOnce.Do(func() { shared = New(Options{}) })
	o, d := opts.withDefaults(), shared.opts
	if o.MaxSamples != d.MaxSamples || o.Timeout != d.Timeout || o.LookbackDelta != d.LookbackDelta || o.Registerer != nil {
		return New(opts)
	}
	a := *shared
	a.opts = o
	return &a
}

// chunkedFixture serves one workspace over openChunkedDB with opts.
func chunkedFixture(t *testing.T, db *tsdb.DB, opts Options) (*fixture, promv1.API) {
	t.Helper()
	f := &fixture{log: &queryLog{}}
	opts.OnQuery = f.log.onQuery
	srv := httptest.NewServer(apiWith(opts).Handler(Source{ID: "ws", Queryable: db}))
	t.Cleanup(srv.Close)
	f.url = srv.URL
	return f, f.client(t)
}

func TestChunksAndBytesPerQuery(t *testing.T) {
	db := openChunkedDB(t)
	chunksM, bytesM := countChunks(t, db, "m")
	if chunksM < 3*9 {
		t.Fatalf("only %d chunks", chunksM)
	}
	ctx := context.Background()
	end := t0.Add(longPoints * step)
	const q = `count_over_time(m[5h])` // all of m
	atEnd := end.Add(10 * time.Minute)

	t.Run("chunks", func(t *testing.T) {
		_, c := chunkedFixture(t, db, Options{MaxChunksPerQuery: chunksM})
		if _, _, _, err := c.Query(ctx, q, atEnd); err != nil {
			t.Fatalf("at the limit: %v", err)
		}
		f, c := chunkedFixture(t, db, Options{MaxChunksPerQuery: chunksM - 1})
		_, _, _, err := c.Query(ctx, q, atEnd)
		want := fmt.Sprintf("the query hit the max number of chunks limit (limit: %d chunks)", chunksM-1)
		if e, ok := errors.AsType[*promv1.Error](err); !ok || e.Type != promv1.ErrExec || e.Msg != want {
			t.Fatalf("over the limit: %v", err)
		}
		// The raw answer, for a range query too.
		code, body := f.do(t, "POST", "/api/v1/query_range", url.Values{"query": {"m"}, "start": {ts(0)}, "end": {fmt.Sprint(end.Unix())}, "step": {"60"}})
		if code != 422 || body != errorJSON("execution", want) {
			t.Fatalf("%d %s", code, body)
		}
		if got := f.log.take(); len(got) != 2 {
			t.Errorf("charged %v", got)
		}
	})

	t.Run("bytes", func(t *testing.T) {
		_, c := chunkedFixture(t, db, Options{MaxBytesPerQuery: int64(bytesM)})
		if _, _, _, err := c.Query(ctx, q, atEnd); err != nil {
			t.Fatalf("at the limit: %v", err)
		}
		perDay := int64(bytesM+1) / 2
		f, c := chunkedFixture(t, db, Options{MaxBytesPerQuery: perDay})
		_, _, _, err := c.Query(ctx, q, atEnd)
		want := fmt.Sprintf("the query hit the aggregated data size limit (limit: %d bytes)", perDay)
		if e, ok := errors.AsType[*promv1.Error](err); !ok || e.Type != promv1.ErrExec || e.Msg != want {
			t.Fatalf("over the limit: %v", err)
		}
		// A range query of 25 hours may read twice as much: two days.
		r := promv1.Range{Start: atEnd.Add(-25 * time.Hour), End: atEnd, Step: time.Hour}
		if _, _, _, err := c.QueryRange(ctx, q, r); err != nil {
			t.Fatalf("two days: %v", err)
		}
		r.Start = atEnd.Add(-24 * time.Hour)
		_, _, _, err = c.QueryRange(ctx, q, r)
		if e, ok := errors.AsType[*promv1.Error](err); !ok || e.Msg != want {
			t.Fatalf("one day: %v", err)
		}
		f.log.take()
	})

	t.Run("defaults", func(t *testing.T) {
		o := DefaultOptions()
		if o.MaxChunksPerQuery != 2_000_000 || o.MaxBytesPerQuery != 5_000_000_000 || o.MaxSamples != 50_000_000 {
			t.Fatalf("defaults %+v", o)
		}
		l := newChunkLimiter(Options{}.withDefaults().limits(), t0, t0.Add(49*time.Hour))
		if l.maxChunks != 2_000_000 || l.maxBytes != 3*5_000_000_000 {
			t.Fatalf("limiter %+v", l)
		}
		if newChunkLimiter(Options{MaxChunksPerQuery: -1, MaxBytesPerQuery: -1}.limits(), t0, t0) != nil {
			t.Fatal("a limiter without limits")
		}
		_, c := chunkedFixture(t, db, Options{MaxChunksPerQuery: -1, MaxBytesPerQuery: -1})
		if _, _, _, err := c.Query(ctx, q, atEnd); err != nil {
			t.Fatalf("no limits: %v", err)
		}
	})
}

func TestResultAndSampleLimits(t *testing.T) {
	db := openChunkedDB(t)
	at := ts(time.Hour)
	// Three series of m, 20 samples each in the five minutes to one hour.
	const result = 60
	for _, tc := range []struct {
		name     string
		opts     Options
		path     string
		form     url.Values
		wantCode int
		want     string
	}{
		{"range vector at the limit", Options{MaxResultSamples: result}, "/api/v1/query",
			url.Values{"query": {"m[5m]"}, "time": {at}}, 200, ""},
		{"range vector over the limit", Options{MaxResultSamples: result - 1}, "/api/v1/query",
			url.Values{"query": {"m[5m]"}, "time": {at}}, 422,
			errorJSON("execution", "the query result is too large to answer (samples: 60, limit: 59)")},
		{"range query over the limit", Options{MaxResultSamples: 119}, "/api/v1/query_range",
			url.Values{"query": {"m"}, "start": {ts(0)}, "end": {ts(39 * step)}, "step": {"15"}}, 422,
			errorJSON("execution", "the query result is too large to answer (samples: 120, limit: 119)")},
		{"histograms weigh their size", Options{MaxResultSamples: 20}, "/api/v1/query",
			url.Values{"query": {"h[5m]"}, "time": {at}}, 422, // 20 histograms of 17 each
			errorJSON("execution", "the query result is too large to answer (samples: 340, limit: 20)")},
		{"no limit", Options{MaxResultSamples: -1}, "/api/v1/query",
			url.Values{"query": {"{__name__=~\".+\"}[5h]"}, "time": {at}}, 200, ""},
		{"samples in memory", Options{MaxSamples: result - 1}, "/api/v1/query",
			url.Values{"query": {"m[5m]"}, "time": {at}}, 422,
			errorJSON("execution", promql.ErrTooManySamples("query execution").Error())},
	} {
		t.Run(tc.name, func(t *testing.T) {
			f, _ := chunkedFixture(t, db, tc.opts)
			code, body := f.do(t, "GET", tc.path, tc.form)
			if code != tc.wantCode || (tc.want != "" && body != tc.want) {
				t.Fatalf("%d %.300s\nwant %d %s", code, body, tc.wantCode, tc.want)
			}
		})
	}
	if got := DefaultOptions().MaxResultSamples; got != DefaultMaxResultSamples {
		t.Errorf("default %d", got)
	}
}

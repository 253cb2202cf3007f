package workspace

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"net/http"
	"net/http/httptest"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/gogo/protobuf/proto"
	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/promspace/promspace/ingest"
)

// countingAppendable counts the series its appenders are asked to look up
// or create, to tell which series ingest appended by a kept reference.
type countingAppendable struct {
	orderedAppendable
	looked *atomic.Int64
}

func (a countingAppendable) AppenderV2(ctx context.Context) storage.AppenderV2 {
	return &countingAppender{orderedAppender: a.orderedAppendable.AppenderV2(ctx).(*orderedAppender), looked: a.looked}
}

type countingAppender struct {
	*orderedAppender
	looked *atomic.Int64
}

func (a *countingAppender) CreateSeries(lsets []labels.Labels, refs []storage.SeriesRef) {
	a.looked.Add(int64(len(lsets)))
	a.orderedAppender.CreateSeries(lsets, refs)
}

// TestSeriesRefScope checks that ingest appends the series it has written
// before by the references it kept, without looking them up; that the
// scope changes when the head drops series, so that the dropped ones are
// created anew, logged, instead of appended by a reference that names
// nothing; and that their samples survive a restart.
func TestSeriesRefScope(t *testing.T) {
	dir := t.TempDir()
	open := func() (*tsdb.DB, *refScopes) {
		scopes := newRefScopes()
		opts := DefaultTSDBOptions()
		opts.SeriesLifecycleCallback = scopes
		db, err := tsdb.Open(dir, nil, nil, opts, nil)
		if err != nil {
			t.Fatal(err)
		}
		return db, scopes
	}
	db, scopes := open()
	var looked atomic.Int64
	target := ingest.Target{ID: "ws", Appendable: countingAppendable{
		orderedAppendable: orderedAppendable{db: db, mtx: new(sync.Mutex), scopes: scopes},
		looked:            &looked,
	}}
	h := ingest.NewHandler(ingest.Options{})
	const n = 50
	write := func(ts int64) { t.Helper(); writeUp(t, h, target, "up", n, ts) }

	write(1000)
	if got := looked.Load(); got != n {
		t.Fatalf("first write looked up %d series, want %d", got, n)
	}
	first := scopes.scope()
	write(2000)
	write(3000)
	if got := looked.Load(); got != n {
		t.Fatalf("writes of known series looked up %d series in all, want %d", got, n)
	}

	// Every series' samples are older than the head's new minimum: the
	// head drops them all.
	if err := db.Head().Truncate(4000); err != nil {
		t.Fatal(err)
	}
	if db.Head().NumSeries() != 0 {
		t.Fatalf("head kept %d series", db.Head().NumSeries())
	}
	if scopes.scope() == first {
		t.Fatal("the scope did not change when the head dropped series")
	}
	write(5000)
	if got := looked.Load(); got != 2*n {
		t.Fatalf("after the head dropped the series, %d lookups in all, want %d", got, 2*n)
	}
	write(6000)
	if got := looked.Load(); got != 2*n {
		t.Fatalf("writes of the created series looked up %d series in all, want %d", got, 2*n)
	}

	// The series created anew were logged: their samples are replayed.
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}
	db, _ = open()
	defer db.Close()
	q, err := db.Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	ss := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "up"))
	series := 0
	for ss.Next() {
		series++
		var got []int64
		it := ss.At().Iterator(nil)
		for it.Next() != 0 {
			ts, _ := it.At()
			got = append(got, ts)
		}
		if fmt.Sprint(got) != "[5000 6000]" {
			t.Errorf("%s: samples at %v, want [5000 6000]", ss.At().Labels(), got)
		}
	}
	if err := ss.Err(); err != nil {
		t.Fatal(err)
	}
	if series != n {
		t.Errorf("%d series after a restart, want %d", series, n)
	}
}

// writeUp writes n series name{i="0"} ... name{i="n-1"}, one sample each at
// ts, through h into t.
func writeUp(t *testing.T, h *ingest.Handler, target ingest.Target, name string, n int, ts int64) {
	t.Helper()
	var req prompb.WriteRequest
	for i := range n {
		req.Timeseries = append(req.Timeseries, prompb.TimeSeries{
			Labels:  []prompb.Label{{Name: "__name__", Value: name}, {Name: "i", Value: fmt.Sprint(i)}},
			Samples: []prompb.Sample{{Timestamp: ts, Value: float64(ts)}},
		})
	}
	body, err := proto.Marshal(&req)
	if err != nil {
		t.Fatal(err)
	}
	r := httptest.NewRequest(http.MethodPost, "/api/v1/remote_write", bytes.NewReader(snappy.Encode(nil, body)))
	r.Header.Set("Content-Type", "application/x-protobuf")
	r.Header.Set("Content-Encoding", "snappy")
	rec := httptest.NewRecorder()
	h.Write(rec, r, target)
	if rec.Code != http.StatusNoContent {
		t.Fatalf("write at %d: %d %s", ts, rec.Code, rec.Body)
	}
}

// TestSeriesRefScopePerWorkspace checks that a reference kept for one
// workspace's series is not used for another's, though both share the
// handler's labels cache: the second TSDB gives the same series other
// references, and each series' samples end up in its own.
func TestSeriesRefScopePerWorkspace(t *testing.T) {
	h := ingest.NewHandler(ingest.Options{})
	var targets [2]ingest.Target
	var dbs [2]*tsdb.DB
	for k := range targets {
		scopes := newRefScopes()
		opts := DefaultTSDBOptions()
		opts.SeriesLifecycleCallback = scopes
		db, err := tsdb.Open(t.TempDir(), nil, nil, opts, nil)
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { db.Close() })
		dbs[k] = db
		targets[k] = ingest.Target{ID: fmt.Sprint("ws", k), Appendable: orderedAppendable{db: db, mtx: new(sync.Mutex), scopes: scopes}}
	}
	// Other series first in the second TSDB, so that the same series
	// have other references there.
	writeUp(t, h, targets[1], "other", 7, 500)
	const n = 20
	for round := range 4 {
		for k := range targets {
			writeUp(t, h, targets[k], "up", n, int64(1000*(round+1)+k))
		}
	}
	for k, db := range dbs {
		q, err := db.Querier(math.MinInt64, math.MaxInt64)
		if err != nil {
			t.Fatal(err)
		}
		ss := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "up"))
		series := 0
		for ss.Next() {
			series++
			var got []int64
			it := ss.At().Iterator(nil)
			for it.Next() != 0 {
				ts, _ := it.At()
				got = append(got, ts)
			}
			want := fmt.Sprint([]int64{int64(1000 + k), int64(2000 + k), int64(3000 + k), int64(4000 + k)})
			if fmt.Sprint(got) != want {
				t.Errorf("TSDB %d, %s: samples at %v, want %s", k, ss.At().Labels(), got, want)
			}
		}
		q.Close()
		if series != n {
			t.Errorf("TSDB %d: %d series, want %d", k, series, n)
		}
	}
}

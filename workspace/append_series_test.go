package workspace

import (
	"context"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	tsdbrecord "github.com/prometheus/prometheus/tsdb/record"
	"github.com/prometheus/prometheus/tsdb/wlog"
)

type seriesCreator interface {
	CreateSeries(lsets []labels.Labels, refs []storage.SeriesRef)
}

// TestCreateSeries checks that an appender's CreateSeries finds the
// existing series of a batch and leaves the others at 0, to be created by
// the appender's Appends with the workspace's commit lock held from
// CreateSeries until Commit (or Rollback); that the Commit logs the new
// series in one Series record; and that the samples survive a restart.
// The existing series is first, which has the series looked up, or after
// probeSeries new ones, which leaves it to the Append.
func TestCreateSeries(t *testing.T) {
	for _, existing := range []int{0, probeSeries + 3} {
		t.Run(fmt.Sprintf("existing=%d", existing), func(t *testing.T) { testCreateSeries(t, existing) })
	}
}

func testCreateSeries(t *testing.T, old int) {
	dir := t.TempDir()
	db, err := tsdb.Open(dir, nil, nil, DefaultTSDBOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var mtx sync.Mutex
	appendable := orderedAppendable{db: db, mtx: &mtx}
	const n = 100
	lsets := make([]labels.Labels, n+1)
	ts := make([]int64, n+1)
	for i := range n {
		lsets[i] = labels.FromStrings("__name__", "up", "instance", fmt.Sprint(i))
		ts[i] = 1000
	}
	lsets[n] = labels.EmptyLabels() // refused by the TSDB
	ts[n] = 1000

	// Series old exists before.
	app := appendable.AppenderV2(context.Background())
	existing, err := app.Append(0, lsets[old], 0, 500, 1, nil, nil, storage.AOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}

	// A batch of known series takes no lock.
	app = appendable.AppenderV2(context.Background())
	refs := make([]storage.SeriesRef, 1)
	app.(seriesCreator).CreateSeries(lsets[old:old+1], refs)
	if refs[0] != existing {
		t.Errorf("existing series alone: ref %d, want %d", refs[0], existing)
	}
	if !mtx.TryLock() {
		t.Fatal("commit lock held for a batch of known series")
	}
	mtx.Unlock()
	if err := app.Rollback(); err != nil {
		t.Fatal(err)
	}

	app = appendable.AppenderV2(context.Background())
	refs = make([]storage.SeriesRef, n+1)
	app.(seriesCreator).CreateSeries(lsets, refs)
	if old == 0 && refs[old] != existing {
		t.Errorf("existing series: ref %d, want %d", refs[old], existing)
	}
	for i, ref := range refs {
		if i != old && ref != 0 {
			t.Errorf("new series %d: ref %d, want 0", i, ref)
		}
	}
	if mtx.TryLock() {
		t.Fatal("commit lock not held from CreateSeries of new series on")
	}
	for i := range n {
		got, err := app.Append(refs[i], lsets[i], 0, ts[i], float64(i), nil, nil, storage.AOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if i == old && got != existing {
			t.Errorf("existing series appended as %d, want %d", got, existing)
		}
	}
	if _, err := app.Append(0, lsets[n], 0, ts[n], 1, nil, nil, storage.AOptions{}); err == nil {
		t.Error("series of no labels appended")
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	if !mtx.TryLock() {
		t.Fatal("commit lock held after Commit")
	}
	mtx.Unlock()

	// Rolled back, the appender releases the lock too.
	app = appendable.AppenderV2(context.Background())
	app.(seriesCreator).CreateSeries([]labels.Labels{labels.FromStrings("__name__", "rolled_back")}, refs[:1])
	if _, err := app.Append(0, labels.FromStrings("__name__", "rolled_back"), 0, 1000, 1, nil, nil, storage.AOptions{}); err != nil {
		t.Fatal(err)
	}
	if err := app.Rollback(); err != nil {
		t.Fatal(err)
	}
	if !mtx.TryLock() {
		t.Fatal("commit lock held after Rollback")
	}
	mtx.Unlock()
	if err := db.Close(); err != nil {
		t.Fatal(err)
	}

	var seriesRecords, series int
	sr, err := wlog.NewSegmentsReader(filepath.Join(dir, "wal"))
	if err != nil {
		t.Fatal(err)
	}
	r := wlog.NewReader(sr)
	var dec tsdbrecord.Decoder
	for r.Next() {
		if dec.Type(r.Record()) == tsdbrecord.Series {
			refs, err := dec.Series(r.Record(), nil)
			if err != nil {
				t.Fatal(err)
			}
			seriesRecords++
			series += len(refs)
		}
	}
	sr.Close()
	if seriesRecords != 3 || series != n+1 {
		t.Errorf("%d Series records of %d series, want 3 of %d (the existing one, the batch, the rolled back one)", seriesRecords, series, n+1)
	}

	db, err = tsdb.Open(dir, nil, nil, DefaultTSDBOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	q, err := db.Querier(0, 2000)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	ss := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "up"))
	got := 0
	for ss.Next() {
		it := ss.At().Iterator(nil)
		for it.Next() != 0 {
			got++
		}
	}
	if got != n+1 {
		t.Errorf("%d samples after restart, want %d", got, n+1)
	}
}

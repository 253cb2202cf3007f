package workspace

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	tsdbrecord "github.com/prometheus/prometheus/tsdb/record"
	"github.com/prometheus/prometheus/tsdb/wlog"
)

type seriesCreator interface {
	CreateSeries(lsets []labels.Labels, ts []int64, refs []storage.SeriesRef)
}

// TestCreateSeries checks that an appender's CreateSeries logs the new
// series of a batch in one Series record before any sample is appended,
// finds the existing ones, and leaves refused ones at 0; and that the
// samples appended by those references survive a restart. The existing
// series is first, which has the series looked up before, or after
// probeSeries new ones, which leaves it to the creating appender.
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
	appendable := OrderedAppendable(db)
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

	app = appendable.AppenderV2(context.Background())
	refs := make([]storage.SeriesRef, n+1)
	app.(seriesCreator).CreateSeries(lsets, ts, refs)
	if refs[old] != existing {
		t.Errorf("existing series: ref %d, want %d", refs[old], existing)
	}
	if refs[n] != 0 {
		t.Errorf("refused series: ref %d, want 0", refs[n])
	}
	for i := range n {
		if refs[i] == 0 {
			t.Fatalf("series %d: no ref", i)
		}
		if _, err := app.Append(refs[i], lsets[i], 0, ts[i], float64(i), nil, nil, storage.AOptions{}); err != nil {
			t.Fatal(err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
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
	if seriesRecords != 2 || series != n {
		t.Errorf("%d Series records of %d series, want 2 of %d (the existing one, then the batch)", seriesRecords, series, n)
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

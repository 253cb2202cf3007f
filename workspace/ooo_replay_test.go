package workspace

// These tests reproduce, with tsdb alone, acknowledged samples lost when
// appenders commit concurrently and the process is killed, and check that
// Workspace.Appendable loses none. See orderedAppendable for the mechanisms.
//
// The reproduction against the raw TSDB does not fail (the bug is
// Prometheus'); it reports what it lost:
//
//	PROMSPACE_TSDB_OOO_REPRO=1 go test -run TestOOOReplayRawTSDB -v ./workspace/

import (
	"context"
	"math"
	"os"
	"path/filepath"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/stretchr/testify/require"
)

// oooReplayCase is one run of the reproduction.
type oooReplayCase struct {
	writers, series, rounds int
	// precreate creates every series in one commit before the writers
	// start, which leaves series creation out of the picture.
	precreate bool
	// ooo first commits the last step, so that every other step is out of
	// order and goes to the WBL and the out-of-order chunks.
	ooo bool
}

// oooReplayResult says how many acknowledged samples a crash lost.
type oooReplayResult struct {
	acked, lost int
	// causes counts the lost samples by what the WAL and the WBL say
	// happened to them (see walLogs.cause).
	causes map[string]int
}

// runOOOReplay opens a TSDB with a 60 s out-of-order window in a temporary
// directory and has c.writers goroutines append to the same c.series
// series through wrap(db): each takes the next step from a shared counter,
// appends one sample a series at base+step*200ms and commits, so concurrent
// commits carry adjacent timestamps in either order, as two remote-write
// senders taking turns do. Every sample whose Append and Commit succeeded is
// acknowledged. Once the writers are done the directory is copied without
// closing the TSDB, as SIGKILL leaves it (the WAL and WBL are written to the
// OS on each Log call; the head chunks may be mid-write), the copy is
// opened, and every acknowledged sample is looked up.
func runOOOReplay(t *testing.T, c oooReplayCase, wrap func(*tsdb.DB) storage.AppendableV2) oooReplayResult {
	t.Helper()
	opts := tsdb.DefaultOptions()
	opts.OutOfOrderTimeWindow = (60 * time.Second).Milliseconds()
	dir := t.TempDir()
	db, err := tsdb.Open(dir, nil, nil, opts, nil)
	require.NoError(t, err)
	defer func() { require.NoError(t, db.Close()) }()
	app := wrap(db)

	series := make([]labels.Labels, c.series)
	for i := range series {
		series[i] = labels.FromStrings("__name__", "ooo_replay", "series", strconv.Itoa(i))
	}
	const step = 200 // ms
	base := time.Now().Add(-time.Hour).UnixMilli()
	// acked[r][i] is set once the sample of series i at step r is
	// acknowledged.
	acked := make([][]bool, c.rounds+1)
	for r := range acked {
		acked[r] = make([]bool, c.series)
	}
	commit := func(r int) {
		a := app.AppenderV2(context.Background())
		ok := make([]bool, c.series)
		ts := base + int64(r)*step
		for i, ls := range series {
			_, err := a.Append(0, ls, 0, ts, float64(ts), nil, nil, storage.AOptions{})
			ok[i] = err == nil
		}
		if a.Commit() == nil {
			acked[r] = ok
		}
	}
	first := 1
	if c.precreate {
		commit(0)
		first = 0
	}
	last := c.rounds
	if c.ooo {
		commit(last)
		last--
	}

	var (
		next atomic.Int64
		wg   sync.WaitGroup
	)
	next.Store(int64(first))
	for range c.writers {
		wg.Go(func() {
			for {
				r := int(next.Add(1)) - 1
				if r > last {
					return
				}
				commit(r)
			}
		})
	}
	wg.Wait()

	crashed := filepath.Join(t.TempDir(), "crashed")
	copyDir(t, dir, crashed)
	logs := readLogs(t, crashed)
	db2, err := tsdb.Open(crashed, nil, nil, opts, nil)
	require.NoError(t, err)
	defer func() { require.NoError(t, db2.Close()) }()

	got := make([]map[int64]float64, c.series)
	for i := range got {
		got[i] = map[int64]float64{}
	}
	q, err := db2.Querier(math.MinInt64, math.MaxInt64)
	require.NoError(t, err)
	defer q.Close()
	ss := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "ooo_replay"))
	for ss.Next() {
		s := ss.At()
		i, err := strconv.Atoi(s.Labels().Get("series"))
		require.NoError(t, err)
		it := s.Iterator(nil)
		for it.Next() != 0 {
			ts, v := it.At()
			got[i][ts] = v
		}
		require.NoError(t, it.Err())
	}
	require.NoError(t, ss.Err())

	res := oooReplayResult{causes: map[string]int{}}
	for r := range acked {
		ts := base + int64(r)*step
		for i, ok := range acked[r] {
			if !ok {
				continue
			}
			res.acked++
			if v, found := got[i][ts]; !found || v != float64(ts) {
				res.lost++
				res.causes[logs.cause(series[i], ts)]++
			}
		}
	}
	return res
}

// oooReplayCases are the runs of the reproduction, one per mechanism.
var oooReplayCases = []struct {
	name string
	c    oooReplayCase
}{
	// Two writers taking turns with the timestamps of the same existing
	// series: the WAL order differs from the in-memory order.
	{"interleaved", oooReplayCase{writers: 2, series: 200, rounds: 1000, precreate: true}},
	// Every sample out of order: the WBL order differs from the in-memory
	// order around out-of-order chunk cuts.
	{"out-of-order", oooReplayCase{writers: 8, series: 200, rounds: 290, precreate: true, ooo: true}},
	// Series created by the writers themselves: samples logged before
	// their series.
	{"new-series", oooReplayCase{writers: 2, series: 200, rounds: 500}},
}

func rawDB(db *tsdb.DB) storage.AppendableV2 { return db }

// orderedDB returns the ordered appendable a workspace appends through,
// over db.
func orderedDB(db *tsdb.DB) storage.AppendableV2 { return OrderedAppendable(db) }

// TestOOOReplayRawTSDB reproduces the loss with tsdb's own appenders; it
// only reports it. PROMSPACE_TSDB_OOO_REPRO is the number of runs of each
// case (1 if not a number).
func TestOOOReplayRawTSDB(t *testing.T) {
	env := os.Getenv("PROMSPACE_TSDB_OOO_REPRO")
	if env == "" {
		t.Skip("a Prometheus bug, reproduced with PROMSPACE_TSDB_OOO_REPRO=<runs>")
	}
	runs, err := strconv.Atoi(env)
	if err != nil || runs < 1 {
		runs = 1
	}
	for _, tc := range oooReplayCases {
		t.Run(tc.name, func(t *testing.T) {
			total := oooReplayResult{causes: map[string]int{}}
			lossy := 0
			for range runs {
				res := runOOOReplay(t, tc.c, rawDB)
				total.acked += res.acked
				total.lost += res.lost
				if res.lost > 0 {
					lossy++
				}
				for k, v := range res.causes {
					total.causes[k] += v
				}
			}
			t.Logf("lost %d of %d acknowledged samples; %d of %d runs lost some; by cause: %v",
				total.lost, total.acked, lossy, runs, total.causes)
		})
	}
}

// TestOOOReplayOrdered runs the reproduction through Workspace.Appendable:
// nothing acknowledged may be lost.
func TestOOOReplayOrdered(t *testing.T) {
	for _, tc := range oooReplayCases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			res := runOOOReplay(t, tc.c, orderedDB)
			require.Positive(t, res.acked)
			require.Zero(t, res.lost, "lost acknowledged samples, by cause: %v", res.causes)
		})
	}
}

// TestAppendableExemplars checks that Workspace.Appendable's appenders
// take exemplars, as ingest expects of them, and report invalid series.
func TestAppendableExemplars(t *testing.T) {
	opts := tsdb.DefaultOptions()
	opts.EnableExemplarStorage = true
	opts.MaxExemplars = 10
	db, err := tsdb.Open(t.TempDir(), nil, nil, opts, nil)
	require.NoError(t, err)
	defer func() { require.NoError(t, db.Close()) }()

	app := orderedDB(db).AppenderV2(context.Background())
	ea, ok := app.(storage.ExemplarAppenderV2)
	require.True(t, ok)
	ls := labels.FromStrings("__name__", "m", "a", "b")
	ref, err := app.Append(0, ls, 0, 1000, 1, nil, nil, storage.AOptions{})
	require.NoError(t, err)
	require.NotZero(t, ref)
	ex := exemplar.Exemplar{Labels: labels.FromStrings("trace_id", "t"), Value: 1, Ts: 1000, HasTs: true}
	_, err = ea.AppendExemplars(ref, ls, []exemplar.Exemplar{ex})
	require.NoError(t, err)
	_, err = app.Append(0, labels.FromStrings("__name__", "m", "a", "b", "a", "c"), 0, 1000, 1, nil, nil, storage.AOptions{})
	require.ErrorIs(t, err, tsdb.ErrInvalidSample)
	require.NoError(t, app.Commit())

	eq, err := db.ExemplarQuerier(context.Background())
	require.NoError(t, err)
	res, err := eq.Select(0, 2000, []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "__name__", "m")})
	require.NoError(t, err)
	require.Len(t, res, 1)
	require.Equal(t, []exemplar.Exemplar{ex}, res[0].Exemplars)
}

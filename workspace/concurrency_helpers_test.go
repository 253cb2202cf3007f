package workspace

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// concLedger records every committed sample, by workspace and series.
type concLedger struct {
	mtx sync.Mutex
	// samples maps workspace id and writer to the committed samples.
	samples map[string]map[string]map[int64]float64
}

func (l *concLedger) record(id, writer string, ts int64, n int) {
	l.mtx.Lock()
	defer l.mtx.Unlock()
	if l.samples == nil {
		l.samples = map[string]map[string]map[int64]float64{}
	}
	byWriter := l.samples[id]
	if byWriter == nil {
		byWriter = map[string]map[int64]float64{}
		l.samples[id] = byWriter
	}
	s := byWriter[writer]
	if s == nil {
		s = map[int64]float64{}
		byWriter[writer] = s
	}
	for k := range n {
		s[ts+int64(k)] = float64(ts + int64(k))
	}
}

// snapshot returns a copy of the samples committed to workspace id so far.
func (l *concLedger) snapshot(id string) map[string]map[int64]float64 {
	l.mtx.Lock()
	defer l.mtx.Unlock()
	out := map[string]map[int64]float64{}
	for writer, s := range l.samples[id] {
		out[writer] = make(map[int64]float64, len(s))
		for ts, v := range s {
			out[writer][ts] = v
		}
	}
	return out
}

const concMetric = "concurrency_samples"

// concAppend appends n samples of writer's series, from ts on and each
// valued its timestamp, through w's storage in one commit.
func concAppend(ctx context.Context, w *Workspace, writer string, ts int64, n int) error {
	app := w.AppenderV2(ctx)
	ls := labels.FromStrings(model.MetricNameLabel, concMetric, "ws", w.ID(), "writer", writer)
	var ref storage.SeriesRef
	for k := range n {
		var err error
		t := ts + int64(k)
		if ref, err = app.Append(ref, ls, 0, t, float64(t), nil, nil, storage.AOptions{}); err != nil {
			app.Rollback()
			return err
		}
	}
	return app.Commit()
}

// concRead reads every sample of concMetric through w's storage, by
// writer. A series of another workspace is an error.
func concRead(ctx context.Context, w *Workspace) (map[string]map[int64]float64, error) {
	q, err := w.Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	return concReadSet(w.ID(), q.Select(ctx, true, nil, labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, concMetric)))
}

func concReadSet(id string, ss storage.SeriesSet) (map[string]map[int64]float64, error) {
	got := map[string]map[int64]float64{}
	for ss.Next() {
		ls := ss.At().Labels()
		if ws := ls.Get("ws"); ws != id {
			return nil, fmt.Errorf("workspace %s has a series of workspace %s: %s", id, ws, ls)
		}
		s := map[int64]float64{}
		it := ss.At().Iterator(nil)
		for it.Next() == chunkenc.ValFloat {
			ts, v := it.At()
			s[ts] = v
		}
		if err := it.Err(); err != nil {
			return nil, err
		}
		got[ls.Get("writer")] = s
	}
	return got, ss.Err()
}

// concMissing says which samples of want are not in got, or have another
// value; empty if none.
func concMissing(want, got map[string]map[int64]float64) string {
	var b strings.Builder
	for writer, s := range want {
		n, first := 0, int64(math.MaxInt64)
		for ts, v := range s {
			if gv, ok := got[writer][ts]; !ok || gv != v {
				n++
				first = min(first, ts)
			}
		}
		if n > 0 {
			fmt.Fprintf(&b, "writer %s: %d of %d committed samples missing (first at %d); ", writer, n, len(s), first)
		}
	}
	return b.String()
}

// concPool is the workspaces of TestConcurrentWorkspaces that other goroutines
// pick from: live ones, and deleted ones that stay as targets.
type concPool struct {
	mtx  sync.Mutex
	all  []*Workspace
	live []*Workspace
	// shared are never deleted while the goroutines run.
	shared map[string]bool
}

func (p *concPool) add(w *Workspace, shared bool) {
	p.mtx.Lock()
	defer p.mtx.Unlock()
	p.all = append(p.all, w)
	p.live = append(p.live, w)
	if shared {
		if p.shared == nil {
			p.shared = map[string]bool{}
		}
		p.shared[w.ID()] = true
	}
}

// deleting takes w out of the live workspaces, before it is deleted.
func (p *concPool) deleting(w *Workspace) {
	p.mtx.Lock()
	defer p.mtx.Unlock()
	p.live = slices.DeleteFunc(p.live, func(l *Workspace) bool { return l == w })
}

// pick returns a workspace, mostly a live one.
func (p *concPool) pick(rng *rand.Rand) (w *Workspace, shared bool) {
	p.mtx.Lock()
	defer p.mtx.Unlock()
	from := p.live
	if rng.IntN(4) == 0 {
		from = p.all
	}
	w = from[rng.IntN(len(from))]
	return w, p.shared[w.ID()]
}

func (p *concPool) created() []string {
	p.mtx.Lock()
	defer p.mtx.Unlock()
	ids := make([]string, len(p.all))
	for i, w := range p.all {
		ids[i] = w.ID()
	}
	return ids
}

// concNotFoundOr fails unless err is nil or wraps ErrNotFound (or, when
// conflict, ErrConflict).
func concNotFoundOr(t *testing.T, what string, err error, conflict bool) {
	t.Helper()
	if err != nil && !errors.Is(err, ErrNotFound) && !(conflict && errors.Is(err, ErrConflict)) {
		t.Errorf("%s: %v, want success or ErrNotFound", what, err)
	}
}

// concWithin runs f and fails the test, with every goroutine's stack, if it
// does not return within d.
func concWithin(t *testing.T, d time.Duration, what string, f func()) {
	t.Helper()
	done := make(chan struct{})
	go func() {
		defer close(done)
		f()
	}()
	select {
	case <-done:
	case <-time.After(d):
		pprof.Lookup("goroutine").WriteTo(os.Stderr, 2)
		t.Fatalf("%s did not return within %v: deadlock? (goroutines dumped above)", what, d)
	}
}

// concWaitForCloser returns once a deletion or Close waits to close w.
func concWaitForCloser(w *Workspace) {
	for {
		w.holds.mtx.Lock()
		waiting := w.holds.closed != nil
		w.holds.mtx.Unlock()
		if waiting {
			return
		}
		time.Sleep(100 * time.Microsecond)
	}
}

// concGuard reports a panic of the goroutine it is deferred in as a failure.
func concGuard(t *testing.T) {
	if p := recover(); p != nil {
		t.Errorf("panic: %v\n%s", p, debug.Stack())
	}
}

// concCheckShared fails unless every sample committed to the pool's shared
// workspaces reads back through r; when names the moment in the messages.
func concCheckShared(t *testing.T, r *Registry, p *concPool, led *concLedger, when string) {
	t.Helper()
	ctx := context.Background()
	for _, id := range p.created() {
		if !p.shared[id] {
			continue
		}
		w, release, err := r.Resolve(ctx, "", id)
		if err != nil {
			t.Fatalf("resolve shared %s%s: %v", id, when, err)
		}
		want := led.snapshot(id)
		if got, err := concRead(ctx, w); err != nil {
			t.Errorf("query shared %s%s: %v", id, when, err)
		} else if m := concMissing(want, got); m != "" {
			t.Errorf("shared %s%s: %s", id, when, m)
		}
		release()
	}
}

// concNoGoroutinesLeft fails, with every goroutine's stack, if more than
// base goroutines are still running ten seconds from now.
func concNoGoroutinesLeft(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > base && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > base {
		pprof.Lookup("goroutine").WriteTo(os.Stderr, 1)
		t.Errorf("%d goroutines after Close, %d before the test (dumped above)", n, base)
	}
}

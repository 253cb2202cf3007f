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
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
)

// concComponentName names the component of TestConcurrentWorkspaces.
const concComponentName = "concurrency-recorder"

// concRecorder is a component that records, for every instance it opens, its
// configurations, its uses and its Close, and every breach of the
// Component contract it sees.
type concRecorder struct {
	mtx       sync.Mutex
	instances []*concInstance
	opens     map[string]int
	breaches  []string
}

func newConcRecorder() *concRecorder { return &concRecorder{opens: map[string]int{}} }

func (rc *concRecorder) breach(format string, args ...any) {
	rc.mtx.Lock()
	rc.breaches = append(rc.breaches, fmt.Sprintf(format, args...))
	rc.mtx.Unlock()
}

func (rc *concRecorder) component() Component {
	return NewComponent(concComponentName, func(_ context.Context, w *Workspace) (Instance, error) {
		if w.DB() == nil {
			rc.breach("%s: component opened before its TSDB", w.ID())
		}
		inst := &concInstance{rc: rc, w: w}
		rc.mtx.Lock()
		rc.instances = append(rc.instances, inst)
		rc.opens[w.ID()]++
		rc.mtx.Unlock()
		return inst, nil
	})
}

// check reports every breach, and every instance not closed exactly once;
// created lists the workspaces that must have been opened once each.
func (rc *concRecorder) check(t *testing.T, created []string) {
	t.Helper()
	rc.mtx.Lock()
	defer rc.mtx.Unlock()
	for _, b := range rc.breaches {
		t.Error(b)
	}
	for _, inst := range rc.instances {
		inst.mtx.Lock()
		if inst.closes != 1 {
			t.Errorf("%s: component closed %d times, want 1", inst.w.ID(), inst.closes)
		}
		inst.mtx.Unlock()
	}
	for _, id := range created {
		if n := rc.opens[id]; n != 1 {
			t.Errorf("%s: component opened %d times, want 1", id, n)
		}
	}
}

type concInstance struct {
	rc *concRecorder
	w  *Workspace

	mtx      sync.Mutex
	applying bool
	applies  int
	last     Configuration
	inUse    int
	closes   int
}

func (i *concInstance) ApplyConfig(c Configuration) error {
	i.mtx.Lock()
	if i.applying {
		i.rc.breach("%s: overlapping ApplyConfig calls", i.w.ID())
	}
	if i.closes > 0 {
		i.rc.breach("%s: ApplyConfig after Close", i.w.ID())
	}
	i.applying = true
	i.mtx.Unlock()
	// Leaves room for an overlapping call to show.
	runtime.Gosched()
	i.mtx.Lock()
	i.applying = false
	i.applies++
	i.last = c
	i.mtx.Unlock()
	return nil
}

// lastConfig returns the configuration applied last.
func (i *concInstance) lastConfig() Configuration {
	i.mtx.Lock()
	defer i.mtx.Unlock()
	return i.last
}

// begin and end bracket a use of the instance by a holder of its workspace.
func (i *concInstance) begin() {
	i.mtx.Lock()
	defer i.mtx.Unlock()
	if i.closes > 0 {
		i.rc.breach("%s: component used after Close", i.w.ID())
	}
	if i.applies == 0 {
		i.rc.breach("%s: component used before any ApplyConfig", i.w.ID())
	}
	i.inUse++
}

func (i *concInstance) end() {
	i.mtx.Lock()
	i.inUse--
	i.mtx.Unlock()
}

func (i *concInstance) closed() bool {
	i.mtx.Lock()
	defer i.mtx.Unlock()
	return i.closes > 0
}

func (i *concInstance) Close() error {
	// Nothing holds the workspace any more, and nothing can.
	if release, ok := i.w.Acquire(); ok {
		release()
		i.rc.breach("%s: workspace could be acquired while its component closed", i.w.ID())
	}
	app := i.w.AppenderV2(context.Background())
	if _, err := app.Append(0, labels.FromStrings(model.MetricNameLabel, "late"), 0, 1, 1, nil, nil, storage.AOptions{}); !errors.Is(err, ErrNotFound) {
		i.rc.breach("%s: append while its component closed: %v, want ErrNotFound", i.w.ID(), err)
	}
	app.Rollback()
	if i.w.DB() == nil {
		i.rc.breach("%s: component closed without a TSDB", i.w.ID())
	}
	i.mtx.Lock()
	defer i.mtx.Unlock()
	if i.inUse != 0 {
		i.rc.breach("%s: component closed while %d holders use it", i.w.ID(), i.inUse)
	}
	if i.applying {
		i.rc.breach("%s: component closed during ApplyConfig", i.w.ID())
	}
	i.closes++
	return nil
}

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
			fmt.Fprintf(&b, "writer %s: %d of %d committed samples concMissing (first at %d); ", writer, n, len(s), first)
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
		t.Fatalf("%s did not return concWithin %v: deadlock? (goroutines dumped above)", what, d)
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

// TestConcurrentWorkspaces creates, writes, queries, reconfigures and
// deletes workspaces from several goroutines while others resolve, write
// and query the same and other workspaces, one flushes metadata, and the
// registry is closed at the end: no race, no deadlock, no panic, no
// committed sample lost, each component instance closed once after its
// last use.
func TestConcurrentWorkspaces(t *testing.T) {
	owners, cycles, others, perCommit := 4, 4, 4, 5
	if testing.Short() {
		owners, cycles, others = 2, 2, 2
	}
	baseGoroutines := runtime.NumGoroutine()
	ctx := context.Background()
	dir := t.TempDir()
	rc := newConcRecorder()
	opts := testOptions(t, dir)
	opts.MaxWorkspaces = 1000
	// The periodic flush runs alongside FlushMetadata, and stops on Close.
	opts.MetadataFlushInterval = 5 * time.Millisecond
	opts.Components = []Component{rc.component()}
	r, err := Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	closed := false
	t.Cleanup(func() {
		if !closed {
			r.Close()
		}
	})

	var (
		led   concLedger
		p     concPool
		stop  = make(chan struct{})
		base  = time.Now().UnixMilli()
		stats struct{ appends, appendsRefused, queries, queriesRefused, resolves, resolvesRefused atomic.Int64 }
	)
	// Shared workspaces live throughout; each goroutine's samples have
	// timestamps of its own counter, so that each series is in order.
	for range 2 {
		w, err := r.Create(ctx, CreateInput{Alias: "shared"})
		if err != nil {
			t.Fatal(err)
		}
		p.add(w, true)
	}

	var owning, meddling sync.WaitGroup
	for g := range owners {
		owning.Add(1)
		go func() {
			defer owning.Done()
			defer concGuard(t)
			writer := fmt.Sprintf("owner-%d", g)
			rng := rand.New(rand.NewPCG(uint64(g), 0))
			ts := base
			for c := range cycles {
				alias := fmt.Sprintf("owner-%d-%d", g, c)
				w, err := r.Create(ctx, CreateInput{Alias: alias, Tags: map[string]string{"owner": writer}})
				if err != nil {
					t.Errorf("create: %v", err)
					return
				}
				p.add(w, false)

				// One deleted while it is being created: its TSDB and
				// component open, then close, in the background.
				doomed, err := r.Create(ctx, CreateInput{Alias: alias + "-doomed"})
				if err != nil {
					t.Errorf("create: %v", err)
					return
				}
				p.add(doomed, false)
				p.deleting(doomed)
				if err := r.Delete(ctx, doomed.ID()); err != nil {
					t.Errorf("delete %s while creating: %v", doomed.ID(), err)
				}
				if _, _, err := r.Resolve(ctx, "", doomed.ID()); !errors.Is(err, ErrNotFound) {
					t.Errorf("resolve %s, deleted while creating: %v, want ErrNotFound", doomed.ID(), err)
				}

				if got, err := r.Get(ctx, w.ID()); err != nil || got != w {
					t.Errorf("get %s: %v, %v", w.ID(), got, err)
					return
				}
				held, release, err := r.Resolve(ctx, "", alias)
				if err != nil || held != w {
					t.Errorf("resolve %s by alias %q: %v, %v", w.ID(), alias, held, err)
					return
				}
				inst, ok := InstanceOf[*concInstance](held, concComponentName)
				if !ok {
					t.Errorf("%s: no recorder instance while held", w.ID())
					release()
					return
				}
				inst.begin()
				for range 3 {
					if err := concAppend(ctx, held, writer, ts, perCommit); err != nil {
						t.Errorf("append to %s: %v", w.ID(), err)
					} else {
						led.record(w.ID(), writer, ts, perCommit)
					}
					ts += int64(perCommit)
				}
				want := led.snapshot(w.ID())
				if got, err := concRead(ctx, held); err != nil {
					t.Errorf("query %s: %v", w.ID(), err)
				} else if m := concMissing(want, got); m != "" {
					t.Errorf("%s, while held: %s", w.ID(), m)
				}
				inst.end()
				release()

				days := 30 + g*10 + c
				if _, err := r.UpdateConfiguration(ctx, UpdateConfigurationInput{ID: w.ID(), RetentionPeriodInDays: &days}); err != nil {
					t.Errorf("update configuration of %s: %v", w.ID(), err)
				} else if got, want := inst.lastConfig().Retention, time.Duration(days)*24*time.Hour; got != want {
					t.Errorf("%s: component has retention %v, want %v", w.ID(), got, want)
				}

				// An appender and a querier opened before the deletion
				// keep the TSDB and the component open until done.
				app := w.AppenderV2(ctx)
				ls := labels.FromStrings(model.MetricNameLabel, concMetric, "ws", w.ID(), "writer", writer)
				if _, err := app.Append(0, ls, 0, ts, float64(ts), nil, nil, storage.AOptions{}); err != nil {
					t.Errorf("append to %s: %v", w.ID(), err)
				}
				// What the querier must see: the samples committed before
				// it opened (those committed after are isolated from it).
				wantQ := led.snapshot(w.ID())
				q, qerr := w.Querier(math.MinInt64, math.MaxInt64)
				if qerr != nil {
					t.Errorf("querier of %s: %v", w.ID(), qerr)
				}
				want = led.snapshot(w.ID())
				if got, err := concRead(ctx, w); err != nil {
					t.Errorf("query %s: %v", w.ID(), err)
				} else if m := concMissing(want, got); m != "" {
					t.Errorf("%s, before delete: %s", w.ID(), m)
				}
				// Left to the others a moment, so that the deletion meets
				// their requests.
				time.Sleep(time.Duration(rng.IntN(3000)) * time.Microsecond)
				p.deleting(w)
				if err := r.Delete(ctx, w.ID()); err != nil {
					t.Errorf("delete %s: %v", w.ID(), err)
				}
				if _, err := r.Get(ctx, w.ID()); !errors.Is(err, ErrNotFound) {
					t.Errorf("get %s after delete: %v, want ErrNotFound", w.ID(), err)
				}
				if _, _, err := r.Resolve(ctx, "", w.ID()); !errors.Is(err, ErrNotFound) {
					t.Errorf("resolve %s after delete: %v, want ErrNotFound", w.ID(), err)
				}
				// The storage refuses its appenders and queriers from now
				// on, but for the requests of others that still hold it.
				concNotFoundOr(t, "append to "+w.ID()+" after delete", concAppend(ctx, w, writer, ts+1, 1), false)
				if q, err := w.Querier(math.MinInt64, math.MaxInt64); err == nil {
					q.Close()
				} else {
					concNotFoundOr(t, "querier of "+w.ID()+" after delete", err, false)
				}
				if inst.closed() {
					t.Errorf("%s: component closed under an open appender", w.ID())
				}
				if qerr == nil {
					got, err := concReadSet(w.ID(), q.Select(ctx, true, nil, labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, concMetric)))
					if err != nil {
						t.Errorf("query %s through a querier opened before delete: %v", w.ID(), err)
					} else if m := concMissing(wantQ, got); m != "" {
						t.Errorf("%s, querier opened before delete: %s", w.ID(), m)
					}
					q.Close()
				}
				// The deletion waits for the appender, which commits as
				// if there were none.
				concWaitForCloser(w)
				if inst.closed() {
					t.Errorf("%s: component closed under an open appender", w.ID())
				}
				if err := app.Commit(); err != nil {
					t.Errorf("commit to %s of an appender opened before delete: %v", w.ID(), err)
				}
				ts += 2
			}
		}()
	}

	for o := range others {
		meddling.Add(1)
		go func() {
			defer meddling.Done()
			defer concGuard(t)
			rng := rand.New(rand.NewPCG(uint64(o), 1))
			writer := fmt.Sprintf("other-%d", o)
			ts := base
			for {
				select {
				case <-stop:
					return
				default:
				}
				w, shared := p.pick(rng)
				switch rng.IntN(5) {
				case 0, 1:
					// A request: resolve, use, write, read, release.
					by := w.ID()
					if rng.IntN(2) == 0 && !shared {
						by = w.Alias()
					}
					stats.resolves.Add(1)
					held, release, err := r.Resolve(ctx, "", by)
					if err != nil {
						stats.resolvesRefused.Add(1)
						if shared {
							t.Errorf("resolve shared %s: %v", w.ID(), err)
						}
						concNotFoundOr(t, "resolve "+by, err, false)
						continue
					}
					if held != w {
						t.Errorf("resolve %s: got workspace %s", by, held.ID())
					}
					inst, ok := InstanceOf[*concInstance](held, concComponentName)
					if !ok {
						t.Errorf("%s: no recorder instance while held", held.ID())
						release()
						continue
					}
					inst.begin()
					// Held a while, so that deletions meet holders: the
					// workspace's storage serves them all the same.
					time.Sleep(time.Duration(rng.IntN(2000)) * time.Microsecond)
					held.Metadata().Set(concMetric, metadata.Metadata{Type: model.MetricTypeGauge, Help: writer})
					stats.appends.Add(1)
					if err := concAppend(ctx, held, writer, ts, perCommit); err != nil {
						t.Errorf("append to held %s: %v", held.ID(), err)
					} else {
						led.record(held.ID(), writer, ts, perCommit)
					}
					ts += int64(perCommit)
					stats.queries.Add(1)
					want := led.snapshot(held.ID())
					if got, err := concRead(ctx, held); err != nil {
						t.Errorf("query held %s: %v", held.ID(), err)
					} else if m := concMissing(want, got); m != "" {
						t.Errorf("held %s: %s", held.ID(), m)
					}
					if _, ok := InstanceOf[*concInstance](held, concComponentName); !ok {
						t.Errorf("%s: recorder instance gone while held", held.ID())
					}
					inst.end()
					release()
				case 2:
					// The workspace's storage, unheld, as Prometheus' engine
					// or rules manager uses it.
					stats.appends.Add(1)
					err := concAppend(ctx, w, writer, ts, perCommit)
					if err == nil {
						led.record(w.ID(), writer, ts, perCommit)
					} else {
						stats.appendsRefused.Add(1)
					}
					concNotFoundOr(t, "append to "+w.ID(), err, false)
					ts += int64(perCommit)
				case 3:
					stats.queries.Add(1)
					_, err := concRead(ctx, w)
					if err != nil {
						stats.queriesRefused.Add(1)
					}
					concNotFoundOr(t, "query "+w.ID(), err, false)
					if cq, err := w.ChunkQuerier(math.MinInt64, math.MaxInt64); err == nil {
						cs := cq.Select(ctx, false, nil, labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, concMetric))
						for cs.Next() {
						}
						concNotFoundOr(t, "chunk query "+w.ID(), cs.Err(), false)
						cq.Close()
					} else {
						concNotFoundOr(t, "chunk querier of "+w.ID(), err, false)
					}
					if eq, err := w.ExemplarQuerier(ctx); err == nil {
						_, err := eq.Select(math.MinInt64, math.MaxInt64, []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, concMetric)})
						concNotFoundOr(t, "exemplar query "+w.ID(), err, false)
					} else {
						concNotFoundOr(t, "exemplar querier of "+w.ID(), err, false)
					}
				case 4:
					// Only the owner reconfigures its workspaces; shared ones
					// are anyone's. One of a deleted workspace is refused.
					if !shared {
						continue
					}
					window := 60 + rng.IntN(60)
					_, err := r.UpdateConfiguration(ctx, UpdateConfigurationInput{ID: w.ID(), OutOfOrderTimeWindowInSeconds: &window})
					concNotFoundOr(t, "update configuration of "+w.ID(), err, true)
				}
			}
		}()
	}

	meddling.Add(1)
	go func() {
		defer meddling.Done()
		defer concGuard(t)
		for {
			select {
			case <-stop:
				return
			default:
			}
			if err := r.FlushMetadata(ctx); err != nil {
				t.Errorf("flush metadata: %v", err)
			}
			time.Sleep(time.Millisecond)
		}
	}()

	concWithin(t, 2*time.Minute, "the owners' create-write-query-delete cycles", owning.Wait)
	close(stop)
	concWithin(t, time.Minute, "the other goroutines", meddling.Wait)

	// Every committed sample of the shared workspaces is there.
	for _, id := range p.created() {
		if !p.shared[id] {
			continue
		}
		w, release, err := r.Resolve(ctx, "", id)
		if err != nil {
			t.Fatalf("resolve shared %s: %v", id, err)
		}
		want := led.snapshot(id)
		if got, err := concRead(ctx, w); err != nil {
			t.Errorf("query shared %s: %v", id, err)
		} else if m := concMissing(want, got); m != "" {
			t.Errorf("shared %s: %s", id, m)
		}
		release()
	}

	// Close with requests still holding a shared workspace, released
	// from another goroutine: Close waits for them and then returns.
	held, release, err := r.Resolve(ctx, "", p.created()[0])
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		time.Sleep(50 * time.Millisecond)
		release()
	}()
	concWithin(t, time.Minute, "Registry.Close", func() {
		if err := r.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	closed = true
	if err := concAppend(ctx, held, "late", base, 1); !errors.Is(err, ErrNotFound) {
		t.Errorf("append after Close: %v, want ErrNotFound", err)
	}
	if _, err := held.Querier(math.MinInt64, math.MaxInt64); !errors.Is(err, ErrNotFound) {
		t.Errorf("querier after Close: %v, want ErrNotFound", err)
	}
	if _, _, err := r.Resolve(ctx, "", held.ID()); !errors.Is(err, ErrClosed) {
		t.Errorf("resolve after Close: %v, want ErrClosed", err)
	}
	rc.check(t, p.created())
	t.Logf("%d workspaces; %d appends (%d refused), %d queries (%d refused), %d resolves (%d refused) by the other goroutines",
		len(p.created()), stats.appends.Load(), stats.appendsRefused.Load(), stats.queries.Load(), stats.queriesRefused.Load(), stats.resolves.Load(), stats.resolvesRefused.Load())

	// Nothing is left running: not the periodic flush, the TSDBs'
	// goroutines or a deletion.
	deadline := time.Now().Add(10 * time.Second)
	for runtime.NumGoroutine() > baseGoroutines && time.Now().Before(deadline) {
		time.Sleep(10 * time.Millisecond)
	}
	if n := runtime.NumGoroutine(); n > baseGoroutines {
		pprof.Lookup("goroutine").WriteTo(os.Stderr, 1)
		t.Errorf("%d goroutines after Close, %d before the test (dumped above)", n, baseGoroutines)
	}

	// Reopened, the registry has the shared workspaces with every
	// committed sample, and none of the deleted ones.
	rc2 := newConcRecorder()
	opts.Components = []Component{rc2.component()}
	r2 := openRegistry(t, opts)
	for _, id := range p.created() {
		if !p.shared[id] {
			if _, err := r2.Describe(ctx, id); !errors.Is(err, ErrNotFound) {
				t.Errorf("deleted %s after reopening: %v, want ErrNotFound", id, err)
			}
			if _, err := os.Stat(r2.dir(id)); !errors.Is(err, os.ErrNotExist) {
				t.Errorf("deleted %s has its directory after reopening: %v", id, err)
			}
			continue
		}
		w, release, err := r2.Resolve(ctx, "", id)
		if err != nil {
			t.Fatalf("resolve shared %s after reopening: %v", id, err)
		}
		want := led.snapshot(id)
		if got, err := concRead(ctx, w); err != nil {
			t.Errorf("query shared %s after reopening: %v", id, err)
		} else if m := concMissing(want, got); m != "" {
			t.Errorf("shared %s after reopening: %s", id, m)
		}
		release()
	}
	concWithin(t, time.Minute, "closing the reopened registry", func() {
		if err := r2.Close(); err != nil {
			t.Errorf("close reopened: %v", err)
		}
	})
	rc2.check(t, nil)
}

// TestHeldWorkspaceStorage: a request that holds a workspace (Resolve) can
// open appenders and queriers of it after its deletion or the registry's
// Close started, as the query API and the ingest endpoint do while serving
// it; other users of the storage are refused at once, even while another
// appender is open.
func TestHeldWorkspaceStorage(t *testing.T) {
	ctx := context.Background()
	works := func(t *testing.T, w *Workspace, writer string, ts int64) {
		t.Helper()
		if err := concAppend(ctx, w, writer, ts, 3); err != nil {
			t.Fatalf("append to the held workspace: %v", err)
		}
		got, err := concRead(ctx, w)
		if err != nil {
			t.Fatalf("query the held workspace: %v", err)
		}
		if m := concMissing(map[string]map[int64]float64{writer: {ts: float64(ts), ts + 1: float64(ts + 1), ts + 2: float64(ts + 2)}}, got); m != "" {
			t.Error(m)
		}
		cq, err := w.ChunkQuerier(math.MinInt64, math.MaxInt64)
		if err != nil {
			t.Fatalf("chunk querier of the held workspace: %v", err)
		}
		cq.Close()
		eq, err := w.ExemplarQuerier(ctx)
		if err == nil {
			_, err = eq.Select(math.MinInt64, math.MaxInt64, []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, concMetric)})
		}
		if err != nil {
			t.Fatalf("exemplar query of the held workspace: %v", err)
		}
	}
	refused := func(t *testing.T, w *Workspace) {
		t.Helper()
		if err := concAppend(ctx, w, "refused", 1, 1); !errors.Is(err, ErrNotFound) {
			t.Errorf("append: %v, want ErrNotFound", err)
		}
		if _, err := w.Querier(math.MinInt64, math.MaxInt64); !errors.Is(err, ErrNotFound) {
			t.Errorf("querier: %v, want ErrNotFound", err)
		}
		if _, err := w.ChunkQuerier(math.MinInt64, math.MaxInt64); !errors.Is(err, ErrNotFound) {
			t.Errorf("chunk querier: %v, want ErrNotFound", err)
		}
		if _, err := w.ExemplarQuerier(ctx); !errors.Is(err, ErrNotFound) {
			t.Errorf("exemplar querier: %v, want ErrNotFound", err)
		}
	}

	t.Run("delete", func(t *testing.T) {
		r := openRegistry(t, testOptions(t, t.TempDir()))
		w := createActive(t, r, CreateInput{})
		held, release, err := r.Resolve(ctx, "", w.ID())
		if err != nil {
			t.Fatal(err)
		}
		// Released before the registry closes, should the test fail.
		t.Cleanup(release)
		if err := r.Delete(ctx, w.ID()); err != nil {
			t.Fatal(err)
		}
		concWaitForCloser(w)
		works(t, held, "request", 1000)
		release()
		refused(t, w)
	})

	t.Run("close", func(t *testing.T) {
		r := openRegistry(t, testOptions(t, t.TempDir()))
		w := createActive(t, r, CreateInput{})
		held, release, err := r.Resolve(ctx, "", w.ID())
		if err != nil {
			t.Fatal(err)
		}
		// Released before the registry closes, should the test fail.
		t.Cleanup(release)
		closed := make(chan error, 1)
		go func() { closed <- r.Close() }()
		concWaitForCloser(w)
		works(t, held, "request", 1000)
		select {
		case err := <-closed:
			t.Fatalf("Close returned under a request: %v", err)
		default:
		}
		release()
		concWithin(t, time.Minute, "Registry.Close", func() {
			if err := <-closed; err != nil {
				t.Error(err)
			}
		})
		refused(t, w)
	})

	t.Run("unheld", func(t *testing.T) {
		// Only a request's hold lets appenders and queriers through: an
		// appender opened before the deletion holds the TSDB open until
		// it commits, but lets no other through meanwhile.
		r := openRegistry(t, testOptions(t, t.TempDir()))
		w := createActive(t, r, CreateInput{})
		app := w.AppenderV2(ctx)
		t.Cleanup(func() { app.Rollback() })
		ls := labels.FromStrings(model.MetricNameLabel, concMetric, "ws", w.ID(), "writer", "early")
		if _, err := app.Append(0, ls, 0, 1, 1, nil, nil, storage.AOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := r.Delete(ctx, w.ID()); err != nil {
			t.Fatal(err)
		}
		concWaitForCloser(w)
		refused(t, w)
		if err := app.Commit(); err != nil {
			t.Errorf("commit of an appender opened before the deletion: %v", err)
		}
		refused(t, w)
	})
}

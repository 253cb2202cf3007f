package workspace

import (
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"os"
	"runtime"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/storage"
)

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
	concCheckShared(t, r, &p, &led, "")

	// Close with requests still holding a shared workspace, released
	// from another goroutine once Close waits for them: Close then returns.
	held, release, err := r.Resolve(ctx, "", p.created()[0])
	if err != nil {
		t.Fatal(err)
	}
	go func() {
		concWaitForCloser(held)
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
	concNoGoroutinesLeft(t, baseGoroutines)

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
		}
	}
	concCheckShared(t, r2, &p, &led, " after reopening")
	concWithin(t, time.Minute, "closing the reopened registry", func() {
		if err := r2.Close(); err != nil {
			t.Errorf("close reopened: %v", err)
		}
	})
	rc2.check(t, nil)
}

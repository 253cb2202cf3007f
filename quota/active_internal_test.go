package quota

import (
	"strconv"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/promspace/promspace/workspace"
)

// TestSeriesTableCollisions: series whose hashes are equal are told apart
// by their labels, across growth and purges.
func TestSeriesTableCollisions(t *testing.T) {
	var tb seriesTable
	const h = 42 << activeShardBits
	ls := func(i int) labels.Labels { return labels.FromStrings("__name__", "m", "i", strconv.Itoa(i)) }
	for i := range 100 {
		tb.insert(activeSlot{hash: h, state: packState(int64(i), 0), lset: ls(i)})
	}
	for i := range 100 {
		if s := tb.find(h, ls(i)); s == nil || s.seen() != int64(i) {
			t.Fatalf("series %d: %v", i, s)
		}
	}
	tb.removeIf(func(s *activeSlot) bool { return s.seen()%2 == 0 })
	for i := range 100 {
		if found := tb.find(h, ls(i)) != nil; found != (i%2 == 1) {
			t.Errorf("series %d found %v after the purge of even ones", i, found)
		}
	}
	if tb.n != 50 || tb.find(h+1, ls(1)) != nil {
		t.Errorf("%d series, or a series found under another hash", tb.n)
	}
}

// TestConcurrentAdmission: series created at once by many goroutines are
// admitted up to each limit exactly, never one more.
func TestConcurrentAdmission(t *testing.T) {
	api := labels.FromStrings("job", "api")
	for _, c := range []struct {
		name    string
		lim     limitsFor
		sets    []workspace.LabelSetLimit
		metrics []string
		want    int64
	}{
		{"per-user", limitsFor{maxSeries: 400}, nil, []string{"a", "b", "c"}, 400},
		{"per-metric", limitsFor{maxPerMetric: 300}, nil, []string{"a"}, 300},
		{"per-labelset", limitsFor{}, []workspace.LabelSetLimit{{LabelSet: api, MaxSeries: 150}}, []string{"a", "b"}, 150},
	} {
		t.Run(c.name, func(t *testing.T) {
			a := newActiveSeries()
			a.setLabelSets(c.sets)
			var admitted atomic.Int64
			var wg sync.WaitGroup
			for g := range 8 {
				wg.Go(func() {
					for i := range 100 {
						for _, name := range c.metrics {
							lset := labels.FromStrings("__name__", name, "g", strconv.Itoa(g), "i", strconv.Itoa(i), "job", "api")
							if a.add(slotHash(seriesHash(lset)), lset, 1000, c.lim, false, 1).reason == "" {
								admitted.Add(1)
							}
						}
					}
				})
			}
			wg.Wait()
			if n := admitted.Load(); n != c.want || a.total.Load() != c.want {
				t.Errorf("%d series admitted, %d counted, want %d", n, a.total.Load(), c.want)
			}
			if c.sets != nil && a.labelSetUsage()[0].ActiveSeries != c.want {
				t.Errorf("label set counts %d, want %d", a.labelSetUsage()[0].ActiveSeries, c.want)
			}
			a.purge(2000 * 1000)
			if name, n := a.largestMetric(); a.total.Load() != 0 || n != 0 || name != "" {
				t.Errorf("after purging all: %d series, largest metric %q with %d", a.total.Load(), name, n)
			}
			if c.sets != nil && a.labelSetUsage()[0].ActiveSeries != 0 {
				t.Errorf("after purging all: %d series of the label set", a.labelSetUsage()[0].ActiveSeries)
			}
		})
	}
}

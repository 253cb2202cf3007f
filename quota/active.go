package quota

import (
	"sync"
	"sync/atomic"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/promspace/promspace/workspace"
)

// activeShards is the number of shards of a workspace's active series, a
// power of two: requests of one workspace contend on a shard only when
// they create series in it.
const activeShards = 128

// activeSeries is the exact set of a workspace's active series, with their
// counts in total, per metric name and per configured label set. A series
// is counted from its creation until a purge forgets it; a count is
// reserved with an atomic add before a series is inserted, so that
// concurrent creations never take more than a limit allows.
//
// Locks, in the order they are taken: the series shards (ascending), then
// a metric shard. The label-set counts are replaced only with every series
// shard held, and read with one held, so a series is counted in the label
// sets of the counts it was inserted or purged with.
type activeSeries struct {
	total   atomic.Int64
	shards  [activeShards]seriesShard
	metrics [activeShards]metricShard
	sets    atomic.Pointer[labelSetCounts]
}

type seriesShard struct {
	mtx    sync.RWMutex
	series map[uint64]*activeEntry // by labels.Labels.Hash
	_      [32]byte                // keeps neighbouring locks off one cache line
}

type metricShard struct {
	mtx    sync.Mutex
	counts map[string]int64
	_      [48]byte
}

// activeEntry is one active series. lastSeen is in milliseconds of the
// Quota's clock; purgedSeen marks an entry that a purge removed, so that a
// request that found it before cannot bring it back unseen.
type activeEntry struct {
	lset     labels.Labels
	lastSeen atomic.Int64
	// checked is the generation of the label limits the series was last
	// checked against (see ingestConfig.gen).
	checked atomic.Uint64
	next    *activeEntry // same hash, other labels
}

const purgedSeen = -1 << 63

// labelSetCounts are the active series of each label set of a
// configuration.
type labelSetCounts struct {
	limits []workspace.LabelSetLimit
	counts []atomic.Int64
}

func newActiveSeries() *activeSeries {
	a := &activeSeries{}
	for i := range a.shards {
		a.shards[i].series = map[uint64]*activeEntry{}
		a.metrics[i].counts = map[string]int64{}
	}
	a.sets.Store(&labelSetCounts{})
	return a
}

func (a *activeSeries) shard(h uint64) *seriesShard { return &a.shards[h&(activeShards-1)] }

func (a *activeSeries) metricShard(name string) *metricShard {
	// FNV-1a: the metric name's own hash, independent of the series'.
	h := uint32(2166136261)
	for i := 0; i < len(name); i++ {
		h = (h ^ uint32(name[i])) * 16777619
	}
	return &a.metrics[h&(activeShards-1)]
}

// get returns the entry of lset, nil if it is not active.
func (a *activeSeries) get(h uint64, lset labels.Labels) *activeEntry {
	s := a.shard(h)
	s.mtx.RLock()
	e := s.series[h]
	for e != nil && !labels.Equal(e.lset, lset) {
		e = e.next
	}
	s.mtx.RUnlock()
	return e
}

// touch records a sample of e at now; false if a purge removed e meanwhile.
func (e *activeEntry) touch(now int64) bool {
	for {
		seen := e.lastSeen.Load()
		switch {
		case seen == purgedSeen:
			return false
		case seen >= now:
			return true
		case e.lastSeen.CompareAndSwap(seen, now):
			return true
		}
	}
}

// seriesLimit says which limit refused a new series: a discard reason, and
// for per_labelset_series_limit the index of the label set.
type seriesLimit struct {
	reason string
	set    int
}

// limitsFor are the series limits a creation checks.
type limitsFor struct {
	maxSeries, maxPerMetric int64
}

// add makes lset active at now if the limits allow one more series, and
// returns the limit that refused it otherwise. A series already active is
// only touched. With force, no limit is checked (a series found in the
// TSDB at open).
func (a *activeSeries) add(h uint64, lset labels.Labels, now int64, lim limitsFor, force bool, gen uint64) (*activeEntry, seriesLimit) {
	s := a.shard(h)
	s.mtx.Lock()
	defer s.mtx.Unlock()
	head := s.series[h]
	for e := head; e != nil; e = e.next {
		if labels.Equal(e.lset, lset) {
			e.touch(now)
			return e, seriesLimit{}
		}
	}

	if n := a.total.Add(1); !force && lim.maxSeries > 0 && n > lim.maxSeries {
		a.total.Add(-1)
		return nil, seriesLimit{reason: ReasonPerUserSeriesLimit}
	}
	name := lset.Get(labels.MetricName)
	ms := a.metricShard(name)
	ms.mtx.Lock()
	if n := ms.counts[name]; !force && lim.maxPerMetric > 0 && n >= lim.maxPerMetric {
		ms.mtx.Unlock()
		a.total.Add(-1)
		return nil, seriesLimit{reason: ReasonPerMetricSeriesLimit}
	}
	ms.counts[name]++
	ms.mtx.Unlock()

	sets := a.sets.Load()
	for i, l := range sets.limits {
		if !matches(lset, l.LabelSet) {
			continue
		}
		if n := sets.counts[i].Add(1); !force && l.MaxSeries > 0 && n > l.MaxSeries {
			// Undo this one and those before it, then the metric and total.
			for j := i; j >= 0; j-- {
				if j == i || matches(lset, sets.limits[j].LabelSet) {
					sets.counts[j].Add(-1)
				}
			}
			a.decMetric(name)
			a.total.Add(-1)
			return nil, seriesLimit{reason: ReasonPerLabelSetSeriesLimit, set: i}
		}
	}

	e := &activeEntry{lset: lset, next: head}
	e.lastSeen.Store(now)
	e.checked.Store(gen)
	s.series[h] = e
	return e, seriesLimit{}
}

func (a *activeSeries) decMetric(name string) {
	ms := a.metricShard(name)
	ms.mtx.Lock()
	if ms.counts[name]--; ms.counts[name] <= 0 {
		delete(ms.counts, name)
	}
	ms.mtx.Unlock()
}

// purge forgets the series last seen before cutoff.
func (a *activeSeries) purge(cutoff int64) {
	for i := range a.shards {
		s := &a.shards[i]
		s.mtx.Lock()
		sets := a.sets.Load()
		for h, head := range s.series {
			kept := head
			var prev *activeEntry
			for e := head; e != nil; e = e.next {
				seen := e.lastSeen.Load()
				if seen >= cutoff || !e.lastSeen.CompareAndSwap(seen, purgedSeen) {
					prev = e
					continue
				}
				if prev == nil {
					kept = e.next
				} else {
					prev.next = e.next
				}
				a.forget(e.lset, sets)
			}
			if kept == nil {
				delete(s.series, h)
			} else if kept != head {
				s.series[h] = kept
			}
		}
		s.mtx.Unlock()
	}
}

// forget uncounts a removed series; its shard is held.
func (a *activeSeries) forget(lset labels.Labels, sets *labelSetCounts) {
	a.total.Add(-1)
	a.decMetric(lset.Get(labels.MetricName))
	for i, l := range sets.limits {
		if matches(lset, l.LabelSet) {
			sets.counts[i].Add(-1)
		}
	}
}

// setLabelSets counts the active series of each of limits, unless they
// are the label sets counted already (their limits may differ).
func (a *activeSeries) setLabelSets(limits []workspace.LabelSetLimit) {
	if old := a.sets.Load(); sameLabelSets(old.limits, limits) {
		// Only the numbers changed: keep the counts, swap the limits.
		if sameLimits(old.limits, limits) {
			return
		}
	}
	for i := range a.shards {
		a.shards[i].mtx.Lock()
	}
	old := a.sets.Load()
	c := &labelSetCounts{limits: limits, counts: make([]atomic.Int64, len(limits))}
	if sameLabelSets(old.limits, limits) {
		for i := range old.counts {
			c.counts[i].Store(old.counts[i].Load())
		}
	} else {
		for i := range a.shards {
			for _, head := range a.shards[i].series {
				for e := head; e != nil; e = e.next {
					for j, l := range limits {
						if matches(e.lset, l.LabelSet) {
							c.counts[j].Add(1)
						}
					}
				}
			}
		}
	}
	a.sets.Store(c)
	for i := range a.shards {
		a.shards[i].mtx.Unlock()
	}
}

func sameLabelSets(a, b []workspace.LabelSetLimit) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if !labels.Equal(a[i].LabelSet, b[i].LabelSet) {
			return false
		}
	}
	return true
}

func sameLimits(a, b []workspace.LabelSetLimit) bool {
	for i := range a {
		if a[i].MaxSeries != b[i].MaxSeries {
			return false
		}
	}
	return true
}

// matches reports whether lset holds every label pair of set.
func matches(lset, set labels.Labels) bool {
	ok := true
	set.Range(func(l labels.Label) {
		if ok && lset.Get(l.Name) != l.Value {
			ok = false
		}
	})
	return ok
}

// largestMetric returns the metric name with the most active series.
func (a *activeSeries) largestMetric() (string, int64) {
	var name string
	var most int64
	for i := range a.metrics {
		ms := &a.metrics[i]
		ms.mtx.Lock()
		for n, c := range ms.counts {
			if c > most || (c == most && n < name) {
				name, most = n, c
			}
		}
		ms.mtx.Unlock()
	}
	return name, most
}

// labelSetUsage returns the active series of each configured label set.
func (a *activeSeries) labelSetUsage() []LabelSetUsage {
	sets := a.sets.Load()
	if len(sets.limits) == 0 {
		return nil
	}
	u := make([]LabelSetUsage, len(sets.limits))
	for i, l := range sets.limits {
		u[i] = LabelSetUsage{LabelSet: l.LabelSet, MaxSeries: l.MaxSeries, ActiveSeries: sets.counts[i].Load()}
	}
	return u
}

package quota

import (
	"strings"
	"sync"
	"sync/atomic"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/promspace/promspace/workspace"
)

// activeShards is the number of shards of a workspace's active series, a
// power of two: requests of one workspace contend on a shard only when
// they create series in it. A series' shard is the low activeShardBits of
// its hash.
const (
	activeShardBits = 7
	activeShards    = 1 << activeShardBits
)

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
	mtx   sync.RWMutex
	table seriesTable
	_     [24]byte // keeps neighbouring locks off one cache line
}

type metricShard struct {
	mtx    sync.Mutex
	counts map[string]int64
	_      [48]byte
}

// labelSetCounts are the active series of each label set of a
// configuration.
type labelSetCounts struct {
	limits []workspace.LabelSetLimit
	counts []atomic.Int64
}

func newActiveSeries() *activeSeries {
	a := &activeSeries{}
	for i := range a.shards {
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

// Times are in milliseconds of the Quota's clock; the table keeps
// seconds.

// prefetch brings the slot of a series of hash h into cache; see
// seriesTable.prefetch.
func (a *activeSeries) prefetch(h uint64) uint64 { return a.shard(h).table.prefetch(h) }

// lookup finds lset and says whether it is active and which label limits
// it last passed.
func (a *activeSeries) lookup(h uint64, lset labels.Labels) (found bool, checked uint32) {
	sh := a.shard(h)
	sh.mtx.RLock()
	if s := sh.table.find(h, lset); s != nil {
		found, checked = true, s.checked()
	}
	sh.mtx.RUnlock()
	return found, checked
}

// see records a sample of lset at now if it is active in sh, whose read
// lock the caller holds, unless its labels break the label limits of cfg,
// which it checks (with check) if they are not those it last passed; it
// returns the limit broken.
func (sh *seriesShard) see(h uint64, lset labels.Labels, now int64, cfg *ingestConfig, check bool) (active bool, violation string) {
	s := sh.table.find(h, lset)
	if s == nil {
		return false, ""
	}
	var gen uint32
	if check && s.checked() != cfg.gen {
		if violation = cfg.labelViolation(lset); violation != "" {
			return true, violation
		}
		gen = cfg.gen
	}
	s.touch(now/1000, gen)
	return true, ""
}

// touch records a sample of lset at now, false if it is not active. gen,
// if not 0, records that its labels passed the label limits of gen.
func (a *activeSeries) touch(h uint64, lset labels.Labels, now int64, gen uint32) bool {
	sh := a.shard(h)
	sh.mtx.RLock()
	s := sh.table.find(h, lset)
	if s != nil {
		s.touch(now/1000, gen)
	}
	sh.mtx.RUnlock()
	return s != nil
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

// add makes lset active at now if the limits allow one more series, its
// labels checked against gen, and returns the limit that refused it
// otherwise. A series already active is only touched. With force, no
// limit is checked (a series found in the TSDB at open). h is
// slotHash(seriesHash(lset)).
func (a *activeSeries) add(h uint64, lset labels.Labels, now int64, lim limitsFor, force bool, gen uint32) seriesLimit {
	sh := a.shard(h)
	sh.mtx.Lock()
	defer sh.mtx.Unlock()
	if s := sh.table.find(h, lset); s != nil {
		s.touch(now/1000, 0)
		return seriesLimit{}
	}

	if n := a.total.Add(1); !force && lim.maxSeries > 0 && n > lim.maxSeries {
		a.total.Add(-1)
		return seriesLimit{reason: ReasonPerUserSeriesLimit}
	}
	name := lset.Get(labels.MetricName)
	ms := a.metricShard(name)
	ms.mtx.Lock()
	if n := ms.counts[name]; !force && lim.maxPerMetric > 0 && n >= lim.maxPerMetric {
		ms.mtx.Unlock()
		a.total.Add(-1)
		return seriesLimit{reason: ReasonPerMetricSeriesLimit}
	}
	if n, ok := ms.counts[name]; ok {
		ms.counts[name] = n + 1
	} else {
		// A copy: name shares its memory with the series' labels.
		ms.counts[strings.Clone(name)] = 1
	}
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
			return seriesLimit{reason: ReasonPerLabelSetSeriesLimit, set: i}
		}
	}
	sh.table.insert(activeSlot{hash: h, state: packState(now/1000, gen), lset: lset})
	return seriesLimit{}
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
	cutoff /= 1000
	for i := range a.shards {
		sh := &a.shards[i]
		sh.mtx.Lock()
		sets := a.sets.Load()
		sh.table.removeIf(func(s *activeSlot) bool {
			if s.seen() >= cutoff {
				return false
			}
			a.forget(s.lset, sets)
			return true
		})
		sh.mtx.Unlock()
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
			slots := a.shards[i].table.slots
			for k := range slots {
				if slots[k].hash == 0 {
					continue
				}
				for j, l := range limits {
					if matches(slots[k].lset, l.LabelSet) {
						c.counts[j].Add(1)
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

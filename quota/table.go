package quota

import (
	"sync/atomic"

	"github.com/prometheus/prometheus/model/labels"
)

// seriesTable is an open-addressing hash table of active series with
// linear probing, the entries in the slots themselves: finding a series
// already active, the steady state of remote write, reads one slot (one
// cache line, usually) instead of a map's group and then an entry
// elsewhere, and 100,000 series take 4 MB. Its shard's lock guards it:
// finds and touches under the read lock, inserts and rebuilds under the
// write lock.
type seriesTable struct {
	slots []activeSlot // a power of two long, at most 4/5 full
	n     int
	// view is slots, for prefetch, which holds no lock; slot hashes are
	// written atomically for it.
	view atomic.Pointer[[]activeSlot]
}

// activeSlot is one active series, or an empty slot (hash 0), in 32
// bytes: two to a cache line. state packs the second (Unix time, on the
// Quota's clock) the series was last seen in its upper 32 bits and the
// generation of the label limits it last passed (see ingestConfig.gen) in
// its lower 32; it changes atomically under the read lock.
type activeSlot struct {
	hash  uint64
	state uint64
	lset  labels.Labels
}

func packState(seen int64, checked uint32) uint64 {
	return uint64(uint32(max(seen, 0)))<<32 | uint64(checked)
}

// seen returns the second s was last seen.
func (s *activeSlot) seen() int64 { return int64(atomic.LoadUint64(&s.state) >> 32) }

// checked returns the generation of label limits s last passed.
func (s *activeSlot) checked() uint32 { return uint32(atomic.LoadUint64(&s.state)) }

// touch records a sample of s at second now and, if checked is not 0,
// that its labels passed the label limits of generation checked.
func (s *activeSlot) touch(now int64, checked uint32) {
	for {
		old := atomic.LoadUint64(&s.state)
		seen, gen := int64(old>>32), uint32(old)
		if checked != 0 {
			gen = checked
		}
		next := packState(max(seen, now), gen)
		if next == old || atomic.CompareAndSwapUint64(&s.state, old, next) {
			return
		}
	}
}

// slotHash is h as the table keeps it: never 0, its empty mark.
func slotHash(h uint64) uint64 {
	if h == 0 {
		return 1
	}
	return h
}

// start is h's first slot: the bits above those choosing the shard.
func (t *seriesTable) start(h uint64) int {
	return int(h>>activeShardBits) & (len(t.slots) - 1)
}

// find returns the slot of lset, nil if it is not in t.
func (t *seriesTable) find(h uint64, lset labels.Labels) *activeSlot {
	if len(t.slots) == 0 {
		return nil
	}
	mask := len(t.slots) - 1
	for i := t.start(h); ; i = (i + 1) & mask {
		s := &t.slots[i]
		if s.hash == h && labels.Equal(s.lset, lset) {
			return s
		}
		if s.hash == 0 {
			return nil
		}
	}
}

// insert adds a series that is not in t, growing t if needed.
func (t *seriesTable) insert(s activeSlot) {
	if (t.n+1)*5 > len(t.slots)*4 {
		t.resize(max(16, 2*len(t.slots)))
	}
	t.put(s)
	t.n++
}

// put places s in its first free slot; t has room.
func (t *seriesTable) put(s activeSlot) {
	mask := len(t.slots) - 1
	i := t.start(s.hash)
	for t.slots[i].hash != 0 {
		i = (i + 1) & mask
	}
	t.slots[i].lset, t.slots[i].state = s.lset, s.state
	atomic.StoreUint64(&t.slots[i].hash, s.hash)
}

// resize rehashes t into size slots.
func (t *seriesTable) resize(size int) {
	old := t.slots
	t.slots = make([]activeSlot, size)
	for i := range old {
		if old[i].hash != 0 {
			t.put(old[i])
		}
	}
	t.publish()
}

func (t *seriesTable) publish() {
	slots := t.slots
	t.view.Store(&slots)
}

// prefetch reads, without a lock, the slot where a lookup of h starts, so
// that the lookup finds it in cache: such reads overlap, where lookups,
// each behind its lock's atomic add, would wait for one cache miss after
// the other. It returns what it read, for the caller to keep.
func (t *seriesTable) prefetch(h uint64) uint64 {
	p := t.view.Load()
	if p == nil {
		return 0
	}
	slots := *p
	return atomic.LoadUint64(&slots[int(h>>activeShardBits)&(len(slots)-1)].hash)
}

// removeIf rebuilds t without the series for which drop is true, which
// it calls once for each series, and shrinks it when it is mostly empty.
func (t *seriesTable) removeIf(drop func(s *activeSlot) bool) {
	kept := t.n
	for i := range t.slots {
		if s := &t.slots[i]; s.hash != 0 && drop(s) {
			atomic.StoreUint64(&s.hash, 0) // marks it for the rebuild only
			kept--
		}
	}
	if kept == t.n {
		return
	}
	// Half full at most, so that the series to come do not grow it again
	// at once.
	size := 16
	for kept*2 > size {
		size *= 2
	}
	old := t.slots
	t.slots, t.n = make([]activeSlot, size), kept
	for i := range old {
		if old[i].hash != 0 {
			t.put(old[i])
		}
	}
	t.publish()
}

package ingest

import (
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// labelsTable is one generation of the labels cache: an open-addressing
// hash table with linear probing of (hash, entry) slots, 16 bytes each,
// four to a cache line. A hit reads the line of its slot, the entry and
// the entry's labels: three reads that prefetch can start for a whole
// request at once, where a Go map's lookups, each a function call deep,
// wait for their misses one after the other. It holds at most one entry
// for a hash, as a map would. The labels cache's lock guards it.
type labelsTable struct {
	slots []cacheSlot // a power of two long, at most 3/4 full
	n     int
}

// cacheSlot is a slot of a labelsTable; hash 0 marks it empty.
type cacheSlot struct {
	hash  uint64
	entry *cachedLabels
}

// minTableSlots is the size of a new, empty labelsTable.
const minTableSlots = 1024

func newLabelsTable(slots int) *labelsTable {
	size := minTableSlots
	for size < slots {
		size *= 2
	}
	return &labelsTable{slots: make([]cacheSlot, size)}
}

// tableHash is h as a labelsTable keeps it: never 0, its empty mark.
func tableHash(h uint64) uint64 {
	if h == 0 {
		return 1
	}
	return h
}

// len returns how many entries t holds.
func (t *labelsTable) len() int { return t.n }

// slot returns the index of the slot of hash h (as tableHash made it), or
// of the empty slot where it would go.
func (t *labelsTable) slot(h uint64) int {
	mask := len(t.slots) - 1
	i := int(h) & mask
	for t.slots[i].hash != 0 && t.slots[i].hash != h {
		i = (i + 1) & mask
	}
	return i
}

// find returns the entry of hash h, nil if t has none.
func (t *labelsTable) find(h uint64) *cachedLabels {
	return t.slots[t.slot(tableHash(h))].entry
}

// get returns the entry of hash h if it holds pairs, without pairs[skip].
func (t *labelsTable) get(h uint64, pairs []labels.Label, skip int) *cachedLabels {
	if e := t.find(h); e != nil && samePairs(e.labels, pairs, skip) {
		return e
	}
	return nil
}

// put files e under hash h, in place of any entry of the same hash,
// growing t when it is 3/4 full.
func (t *labelsTable) put(h uint64, e *cachedLabels) {
	h = tableHash(h)
	if (t.n+1)*4 > len(t.slots)*3 {
		t.resize(2 * len(t.slots))
	}
	i := t.slot(h)
	if t.slots[i].hash == 0 {
		t.n++
	}
	t.slots[i] = cacheSlot{hash: h, entry: e}
}

func (t *labelsTable) resize(size int) {
	old := t.slots
	t.slots = make([]cacheSlot, size)
	for _, s := range old {
		if s.hash != 0 {
			t.slots[t.slot(s.hash)] = s
		}
	}
}

// Prefetching reads, for a request's series at once, what their lookups
// will read, so that the reads' cache misses overlap: each loop is short
// and its reads do not depend on one another. Each returns a value made
// of what it read, for the caller to keep, lest the reads be dropped.

// touchSlot reads the first slot a lookup of h reads.
func (t *labelsTable) touchSlot(h uint64) uint64 {
	h = tableHash(h)
	return t.slots[int(h)&(len(t.slots)-1)].hash
}

// touchEntry reads the entry of hash h, once its slot is in cache, and
// returns it (nil if there is none).
func (t *labelsTable) touchEntry(h uint64) (*cachedLabels, uint64) {
	e := t.find(h)
	if e == nil {
		return nil, 0
	}
	return e, e.hint.Load()
}

// touchLabelsGet reads the start of e's labels, as any build lays them
// out.
func touchLabelsGet(e *cachedLabels) uint64 {
	return uint64(len(e.labels.Get(model.MetricNameLabel)))
}

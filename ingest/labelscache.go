package ingest

import (
	"encoding/binary"
	"sync"
	"sync/atomic"

	"github.com/prometheus/prometheus/model/labels"
)

// labelsCache maps the label pairs of a series, as received, to their
// validated labels.Labels, so that a series sent again (the steady state of
// remote write) is neither validated nor copied again. Entries only depend
// on the received bytes and the validation scheme, so the cache is shared by
// all workspaces of a Handler. It holds two generations of at most max
// entries each: when the current one is full it becomes the old one, which
// bounds memory without bookkeeping per lookup.
type labelsCache struct {
	mu       sync.RWMutex
	max      int
	cur, old map[string]*cachedLabels
}

// cachedLabels is a labels cache entry: the validated labels and, written
// once by the first stage that asks (Series.WithoutLabel), them without one
// label. The derived labels depend only on the labels and the name, never
// on the workspace or stage that asked, so any request sharing the entry
// may use them. The entry is one small allocation (64 bytes in the default
// build, one CPU cache line), which decode has just read when a stage asks.
type cachedLabels struct {
	labels labels.Labels
	// state is derivedEmpty, derivedWriting or derivedReady; name and
	// without are written once, before state becomes derivedReady, and
	// are read only after.
	state   atomic.Uint32
	name    string
	without labels.Labels
}

const (
	derivedEmpty uint32 = iota
	derivedWriting
	derivedReady
)

func newLabelsCache(size int) *labelsCache {
	if size <= 0 {
		return nil
	}
	return &labelsCache{max: size, cur: make(map[string]*cachedLabels)}
}

// get looks key up; the caller holds c.mu for reading. An entry found in
// the old generation is reported as stale, to be added to the current one.
func (c *labelsCache) get(key []byte) (e *cachedLabels, ok, stale bool) {
	if e, ok = c.cur[string(key)]; ok {
		return e, true, false
	}
	e, ok = c.old[string(key)]
	return e, ok, ok
}

// add inserts the entries a request missed.
func (c *labelsCache) add(entries []cacheEntry, keys []byte) {
	if len(entries) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range entries {
		c.cur[string(keys[e.start:e.end])] = e.entry
		if len(c.cur) >= c.max {
			c.old, c.cur = c.cur, make(map[string]*cachedLabels, len(c.cur))
		}
	}
}

// cacheEntry is a pending insertion: the key is keys[start:end] in the
// decoder's key buffer. A stale entry keeps its *cachedLabels, derived
// labels included.
type cacheEntry struct {
	start, end int
	entry      *cachedLabels
}

// appendKey encodes label pairs, in the order received, as a cache key.
func appendKey(b []byte, pairs []labels.Label) []byte {
	for _, p := range pairs {
		b = binary.AppendUvarint(b, uint64(len(p.Name)))
		b = append(b, p.Name...)
		b = binary.AppendUvarint(b, uint64(len(p.Value)))
		b = append(b, p.Value...)
	}
	return b
}

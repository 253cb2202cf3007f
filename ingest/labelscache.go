package ingest

import (
	"encoding/binary"
	"sync"

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
	cur, old map[string]labels.Labels
}

func newLabelsCache(size int) *labelsCache {
	if size <= 0 {
		return nil
	}
	return &labelsCache{max: size, cur: make(map[string]labels.Labels)}
}

// get looks key up; the caller holds c.mu for reading. An entry found in
// the old generation is reported as stale, to be added to the current one.
func (c *labelsCache) get(key []byte) (ls labels.Labels, ok, stale bool) {
	if ls, ok = c.cur[string(key)]; ok {
		return ls, true, false
	}
	ls, ok = c.old[string(key)]
	return ls, ok, ok
}

// add inserts the entries a request missed.
func (c *labelsCache) add(entries []cacheEntry, keys []byte) {
	if len(entries) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range entries {
		c.cur[string(keys[e.start:e.end])] = e.labels
		if len(c.cur) >= c.max {
			c.old, c.cur = c.cur, make(map[string]labels.Labels, len(c.cur))
		}
	}
}

// cacheEntry is a pending insertion: the key is keys[start:end] in the
// decoder's key buffer.
type cacheEntry struct {
	start, end int
	labels     labels.Labels
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

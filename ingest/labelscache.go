package ingest

import (
	"hash/maphash"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
)

// labelsCache maps the label pairs of a series, as received, to their
// validated labels.Labels, so that a series sent again (the steady state of
// remote write) is neither validated nor copied again. Entries are keyed by
// a hash of the pairs and hold no copy of them: a hit is checked against
// the entry's labels (see samePairs), so that a collision is a miss, and
// pairs that validation changes (unsorted ones) are never hits. Entries
// only depend on the pairs and the validation scheme, so the cache is
// shared by all workspaces of a Handler. It holds two generations of at
// most max entries each: when the current one is full it becomes the old
// one, which bounds memory without bookkeeping per lookup. It does so at
// most once every minGenerationAge, and takes no new entries meanwhile:
// more series than the two generations hold, sent round after round (the
// steady state of many scrape targets), would otherwise push every entry
// out before its series comes again, and no lookup would hit; this way
// the two generations' series keep hitting.
type labelsCache struct {
	mu       sync.RWMutex
	max      int
	seed     maphash.Seed
	cur, old *labelsTable // old nil until the first rotation
	now      func() time.Time
	rotated  time.Time // when cur was made
}

// minGenerationAge is how long the current generation of a full labels
// cache stays the current one.
const minGenerationAge = time.Minute

// cachedLabels is a labels cache entry: the validated labels and, made
// once by the first stage that asks (Series.WithoutLabel), them without one
// label. The derived labels depend only on the labels and the name, never
// on the workspace or stage that asked, so any request sharing the entry
// may use them. The entry is one small allocation of 32 bytes in the
// default build; the labels are those the TSDB stores the series with
// (decoding leaves a LabelStripper's label out of them), so they cost no
// second copy of the series' labels.
type cachedLabels struct {
	labels labels.Labels
	// derived is written once, nil until then.
	derived atomic.Pointer[derivedLabels]

	// hint is the TSDB reference of the series these labels (or the
	// derived ones) were last appended as, with the scope it was found in
	// (see hintRefBits); 0 when there is none.
	hint atomic.Uint64
}

// derivedLabels are an entry's labels without the label name.
type derivedLabels struct {
	name    string
	without labels.Labels
}

// A hint packs into one word, read and written at once, a series
// reference found by an appender that implements refScoper, the scope it
// was found in, and which of the entry's labels it is for: the scope in
// the high 32 bits, then a bit set for the derived labels, then the
// reference in the low 31 bits. A reference that does not fit is not kept.
// It holds while the appender's SeriesRefScope is still the scope: the
// TSDB gives no two series the same reference, and the scope changes
// whenever it may have dropped one.
const (
	hintRefBits = 31
	hintDerived = 1 << hintRefBits
	hintRefMask = hintDerived - 1
)

// ref returns the reference e keeps for ls in scope, or 0.
func (e *cachedLabels) ref(scope uint32, ls labels.Labels) storage.SeriesRef {
	h := e.hint.Load()
	if h == 0 || uint32(h>>32) != scope {
		return 0
	}
	derived, ok := e.which(ls)
	if !ok || derived != (h&hintDerived != 0) {
		return 0
	}
	return storage.SeriesRef(h & hintRefMask)
}

// keepRef keeps ref as the reference of ls, found in scope.
func (e *cachedLabels) keepRef(scope uint32, ls labels.Labels, ref storage.SeriesRef) {
	if scope == 0 || ref == 0 || ref > hintRefMask {
		return
	}
	derived, ok := e.which(ls)
	if !ok {
		return
	}
	h := uint64(scope)<<32 | uint64(ref)
	if derived {
		h |= hintDerived
	}
	if e.hint.Load() != h {
		e.hint.Store(h)
	}
}

// which reports whether ls is e's labels (false) or its derived ones
// (true), and ok false when it is neither.
func (e *cachedLabels) which(ls labels.Labels) (derived, ok bool) {
	if labels.Equal(ls, e.labels) {
		return false, true
	}
	if d := e.derived.Load(); d != nil && labels.Equal(ls, d.without) {
		return true, true
	}
	return false, false
}

func newLabelsCache(size int, now func() time.Time) *labelsCache {
	if size <= 0 {
		return nil
	}
	return &labelsCache{max: size, seed: maphash.MakeSeed(), cur: newLabelsTable(0), now: now, rotated: now()}
}

// hash hashes label pairs, in the order received, without pairs[skip]
// (skip -1 for none): as the pairs would hash without it.
func (c *labelsCache) hash(pairs []labels.Label, skip int) uint64 {
	n := len(pairs)
	if skip >= 0 {
		n--
	}
	h := uint64(n)
	for i, p := range pairs {
		if i != skip {
			h = mixHash(h, c.stringHash(p.Name), c.stringHash(p.Value))
		}
	}
	return h
}

// stringHash hashes one name or value. A 2.0 request's pairs are hashed
// from the hashes of its symbols, each hashed once per request.
func (c *labelsCache) stringHash(s string) uint64 { return maphash.String(c.seed, s) }

// mixHash folds the hashes of a label's name and value into h, the hash
// of the pairs before it.
func mixHash(h, name, value uint64) uint64 {
	h = (h ^ name) * 0x9e3779b97f4a7c15
	h = (h ^ h>>29 ^ value) * 0xbf58476d1ce4e5b9
	return h ^ h>>32
}

// get looks the pairs of hash up; the caller holds c.mu for reading. An
// entry found in the old generation is reported as stale, to be added to
// the current one.
func (c *labelsCache) get(hash uint64, pairs []labels.Label, skip int) (e *cachedLabels, ok, stale bool) {
	if e = c.cur.get(hash, pairs, skip); e != nil {
		return e, true, false
	}
	if c.old != nil {
		if e = c.old.get(hash, pairs, skip); e != nil {
			return e, true, true
		}
	}
	return nil, false, false
}

// samePairsRange is samePairs through labels.Labels.Range: whether
// pairs, without pairs[skip] (skip -1 for none) and those of empty values
// (which validation drops), are ls in the same order.
func samePairsRange(ls labels.Labels, pairs []labels.Label, skip int) bool {
	i, same := 0, true
	next := func() {
		for i < len(pairs) && (i == skip || pairs[i].Value == "") {
			i++
		}
	}
	ls.Range(func(l labels.Label) {
		if !same {
			return
		}
		next()
		if i == len(pairs) || pairs[i].Name != l.Name || pairs[i].Value != l.Value {
			same = false
			return
		}
		i++
	})
	next()
	return same && i == len(pairs)
}

// add inserts the entries a request missed, replacing any of the same
// hash, as long as the current generation has room or may be replaced.
func (c *labelsCache) add(entries []cacheEntry) {
	if len(entries) == 0 {
		return
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	for _, e := range entries {
		if c.cur.len() >= c.max {
			now := c.now()
			if now.Sub(c.rotated) < minGenerationAge {
				return
			}
			c.old, c.cur, c.rotated = c.cur, newLabelsTable(len(c.cur.slots)), now
		}
		c.cur.put(e.hash, e.entry)
	}
}

// cacheEntry is a pending insertion. A stale entry keeps its
// *cachedLabels, derived labels included.
type cacheEntry struct {
	hash  uint64
	entry *cachedLabels
}

package ingest

import (
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// TestLabelsCacheCollision checks that an entry is only a hit for the
// pairs of its own labels: an entry filed under the hash of other pairs
// (as a hash collision would) is a miss, and so are the entry's own
// labels received in another order.
func TestLabelsCacheCollision(t *testing.T) {
	c := newLabelsCache(8, time.Now)
	a := []labels.Label{{Name: "__name__", Value: "up"}, {Name: "job", Value: "a"}}
	b := []labels.Label{{Name: "__name__", Value: "up"}, {Name: "job", Value: "b"}}
	ea := &cachedLabels{labels: labels.New(a...)}
	c.add([]cacheEntry{{hash: c.hash(a, -1), entry: ea}, {hash: c.hash(b, -1), entry: ea}})

	if e, ok, _ := c.get(c.hash(a, -1), a, -1); !ok || e != ea {
		t.Errorf("own pairs: entry %v, hit %v", e, ok)
	}
	if _, ok, _ := c.get(c.hash(b, -1), b, -1); ok {
		t.Error("other pairs under the same hash are a hit")
	}
	withEmpty := []labels.Label{{Name: "__name__", Value: "up"}, {Name: "empty", Value: ""}, {Name: "job", Value: "a"}, {Name: "z", Value: ""}}
	c.add([]cacheEntry{{hash: c.hash(withEmpty, -1), entry: ea}})
	if _, ok, _ := c.get(c.hash(withEmpty, -1), withEmpty, -1); !ok {
		t.Error("pairs with empty values, the rest the entry's labels: a miss")
	}
	reversed := []labels.Label{a[1], a[0]}
	c.add([]cacheEntry{{hash: c.hash(reversed, -1), entry: ea}})
	if _, ok, _ := c.get(c.hash(reversed, -1), reversed, -1); ok {
		t.Error("the entry's labels in another order are a hit")
	}
	short := a[:1]
	c.add([]cacheEntry{{hash: c.hash(short, -1), entry: ea}})
	if _, ok, _ := c.get(c.hash(short, -1), short, -1); ok {
		t.Error("a prefix of the entry's labels is a hit")
	}
}

// TestLabelsCacheHashV2 checks that a 2.0 series' hash, from its
// request's symbol hashes, is the hash of its pairs, as a 1.0 series'.
func TestLabelsCacheHashV2(t *testing.T) {
	c := newLabelsCache(8, time.Now)
	d := decoder{cache: c, symbols: []string{"", "__name__", "up", "job", "a", "empty"}}
	for _, s := range d.symbols {
		d.symHashes = append(d.symHashes, c.stringHash(s))
	}
	d.refs = []uint32{1, 2, 5, 0, 3, 4}
	pairs := []labels.Label{{Name: "__name__", Value: "up"}, {Name: "empty", Value: ""}, {Name: "job", Value: "a"}}
	if got, want := d.seriesHash(pairs, -1), c.hash(pairs, -1); got != want {
		t.Errorf("hash from symbols %x, from pairs %x", got, want)
	}
	if c.hash(pairs, -1) == c.hash(pairs[:2], -1) || c.hash(pairs, -1) == c.hash([]labels.Label{pairs[2], pairs[1], pairs[0]}, -1) {
		t.Error("prefix or reordering hashes the same")
	}
	// Without a pair, from symbols and from pairs, as the pairs without it.
	for skip := range pairs {
		without := append(append([]labels.Label{}, pairs[:skip]...), pairs[skip+1:]...)
		if got, want := d.seriesHash(pairs, skip), c.hash(without, -1); got != want || c.hash(pairs, skip) != want {
			t.Errorf("skip %d: from symbols %x, from pairs %x, want %x", skip, got, c.hash(pairs, skip), want)
		}
	}
}

// TestLabelsCacheGenerations checks that a full labels cache takes no new
// entries until its current generation is minGenerationAge old, and then
// starts a new one, keeping the full one as the old generation: series
// more than the cache holds, sent round after round, keep hitting those
// it holds.
func TestLabelsCacheGenerations(t *testing.T) {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	c := newLabelsCache(2, func() time.Time { return now })
	pairs := func(i int) []labels.Label {
		return []labels.Label{{Name: "__name__", Value: "up"}, {Name: "i", Value: string(rune('a' + i))}}
	}
	add := func(i int) {
		p := pairs(i)
		c.add([]cacheEntry{{hash: c.hash(p, -1), entry: &cachedLabels{labels: labels.New(p...)}}})
	}
	hit := func(i int) bool {
		_, ok, _ := c.get(c.hash(pairs(i), -1), pairs(i), -1)
		return ok
	}
	for i := range 5 {
		add(i)
	}
	if !hit(0) || !hit(1) || hit(2) || hit(3) || hit(4) {
		t.Errorf("a full generation younger than %v took entries: hits %v %v %v %v %v", minGenerationAge, hit(0), hit(1), hit(2), hit(3), hit(4))
	}
	now = now.Add(minGenerationAge)
	add(2)
	add(3)
	add(4)
	if !hit(0) || !hit(1) || !hit(2) || !hit(3) || hit(4) {
		t.Errorf("after %v: hits %v %v %v %v %v, want the old generation's and the new one's", minGenerationAge, hit(0), hit(1), hit(2), hit(3), hit(4))
	}
	if c.cur.len() > c.max || oldLen(c) > c.max {
		t.Errorf("generations of %d and %d entries, max %d", c.cur.len(), oldLen(c), c.max)
	}
}

// oldLen returns how many entries c's old generation holds.
func oldLen(c *labelsCache) int {
	if c.old == nil {
		return 0
	}
	return c.old.len()
}

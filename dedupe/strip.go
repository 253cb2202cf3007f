package dedupe

import (
	"math/bits"
	"slices"
	"strings"
	"sync"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/promspace/promspace/ingest"
)

// stripper removes the replica label from the labels of series, for a
// Tracker that is not the first stage of its requests (as the first,
// decoding has left the label out already: see Tracker.StrippedLabel).
//
// It asks ingest first (Series.WithoutLabel): the stripped labels kept in
// ingest's labels cache entry, which decode has just read, cost no CPU
// cache miss. The table below serves the series ingest cannot keep them
// for (no labels cache, or an entry that keeps another label name).
//
// A series' labels come from ingest's labels cache, the same labels.Labels
// (the same memory) each time the series is received, as long as it stays
// in that cache. Stripping them anew for every request costs an
// allocation per series, its garbage collection, and in the TSDB a compare
// of the copy with the series' labels where the path without the stage has
// a pointer check. So the stripper keeps, per workspace, the stripped
// labels of the labels it was handed, by their identity (labelsID): a
// series received again gets the very labels.Labels it got the last time,
// those its TSDB series was created with.
//
// At 100,000 series any lookup is a CPU cache miss, and a Go map's lookup
// measured no better than stripping anew (about 130 ns a series in
// BenchmarkRemoteWrite: a map's control word and its slot are two misses,
// and its many instructions a series keep the CPU from overlapping the
// misses of consecutive series). The cache is therefore a table of
// buckets of 4 entries, each bucket one 128-byte block (two cache lines,
// the table being page-aligned): a lookup is a multiply, a shift and at
// most 4 compares of addresses and lengths in the entries, without
// reading any labels. A miss puts the entry first in its bucket, the
// bucket's last entry dropped. The table has a fixed size, made on the
// first strip, so memory is bounded: 32 bytes an entry plus the labels
// its entries keep (those stripped, and the received ones, which ingest's
// labels cache mostly holds as well); it is dropped with the Tracker
// (Close). An entry keeps the labels it was made from, which keeps their
// address from being reused by other labels while the entry exists.
type stripper struct {
	name string
	// drop, for a name that starts with "_", is Labels.DropReserved's
	// test: reserved names sort first, so the label is found and cut out
	// without decoding the rest, in one allocation.
	drop func(string) bool

	size  int // entries of the table, 0 for no cache
	shift uint8
	mtx   sync.RWMutex
	table []bucket // nil until the first strip
}

// bucketLen is the number of entries of a bucket.
const bucketLen = 4

// bucket is entries of the table, in the order they were added, newest
// first; an empty entry has empty labels.
type bucket [bucketLen]stripped

// stripped is a cache entry: the labels it was made from and them without
// the replica label.
type stripped struct {
	from, to labels.Labels
}

// newStripper returns a stripper of the label name whose cache holds
// about cacheSize series: its table has room for twice as many, the power
// of 2 above, so that few buckets overflow. cacheSize 0 or less means no
// cache.
func newStripper(name string, cacheSize int) *stripper {
	s := &stripper{name: name}
	if strings.HasPrefix(name, "_") {
		s.drop = func(n string) bool { return n == name }
	}
	if cacheSize > 0 {
		buckets := 1
		for buckets*bucketLen < 2*cacheSize {
			buckets *= 2
		}
		s.size = buckets * bucketLen
		s.shift = uint8(64 - bits.TrailingZeros(uint(buckets)))
	}
	return s
}

// strip returns lset without the replica label, lset itself if it has
// none. The result stays sorted and valid.
func (s *stripper) strip(lset labels.Labels) labels.Labels {
	if s.drop != nil {
		return lset.DropReserved(s.drop)
	}
	if !lset.Has(s.name) {
		return lset
	}
	return labels.NewBuilder(lset).Del(s.name).Labels()
}

// bucketOf returns the index of the bucket of labels of the given id:
// Fibonacci hashing, the high bits of the product (none for a table of
// one bucket: a shift by 64 is 0).
func (s *stripper) bucketOf(id uintptr) uint64 {
	return (uint64(id) * 0x9E3779B97F4A7C15) >> s.shift
}

// stripAll strips the replica label from every series, from the cache
// when it has the series' labels.
func (s *stripper) stripAll(series []ingest.Series) {
	if s.size == 0 {
		for i := range series {
			if ls, ok := series[i].WithoutLabel(s.name); ok {
				series[i].Labels = ls
			} else {
				series[i].Labels = s.strip(series[i].Labels)
			}
		}
		return
	}
	var missed []stripped
	s.mtx.RLock()
	if table := s.table; table != nil {
	next:
		for i := range series {
			if ls, ok := series[i].WithoutLabel(s.name); ok {
				series[i].Labels = ls
				continue
			}
			from := series[i].Labels
			b := &table[s.bucketOf(labelsID(from))]
			for j := range b {
				if identical(b[j].from, from) {
					series[i].Labels = b[j].to
					continue next
				}
			}
			series[i].Labels = s.strip(from)
			missed = append(missed, stripped{from: from, to: series[i].Labels})
		}
	} else {
		for i := range series {
			if ls, ok := series[i].WithoutLabel(s.name); ok {
				series[i].Labels = ls
				continue
			}
			e := stripped{from: series[i].Labels, to: s.strip(series[i].Labels)}
			series[i].Labels = e.to
			missed = append(missed, e)
		}
	}
	s.mtx.RUnlock()
	if len(missed) == 0 {
		return
	}
	s.mtx.Lock()
	defer s.mtx.Unlock()
	if s.table == nil {
		s.table = make([]bucket, s.size/bucketLen)
	}
	for _, e := range missed {
		b := &s.table[s.bucketOf(labelsID(e.from))]
		if slices.ContainsFunc(b[:], func(o stripped) bool { return identical(o.from, e.from) }) {
			continue // added by another request meanwhile
		}
		copy(b[1:], b[:bucketLen-1])
		b[0] = e
	}
}

// reset drops the cache.
func (s *stripper) reset() {
	s.mtx.Lock()
	s.table = nil
	s.mtx.Unlock()
}

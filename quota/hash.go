//go:build !slicelabels && !dedupelabels

package quota

import (
	"hash/maphash"

	"github.com/prometheus/prometheus/model/labels"
)

// seriesSeed seeds the hashes of active series, which live only in memory.
var seriesSeed = maphash.MakeSeed()

// seriesHash hashes a series' labels. labels.Labels is a string here,
// which maphash hashes faster than Labels.Hash's xxhash; the hash is never
// stored, so any will do.
func seriesHash(lset labels.Labels) uint64 { return maphash.Comparable(seriesSeed, lset) }

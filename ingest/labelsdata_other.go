//go:build slicelabels || dedupelabels

package ingest

import "github.com/prometheus/prometheus/model/labels"

// samePairs reports whether pairs, without pairs[skip] (skip -1 for none)
// and those of empty values (which validation drops), are ls in the same
// order.
func samePairs(ls labels.Labels, pairs []labels.Label, skip int) bool {
	return samePairsRange(ls, pairs, skip)
}

// touchLabels reads the start of e's labels, for prefetching.
func touchLabels(e *cachedLabels) uint64 {
	if e == nil {
		return 0
	}
	return touchLabelsGet(e)
}

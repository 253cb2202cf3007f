//go:build slicelabels || dedupelabels

package quota

import "github.com/prometheus/prometheus/model/labels"

// seriesHash hashes a series' labels.
func seriesHash(lset labels.Labels) uint64 { return lset.Hash() }

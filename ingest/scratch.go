//go:build !slicelabels

package ingest

import "github.com/prometheus/prometheus/model/labels"

// newScratchBuilder returns the decoder's label builder. Label names and
// values point into the pooled request body; the string and deduplicated
// label builds copy them into the Labels they build.
func newScratchBuilder() labels.ScratchBuilder {
	return labels.NewScratchBuilder(0)
}

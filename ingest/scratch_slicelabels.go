//go:build slicelabels

package ingest

import "github.com/prometheus/prometheus/model/labels"

// newScratchBuilder returns the decoder's label builder. Label names and
// values point into the pooled request body: with slice labels the builder
// must copy them, which SetUnsafeAdd(true) asks it to.
func newScratchBuilder() labels.ScratchBuilder {
	b := labels.NewScratchBuilder(0)
	b.SetUnsafeAdd(true)
	return b
}

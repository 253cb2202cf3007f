//go:build !slicelabels && !dedupelabels

package ingest

import "testing"

// TestLabelsDataLayout checks that labels.Labels is laid out as
// labelsdata.go reads it, lest the labels cache silently fall back to the
// slower path.
func TestLabelsDataLayout(t *testing.T) {
	if !dataLayout {
		t.Fatal("labels.Labels is not one string of lengths and bytes: samePairs and touchLabels fall back to Range and Get")
	}
}

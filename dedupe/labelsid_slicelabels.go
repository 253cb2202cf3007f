//go:build slicelabels

package dedupe

import (
	"unsafe"

	"github.com/prometheus/prometheus/model/labels"
)

// labelsID is the address of the first label of ls (a slice in this build
// of labels), the identity the stripper's cache is keyed by.
func labelsID(ls labels.Labels) uintptr {
	return uintptr(unsafe.Pointer(unsafe.SliceData(ls)))
}

// identical reports whether a and b are the same labels, the same memory:
// then they are equal without reading them.
func identical(a, b labels.Labels) bool {
	return len(a) == len(b) && unsafe.SliceData(a) == unsafe.SliceData(b)
}

//go:build dedupelabels

package dedupe

import (
	"unsafe"

	"github.com/prometheus/prometheus/model/labels"
)

// dedupeLabels is the layout of labels.Labels in this build.
type dedupeLabels struct {
	syms unsafe.Pointer
	data string
}

// labelsID is the address of the data of ls, the identity the stripper's
// cache is keyed by.
func labelsID(ls labels.Labels) uintptr {
	return uintptr(unsafe.Pointer(unsafe.StringData((*dedupeLabels)(unsafe.Pointer(&ls)).data)))
}

// labels.Labels has dedupeLabels' size in this build; compiling fails
// otherwise.
var (
	_ [unsafe.Sizeof(labels.Labels{}) - unsafe.Sizeof(dedupeLabels{})]struct{}
	_ [unsafe.Sizeof(dedupeLabels{}) - unsafe.Sizeof(labels.Labels{})]struct{}
)

// identical reports whether a and b are the same labels, the same memory
// and symbol table: then they are equal without reading them.
func identical(a, b labels.Labels) bool {
	x, y := (*dedupeLabels)(unsafe.Pointer(&a)), (*dedupeLabels)(unsafe.Pointer(&b))
	return x.syms == y.syms && len(x.data) == len(y.data) && unsafe.StringData(x.data) == unsafe.StringData(y.data)
}

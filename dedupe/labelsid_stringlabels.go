//go:build !slicelabels && !dedupelabels

package dedupe

import (
	"unsafe"

	"github.com/prometheus/prometheus/model/labels"
)

// labelsID is the address of the data of ls (a string in this build of
// labels), the identity the stripper's cache is keyed by.
func labelsID(ls labels.Labels) uintptr {
	return uintptr(unsafe.Pointer(unsafe.StringData(*(*string)(unsafe.Pointer(&ls)))))
}

// labels.Labels is a string in this build; compiling fails otherwise.
var (
	_ [unsafe.Sizeof(labels.Labels{}) - unsafe.Sizeof("")]struct{}
	_ [unsafe.Sizeof("") - unsafe.Sizeof(labels.Labels{})]struct{}
)

// identical reports whether a and b are the same labels, the same memory:
// then they are equal without reading them.
func identical(a, b labels.Labels) bool {
	x, y := *(*string)(unsafe.Pointer(&a)), *(*string)(unsafe.Pointer(&b))
	return len(x) == len(y) && unsafe.StringData(x) == unsafe.StringData(y)
}

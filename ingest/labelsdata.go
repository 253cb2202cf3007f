//go:build !slicelabels && !dedupelabels

package ingest

import (
	"strings"
	"unsafe"

	"github.com/prometheus/prometheus/model/labels"
)

// In the default build, labels.Labels is one string, each name and value
// in turn a length (one byte up to 254; 255 and three bytes, little
// endian, beyond) and the bytes. Labels cache hits compare received pairs
// with an entry's labels in one pass over that string, and prefetching
// reads each cache line of it, neither of which labels.Labels' methods
// offer (Range calls a function for each label). The layout is checked
// once (dataLayout); should it ever differ, both fall back to Range.

// dataLayout reports whether labels.Labels is laid out as described.
var dataLayout = func() bool {
	long := strings.Repeat("v", 300)
	return unsafe.Sizeof(labels.Labels{}) == unsafe.Sizeof("") &&
		labelsData(labels.FromStrings("a", "bc")) == "\x01a\x02bc" &&
		labelsData(labels.FromStrings("a", long)) == "\x01a\xff\x2c\x01\x00"+long
}()

// labelsData returns the string ls is.
func labelsData(ls labels.Labels) string { return *(*string)(unsafe.Pointer(&ls)) }

// samePairs reports whether pairs, without pairs[skip] (skip -1 for none)
// and those of empty values (which validation drops), are ls in the same
// order.
func samePairs(ls labels.Labels, pairs []labels.Label, skip int) bool {
	if !dataLayout {
		return samePairsRange(ls, pairs, skip)
	}
	data := labelsData(ls)
	i, ok := 0, true
	for j := range pairs {
		p := &pairs[j]
		if j == skip || p.Value == "" {
			continue
		}
		if i, ok = nextIs(data, i, p.Name); !ok {
			return false
		}
		if i, ok = nextIs(data, i, p.Value); !ok {
			return false
		}
	}
	return i == len(data)
}

// nextIs reports whether the string encoded at data[i:] is s, and returns
// the index after it.
func nextIs(data string, i int, s string) (int, bool) {
	if i >= len(data) {
		return i, false
	}
	n := int(data[i])
	i++
	if n == 255 {
		if i+3 > len(data) {
			return i, false
		}
		n = int(data[i]) | int(data[i+1])<<8 | int(data[i+2])<<16
		i += 3
	}
	if n != len(s) || n > len(data)-i || data[i:i+n] != s {
		return i, false
	}
	return i + n, true
}

// touchLabels reads each cache line of e's labels, for prefetching.
func touchLabels(e *cachedLabels) uint64 {
	if e == nil {
		return 0
	}
	if !dataLayout {
		return touchLabelsGet(e)
	}
	data := labelsData(e.labels)
	var sum uint64
	for i := 0; i < len(data); i += 64 {
		sum += uint64(data[i])
	}
	return sum
}

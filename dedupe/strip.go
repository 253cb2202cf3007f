package dedupe

import (
	"strings"

	"github.com/prometheus/prometheus/model/labels"
)

// stripper removes the replica label from the labels of series.
type stripper struct {
	name string
	// drop, for a name that starts with "_", is Labels.DropReserved's
	// test: reserved names sort first, so the label is found and cut out
	// without decoding the rest, in one allocation.
	drop func(string) bool
}

func newStripper(name string) stripper {
	s := stripper{name: name}
	if strings.HasPrefix(name, "_") {
		s.drop = func(n string) bool { return n == name }
	}
	return s
}

// strip returns lset without the replica label, lset itself if it has
// none. The result stays sorted and valid.
func (s stripper) strip(lset labels.Labels) labels.Labels {
	if s.drop != nil {
		return lset.DropReserved(s.drop)
	}
	if !lset.Has(s.name) {
		return lset
	}
	return labels.NewBuilder(lset).Del(s.name).Labels()
}

package dedupe

import (
	"strings"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/promspace/promspace/ingest"
)

// stripper removes the replica label from the labels of series.
//
// A series' labels come from ingest's labels cache, so stripping them
// anew for every request costs an allocation and, in the TSDB, a compare
// of the copy with the series' labels instead of a pointer check. A cache
// of stripped labels measured no better at 100,000 series, keyed by the
// labels or by their address: each lookup in a map that large misses the
// CPU caches (BenchmarkRemoteWrite, in the closing note of issue 11).
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

// stripAll strips the replica label from every series.
func (s stripper) stripAll(series []ingest.Series) {
	for i := range series {
		series[i].Labels = s.strip(series[i].Labels)
	}
}

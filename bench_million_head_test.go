package promspace_test

import (
	"context"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
)

// headFloor is BenchmarkIngest's third side, the TSDB alone: it takes the
// series promspace stores (those of the rounds without the replica label
// the tracker strips), their labels built beforehand, by the reference
// the head gave each series when it has one, in a transaction a request.
// Nothing is decoded or checked, so its figures are the floor of any
// receiver that stores into Prometheus' TSDB: what the head's series
// creation, appends and WAL cost.
type headFloor struct {
	b      *testing.B
	db     *tsdb.DB
	series int
	// gen is the generation lsets are of; refs are those of its series,
	// by request, 0 until appended.
	gen   int
	lsets []labels.Labels
	refs  [][]storage.SeriesRef
}

func newHeadFloor(b *testing.B, series int) *headFloor {
	db, err := tsdb.Open(b.TempDir(), nil, nil, benchPromTSDBOptions(), nil)
	if err != nil {
		b.Fatal(err)
	}
	return &headFloor{b: b, db: db, series: series, gen: -1}
}

// round returns the work of round n of generation g, every sample at ts,
// as ingestRounds.encode encodes it for the other sides. Labels are built
// here, outside the work.
func (h *headFloor) round(r benchRound) roundWork {
	if r.gen != h.gen {
		h.lsets = make([]labels.Labels, h.series)
		for n := range h.lsets {
			h.lsets[n] = labels.NewBuilder(seriesLabels(n, r.gen)).Del("__replica__").Labels()
		}
		h.refs = nil
		for from := 0; from < h.series; from += ingestSamplesPerReq {
			h.refs = append(h.refs, make([]storage.SeriesRef, min(ingestSamplesPerReq, h.series-from)))
		}
		h.gen = r.gen
	}
	lsets, refs := h.lsets, h.refs
	return func(between func()) {
		ctx := context.Background()
		for k, from := 0, 0; from < h.series; k, from = k+1, from+ingestSamplesPerReq {
			app := h.db.AppenderV2(ctx)
			for i := range refs[k] {
				n := from + i
				ref, err := app.Append(refs[k][i], lsets[n], 0, r.ts, sampleValue(r.n, n), nil, nil, storage.AOptions{})
				if err != nil {
					h.b.Fatal(err)
				}
				refs[k][i] = ref
			}
			if err := app.Commit(); err != nil {
				h.b.Fatal(err)
			}
			between()
		}
	}
}

package ingest

import (
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/stretchr/testify/require"
)

// FuzzDecodeStripped decodes a body as 1.0 and as 2.0 leaving __replica__
// out, through a labels cache, twice (misses, then hits), prefetching for
// any number of series, and checks each
// series against the decode that strips nothing: the same series dropped,
// and the labels with the stripped value put back the same labels.
func FuzzDecodeStripped(f *testing.F) {
	addSeeds(f, seedRequestsV1())
	addSeeds(f, seedRequestsV2())
	ha := &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		{Labels: []prompb.Label{{Name: "__name__", Value: "up"}, {Name: "__replica__", Value: "r1"}, {Name: "cluster", Value: "c"}}, Samples: []prompb.Sample{{Value: 1, Timestamp: 1}}},
		{Labels: []prompb.Label{{Name: "__replica__", Value: ""}, {Name: "__name__", Value: "x"}}, Samples: []prompb.Sample{{Value: 1, Timestamp: 1}}},
		{Labels: []prompb.Label{{Name: "__name__", Value: "d"}, {Name: "__replica__", Value: "a"}, {Name: "__replica__", Value: "b"}}, Samples: []prompb.Sample{{Value: 1, Timestamp: 1}}},
	}}
	b, err := ha.Marshal()
	require.NoError(f, err)
	f.Add(b)
	cache := newLabelsCache(1<<10, time.Now)
	defer func(n int) { minPrefetchSeries = n }(minPrefetchSeries)
	minPrefetchSeries = 1
	f.Fuzz(func(t *testing.T, body []byte) {
		for _, v := range []Version{V1, V2} {
			want := newRequest()
			wantErr := decode(want, v, body, model.UTF8Validation, nil, "")
			for round := range 2 {
				got := newRequest()
				err := decode(got, v, body, model.UTF8Validation, cache, "__replica__")
				if (err == nil) != (wantErr == nil) {
					t.Fatalf("%s round %d: error %v, without stripping %v", v, round, err, wantErr)
				}
				if err != nil {
					continue
				}
				if len(got.Series) != len(want.Series) {
					t.Fatalf("%s round %d: %d series, without stripping %d", v, round, len(got.Series), len(want.Series))
				}
				for i := range got.Series {
					g, w := &got.Series[i], &want.Series[i]
					if g.dropped != w.dropped {
						t.Fatalf("%s round %d: series %d dropped %v, without stripping %v", v, round, i, g.dropped, w.dropped)
					}
					if g.dropped {
						continue
					}
					if g.Labels.Has("__replica__") {
						t.Fatalf("%s round %d: series %d keeps the label: %s", v, round, i, g.Labels)
					}
					restored := g.Labels
					if g.StrippedValue() != "" {
						restored = labels.NewBuilder(g.Labels).Set("__replica__", g.StrippedValue()).Labels()
					}
					if !labels.Equal(restored, w.Labels) {
						t.Fatalf("%s round %d: series %d: %s restored %s, without stripping %s", v, round, i, g.Labels, restored, w.Labels)
					}
				}
			}
		}
	})
}

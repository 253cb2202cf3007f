package ingest

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"github.com/stretchr/testify/require"
)

// stripStage is a LabelStripper of __replica__ that records what it saw
// and, with restore, keeps the label.
type stripStage struct {
	restore bool
	seen    []Series
	label   string
}

func (s *stripStage) StrippedLabel() string { return "__replica__" }

func (s *stripStage) Process(_ context.Context, _ Target, req *Request) error {
	s.label = req.StrippedLabel()
	s.seen = append(s.seen[:0], req.Series...)
	if s.restore {
		req.RestoreStripped()
	}
	return nil
}

func TestDecodeStripsTheFirstStagesLabel(t *testing.T) {
	stage := &stripStage{}
	env := newTestEnv(t, Options{Pipeline: []Stage{stage}})
	v1 := func(replica string, ts int64) *prompb.WriteRequest {
		return &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
			{Labels: []prompb.Label{{Name: "__name__", Value: "up"}, {Name: "__replica__", Value: replica}, {Name: "cluster", Value: "c"}},
				Samples: []prompb.Sample{{Value: 1, Timestamp: ts}}},
			{Labels: []prompb.Label{{Name: "__name__", Value: "plain"}, {Name: "job", Value: "j"}},
				Samples: []prompb.Sample{{Value: 2, Timestamp: ts}}},
		}}
	}
	stripped := labels.FromStrings("__name__", "up", "cluster", "c")

	_, err := env.store(t, v1Msg, v1("r1", testTS(0)))
	require.NoError(t, err)
	require.Equal(t, "__replica__", stage.label)
	require.Equal(t, stripped.String(), stage.seen[0].Labels.String())
	require.Equal(t, "r1", stage.seen[0].StrippedValue())
	require.Equal(t, `{__name__="plain", job="j"}`, stage.seen[1].Labels.String())
	require.Empty(t, stage.seen[1].StrippedValue())
	first := stage.seen[0].cached
	require.NotNil(t, first)

	// The other replica's series shares the entry: the same labels.
	_, err = env.store(t, v1Msg, v1("r2", testTS(time.Second)))
	require.NoError(t, err)
	require.Equal(t, "r2", stage.seen[0].StrippedValue())
	require.Same(t, first, stage.seen[0].cached)

	// Remote write 2.0 decodes the same, from the same entry.
	b := newV2Builder()
	b.series(labels.FromStrings("__name__", "up", "__replica__", "r1", "cluster", "c"), func(ts *writev2.TimeSeries) {
		ts.Samples = []writev2.Sample{{Value: 1, Timestamp: testTS(2 * time.Second)}}
	})
	_, err = env.store(t, v2Msg, b.build())
	require.NoError(t, err)
	require.Equal(t, "r1", stage.seen[0].StrippedValue())
	require.Same(t, first, stage.seen[0].cached)
	require.Equal(t, []sample{{T: testTS(0), V: 1}, {T: testTS(time.Second), V: 1}, {T: testTS(2 * time.Second), V: 1}}, query(t, env.db, nameMatcher("up"))[stripped.String()])

	// A stage that keeps the label puts it back, and it is stored.
	stage.restore = true
	_, err = env.store(t, v1Msg, v1("r3", testTS(3*time.Second)))
	require.NoError(t, err)
	full := labels.FromStrings("__name__", "up", "__replica__", "r3", "cluster", "c")
	require.Equal(t, []sample{{T: testTS(3 * time.Second), V: 1}}, query(t, env.db, nameMatcher("up"))[full.String()])

	// Without a LabelStripper first, nothing is stripped, from the same
	// cache.
	env2 := newTestEnv(t, Options{})
	env2.handler.labels = env.handler.labels
	_, err = env2.store(t, v1Msg, v1("r1", testTS(0)))
	require.NoError(t, err)
	require.Len(t, query(t, env2.db, nameMatcher("up"))[labels.FromStrings("__name__", "up", "__replica__", "r1", "cluster", "c").String()], 1)
}

func TestSamePairsSkipping(t *testing.T) {
	ls := labels.FromStrings("__name__", "up", "job", "j")
	pairs := []labels.Label{{Name: "__name__", Value: "up"}, {Name: "__replica__", Value: "r"}, {Name: "empty", Value: ""}, {Name: "job", Value: "j"}}
	require.True(t, samePairs(ls, pairs, 1))
	require.False(t, samePairs(ls, pairs, -1))
	require.False(t, samePairs(ls, pairs, 0))
	require.False(t, samePairs(labels.FromStrings("__name__", "up", "__replica__", "r", "job", "j"), pairs, 1))
	require.True(t, samePairs(labels.FromStrings("__name__", "up", "__replica__", "r", "job", "j"), pairs, -1))
}

// TestStrippedPairValidatedOnHits: a cache entry is found without the
// stripped pair, which is validated still.
func TestStrippedPairValidatedOnHits(t *testing.T) {
	cache := newLabelsCache(1<<10, time.Now)
	body := func(replica string) []byte {
		b, err := (&prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{
			Labels:  []prompb.Label{{Name: "__name__", Value: "up"}, {Name: "__replica__", Value: replica}},
			Samples: []prompb.Sample{{Value: 1, Timestamp: 1}},
		}}}).Marshal()
		require.NoError(t, err)
		return b
	}
	req := newRequest()
	require.NoError(t, decode(req, V1, body("r1"), model.UTF8Validation, cache, "__replica__"))
	require.False(t, req.Series[0].dropped)
	req = newRequest()
	require.NoError(t, decode(req, V1, body("r\xff"), model.UTF8Validation, cache, "__replica__"))
	require.True(t, req.Series[0].dropped, "an invalid replica value passed on a cache hit")
	require.Contains(t, req.rejections[0].err.Error(), "invalid label value")
}

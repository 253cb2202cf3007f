package ingest

import (
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/stretchr/testify/require"

	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
)

// TestLabelsOutliveRequestBody checks that the labels a request leaves in
// the TSDB, the labels cache and the metadata sink do not point into the
// pooled body that the next request is decoded into. CI also runs it with
// -tags slicelabels and -tags dedupelabels, Prometheus' other label builds.
func TestLabelsOutliveRequestBody(t *testing.T) {
	env := newTestEnv(t, Options{})
	for _, v := range []string{"aaaa", "bbbb", "cccc"} {
		_, err := env.store(t, remoteapi.WriteV1MessageType, &prompb.WriteRequest{
			Timeseries: []prompb.TimeSeries{{
				Labels:  []prompb.Label{{Name: "__name__", Value: "m_" + v}, {Name: "x", Value: v}},
				Samples: []prompb.Sample{{Timestamp: testTS(0), Value: 1}},
			}},
			Metadata: []prompb.MetricMetadata{{Type: prompb.MetricMetadata_GAUGE, MetricFamilyName: "m_" + v, Help: "help " + v}},
		})
		require.NoError(t, err)
	}
	got := query(t, env.db, labels.MustNewMatcher(labels.MatchRegexp, "x", ".+"))
	require.Len(t, got, 3)
	for _, v := range []string{"aaaa", "bbbb", "cccc"} {
		require.Contains(t, got, `{__name__="m_`+v+`", x="`+v+`"}`)
		require.Equal(t, "help "+v, env.sink.get()["m_"+v].Help)
	}
}

package ingest

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"github.com/stretchr/testify/require"
)

// TestEndpoint: a workspace's endpoint writes to its target, runs the
// target's own stages after the handler's, and its Close deletes the
// workspace's metric series.
func TestEndpoint(t *testing.T) {
	var mtx sync.Mutex
	var ran []string
	stage := func(name string) Stage {
		return StageFunc(func(_ context.Context, tgt Target, _ *Request) error {
			require.Equal(t, "ws-e", tgt.ID)
			mtx.Lock()
			ran = append(ran, name)
			mtx.Unlock()
			return nil
		})
	}
	env := newTestEnv(t, Options{Pipeline: []Stage{stage("handler")}})
	ep := env.handler.Open(Target{ID: "ws-e", Appendable: env.db, Pipeline: []Stage{stage("tracker"), stage("quota")}})
	env.srv = httptest.NewServer(ep)
	t.Cleanup(env.srv.Close)

	b := newV2Builder()
	b.series(labels.FromStrings("__name__", "up"), func(ts *writev2.TimeSeries) {
		ts.Samples = []writev2.Sample{{Value: 1, Timestamp: testTS(0)}}
	})
	stats, err := env.store(t, v2Msg, b.build())
	require.NoError(t, err)
	require.Equal(t, 1, stats.Samples)
	require.Equal(t, []string{"handler", "tracker", "quota"}, ran)
	require.Len(t, query(t, env.db, nameMatcher("up")), 1)

	resp := env.post(t, []byte("not snappy"), map[string]string{"Content-Type": "application/x-protobuf"})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Equal(t, 1.0, counterValue(t, env.handler.metrics.requests, "ws-e", "1.0", "400"))
	require.NoError(t, ep.Close())
	mfs, err := env.reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				require.False(t, l.GetName() == "workspace" && l.GetValue() == "ws-e", "%s of a closed endpoint", mf.GetName())
			}
		}
	}
}

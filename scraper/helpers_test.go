package scraper

import (
	"context"
	"errors"
	"fmt"
	"math"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/stretchr/testify/require"
	"github.com/thanos-io/objstore"

	"github.com/promspace/promspace/ingest"
	"github.com/promspace/promspace/workspace"
)

const testAccount = "000000000000"

// testEnv is a Manager over a real registry and bucket, and an exporter on
// loopback serving client_golang's handler.
type testEnv struct {
	dir      string
	bkt      objstore.Bucket
	reg      *workspace.Registry
	ingest   *ingest.Handler
	m        *Manager
	exporter *httptest.Server
	gauge    prometheus.Gauge
}

func newTestEnv(t *testing.T) *testEnv {
	t.Helper()
	env := &testEnv{dir: t.TempDir()}
	bkt, err := workspace.NewFilesystemBucket(t.TempDir())
	require.NoError(t, err)
	env.bkt = bkt
	env.reg, err = workspace.Open(context.Background(), workspace.Options{DataDir: env.dir, Bucket: bkt})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, env.reg.Close()) })
	env.ingest = ingest.NewHandler(ingest.Options{})

	preg := prometheus.NewRegistry()
	env.gauge = prometheus.NewGauge(prometheus.GaugeOpts{Name: "exporter_temperature_celsius", Help: "A gauge."})
	env.gauge.Set(21.5)
	preg.MustRegister(env.gauge)
	env.exporter = httptest.NewServer(promhttp.HandlerFor(preg, promhttp.HandlerOpts{}))
	t.Cleanup(env.exporter.Close)
	env.open(t)
	return env
}

// open opens a Manager on the environment's bucket, closed at cleanup.
func (env *testEnv) open(t *testing.T) {
	t.Helper()
	m, err := New(context.Background(), Options{
		Bucket:   env.bkt,
		Registry: env.reg,
		Appendable: func(w *workspace.Workspace) (storage.AppendableV2, bool) {
			return env.ingest.Open(ingest.Target{ID: w.ID(), Appendable: w, Metadata: w.Metadata()}), true
		},
		DiscoveryReloadInterval: 20 * time.Millisecond,
		DiscoveryUpdateInterval: 20 * time.Millisecond,
		Registerer:              prometheus.NewRegistry(),
	})
	require.NoError(t, err)
	env.m = m
	t.Cleanup(func() { require.NoError(t, m.Close()) })
}

func (env *testEnv) workspace(t *testing.T) *workspace.Workspace {
	t.Helper()
	w, err := env.reg.Create(context.Background(), workspace.CreateInput{})
	require.NoError(t, err)
	_, err = env.reg.Get(context.Background(), w.ID())
	require.NoError(t, err)
	return w
}

// staticConfig is a configuration scraping the exporter every 50ms.
func (env *testEnv) staticConfig(extra string) []byte {
	return fmt.Appendf(nil, `global:
  scrape_interval: 50ms
  external_labels:
    clusterArn: ${HOME}
scrape_configs:
  - job_name: exporter
    static_configs:
      - targets: [%q]
%s`, strings.TrimPrefix(env.exporter.URL, "http://"), extra)
}

func (env *testEnv) input(w *workspace.Workspace, blob []byte) CreateInput {
	return CreateInput{
		Account:             testAccount,
		ScrapeConfiguration: &ScrapeConfiguration{ConfigurationBlob: blob},
		Source: &Source{EKS: &EKSConfiguration{
			ClusterArn: "arn:aws:eks:us-east-1:000000000000:cluster/test",
			SubnetIds:  []string{"subnet-0a1b2c"},
		}},
		Destination: &Destination{AMP: &AMPConfiguration{WorkspaceArn: w.ARN()}},
	}
}

// waitStatus polls the scraper until it has the status, or fails at a
// deadline.
func (env *testEnv) waitStatus(t *testing.T, id string, want Status) *Scraper {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		s, err := env.m.Describe(context.Background(), testAccount, id)
		require.NoError(t, err)
		if s.Status == want {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("scraper %s is %s (%s), want %s", id, s.Status, s.StatusReason, want)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// waitGone polls until the scraper is not found.
func (env *testEnv) waitGone(t *testing.T, id string) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		_, err := env.m.Describe(context.Background(), testAccount, id)
		if errors.Is(err, workspace.ErrNotFound) {
			return
		}
		require.NoError(t, err)
		require.False(t, time.Now().After(deadline), "scraper %s still there", id)
		time.Sleep(5 * time.Millisecond)
	}
}

// series returns the series in w whose name is name, with their last
// value, polling until there is one or a deadline passes.
func waitSeries(t *testing.T, w *workspace.Workspace, name string) map[string]float64 {
	t.Helper()
	deadline := time.Now().Add(5 * time.Second)
	for {
		got := lastValues(t, w, name)
		if len(got) > 0 {
			return got
		}
		require.False(t, time.Now().After(deadline), "no series %s in %s", name, w.ID())
		time.Sleep(10 * time.Millisecond)
	}
}

func lastValues(t *testing.T, w *workspace.Workspace, name string) map[string]float64 {
	t.Helper()
	q, err := w.Querier(math.MinInt64, math.MaxInt64)
	require.NoError(t, err)
	defer q.Close()
	ss := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", name))
	out := map[string]float64{}
	for ss.Next() {
		it := ss.At().Iterator(nil)
		for it.Next() == chunkenc.ValFloat {
			_, v := it.At()
			out[ss.At().Labels().String()] = v
		}
	}
	require.NoError(t, ss.Err())
	return out
}

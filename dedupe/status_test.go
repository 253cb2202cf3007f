package dedupe_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/promspace/promspace/dedupe"
	"github.com/promspace/promspace/ingest"
)

func TestStatus(t *testing.T) {
	clk := newClock()
	kv := dedupe.NewMemoryKV()
	a := newNode(t, "ws", dedupe.Options{KV: kv, Now: clk.Now})
	b := newNode(t, "ws", dedupe.Options{KV: kv, Now: clk.Now})
	start := clk.Now()
	a.send(t, "c2", "r1")
	b.send(t, "c1", "x")
	clk.Add(4 * time.Second)
	a.send(t, "c2", "r1") // seen by a, not yet written

	srv := httptest.NewServer(a)
	defer srv.Close()
	resp, err := http.Get(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != 200 || resp.Header.Get("Content-Type") != "application/json" {
		t.Fatalf("status %d, %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	var got dedupe.Status
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	want := dedupe.Status{
		ClusterLabel: "cluster", ReplicaLabel: "__replica__",
		FailoverTimeout: "30s", UpdateTimeout: "15s", MaxClusters: 500,
		Now: clk.Now(),
		Clusters: []dedupe.ClusterStatus{
			// Elected by node b: node a knows it from the KV.
			{Cluster: "c1", ElectedReplica: "x", LastSeen: start, EarliestFailover: start.Add(30 * time.Second)},
			{Cluster: "c2", ElectedReplica: "r1", LastSeen: clk.Now(), EarliestFailover: clk.Now().Add(30 * time.Second)},
		},
	}
	if !equalStatus(got, want) {
		t.Errorf("status\n%+v\nwant\n%+v", got, want)
	}

	// A workspace without clusters lists none, as [] not null.
	empty := newNode(t, "other", dedupe.Options{KV: kv, Now: clk.Now})
	rec := httptest.NewRecorder()
	empty.ServeHTTP(rec, httptest.NewRequest("GET", "/workspaces/other/ha-tracker", nil))
	if !strings.Contains(rec.Body.String(), `"clusters":[]`) {
		t.Errorf("empty status: %s", rec.Body)
	}

	failing := &countingKV{KV: kv}
	failing.fail.Store(true)
	down := newNode(t, "ws", dedupe.Options{KV: failing, Now: clk.Now})
	rec = httptest.NewRecorder()
	down.ServeHTTP(rec, httptest.NewRequest("GET", "/", nil))
	if rec.Code != 500 || rec.Header().Get("x-amzn-ErrorType") != "InternalServerException" {
		t.Errorf("status without KV: %d %s", rec.Code, rec.Body)
	}
}

func equalStatus(a, b dedupe.Status) bool {
	if len(a.Clusters) != len(b.Clusters) || !a.Now.Equal(b.Now) {
		return false
	}
	for i := range a.Clusters {
		x, y := a.Clusters[i], b.Clusters[i]
		if x.Cluster != y.Cluster || x.ElectedReplica != y.ElectedReplica || !x.LastSeen.Equal(y.LastSeen) || !x.EarliestFailover.Equal(y.EarliestFailover) {
			return false
		}
	}
	a.Clusters, b.Clusters, a.Now, b.Now = nil, nil, b.Now, a.Now
	return a.ClusterLabel == b.ClusterLabel && a.ReplicaLabel == b.ReplicaLabel &&
		a.FailoverTimeout == b.FailoverTimeout && a.UpdateTimeout == b.UpdateTimeout && a.MaxClusters == b.MaxClusters
}

func TestMetrics(t *testing.T) {
	clk := newClock()
	kv := dedupe.NewMemoryKV()
	n := newNode(t, "ws", dedupe.Options{KV: kv, Now: clk.Now})
	n.send(t, "c1", "r1")
	n.send(t, "c2", "r1")
	req := &ingest.Request{Series: []ingest.Series{
		series(1, "__name__", "a", "cluster", "c1", "__replica__", "r2"),
		series(1, "__name__", "b", "cluster", "c1", "__replica__", "r2"),
	}}
	if err := n.Process(context.Background(), ingest.Target{}, req); status(t, err) != 202 {
		t.Fatal(err)
	}
	n.send(t, "c2", "r2")
	clk.Add(time.Minute)
	n.send(t, "c2", "r2") // failover

	want := `
# HELP promspace_ha_tracker_deduplicated_samples_total Float and histogram samples of non-leader replicas that were not stored, by workspace and HA cluster.
# TYPE promspace_ha_tracker_deduplicated_samples_total counter
promspace_ha_tracker_deduplicated_samples_total{cluster="c1",workspace="ws"} 2
promspace_ha_tracker_deduplicated_samples_total{cluster="c2",workspace="ws"} 1
# HELP promspace_ha_tracker_elected_replica 1 for the replica of each HA cluster whose samples are stored, as this node last learnt it.
# TYPE promspace_ha_tracker_elected_replica gauge
promspace_ha_tracker_elected_replica{cluster="c1",replica="r1",workspace="ws"} 1
promspace_ha_tracker_elected_replica{cluster="c2",replica="r2",workspace="ws"} 1
# HELP promspace_ha_tracker_elected_replica_changes_total Times this node elected another replica of an HA cluster, or learnt that another node had.
# TYPE promspace_ha_tracker_elected_replica_changes_total counter
promspace_ha_tracker_elected_replica_changes_total{cluster="c2",workspace="ws"} 1
# HELP promspace_ha_tracker_clusters HA clusters this node follows, by workspace.
# TYPE promspace_ha_tracker_clusters gauge
promspace_ha_tracker_clusters{workspace="ws"} 2
`
	names := []string{
		"promspace_ha_tracker_deduplicated_samples_total", "promspace_ha_tracker_elected_replica",
		"promspace_ha_tracker_elected_replica_changes_total", "promspace_ha_tracker_clusters",
	}
	if err := testutil.GatherAndCompare(n.reg, strings.NewReader(want), names...); err != nil {
		t.Error(err)
	}
	if n := testutil.CollectAndCount(n.reg, "promspace_ha_tracker_kv_requests_total"); n == 0 {
		t.Error("no KV requests counted")
	}

	// The KV loses c1 (another node forgot it): the gauge follows the
	// replica elected anew.
	if ok, err := kv.Delete(context.Background(), "ws/c1", mustGet(t, kv, "ws/c1").Revision); !ok || err != nil {
		t.Fatal(ok, err)
	}
	clk.Add(time.Minute)
	if got := n.send(t, "c1", "r3"); got != 204 {
		t.Fatalf("r3 after c1 was deleted: %d", got)
	}
	want = `
# HELP promspace_ha_tracker_elected_replica 1 for the replica of each HA cluster whose samples are stored, as this node last learnt it.
# TYPE promspace_ha_tracker_elected_replica gauge
promspace_ha_tracker_elected_replica{cluster="c1",replica="r3",workspace="ws"} 1
promspace_ha_tracker_elected_replica{cluster="c2",replica="r2",workspace="ws"} 1
`
	if err := testutil.GatherAndCompare(n.reg, strings.NewReader(want), "promspace_ha_tracker_elected_replica"); err != nil {
		t.Error(err)
	}

	if err := n.Close(); err != nil {
		t.Fatal(err)
	}
	if got, err := testutil.GatherAndCount(n.reg); err != nil || got != 0 {
		t.Errorf("%d series left after Close (%v)", got, err)
	}
}

func mustGet(t *testing.T, kv dedupe.KV, key string) dedupe.Entry {
	t.Helper()
	e, err := kv.Get(context.Background(), key)
	if err != nil {
		t.Fatal(err)
	}
	return e
}

package promspace_test

import (
	"encoding/json"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/promspace/promspace"
	"github.com/promspace/promspace/dedupe"
	"github.com/promspace/promspace/dedupe/etcdtest"
	"github.com/promspace/promspace/workspace"
)

// TestHAPair: two of Prometheus' remote-write clients with external labels
// cluster=c1 and __replica__=r1 and r2, over remote write 1.0 and 2.0.
func TestHAPair(t *testing.T) {
	for _, v2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("v2=%v", v2), func(t *testing.T) {
			clk := haStart()
			n := startHANode(t, promspace.Options{Dedupe: dedupe.Options{Now: clk.Now}})
			p := &haPair{t: t, clk: clk, n1: n, n2: n, interval: time.Second,
				r1: newHAReplica(t, n, "r1", v2, "cluster", "c1", "__replica__", "r1"),
				r2: newHAReplica(t, n, "r2", v2, "cluster", "c1", "__replica__", "r2"),
			}
			p.run(60, 45)
			p.checkStored(n)
			// One node: r2 waits the whole failover timeout, and not one
			// interval more.
			if gap := p.firstR2.Sub(p.lastR1); gap < dedupe.DefaultFailoverTimeout || gap > dedupe.DefaultFailoverTimeout+p.interval {
				t.Errorf("r2 took over %v after r1's last sample, want %v to %v", gap, dedupe.DefaultFailoverTimeout, dedupe.DefaultFailoverTimeout+p.interval)
			}

			want := fmt.Sprintf(`
# HELP promspace_ha_tracker_deduplicated_samples_total Float and histogram samples of non-leader replicas that were not stored, by workspace and HA cluster.
# TYPE promspace_ha_tracker_deduplicated_samples_total counter
promspace_ha_tracker_deduplicated_samples_total{cluster="c1",workspace=%[1]q} %[2]d
# HELP promspace_ha_tracker_elected_replica 1 for the replica of each HA cluster whose samples are stored, as this node last learnt it.
# TYPE promspace_ha_tracker_elected_replica gauge
promspace_ha_tracker_elected_replica{cluster="c1",replica="r2",workspace=%[1]q} 1
`, n.ws, p.deduplicated)
			if err := testutil.GatherAndCompare(n.reg, strings.NewReader(want),
				"promspace_ha_tracker_deduplicated_samples_total", "promspace_ha_tracker_elected_replica"); err != nil {
				t.Error(err)
			}

			var st dedupe.Status
			resp, err := http.Get(n.url + "/workspaces/" + n.ws + "/ha-tracker")
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			if err := json.NewDecoder(resp.Body).Decode(&st); err != nil || resp.StatusCode != 200 {
				t.Fatalf("status page: %d %v", resp.StatusCode, err)
			}
			if len(st.Clusters) != 1 || st.Clusters[0].ElectedReplica != "r2" || !st.Clusters[0].LastSeen.Equal(clk.Now()) ||
				!st.Clusters[0].EarliestFailover.Equal(clk.Now().Add(30*time.Second)) {
				t.Errorf("status page %+v, want c1 elected r2 last seen %v", st.Clusters, clk.Now())
			}
		})
	}
}

// TestHATwoServicesOneEtcd: two promspace services, each with its own
// TSDBs, sharing the workspace catalog and one embedded etcd, each
// receiving one replica, agree on one leader and store one copy between
// them.
func TestHATwoServicesOneEtcd(t *testing.T) {
	etcd := etcdtest.NewServer(t)
	bucket, err := workspace.NewFilesystemBucket(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	clk := haStart()
	node := func() *haNode {
		kv := dedupe.NewEtcdKV(etcd.Client(t), "promspace/ha/")
		return startHANode(t, promspace.Options{Bucket: bucket, Dedupe: dedupe.Options{KV: kv, Now: clk.Now}})
	}
	a := node()
	b := node() // opens the catalog a created the workspace in
	if a.ws != b.ws {
		t.Fatalf("nodes serve workspaces %s and %s, want one", a.ws, b.ws)
	}
	p := &haPair{t: t, clk: clk, n1: a, n2: b, interval: time.Second,
		r1: newHAReplica(t, a, "r1", false, "cluster", "c1", "__replica__", "r1"),
		r2: newHAReplica(t, b, "r2", false, "cluster", "c1", "__replica__", "r2"),
	}
	p.run(60, 45)
	p.checkStored(a, b)
	if got := len(a.samples(t, "ha_requests_total", clk.Now())); got != 1 {
		t.Errorf("node a stores %d series, want r1's", got)
	}
}

// TestHARequests: the first series decides for a request that mixes
// clusters or replicas; a series with one of the two labels is ordinary
// data; the 501st cluster is refused.
func TestHARequests(t *testing.T) {
	clk := haStart()
	n := startHANode(t, promspace.Options{Dedupe: dedupe.Options{Now: clk.Now}})
	r := newHAReplica(t, n, "client", false) // the series carry their labels
	at := clk.Now()
	send := func(series ...[]string) (int, error) {
		t.Helper()
		err := r.send(at, 1, series...)
		return n.lastStatus("client"), err
	}
	ha := func(name, cluster, replica string) []string {
		return []string{"__name__", name, "cluster", cluster, "__replica__", replica}
	}
	for _, c := range []struct {
		name   string
		series [][]string
		status int
		stored []string // label sets, as PromQL prints them
	}{
		{"leader with other clusters and replicas", [][]string{ha("a", "c1", "r1"), ha("b", "c2", "x"), {"__name__", "c", "__replica__", "y"}}, 204,
			[]string{`a{cluster="c1"}`, `b{cluster="c2"}`, `c`}},
		{"non-leader with the leader's series", [][]string{ha("d", "c1", "r2"), ha("e", "c1", "r1")}, 202, nil},
		{"cluster only", [][]string{{"__name__", "f", "cluster", "c1"}, ha("g", "c1", "r2")}, 204,
			[]string{`f{cluster="c1"}`, `g{__replica__="r2", cluster="c1"}`}},
		{"replica only", [][]string{{"__name__", "h", "__replica__", "r2"}}, 204, []string{`h{__replica__="r2"}`}},
	} {
		code, err := send(c.series...)
		if code != c.status || err != nil {
			t.Errorf("%s: status %d (%v), want %d", c.name, code, err, c.status)
		}
		var names []string
		for _, s := range c.series {
			names = append(names, s[1])
		}
		var got []string
		for metric := range n.samples(t, `{__name__=~"`+strings.Join(names, "|")+`"}`, at) {
			got = append(got, metric)
		}
		slices.Sort(got)
		if !slices.Equal(got, c.stored) {
			t.Errorf("%s: stored %q, want %q", c.name, got, c.stored)
		}
	}

	// c1 is one cluster; 499 more make 500.
	for i := range 499 {
		if code, err := send(ha("k", fmt.Sprint("k", i), "r1")); code != 204 {
			t.Fatalf("cluster %d: %d %v", i+2, code, err)
		}
	}
	code, err := send(ha("k", "k-over", "r1"))
	if code != 400 || err == nil || !strings.Contains(err.Error(), "too many HA clusters (limit: 500)") {
		t.Errorf("501st cluster: %d %v, want 400 too many HA clusters (limit: 500)", code, err)
	}
	for _, s := range [][]string{ha("k", "c1", "r1"), ha("k", "k7", "r1"), {"__name__", "k", "cluster", "k-over"}} {
		if code, err := send(s); code != 204 {
			t.Errorf("%v over the limit: %d %v", s, code, err)
		}
	}
}

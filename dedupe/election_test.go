package dedupe_test

import (
	"context"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/promspace/promspace/dedupe"
	"github.com/promspace/promspace/ingest"
)

// TestFailover: the leader keeps the cluster while it sends; another
// replica takes over after FailoverTimeout without a sample from it, and
// the old leader is then refused.
func TestFailover(t *testing.T) {
	clk := newClock()
	n := newNode(t, "ws", dedupe.Options{Now: clk.Now})
	steps := []struct {
		after   time.Duration
		replica string
		want    int
	}{
		{0, "r1", 204},
		{3 * time.Millisecond, "r2", 202},
		{10 * time.Second, "r1", 204},
		{10 * time.Second, "r2", 202},
		{10 * time.Second, "r1", 204}, // t=20s: written, with jitter at most 5s
		{29 * time.Second, "r2", 202}, // 29s after r1's last sample
		{time.Second - time.Millisecond, "r2", 202},
		{time.Millisecond, "r2", 204},
		{time.Millisecond, "r1", 202},
		{time.Hour, "r1", 204}, // r2 silent for an hour: r1 again
	}
	for i, s := range steps {
		clk.Add(s.after)
		if got := n.send(t, "c1", s.replica); got != s.want {
			t.Fatalf("step %d: %s got %d, want %d", i, s.replica, got, s.want)
		}
	}
}

// TestUpdateTimeout: a leader sending every second is written to the KV at
// most every UpdateTimeout, and at least every UpdateTimeout plus the
// jitter bound and one send interval.
func TestUpdateTimeout(t *testing.T) {
	clk := newClock()
	kv := &countingKV{KV: dedupe.NewMemoryKV()}
	n := newNode(t, "ws", dedupe.Options{KV: kv, Now: clk.Now})
	var writes []time.Time
	for range 600 {
		before := kv.swaps.Load()
		if got := n.send(t, "c1", "r1"); got != 204 {
			t.Fatalf("leader refused: %d", got)
		}
		if kv.swaps.Load() != before {
			writes = append(writes, clk.Now())
		}
		clk.Add(time.Second)
	}
	if len(writes) < 600/20 || len(writes) > 600/15+1 {
		t.Errorf("%d writes in 600s", len(writes))
	}
	jitters := map[time.Duration]bool{}
	for i := 1; i < len(writes); i++ {
		d := writes[i].Sub(writes[i-1])
		jitters[d] = true
		if d < dedupe.DefaultUpdateTimeout || d > dedupe.DefaultUpdateTimeout+5*time.Second+time.Second {
			t.Errorf("writes %d and %d are %v apart", i-1, i, d)
		}
	}
	if len(jitters) < 2 {
		t.Errorf("every write came after %v: no jitter", jitters)
	}
}

// TestTwoNodes: two nodes on one KV, each receiving one replica, agree on
// the leader; the other node takes over when the leader stops, after
// FailoverTimeout at the latest, and the leader that comes back is
// refused.
func TestTwoNodes(t *testing.T) { testTwoNodes(t, dedupe.NewMemoryKV()) }

func testTwoNodes(t *testing.T, kv dedupe.KV) {
	clk := newClock()
	a := newNode(t, "ws", dedupe.Options{KV: kv, Now: clk.Now})
	b := newNode(t, "ws", dedupe.Options{KV: kv, Now: clk.Now})
	const interval = time.Second
	var lastR1 time.Time
	for range 120 {
		if got := a.send(t, "c1", "r1"); got != 204 {
			t.Fatalf("%v: r1 on node a got %d", clk.Now(), got)
		}
		lastR1 = clk.Now()
		clk.Add(3 * time.Millisecond)
		if got := b.send(t, "c1", "r2"); got != 202 {
			t.Fatalf("%v: r2 on node b got %d while r1 sends", clk.Now(), got)
		}
		clk.Add(interval - 3*time.Millisecond)
	}
	// r1 stops.
	for {
		clk.Add(interval)
		if b.send(t, "c1", "r2") == 204 {
			break
		}
	}
	gap := clk.Now().Sub(lastR1)
	if gap > dedupe.DefaultFailoverTimeout+interval {
		t.Errorf("r2 took over %v after r1's last request, want at most %v", gap, dedupe.DefaultFailoverTimeout+interval)
	}
	// Not before UpdateTimeout plus jitter short of the failover timeout:
	// what node a had not yet written is all node b can miss.
	if gap < dedupe.DefaultFailoverTimeout-dedupe.DefaultUpdateTimeout-5*time.Second {
		t.Errorf("r2 took over only %v after r1's last request", gap)
	}
	clk.Add(interval)
	if got := a.send(t, "c1", "r1"); got != 202 {
		t.Errorf("r1 back on node a after the failover: %d, want 202", got)
	}
	if got := b.send(t, "c1", "r2"); got != 204 {
		t.Errorf("r2 after r1 came back: %d", got)
	}
}

// TestConcurrentElection: replicas racing on several nodes at one instant
// elect one of them.
func TestConcurrentElection(t *testing.T) { testConcurrentElection(t, dedupe.NewMemoryKV()) }

func testConcurrentElection(t *testing.T, kv dedupe.KV) {
	clk := newClock()
	nodes := []node{
		newNode(t, "ws", dedupe.Options{KV: kv, Now: clk.Now}),
		newNode(t, "ws", dedupe.Options{KV: kv, Now: clk.Now}),
		newNode(t, "ws", dedupe.Options{KV: kv, Now: clk.Now}),
	}
	for round := range 3 {
		accepted := make([]map[string]bool, len(nodes))
		var wg sync.WaitGroup
		var mtx sync.Mutex
		for i, n := range nodes {
			accepted[i] = map[string]bool{}
			for r := range 4 {
				replica := fmt.Sprint("r", r)
				wg.Go(func() {
					for range 20 {
						req := &ingest.Request{Series: []ingest.Series{series(1, "__name__", "up", "cluster", "c1", "__replica__", replica)}}
						if err := n.Process(context.Background(), ingest.Target{}, req); err == nil {
							mtx.Lock()
							accepted[i][replica] = true
							mtx.Unlock()
						}
					}
				})
			}
		}
		wg.Wait()
		all := map[string]bool{}
		for _, acc := range accepted {
			for r := range acc {
				all[r] = true
			}
		}
		if len(all) != 1 {
			t.Errorf("round %d: replicas %v accepted, want one", round, all)
		}
		clk.Add(time.Hour) // every leader has failed over
	}
}

// TestMaxClusters: the cluster over the limit is refused with 400, the
// others go on; a cluster silent for 30 minutes is forgotten and makes
// room.
func TestMaxClusters(t *testing.T) {
	clk := newClock()
	kv := dedupe.NewMemoryKV()
	a := newNode(t, "ws", dedupe.Options{KV: kv, Now: clk.Now})
	for i := range dedupe.DefaultMaxClusters {
		if got := a.send(t, clusterName(i), "r1"); got != 204 {
			t.Fatalf("cluster %d: %d", i, got)
		}
	}
	req := &ingest.Request{Series: []ingest.Series{series(1, "__name__", "up", "cluster", "c-new", "__replica__", "r1")}}
	err := a.Process(context.Background(), ingest.Target{}, req)
	if status(t, err) != 400 || err.Error() != "too many HA clusters (limit: 500)" {
		t.Fatalf("501st cluster: %v, want 400 too many HA clusters (limit: 500)", err)
	}
	// Another node counts the clusters in the KV.
	b := newNode(t, "ws", dedupe.Options{KV: kv, Now: clk.Now})
	if got := b.send(t, "c-other", "r1"); got != 400 {
		t.Errorf("501st cluster on another node: %d", got)
	}
	if got := b.send(t, clusterName(7), "r2"); got != 202 {
		t.Errorf("known cluster on another node: %d, want 202", got)
	}
	if got := a.send(t, clusterName(7), "r1"); got != 204 {
		t.Errorf("known cluster over the limit: %d", got)
	}
	if got := a.send(t, "", "r1"); got != 204 {
		t.Errorf("series without cluster label over the limit: %d", got)
	}
	other := newNode(t, "ws-other", dedupe.Options{KV: kv, Now: clk.Now})
	if got := other.send(t, "c-new", "r1"); got != 204 {
		t.Errorf("another workspace's cluster: %d", got)
	}

	// Half an hour later every cluster but one has stopped.
	for range 30 {
		clk.Add(time.Minute)
		if got := a.send(t, clusterName(0), "r1"); got != 204 {
			t.Fatalf("cluster 0 refused: %d", got)
		}
	}
	if got := a.send(t, "c-new", "r1"); got != 204 {
		t.Fatalf("new cluster after the others were forgotten: %d", got)
	}
	if es, _ := kv.List(context.Background(), "ws/"); len(es) != 2 {
		t.Errorf("KV holds %d clusters of ws, want 2", len(es))
	}
}

// TestKVErrors: a KV out of reach fails the requests it must decide (500),
// but not those of a leader already known.
func TestKVErrors(t *testing.T) {
	clk := newClock()
	kv := &countingKV{KV: dedupe.NewMemoryKV()}
	n := newNode(t, "ws", dedupe.Options{KV: kv, Now: clk.Now})
	if got := n.send(t, "c1", "r1"); got != 204 {
		t.Fatal(got)
	}
	kv.fail.Store(true)
	if got := n.send(t, "c2", "r1"); got != 500 {
		t.Errorf("new cluster without KV: %d, want 500", got)
	}
	clk.Add(time.Second)
	if got := n.send(t, "c1", "r2"); got != 202 {
		t.Errorf("non-leader without KV: %d, want 202 from memory", got)
	}
	for range 40 { // past the update and failover timeouts
		clk.Add(time.Second)
		if got := n.send(t, "c1", "r1"); got != 204 {
			t.Fatalf("leader without KV: %d", got)
		}
	}
	if got := n.send(t, "c1", "r2"); got != 202 {
		t.Errorf("non-leader without KV, leader sending: %d", got)
	}
	kv.fail.Store(false)
	clk.Add(time.Second)
	if got := n.send(t, "c1", "r1"); got != 204 {
		t.Errorf("leader with KV back: %d", got)
	}
	if e, _ := kv.Get(context.Background(), "ws/c1"); !e.Leader.LastSeen.Equal(clk.Now()) {
		t.Errorf("leader's last-seen %v, want it written at %v", e.Leader.LastSeen, clk.Now())
	}
}

// Package kvtest holds the conformance test that every dedupe.KV
// implementation passes, in the manner of testing/fstest: a host program
// that plugs its own KV in runs it in its tests.
package kvtest

import (
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/promspace/promspace/dedupe"
)

// TestKV checks the semantics that dedupe.KV documents. newKV returns a KV
// that holds no key, for the use of the (sub)test it is given only; it may
// clean up with that test's Cleanup. Each subtest calls it once.
func TestKV(t *testing.T, newKV func(t *testing.T) dedupe.KV) {
	t.Run("Absent", func(t *testing.T) { testAbsent(t, newKV(t)) })
	t.Run("CompareAndSwap", func(t *testing.T) { testCompareAndSwap(t, newKV(t)) })
	t.Run("Delete", func(t *testing.T) { testDelete(t, newKV(t)) })
	t.Run("Keys", func(t *testing.T) { testKeys(t, newKV(t)) })
	t.Run("Values", func(t *testing.T) { testValues(t, newKV(t)) })
	t.Run("EmptyKey", func(t *testing.T) { testEmptyKey(t, newKV(t)) })
	t.Run("DoneContext", func(t *testing.T) { testDoneContext(t, newKV(t)) })
	t.Run("ConcurrentElection", func(t *testing.T) { testConcurrentElection(t, newKV(t)) })
	t.Run("ConcurrentUpdates", func(t *testing.T) { testConcurrentUpdates(t, newKV(t)) })
}

var t0 = time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.UTC)

func leader(replica string, d time.Duration) dedupe.Leader {
	return dedupe.Leader{Replica: replica, LastSeen: t0.Add(d)}
}

func sameLeader(a, b dedupe.Leader) bool {
	return a.Replica == b.Replica && a.LastSeen.Equal(b.LastSeen)
}

func get(t *testing.T, kv dedupe.KV, key string) dedupe.Entry {
	t.Helper()
	e, err := kv.Get(context.Background(), key)
	if err != nil {
		t.Fatalf("Get(%q): %v", key, err)
	}
	if e.Key != key {
		t.Fatalf("Get(%q) returned key %q", key, e.Key)
	}
	return e
}

// mustSwap stores l at key over rev and returns the new revision.
func mustSwap(t *testing.T, kv dedupe.KV, key string, rev int64, l dedupe.Leader) int64 {
	t.Helper()
	e, ok, err := kv.CompareAndSwap(context.Background(), key, rev, l)
	if err != nil || !ok {
		t.Fatalf("CompareAndSwap(%q, %d): ok %v, err %v; want it stored", key, rev, ok, err)
	}
	if e.Key != key || !sameLeader(e.Leader, l) || e.Revision <= rev || e.Revision <= 0 {
		t.Fatalf("CompareAndSwap(%q, %d, %v) returned %+v", key, rev, l, e)
	}
	return e.Revision
}

// refuseSwap checks that a CompareAndSwap over rev stores nothing and
// returns the entry that is there, want.
func refuseSwap(t *testing.T, kv dedupe.KV, key string, rev int64, want dedupe.Entry) {
	t.Helper()
	e, ok, err := kv.CompareAndSwap(context.Background(), key, rev, leader("intruder", time.Hour))
	if err != nil || ok {
		t.Fatalf("CompareAndSwap(%q, %d) with revision %d stored: ok %v, err %v; want false and no error", key, rev, want.Revision, ok, err)
	}
	if e.Key != key || e.Revision != want.Revision || !sameLeader(e.Leader, want.Leader) {
		t.Fatalf("refused CompareAndSwap(%q, %d) returned %+v, want the current entry %+v", key, rev, e, want)
	}
	if got := get(t, kv, key); got.Revision != want.Revision || !sameLeader(got.Leader, want.Leader) {
		t.Fatalf("after a refused CompareAndSwap, Get(%q) = %+v, want %+v", key, got, want)
	}
}

func deleted(t *testing.T, kv dedupe.KV, key string, rev int64) bool {
	t.Helper()
	ok, err := kv.Delete(context.Background(), key, rev)
	if err != nil {
		t.Fatalf("Delete(%q, %d): %v", key, rev, err)
	}
	return ok
}

func list(t *testing.T, kv dedupe.KV, prefix string) []dedupe.Entry {
	t.Helper()
	es, err := kv.List(context.Background(), prefix)
	if err != nil {
		t.Fatalf("List(%q): %v", prefix, err)
	}
	return es
}

func testAbsent(t *testing.T, kv dedupe.KV) {
	if e := get(t, kv, "ws/c"); e.Revision != 0 || e.Leader.Replica != "" || !e.Leader.LastSeen.IsZero() {
		t.Errorf("Get of a key never stored = %+v, want a zero entry", e)
	}
	for _, rev := range []int64{0, 1, -1} {
		if deleted(t, kv, "ws/c", rev) {
			t.Errorf("Delete(%d) of a key never stored reports a deletion", rev)
		}
	}
	refuseSwap(t, kv, "ws/c", 1, dedupe.Entry{Key: "ws/c"})
	if es := list(t, kv, ""); len(es) != 0 {
		t.Errorf("List of an empty KV = %+v", es)
	}
}

func testCompareAndSwap(t *testing.T, kv dedupe.KV) {
	const key = "ws/c"
	l1, l2 := leader("a", 0), leader("b", time.Second)
	rev1 := mustSwap(t, kv, key, 0, l1)
	cur := dedupe.Entry{Key: key, Leader: l1, Revision: rev1}
	if e := get(t, kv, key); e.Revision != rev1 || !sameLeader(e.Leader, l1) {
		t.Fatalf("Get after create = %+v, want %+v", e, cur)
	}
	refuseSwap(t, kv, key, 0, cur)       // exists already
	refuseSwap(t, kv, key, rev1+1, cur)  // a revision it never had
	refuseSwap(t, kv, key, rev1+99, cur) // nor this one
	refuseSwap(t, kv, key, -1, cur)

	rev2 := mustSwap(t, kv, key, rev1, l2)
	cur = dedupe.Entry{Key: key, Leader: l2, Revision: rev2}
	refuseSwap(t, kv, key, rev1, cur) // stale
	// The same value again is still a change.
	rev3 := mustSwap(t, kv, key, rev2, l2)
	refuseSwap(t, kv, key, rev2, dedupe.Entry{Key: key, Leader: l2, Revision: rev3})
}

func testDelete(t *testing.T, kv dedupe.KV) {
	const key = "ws/c"
	rev1 := mustSwap(t, kv, key, 0, leader("a", 0))
	rev2 := mustSwap(t, kv, key, rev1, leader("b", 0))
	if deleted(t, kv, key, rev1) {
		t.Fatal("Delete with a stale revision deleted")
	}
	if deleted(t, kv, key, 0) {
		t.Fatal("Delete with revision 0 deleted")
	}
	if get(t, kv, key).Revision != rev2 {
		t.Fatal("a refused Delete changed the key")
	}
	if !deleted(t, kv, key, rev2) {
		t.Fatal("Delete with the current revision did not delete")
	}
	if e := get(t, kv, key); e.Revision != 0 || e.Leader.Replica != "" {
		t.Fatalf("Get after Delete = %+v", e)
	}
	if deleted(t, kv, key, rev2) {
		t.Fatal("a second Delete reports a deletion")
	}
	absent := dedupe.Entry{Key: key}
	refuseSwap(t, kv, key, rev2, absent)
	refuseSwap(t, kv, key, rev1, absent)

	// Created again, the key never gets an old revision back.
	rev3 := mustSwap(t, kv, key, 0, leader("c", 0))
	if rev3 <= rev2 {
		t.Fatalf("revision %d after delete and create, want more than %d", rev3, rev2)
	}
	if deleted(t, kv, key, rev2) {
		t.Fatal("Delete with the revision of the deleted key deleted the new one")
	}
	if es := list(t, kv, ""); len(es) != 1 || es[0].Revision != rev3 {
		t.Fatalf("List = %+v, want the recreated key only", es)
	}
}

func testKeys(t *testing.T, kv dedupe.KV) {
	keys := []string{"ws-1/b", "ws-10/a", "ws-1/a", "ws-2/x", "ws-1/", "ws-1", "wü/ñ", "a b/\x00\xff"}
	revs := map[string]int64{}
	for i, k := range keys {
		revs[k] = mustSwap(t, kv, k, 0, leader(fmt.Sprint("r", i), time.Duration(i)))
	}
	// A key's revision moves only with its own changes.
	for i, k := range keys {
		e := get(t, kv, k)
		if e.Revision != revs[k] || !sameLeader(e.Leader, leader(fmt.Sprint("r", i), time.Duration(i))) {
			t.Errorf("Get(%q) = %+v, want revision %d and replica r%d", k, e, revs[k], i)
		}
	}
	revs["ws-1/a"] = mustSwap(t, kv, "ws-1/a", revs["ws-1/a"], leader("moved", 0))
	if e := get(t, kv, "ws-1/b"); e.Revision != revs["ws-1/b"] {
		t.Errorf("changing ws-1/a changed the revision of ws-1/b: %d, was %d", e.Revision, revs["ws-1/b"])
	}

	for _, c := range []struct {
		prefix string
		want   []string
	}{
		{"ws-1/", []string{"ws-1/", "ws-1/a", "ws-1/b"}},
		{"ws-1", []string{"ws-1", "ws-1/", "ws-1/a", "ws-1/b", "ws-10/a"}},
		{"wü/", []string{"wü/ñ"}},
		{"ws-3", nil},
		{"", slices.Sorted(slices.Values(keys))},
	} {
		es := list(t, kv, c.prefix)
		var got []string
		for _, e := range es {
			got = append(got, e.Key)
			if e.Revision != revs[e.Key] {
				t.Errorf("List(%q): %q has revision %d, Get said %d", c.prefix, e.Key, e.Revision, revs[e.Key])
			}
		}
		if !slices.Equal(got, c.want) {
			t.Errorf("List(%q) = %q, want %q", c.prefix, got, c.want)
		}
	}
	if es := list(t, kv, "ws-1/a"); len(es) != 1 || es[0].Leader.Replica != "moved" {
		t.Errorf("List(%q) = %+v, want the changed value", "ws-1/a", es)
	}
}

func testValues(t *testing.T, kv dedupe.KV) {
	zone := time.FixedZone("UTC+9", 9*60*60)
	for i, l := range []dedupe.Leader{
		{Replica: "prometheus-0", LastSeen: time.Now()}, // with a monotonic reading
		{Replica: "", LastSeen: t0.In(zone)},
		{Replica: "ü/\x00" + strings.Repeat("r", 1000), LastSeen: time.Unix(0, 1)},
		{Replica: "old", LastSeen: time.Date(1700, 1, 1, 0, 0, 0, 999, time.UTC)},
		{Replica: "late", LastSeen: time.Date(2250, 12, 31, 23, 59, 59, 999999999, zone)},
	} {
		key := fmt.Sprint("ws/", i)
		mustSwap(t, kv, key, 0, l)
		if e := get(t, kv, key); !sameLeader(e.Leader, l) {
			t.Errorf("stored %q at %v, got back %q at %v", l.Replica, l.LastSeen, e.Leader.Replica, e.Leader.LastSeen)
		}
	}
}

func testEmptyKey(t *testing.T, kv dedupe.KV) {
	ctx := context.Background()
	if _, err := kv.Get(ctx, ""); err == nil {
		t.Error("Get of the empty key: no error")
	}
	if _, ok, err := kv.CompareAndSwap(ctx, "", 0, leader("a", 0)); err == nil || ok {
		t.Errorf("CompareAndSwap of the empty key: ok %v, err %v; want an error", ok, err)
	}
	if ok, err := kv.Delete(ctx, "", 0); err == nil || ok {
		t.Errorf("Delete of the empty key: ok %v, err %v; want an error", ok, err)
	}
	if es := list(t, kv, ""); len(es) != 0 {
		t.Errorf("the empty key was stored: %+v", es)
	}
}

func testDoneContext(t *testing.T, kv dedupe.KV) {
	const key = "ws/c"
	rev := mustSwap(t, kv, key, 0, leader("a", 0))
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := kv.Get(ctx, key); err == nil {
		t.Error("Get with a done context: no error")
	}
	if _, ok, err := kv.CompareAndSwap(ctx, key, rev, leader("b", 0)); err == nil || ok {
		t.Errorf("CompareAndSwap with a done context: ok %v, err %v", ok, err)
	}
	if _, ok, err := kv.CompareAndSwap(ctx, "ws/new", 0, leader("b", 0)); err == nil || ok {
		t.Errorf("CompareAndSwap of a new key with a done context: ok %v, err %v", ok, err)
	}
	if ok, err := kv.Delete(ctx, key, rev); err == nil || ok {
		t.Errorf("Delete with a done context: ok %v, err %v", ok, err)
	}
	if _, err := kv.List(ctx, ""); err == nil {
		t.Error("List with a done context: no error")
	}
	if es := list(t, kv, ""); len(es) != 1 || es[0].Revision != rev || es[0].Leader.Replica != "a" {
		t.Errorf("after calls with a done context the KV holds %+v", es)
	}
}

// testConcurrentElection: replicas race to create the same key; exactly one
// wins and every loser is told who won.
func testConcurrentElection(t *testing.T, kv dedupe.KV) {
	const key, n = "ws/c", 8
	type result struct {
		e  dedupe.Entry
		ok bool
	}
	results := make([]result, n)
	var wg sync.WaitGroup
	for i := range n {
		wg.Go(func() {
			e, ok, err := kv.CompareAndSwap(context.Background(), key, 0, leader(fmt.Sprint("r", i), 0))
			if err != nil {
				t.Errorf("CompareAndSwap: %v", err)
			}
			results[i] = result{e, ok}
		})
	}
	wg.Wait()
	winner := -1
	for i, r := range results {
		if r.ok {
			if winner >= 0 {
				t.Fatalf("replicas r%d and r%d both won the election", winner, i)
			}
			winner = i
		}
	}
	if winner < 0 {
		t.Fatal("no replica won the election")
	}
	won := results[winner].e
	for i, r := range results {
		if !r.ok && (r.e.Revision != won.Revision || !sameLeader(r.e.Leader, won.Leader)) {
			t.Errorf("r%d lost and was told %+v, but r%d won with %+v", i, r.e, winner, won)
		}
	}
}

// testConcurrentUpdates: read-modify-write loops on one key lose no update
// and never see one revision twice.
func testConcurrentUpdates(t *testing.T, kv dedupe.KV) {
	const key, n, updates = "ws/c", 8, 20
	mustSwap(t, kv, key, 0, leader("r", 0))
	var (
		mtx  sync.Mutex
		revs = map[int64]bool{}
		wg   sync.WaitGroup
	)
	for i := range n {
		wg.Go(func() {
			ctx := context.Background()
			for done := 0; done < updates; {
				e, err := kv.Get(ctx, key)
				if err != nil {
					t.Errorf("Get: %v", err)
					return
				}
				next := e.Leader
				next.LastSeen = next.LastSeen.Add(time.Nanosecond)
				ne, ok, err := kv.CompareAndSwap(ctx, key, e.Revision, next)
				if err != nil {
					t.Errorf("CompareAndSwap: %v", err)
					return
				}
				if !ok {
					continue
				}
				done++
				mtx.Lock()
				if revs[ne.Revision] {
					t.Errorf("revision %d given twice (goroutine %d)", ne.Revision, i)
				}
				revs[ne.Revision] = true
				mtx.Unlock()
			}
		})
	}
	wg.Wait()
	e := get(t, kv, key)
	if want := t0.Add(n * updates * time.Nanosecond); !e.Leader.LastSeen.Equal(want) {
		t.Errorf("after %d updates of a nanosecond each, LastSeen is %v, want %v: updates were lost", n*updates, e.Leader.LastSeen, want)
	}
	if !revs[e.Revision] || slices.Max(slices.Collect(maps.Keys(revs))) != e.Revision {
		t.Errorf("final revision %d is not the last one given", e.Revision)
	}
}

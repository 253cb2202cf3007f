package dedupe_test

import (
	"testing"

	"github.com/promspace/promspace/dedupe"
	"github.com/promspace/promspace/dedupe/etcdtest"
	"github.com/promspace/promspace/dedupe/kvtest"
)

// TestEtcdKV runs every test that needs etcd against one real server,
// each under a key prefix of its own.
func TestEtcdKV(t *testing.T) {
	srv := etcdtest.NewServer(t)
	client := srv.Client(t)
	t.Run("Conformance", func(t *testing.T) {
		kvtest.TestKV(t, func(t *testing.T) dedupe.KV { return dedupe.NewEtcdKV(client, "kvtest/"+t.Name()+"/") })
	})
	// Nodes with clients of their own, as promspace servers have.
	t.Run("TwoNodes", func(t *testing.T) { testTwoNodes(t, dedupe.NewEtcdKV(srv.Client(t), "two-nodes/")) })
	t.Run("ConcurrentElection", func(t *testing.T) {
		testConcurrentElection(t, dedupe.NewEtcdKV(srv.Client(t), "concurrent/"))
	})
}

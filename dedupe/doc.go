// Package dedupe owns the ingest-time dedupe of HA Prometheus pairs: series
// labelled with the same cluster and different __replica__ values, of which
// one replica per cluster is elected leader and ingested, with failover after
// 30 s without samples from it. Election state lives in a KV store: in
// memory for one process (NewMemoryKV), etcd for several (NewEtcdKV).
//
// Trackers gives each workspace its Tracker, an ingest.Stage that runs
// before the quota stage: it answers a non-leader's request 202 with
// Cortex's text, strips the replica label from the leader's series (as the
// first stage, an ingest.LabelStripper, by having decoding leave it out),
// and
// refuses a cluster over MaxClusters with 400. Options set AMP's labels,
// timeouts and limit for every workspace, and Options.Overrides for one.
// The Tracker is also the http.Handler of the workspace's status page
// (Status), and counts deduplicated samples and shows elected replicas on
// the Registerer's metrics.
//
// Every KV passes kvtest.TestKV, the exported conformance test; etcdtest
// starts a real etcd server for tests. The package does not own the
// discarded-samples metric (package ingest counts what a stage drops). The
// Service takes quota.Limits.MaxHAClusters as Options.MaxClusters when that
// is unset, and a workspace's quota gives its Tracker the HA cluster limit
// of a per-workspace quota override (Tracker.SetMaxClusters); a MaxClusters
// of the tracker's own Options.Overrides wins over both.
package dedupe

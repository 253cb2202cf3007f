// Package dedupe owns the ingest-time dedupe of HA Prometheus pairs: series
// labelled with the same cluster and different __replica__ values, of which
// one replica per cluster is elected leader and ingested, with failover after
// 30 s without samples from it. Election state lives in a KV store: in
// memory for one process, etcd for several.
//
// It plugs into the ingest pipeline between decoding and the TSDB appender.
// It does not own the per-workspace quota on HA clusters (package quota
// holds the limit; the tracker will apply it) or the discarded-samples
// metric (package ingest counts what a stage drops).
//
// Built: the KV interface and its exact contract, NewMemoryKV, and the
// exported conformance test kvtest.TestKV that every KV passes; Options
// with AMP's defaults; Trackers, whose Component gives each workspace its
// Tracker. A sketch: the Tracker's Stage passes every request unchanged
// (no election, no 202, __replica__ kept), and there is no etcd KV yet.
package dedupe

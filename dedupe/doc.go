// Package dedupe owns the ingest-time dedupe of HA Prometheus pairs: series
// labelled with the same cluster and different __replica__ values, of which
// one replica per cluster is elected leader and ingested, with failover after
// 30 s without samples from it. Election state lives in a KV store: in
// memory for one process, etcd for several.
//
// It plugs into the ingest pipeline between decoding and the TSDB appender.
package dedupe

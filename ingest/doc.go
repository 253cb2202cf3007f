// Package ingest owns remote-write ingest for a workspace: the HTTP exchange
// of Prometheus remote write 1.0 (prometheus.WriteRequest) and 2.0
// (io.prometheus.write.v2.Request) with snappy compression, the size limits
// on the compressed and decompressed body, decoding, label validation, the
// write pipeline, and appending to the workspace's storage.AppendableV2 in
// one transaction per request, with metric metadata handed both to the TSDB
// and to the workspace's MetadataSink.
//
// A request flows: method and Content-Type (415) → Content-Encoding (415) →
// body size (413) → snappy → decode (400 for a malformed message) →
// validation (invalid series dropped, listed in a 400) → pipeline stages →
// TSDB appender → commit. Valid samples of a request are written even when
// others in it are rejected; the response is then 400 and names each
// rejected series and why, up to Options.MaxResponseErrors. Responses to 2.0
// requests carry X-Prometheus-Remote-Write-{Samples,Histograms,Exemplars}-Written.
// Status codes follow Prometheus' receiver (storage/remote/write_handler.go);
// a 5xx means nothing was written and only comes from the storage or a
// failing stage.
//
// The package does not own what stages decide: HA dedupe (package dedupe)
// and limits and metering (package quota) plug in as Stages through
// Options.Pipeline. It does not route requests, authenticate callers, open
// workspaces or keep metadata: the root package resolves the workspace and
// passes a Target.
//
// An Endpoint is also a storage.AppendableV2 (Endpoint.AppenderV2), so that
// writers inside the program, such as a scraper's scrape manager, go
// through the same pipeline: what is appended is run through the stages and
// appended to the TSDB on Commit.
//
// Decoding reads the protobuf wire format directly into pooled requests, so
// that label names and values are not allocated one by one, and a bounded
// cache of validated labels spares a series sent again (the steady state of
// remote write) its validation and copy, and keeps its TSDB reference.
// When a request's first stage is a LabelStripper (the HA tracker),
// decoding leaves its label out of every series and keeps the value apart,
// so that the cache holds the labels the TSDB stores, one copy shared with
// the head. A 2.0 request's cache lookups are prefetched, all its series'
// at once, so that their cache misses overlap (see labelsTable).
// BenchmarkRemoteWrite and the root package's BenchmarkIngest
// compare the whole path with Prometheus' own receiver on the same input.
package ingest

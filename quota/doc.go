// Package quota owns AMP's limits, with AMP's defaults and error texts, and
// usage metering: ingestion rate and burst, active series per workspace and
// per metric, per-label-set series limits, label limits, query limits, and
// the samples ingested, storage and query samples processed of each
// workspace.
//
// It plugs into the ingest pipeline and the query path; it does not store
// samples itself, and does not own the limits a workspace's TSDB enforces
// (retention, the out-of-order window: package workspace) or the number of
// workspaces of an account (workspace.Options.MaxWorkspaces).
//
// Built: Limits with AMP's defaults (DefaultLimits), per-workspace
// overrides (Options.Overrides), and each workspace's Quota as a workspace
// component, which takes limitsPerLabelSet, retention and the out-of-order
// window from the workspace's configuration.
//
// Built, ingest limits: Quota is the workspace's ingest Stage. It drops
// series over the label limits, refuses a request over the ingestion
// token bucket whole (429 with Retry-After; 400 over the burst, which no
// wait admits), and admits a series not yet active only if the workspace,
// its metric name and each label set it matches have room, with AMP's and
// Cortex's texts and reasons. Active series (a sample in the last 2 hours
// of Options.Now) are counted exactly, in hash tables of the workspace's
// own, sharded; idle series are purged every PurgeInterval, and the TSDB's
// are counted again when the workspace opens. Limits change live with
// ApplyConfig (Options.Overrides is asked again); Quota.IngestUsage
// reports the usage. BenchmarkRemoteWriteLimits measures the cost.
//
// Built, metering and views: the Meters component gives each workspace a
// Meter of its query samples processed (QSP, the engine's count) and the
// bytes of its head, WAL and blocks, as promspace_usage_* metrics with a
// workspace label and through Meter.Read; samples ingested and discarded
// are ingest's metrics. Quota.Limits().Query() are the workspace's query
// limits, which the query API reads per request; Quota.View and its
// ServeHTTP are the /workspaces/{id}/limits view, every limit next to its
// usage. Rules per workspace and active alerts are limits here, enforced
// by package rules; the HA cluster limit is enforced by the workspace's
// dedupe.Tracker, which an override's reaches through ApplyConfig.
package quota

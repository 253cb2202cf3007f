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
// window from the workspace's configuration. A sketch: Quota's ingest
// Stage passes every request, and nothing meters usage or enforces a
// limit yet.
package quota

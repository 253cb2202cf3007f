// Package quota owns AMP's limits, with AMP's defaults and error texts, and
// usage metering: ingestion rate and burst, active series per workspace and
// per metric, per-label-set series limits, label limits, query limits, and
// the samples ingested, storage and query samples processed of each
// workspace.
//
// It plugs into the ingest pipeline and the query path; it does not store
// samples itself.
package quota

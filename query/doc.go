// Package query owns the Prometheus HTTP API v1 of a workspace: instant and
// range queries, series, label names and values, metric metadata, exemplars,
// format_query, parse_query and status/buildinfo, with the JSON, error JSON
// and status codes Prometheus writes.
//
// One API per service holds the PromQL engine that all workspaces share
// (native histograms, the @ modifier and negative offsets enabled). Each
// workspace gets its own http.Handler over its own storage, built once by
// (*API).Handler and cached by the caller; the handler serves paths that start
// at /api/v1/. The endpoints themselves are Prometheus' own (web/api/v1); this
// package adds what AMP adds on top of them:
//
//   - the query time range limit of query_range (32 days by default),
//     answered with Cortex's 400 "the query time range exceeds the limit";
//   - AMP's query timeout (1 minute), answered with 422 "query timed out -
//     consider simplifying your query" instead of Prometheus' 503;
//   - the max_samples_processed_warning_threshold and
//     max_samples_processed_error_threshold parameters of query and
//     query_range, measured on the engine's total samples;
//   - query samples processed (QSP) per workspace, reported to Options.OnQuery
//     for metering;
//   - metric metadata from the workspace's metadata store rather than from
//     scrape targets.
//
// Endpoints AMP does not offer (targets, rules, admin, remote read and write,
// status pages other than buildinfo) answer 404. Authentication,
// authorization and the /workspaces/{id} prefix are the caller's.
package query

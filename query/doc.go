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
//   - the query time range limit (32 days by default), answered with
//     Cortex's 400 "the query time range exceeds the limit": on the range
//     of query_range, on the time the selectors of query and query_range
//     read (ranges, offsets, subqueries and @ included, overlaps counted
//     once, as Cortex's query frontend measures it), and on series, labels
//     and label values requests that give a start;
//   - limits on PromQL checked before it is parsed, on every endpoint that
//     parses a query or match[] selectors: its size (128 KiB by default,
//     400 "the raw query size in bytes exceeds the limit", Mimir's words)
//     and its nesting depth (1,000 by default, 400 "the query expression is
//     nested too deeply"), since parsing cannot be interrupted and takes
//     time that grows with the square of the depth;
//   - times (time, start, end) that are no point in time, such as NaN, Inf
//     or seconds beyond what a timestamp holds, answered 400 as Prometheus
//     answers any time it cannot parse, instead of being evaluated at an
//     overflowed time;
//   - AMP's query timeout (1 minute), counted from the request's arrival so
//     that it covers parsing, answered with 422 "query timed out - consider
//     simplifying your query" instead of Prometheus' 503;
//   - AMP's chunks per query (2,000,000) and bytes per query (5 GB per 24 h
//     of the query's range), counted as the engine fetches series, answered
//     with Cortex's 422 "the query hit the max number of chunks limit" and
//     "the query hit the aggregated data size limit";
//   - AMP's samples per query (50,000,000, the engine's limit, 422 "query
//     processing would load too many samples into memory in query
//     execution"), and a bound on the samples of a result (5,000,000) that
//     keeps encoding the response from taking gigabytes, 422 "the query
//     result is too large to answer";
//   - the max_samples_processed_warning_threshold and
//     max_samples_processed_error_threshold parameters of query and
//     query_range, measured on the engine's total samples;
//   - query samples processed (QSP) per workspace, reported to Options.OnQuery
//     and Source.OnQuery for metering;
//   - per-workspace limits: a Source's Limits function gives its workspace's
//     samples, chunks and bytes per query, time range and timeout, read as
//     each request arrives, so that an override applies without a restart
//     (Options' values otherwise). The engine holds the samples limit and
//     the timeout, so workspaces whose values differ from Options' get an
//     engine of their own, one per distinct pair;
//   - metric metadata from the workspace's metadata store rather than from
//     scrape targets.
//
// Endpoints AMP does not offer (targets, rules, admin, remote read and write,
// status pages other than buildinfo) answer 404. Authentication,
// authorization and the /workspaces/{id} prefix are the caller's.
package query

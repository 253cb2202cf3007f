// Package promspace hosts the semantics of Amazon Managed Service for
// Prometheus (AMP) inside a Go program: workspaces with AMP's control-plane
// REST API, remote-write ingest, and the Prometheus query API, each workspace
// backed by its own Prometheus TSDB.
//
// The root package only wires the other packages into one http.Handler:
//
//   - workspace owns the control plane and the per-workspace TSDBs;
//   - ingest owns remote write 1.0 and 2.0;
//   - query owns the Prometheus HTTP API v1 and the PromQL engine;
//   - auth owns SigV4, bearer tokens and IAM-style policies, identity
//     and resource-based (each workspace's resource policy, which the
//     registry stores and policy.go serves on /workspaces/{id}/policy);
//   - logging owns each workspace's logging and query logging
//     configurations and the records they vend;
//   - scraper owns AMP's managed scrapers, account-level resources that
//     scrape into their workspaces' ingest endpoints (scrapers.go wires
//     them);
//   - rules, dedupe and quota own recording and alerting rules, HA-pair
//     dedupe and AMP's limits.
//   - alertmanager owns each workspace's alert manager definition and the
//     Alertmanager that the rules send their alerts to (components.go
//     opens it before the rules manager, service.go wires the two).
//
// The test harness for programs that write to promspace is promspacetest.
package promspace

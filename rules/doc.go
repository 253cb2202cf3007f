// Package rules owns a workspace's rule groups namespaces and its alert
// manager: namespaces of Prometheus rule files (validated with Prometheus'
// rulefmt), evaluated with Prometheus' rules manager into the workspace's
// TSDB, and the alert manager definition with routing, grouping, silences,
// inhibition and receivers (SNS, webhook).
//
// It does not own storage or querying: rules read and write the workspace
// through the storage interfaces the workspace package provides, and are
// evaluated by the PromQL engine it is given (normally the query API's).
// The per-workspace rules and alerts quotas are package quota's.
//
// Built: Managers, whose Component gives each workspace a RuleManager, a
// running Prometheus rules.Manager that reads from and appends to the
// workspace and takes its rule query offset from the workspace's
// configuration. A sketch: no namespace is stored, validated or loaded,
// so nothing is evaluated, and there is no alert manager (alerts would go
// nowhere).
package rules

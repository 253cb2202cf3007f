// Package rules owns a workspace's rule groups namespaces and their
// evaluation: namespaces of Prometheus rule files, validated with
// Prometheus' rulefmt, stored in the workspace's bucket and evaluated with
// Prometheus' rules manager into the workspace's TSDB.
//
// It does not own storage or querying: rules read and write the workspace
// through the storage interfaces the workspace package provides, and are
// evaluated by the PromQL engine it is given (normally the query API's).
// The per-workspace rules and alerts quotas are package quota's
// (Limits.MaxRules, Limits.MaxActiveAlerts), which this package enforces.
// It does not own access control (package auth) nor the routing of
// requests to a workspace (the root package).
//
// Built: Managers, whose Component gives each workspace a RuleManager:
//   - AMP's rule groups namespace operations (Create, Put, Describe, List,
//     Delete) in Go and, through ServeHTTP, on AMP's REST-JSON paths, with
//     AMP's statuses, ARNs and exceptions. A namespace is one JSON object
//     in the workspace's bucket (rulegroupsnamespaces/<name>.json), whose
//     upload is the change's acknowledgement; a file that rulefmt refuses,
//     or that takes the workspace over MaxRules, changes nothing.
//     An object that does not decode when the workspace opens is logged
//     by name and kept UPDATE_FAILED, its object named in the reason,
//     until a Put replaces it or a Delete removes it; the other
//     namespaces load.
//   - Prometheus' rules.Manager, loading each namespace from a rules file
//     under the workspace's directory (rules/<name>.yaml), rewritten on
//     every change; a group's File is its namespace. Queries run on the
//     workspace, recording rules append into it (through
//     Options.Appendable, the Service's ingest pipeline with its HA
//     dedupe and quotas, when set), alerting rules write
//     ALERTS and ALERTS_FOR_STATE and restore `for` state after a restart
//     (OutageTolerance, ForGracePeriod); the configuration's
//     RuleQueryOffset is the default query offset.
//   - RuleGroups and AlertingRules, the RulesRetriever of Prometheus' API
//     for /api/v1/rules and /api/v1/alerts.
//   - EvalAt, evaluating every group at a chosen time, with
//     Options.ManualEvaluation for tests and the promspacetest harness.
//
// Alerts within MaxActiveAlerts go to Options.Notify, with their rule's
// expression; the root package wires it to the workspace's alert manager
// (package alertmanager, Instance.Send). Those over the limit are counted
// and dropped.
//
// Not built: TagResource and UntagResource on namespace ARNs are not
// served: tags are only those given at creation.
package rules

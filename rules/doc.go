// Package rules owns a workspace's rule groups namespaces and its alert
// manager: namespaces of Prometheus rule files (validated with Prometheus'
// rulefmt), evaluated with Prometheus' rules manager into the workspace's
// TSDB, and the alert manager definition with routing, grouping, silences,
// inhibition and receivers (SNS, webhook).
//
// It does not own storage or querying: rules read and write the workspace
// through the storage interfaces the workspace package provides.
package rules

// Package workspace owns AMP's control plane, in process: the registry of
// workspaces (create, describe, list, update alias, tag, delete), their
// status lifecycle (CREATING, ACTIVE, CREATION_FAILED, DELETING), their
// configuration (retention, out-of-order window, limitsPerLabelSet, rule
// query offset) and the storage behind each of them: one Prometheus
// tsdb.DB per workspace under DataDir/workspaces/<id>, and a MetadataStore
// holding the latest metric metadata per metric family.
//
// A *Workspace is the storage other packages take: it implements
// Prometheus' storage.AppendableV2, SampleAndChunkQueryable and
// ExemplarQueryable, each appender and querier holding the workspace open
// until it is committed, rolled back or closed. Registry.Resolve finds a
// workspace for a caller's account and holds it for a request; it is the one
// place where the caller's account is checked.
//
// Everything kept per workspace is a Component (Options.Components): the
// query API, ingest's per-workspace state, quotas, the HA tracker, rules and
// the block shipper each open an Instance after the workspace's TSDB opens,
// get every configuration through ApplyConfig, and close before the TSDB
// closes, on deletion and on Registry.Close. No other package keeps a map of
// workspaces.
//
// Workspace records (id, ARN, alias, tags, configuration, status, client
// tokens) are JSON objects in an objstore.Bucket, with a copy in each
// workspace's directory, so a Registry opened again on the same data
// directory and bucket comes back with every workspace, its settings and
// its data.
//
// A workspace's resource policy (PutResourcePolicy, DescribeResourcePolicy,
// DeleteResourcePolicy, with revision ids and their conflicts) is one JSON
// object in its part of the bucket, read at its first use and kept; the
// registry stores the document as given, and ResourcePolicyOf and
// AccountOf tell access control (package auth) what to evaluate. The
// policy language and its evaluation are not this package's.
//
// Acknowledged samples survive a kill: appenders are ordered so that the
// WAL and the WBL replay as they were applied (append.go), and the
// out-of-order head a replay rebuilds is compacted into blocks before the
// workspace takes writes (wbl.go), since a later replay could otherwise
// drop it at the m-map marker of a chunk the kill lost.
//
// NewHandler serves AMP's control-plane REST-JSON routes exactly as the AWS
// SDK's amp client calls them. The package does not own the data plane
// (/workspaces/{id}/api/v1/...), quota enforcement, rules or access
// control: those are components and handlers of other packages.
//
// The Registry's files split its concerns: registry.go (open, close, save),
// registry_read.go (lookup, Resolve), registry_tsdb.go (the TSDB and
// metadata flush), registry_create.go, registry_list.go,
// registry_alias.go, registry_delete.go, registry_tags.go,
// registry_config.go and registry_policy.go; component.go and storage.go are the seams other
// packages use.
package workspace

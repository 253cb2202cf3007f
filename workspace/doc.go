// Package workspace owns AMP's control plane, in process: the registry of
// workspaces (create, describe, list, update alias, tag, delete), their
// status lifecycle (CREATING, ACTIVE, CREATION_FAILED, DELETING), their
// configuration (retention, out-of-order window, limitsPerLabelSet, rule
// query offset) and the storage behind each of them: one Prometheus tsdb.DB per workspace under
// DataDir/workspaces/<id>, and a MetadataStore holding the latest metric
// metadata per metric family.
//
// Workspace records (id, ARN, alias, tags, configuration, status, client
// tokens) are JSON objects in an objstore.Bucket, so a Registry opened again
// on the same data directory and bucket comes back with every workspace, its
// settings and its data.
//
// NewHandler serves AMP's control-plane REST-JSON routes exactly as the AWS
// SDK's amp client calls them. The package does not own the data plane
// (/workspaces/{id}/api/v1/...), quotas enforcement, rules or access control:
// those packages read what they need through Registry.Get and the Workspace
// accessors, holding the workspace with Workspace.Acquire for the length of
// a request so that a deletion or Close does not close its TSDB under them.
package workspace

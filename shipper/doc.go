// Package shipper keeps every workspace's compacted TSDB blocks in the
// workspace's part of the bucket (workspace.Workspace.Bucket), so that the
// local disk is a cache of the bucket: a node that starts on an empty data
// directory with the same bucket gets every shipped block back.
//
// It owns, per workspace: the upload of each block the TSDB compacted (not
// the head) in the layout of Thanos, Cortex and Mimir (<ulid>/chunks/...,
// <ulid>/index, then <ulid>/meta.json, last, with its thanos section); the
// shipped-blocks marker in the workspace directory; the deletion from the
// bucket of the blocks the TSDB dropped, by retention or because they were
// compacted into a shipped block; the download of the bucket's blocks into
// the TSDB directory before the TSDB opens (Component.Prepare); and the
// copy of the workspace's metric metadata file in the bucket.
//
// It does not own the head or its WAL (what has not become a block stays on
// the local disk only), the workspace records (package workspace), nor the
// deletion of a deleted workspace's objects (the Registry deletes its whole
// prefix).
package shipper

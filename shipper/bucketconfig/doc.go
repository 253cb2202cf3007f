// Package bucketconfig opens the bucket a server keeps its workspaces in
// from Thanos' objstore client YAML (type: FILESYSTEM, S3, GCS, AZURE, ...
// with its config:), as Thanos' -objstore.config-file reads it.
//
// It owns the choice of provider only: FILESYSTEM is promspace's
// workspace.FilesystemBucket (atomic uploads), every other type is
// thanos-io/objstore's client factory. It is a package of its own so that
// only programs that read such a file link every provider's SDK; package
// promspace and package shipper take an objstore.Bucket as it is.
package bucketconfig

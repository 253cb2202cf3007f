package workspace

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/promspace/promspace/internal/atomicfile"
	"github.com/thanos-io/objstore"
	"github.com/thanos-io/objstore/providers/filesystem"
)

// tmpSuffix ends the name of an object being written by a FilesystemBucket.
const tmpSuffix = atomicfile.TmpSuffix

// FilesystemBucket is thanos-io/objstore's filesystem bucket with atomic
// uploads. objstore's own Upload truncates the object's file and then writes
// it, so a crash in between leaves an empty or partial object where the
// previous one was; this one writes a temporary file beside the object,
// syncs it, renames it over the object and syncs the directory, so that an
// object is always either its previous or its new content, across a crash
// of the process or of the machine.
type FilesystemBucket struct {
	*filesystem.Bucket
	root string
}

// NewFilesystemBucket returns a bucket that keeps objects as files under
// root, creating root if needed. Temporary files left by a crash are
// removed.
func NewFilesystemBucket(root string) (*FilesystemBucket, error) {
	root, err := filepath.Abs(root)
	if err != nil {
		return nil, err
	}
	if err := os.MkdirAll(root, 0o777); err != nil {
		return nil, err
	}
	bkt, err := filesystem.NewBucket(root)
	if err != nil {
		return nil, err
	}
	if err := removeTempFiles(root); err != nil {
		return nil, fmt.Errorf("remove temporary files of %s: %w", root, err)
	}
	return &FilesystemBucket{Bucket: bkt, root: root}, nil
}

// Upload writes the object name atomically.
func (b *FilesystemBucket) Upload(ctx context.Context, name string, r io.Reader, _ ...objstore.ObjectUploadOption) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if strings.HasSuffix(name, tmpSuffix) {
		return fmt.Errorf("object name %q ends in %s, which the bucket keeps for its temporary files", name, tmpSuffix)
	}
	return atomicfile.Write(filepath.Join(b.root, filepath.FromSlash(name)), r)
}

func removeTempFiles(root string) error {
	return filepath.WalkDir(root, func(path string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if !d.IsDir() && strings.HasSuffix(d.Name(), tmpSuffix) {
			return os.Remove(path)
		}
		return nil
	})
}

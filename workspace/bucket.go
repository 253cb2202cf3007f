package workspace

import (
	"context"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"strings"

	"github.com/thanos-io/objstore"
	"github.com/thanos-io/objstore/providers/filesystem"
)

// tmpSuffix ends the name of an object being written by a FilesystemBucket.
const tmpSuffix = ".promspace-tmp"

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
	return writeFileAtomic(filepath.Join(b.root, filepath.FromSlash(name)), r)
}

// writeFileAtomic replaces the file at path with r's content, so that a
// crash at any moment leaves either the previous content or the new one.
func writeFileAtomic(path string, r io.Reader) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*"+tmpSuffix)
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			f.Close()
			os.Remove(f.Name())
		}
	}()
	if _, err := io.Copy(f, r); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	if err := f.Sync(); err != nil {
		return fmt.Errorf("sync %s: %w", path, err)
	}
	if err := f.Close(); err != nil {
		return fmt.Errorf("close %s: %w", path, err)
	}
	if err := os.Rename(f.Name(), path); err != nil {
		return err
	}
	return syncDir(dir)
}

// syncDir makes a rename or removal in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	defer d.Close()
	if err := d.Sync(); err != nil {
		return fmt.Errorf("sync directory %s: %w", dir, err)
	}
	return nil
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

// Package atomicfile writes files so that a crash at any moment leaves
// either their previous content or the new one, and the new one, once
// written, survives a crash: the content goes to a temporary file in the
// same directory, synced, renamed over the file, and the directory is
// synced.
package atomicfile

import (
	"fmt"
	"io"
	"os"
	"path/filepath"
)

// TmpSuffix ends the name of a temporary file of Write, so that a
// directory's leftovers of a crash can be told apart.
const TmpSuffix = ".promspace-tmp"

// Write replaces the file at path with r's content, making its directory
// if need be.
func Write(path string, r io.Reader) (err error) {
	dir := filepath.Dir(path)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	f, err := os.CreateTemp(dir, "."+filepath.Base(path)+".*"+TmpSuffix)
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
	return SyncDir(dir)
}

// SyncDir makes a rename or removal in dir durable.
func SyncDir(dir string) error {
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

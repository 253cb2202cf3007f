package shipper

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path"
	"path/filepath"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/thanos-io/objstore"

	"github.com/promspace/promspace/internal/atomicfile"
	"github.com/promspace/promspace/workspace"
)

// tmpSuffix ends the directory a block is downloaded into; the TSDB removes
// such directories left by a crash when it opens.
const tmpSuffix = ".tmp-for-creation"

// restore downloads into dir, before the TSDB opens it, the bucket's blocks
// that dir lacks: all of them on an empty disk. Blocks the marker lists
// (dropped locally, their deletion from the bucket pending) and blocks
// compacted into a local block are not downloaded. A block whose meta.json
// is unreadable or whose objects are missing or truncated is reported by
// name and skipped; only a bucket that cannot be listed fails the opening.
// The metric metadata file is restored too when dir lacks it.
func (s *Shipper) restore(ctx context.Context, w *workspace.Workspace, dir string) error {
	logger := s.opts.Logger.With("workspace", w.ID())
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	shipped, err := readMarker(dir)
	if err != nil {
		logger.Warn("Shipped-blocks marker unreadable", "err", err)
	}
	local, covered := localBlocks(dir)
	bkt := w.Bucket()
	ids, err := s.listBlocks(ctx, bkt)
	if err != nil {
		return fmt.Errorf("list the blocks of the bucket: %w", err)
	}
	restored := 0
	for _, id := range ids {
		if local[id] || shipped[id] {
			continue
		}
		m, raw, err := readMetaRaw(ctx, bkt, id)
		if bkt.IsObjNotFoundErr(err) {
			// An upload cut short: invisible until meta.json is there.
			logger.Debug("Partial block in the bucket ignored", "block", id)
			continue
		}
		if err == nil && allIn(sources(m.BlockMeta), covered) {
			continue
		}
		if err == nil {
			err = s.download(ctx, bkt, dir, id, m, raw)
		}
		if err != nil {
			logger.Error("Block in the bucket skipped: it cannot be restored", "block", id, "prefix", w.ObjectName(""), "err", err)
			s.metrics.skipped.WithLabelValues(w.ID()).Inc()
			continue
		}
		shipped[id] = true
		restored++
		s.metrics.restored.WithLabelValues(w.ID()).Inc()
	}
	if restored > 0 {
		logger.Info("Blocks restored from the bucket", "blocks", restored)
		if err := writeMarker(dir, shipped); err != nil {
			return fmt.Errorf("write %s: %w", markerFile, err)
		}
	}
	return s.restoreMetadata(ctx, w, dir)
}

// listBlocks lists the block names in bkt, retrying as uploads do.
func (s *Shipper) listBlocks(ctx context.Context, bkt objstore.Bucket) ([]string, error) {
	backoff := s.opts.RetryBackoff
	for attempt := 0; ; attempt++ {
		var ids []string
		err := bkt.Iter(ctx, "", func(name string) error {
			if id, ok := strings.CutSuffix(name, "/"); ok && isBlockName(id) {
				ids = append(ids, id)
			}
			return nil
		})
		if err == nil || attempt >= s.opts.Retries {
			return ids, err
		}
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("%w (then %w)", err, ctx.Err())
		case <-t.C:
		}
		backoff *= 2
	}
}

// isBlockName tells whether a directory of the bucket names a block: a
// ULID, as Thanos' block fetcher has it. The workspace's other objects
// (rule groups namespaces, the alert manager's, logging's) are not blocks.
func isBlockName(name string) bool {
	var m tsdb.BlockMeta
	return m.ULID.UnmarshalText([]byte(name)) == nil
}

// localBlocks returns the blocks in dir and the head blocks they were
// compacted from.
func localBlocks(dir string) (ids, covered map[string]bool) {
	ids, covered = map[string]bool{}, map[string]bool{}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		if !e.IsDir() {
			continue
		}
		b, err := os.ReadFile(filepath.Join(dir, e.Name(), metaFile))
		if err != nil {
			continue
		}
		var m tsdb.BlockMeta
		if json.Unmarshal(b, &m) != nil || m.ULID.String() != e.Name() {
			continue
		}
		ids[e.Name()] = true
		for _, s := range sources(m) {
			covered[s] = true
		}
	}
	return ids, covered
}

func allIn(ids []string, set map[string]bool) bool {
	for _, id := range ids {
		if !set[id] {
			return false
		}
	}
	return true
}

// download writes the block id into dir, through a temporary directory
// renamed once the block is complete and opens.
func (s *Shipper) download(ctx context.Context, bkt objstore.Bucket, dir, id string, m blockMeta, raw []byte) (err error) {
	files := m.Thanos.Files
	if len(files) == 0 {
		// Not shipped by promspace nor Thanos: take the block files the
		// bucket has, leaving out the rest (tombstones, Thanos' marks).
		err := bkt.Iter(ctx, id+"/", func(name string) error {
			if rel := strings.TrimPrefix(name, id+"/"); validRelPath(rel) {
				files = append(files, blockFile{RelPath: rel})
			}
			return nil
		}, objstore.WithRecursiveIter())
		if err != nil {
			return err
		}
	}
	tmp := filepath.Join(dir, id+tmpSuffix)
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			os.RemoveAll(tmp)
		}
	}()
	if err := os.MkdirAll(filepath.Join(tmp, chunksDir), 0o777); err != nil {
		return err
	}
	hasIndex := false
	for _, f := range files {
		if f.RelPath == metaFile {
			continue
		}
		hasIndex = hasIndex || f.RelPath == indexFile
		if err := downloadFile(ctx, bkt, path.Join(id, f.RelPath), filepath.Join(tmp, filepath.FromSlash(f.RelPath)), f.SizeBytes); err != nil {
			return err
		}
	}
	if !hasIndex {
		return fmt.Errorf("%s: no index", path.Join(id, metaFile))
	}
	if err := atomicfile.Write(filepath.Join(tmp, metaFile), bytes.NewReader(raw)); err != nil {
		return err
	}
	b, err := tsdb.OpenBlock(s.opts.Logger, tmp, nil, nil)
	if err != nil {
		return fmt.Errorf("block %s does not open: %w", id, err)
	}
	if err := b.Close(); err != nil {
		return err
	}
	if err := os.Rename(tmp, filepath.Join(dir, id)); err != nil {
		return err
	}
	return atomicfile.SyncDir(dir)
}

// downloadFile writes the object name to dst, checking its size when size
// is known.
func downloadFile(ctx context.Context, bkt objstore.BucketReader, name, dst string, size int64) error {
	rc, err := bkt.Get(ctx, name)
	if err != nil {
		return fmt.Errorf("get %s: %w", name, err)
	}
	defer rc.Close()
	f, err := os.Create(dst)
	if err != nil {
		return err
	}
	n, err := io.Copy(f, rc)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err != nil {
		return fmt.Errorf("download %s: %w", name, err)
	}
	if size > 0 && n != size {
		return fmt.Errorf("object %s has %d bytes, meta.json says %d", name, n, size)
	}
	return nil
}

// restoreMetadata puts the bucket's copy of the metric metadata file into
// dir when dir has none.
func (s *Shipper) restoreMetadata(ctx context.Context, w *workspace.Workspace, dir string) error {
	dst := filepath.Join(dir, workspace.MetadataFile)
	if _, err := os.Stat(dst); !errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	bkt := w.Bucket()
	rc, err := bkt.Get(ctx, workspace.MetadataFile)
	if bkt.IsObjNotFoundErr(err) {
		return nil
	}
	if err == nil {
		defer rc.Close()
		var b []byte
		if b, err = io.ReadAll(rc); err == nil {
			if err = checkMetadata(b); err == nil {
				err = atomicfile.Write(dst, bytes.NewReader(b))
			}
		}
	}
	if err != nil {
		s.opts.Logger.Error("Metric metadata in the bucket skipped: it cannot be restored", "workspace", w.ID(), "object", w.ObjectName(workspace.MetadataFile), "err", err)
	}
	return nil
}

// checkMetadata checks that b decodes as the workspace's metric metadata
// file (workspace.MetadataStore.MarshalJSON).
func checkMetadata(b []byte) error {
	var c struct {
		Version  int                          `json:"version"`
		Families map[string]metadata.Metadata `json:"families"`
	}
	if err := json.Unmarshal(b, &c); err != nil {
		return fmt.Errorf("decode: %w", err)
	}
	if c.Version != 1 {
		return fmt.Errorf("unknown version %d", c.Version)
	}
	return nil
}

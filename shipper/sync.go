package shipper

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"maps"
	"math"
	"os"
	"path"
	"path/filepath"
	"slices"
	"time"

	"github.com/prometheus/prometheus/tsdb"
	"github.com/thanos-io/objstore"

	"github.com/promspace/promspace/workspace"
)

// Sync uploads the workspace's blocks that the bucket lacks, then deletes
// from the bucket the shipped blocks that the TSDB dropped: those past the
// workspace's retention (the TSDB's rule: a block whose end is a retention
// period before the newest block's) and those compacted into a block
// already shipped. A block the TSDB compacts or drops before it is shipped
// is not lost: its samples are in the block it was compacted into, or past
// retention. It also uploads the metric metadata file when it changed.
func (in *Instance) Sync(ctx context.Context) error {
	in.syncMtx.Lock()
	defer in.syncMtx.Unlock()
	db := in.w.DB()
	if db == nil || in.s.opts.Disabled {
		return nil
	}
	var errs []error
	local := map[string]tsdb.BlockMeta{}
	for _, b := range db.Blocks() {
		m := b.Meta()
		id := m.ULID.String()
		local[id] = m
		if in.shipped[id] || m.Compaction.Deletable || m.Compaction.Failed {
			continue
		}
		if err := in.upload(ctx, b.Dir(), m); err != nil {
			// The TSDB may have compacted the block away meanwhile.
			errs = append(errs, fmt.Errorf("upload block %s: %w", id, err))
			continue
		}
		in.shipped[id] = true
		in.s.metrics.uploaded.WithLabelValues(in.w.ID()).Inc()
		if err := writeMarker(in.w.Dir(), in.shipped); err != nil {
			errs = append(errs, fmt.Errorf("write %s: %w", markerFile, err))
		}
		in.logger.Info("Block shipped", "block", id, "mint", m.MinTime, "maxt", m.MaxTime)
	}
	errs = append(errs, in.pruneBucket(ctx, local), in.shipMetadata(ctx))
	err := errors.Join(errs...)
	if err == nil {
		in.s.metrics.lastSync.WithLabelValues(in.w.ID()).SetToCurrentTime()
	}
	return err
}

// upload uploads the block in dir: its chunks and index, then its meta.json
// with the thanos section, so that a block is visible only once complete.
func (in *Instance) upload(ctx context.Context, dir string, m tsdb.BlockMeta) error {
	id := m.ULID.String()
	chunks, err := os.ReadDir(filepath.Join(dir, chunksDir))
	if err != nil {
		return err
	}
	meta := blockMeta{BlockMeta: m}
	meta.Thanos.Version = 1
	meta.Thanos.Labels = map[string]string{WorkspaceLabel: in.w.ID()}
	meta.Thanos.Source = Source
	var files []string
	for _, c := range chunks {
		if !c.IsDir() {
			meta.Thanos.SegmentFiles = append(meta.Thanos.SegmentFiles, c.Name())
			files = append(files, chunksDir+"/"+c.Name())
		}
	}
	files = append(files, indexFile)
	for _, rel := range files {
		size, err := in.uploadFile(ctx, filepath.Join(dir, filepath.FromSlash(rel)), path.Join(id, rel))
		if err != nil {
			return err
		}
		meta.Thanos.Files = append(meta.Thanos.Files, blockFile{RelPath: rel, SizeBytes: size})
	}
	meta.Thanos.Files = append(meta.Thanos.Files, blockFile{RelPath: metaFile})
	b, err := json.MarshalIndent(meta, "", "\t")
	if err != nil {
		return err
	}
	return in.retry(ctx, path.Join(id, metaFile), func() error {
		return in.w.Bucket().Upload(ctx, path.Join(id, metaFile), bytes.NewReader(b))
	})
}

// uploadFile uploads the file src as the object name and returns its size.
func (in *Instance) uploadFile(ctx context.Context, src, name string) (int64, error) {
	var size int64
	err := in.retry(ctx, name, func() error {
		f, err := os.Open(src)
		if err != nil {
			return err
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			return err
		}
		size = st.Size()
		return in.w.Bucket().Upload(ctx, name, f)
	})
	return size, err
}

// retry runs op until it succeeds, Options.Retries times more at most,
// with a doubling backoff. A missing local file is not retried.
func (in *Instance) retry(ctx context.Context, name string, op func() error) error {
	backoff := in.s.opts.RetryBackoff
	for attempt := 0; ; attempt++ {
		err := op()
		if err == nil {
			return nil
		}
		in.s.metrics.uploadFailures.WithLabelValues(in.w.ID()).Inc()
		if errors.Is(err, fs.ErrNotExist) || attempt >= in.s.opts.Retries {
			return fmt.Errorf("upload %s: %w", name, err)
		}
		in.logger.Debug("Upload failed, retrying", "object", name, "attempt", attempt+1, "err", err)
		t := time.NewTimer(backoff)
		select {
		case <-ctx.Done():
			t.Stop()
			return fmt.Errorf("upload %s: %w (then %w)", name, err, ctx.Err())
		case <-t.C:
		}
		backoff *= 2
	}
}

// pruneBucket deletes the shipped blocks that are no longer local, when
// they are past retention or compacted into a shipped local block.
func (in *Instance) pruneBucket(ctx context.Context, local map[string]tsdb.BlockMeta) error {
	newest := int64(math.MinInt64)
	covered := map[string]bool{}
	for id, m := range local {
		newest = max(newest, m.MaxTime)
		if in.shipped[id] {
			for _, s := range sources(m) {
				covered[s] = true
			}
		}
	}
	retention := in.retentionPeriod().Milliseconds()
	bkt := in.w.Bucket()
	var errs []error
	changed := false
	for _, id := range slices.Sorted(maps.Keys(in.shipped)) {
		if _, ok := local[id]; ok {
			continue
		}
		m, err := readMeta(ctx, bkt, id)
		if bkt.IsObjNotFoundErr(err) {
			delete(in.shipped, id)
			changed = true
			continue
		}
		if err != nil {
			errs = append(errs, err)
			continue
		}
		pastRetention := len(local) > 0 && retention > 0 && newest-m.MaxTime >= retention
		compacted := !slices.ContainsFunc(sources(m.BlockMeta), func(s string) bool { return !covered[s] })
		if !pastRetention && !compacted {
			continue
		}
		if err := deleteBlock(ctx, bkt, id); err != nil {
			errs = append(errs, err)
			continue
		}
		delete(in.shipped, id)
		changed = true
		in.s.metrics.deleted.WithLabelValues(in.w.ID()).Inc()
		in.logger.Info("Block deleted from the bucket", "block", id, "past_retention", pastRetention, "compacted", compacted)
	}
	if changed {
		if err := writeMarker(in.w.Dir(), in.shipped); err != nil {
			errs = append(errs, fmt.Errorf("write %s: %w", markerFile, err))
		}
	}
	return errors.Join(errs...)
}

// readMeta reads and checks the meta.json of the block id in bkt.
func readMeta(ctx context.Context, bkt objstore.BucketReader, id string) (blockMeta, error) {
	m, _, err := readMetaRaw(ctx, bkt, id)
	return m, err
}

func readMetaRaw(ctx context.Context, bkt objstore.BucketReader, id string) (blockMeta, []byte, error) {
	name := path.Join(id, metaFile)
	rc, err := bkt.Get(ctx, name)
	if err != nil {
		return blockMeta{}, nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return blockMeta{}, nil, fmt.Errorf("read %s: %w", name, err)
	}
	m, err := decodeMeta(id, b)
	if err != nil {
		return m, b, fmt.Errorf("%s: %w", name, err)
	}
	return m, b, nil
}

// deleteBlock deletes the block id from bkt, meta.json first so that what
// a failure leaves is an invisible partial block.
func deleteBlock(ctx context.Context, bkt objstore.Bucket, id string) error {
	if err := bkt.Delete(ctx, path.Join(id, metaFile)); err != nil && !bkt.IsObjNotFoundErr(err) {
		return fmt.Errorf("delete %s: %w", path.Join(id, metaFile), err)
	}
	var names []string
	if err := bkt.Iter(ctx, id+"/", func(name string) error {
		names = append(names, name)
		return nil
	}, objstore.WithRecursiveIter()); err != nil {
		return fmt.Errorf("list %s: %w", id, err)
	}
	for _, name := range names {
		if err := bkt.Delete(ctx, name); err != nil && !bkt.IsObjNotFoundErr(err) {
			return fmt.Errorf("delete %s: %w", name, err)
		}
	}
	return nil
}

// shipMetadata uploads the workspace's metric metadata, as its file in the
// workspace directory holds it, when it changed since the last upload.
func (in *Instance) shipMetadata(ctx context.Context) error {
	if in.w.Metadata().Len() == 0 {
		return nil
	}
	b, err := json.Marshal(in.w.Metadata())
	if err != nil {
		return err
	}
	if bytes.Equal(b, in.metaShipped) {
		return nil
	}
	err = in.retry(ctx, workspace.MetadataFile, func() error {
		return in.w.Bucket().Upload(ctx, workspace.MetadataFile, bytes.NewReader(b))
	})
	if err != nil {
		return err
	}
	in.metaShipped = b
	return nil
}

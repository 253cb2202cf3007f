package shipper

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/thanos-io/objstore"
)

// thanosMetaJSON is Thanos' pkg/block/metadata.Meta, field for field with
// its JSON names and types, as metadata.Read decodes a meta.json.
type thanosMetaJSON struct {
	tsdb.BlockMeta
	Thanos struct {
		Version    int               `json:"version,omitempty"`
		Labels     map[string]string `json:"labels"`
		Downsample struct {
			Resolution int64 `json:"resolution"`
		} `json:"downsample"`
		Source       string            `json:"source"`
		SegmentFiles []string          `json:"segment_files,omitempty"`
		Files        []thanosFileJSON  `json:"files,omitempty"`
		Rewrites     []json.RawMessage `json:"rewrites,omitempty"`
	} `json:"thanos"`
}

// thanosFileJSON is Thanos' metadata.File.
type thanosFileJSON struct {
	RelPath   string          `json:"rel_path"`
	SizeBytes int64           `json:"size_bytes,omitempty"`
	Hash      json.RawMessage `json:"hash,omitempty"`
}

// thanosRead decodes and checks b as Thanos' metadata.Read does.
func thanosRead(b []byte) (thanosMetaJSON, error) {
	var m thanosMetaJSON
	if err := json.NewDecoder(bytes.NewReader(b)).Decode(&m); err != nil {
		return m, err
	}
	if m.Version != 1 {
		return m, fmt.Errorf("unexpected meta file version %d", m.Version)
	}
	if v := m.Thanos.Version; v != 0 && v != 1 {
		return m, fmt.Errorf("unexpected meta file Thanos section version %d", v)
	}
	return m, nil
}

// TestBucketReadsAsThanos reads a workspace's part of the bucket the way
// Thanos' block fetcher and store gateway do, with prefix workspaces/<id>:
// every top-level directory named by a ULID is a block, the others
// (metric metadata, rule namespaces and the like) are not; each block's
// meta.json decodes as Thanos' metadata.Meta with the workspace's external
// label, source and resolution 0; its files list, sorted by path, is every
// object of the block with its size; and the block those objects make
// opens and holds the series and samples meta.json counts.
func TestBucketReadsAsThanos(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.open()
	w := e.create("thanos")
	writeAndCompact(t, w, 0, 2)
	writeAndCompact(t, w, 2, 4)
	w.Metadata().Set("shipped", metadata.Metadata{Type: model.MetricTypeGauge, Help: "A shipped gauge."})
	if err := w.Bucket().Upload(ctx, "rulegroupsnamespaces/ns.json", strings.NewReader("{}")); err != nil {
		t.Fatal(err)
	}
	e.close()
	bkt := objstore.NewPrefixedBucket(e.bkt, "workspaces/"+w.ID())

	var blocks []string
	err := bkt.Iter(ctx, "", func(name string) error {
		var m tsdb.BlockMeta // its ULID, parsed as Thanos parses the name
		if id, ok := strings.CutSuffix(name, "/"); ok && m.ULID.UnmarshalText([]byte(id)) == nil {
			blocks = append(blocks, id)
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	if len(blocks) != 2 {
		t.Fatalf("%d blocks as Thanos lists them, want 2: %v", len(blocks), blocks)
	}
	for _, id := range blocks {
		rc, err := bkt.Get(ctx, path.Join(id, metaFile))
		if err != nil {
			t.Fatal(err)
		}
		raw, err := io.ReadAll(rc)
		rc.Close()
		if err != nil {
			t.Fatal(err)
		}
		m, err := thanosRead(raw)
		if err != nil {
			t.Fatalf("meta.json of %s, read as Thanos reads it: %v", id, err)
		}
		if m.ULID.String() != id {
			t.Errorf("meta.json of %s names %s", id, m.ULID)
		}
		th := m.Thanos
		if len(th.Labels) != 1 || th.Labels["workspace"] != w.ID() {
			t.Errorf("thanos.labels of %s = %v, want {workspace: %s}", id, th.Labels, w.ID())
		}
		if th.Source != "promspace" || th.Downsample.Resolution != 0 || !bytes.Contains(raw, []byte(`"resolution": 0`)) {
			t.Errorf("thanos.source %q, resolution %d, want promspace and an explicit 0:\n%s", th.Source, th.Downsample.Resolution, raw)
		}
		if !slices.IsSortedFunc(th.Files, func(a, b thanosFileJSON) int { return strings.Compare(a.RelPath, b.RelPath) }) {
			t.Errorf("thanos.files of %s not sorted by rel_path: %+v", id, th.Files)
		}

		// Every object of the block, with the size thanos.files gives.
		dir := filepath.Join(t.TempDir(), id)
		listed := map[string]int64{}
		for _, f := range th.Files {
			listed[f.RelPath] = f.SizeBytes
		}
		err = bkt.Iter(ctx, id+"/", func(name string) error {
			rel := strings.TrimPrefix(name, id+"/")
			size, ok := listed[rel]
			if !ok {
				return fmt.Errorf("object %s not in thanos.files", name)
			}
			delete(listed, rel)
			rc, err := bkt.Get(ctx, name)
			if err != nil {
				return err
			}
			defer rc.Close()
			b, err := io.ReadAll(rc)
			if err != nil {
				return err
			}
			if rel != metaFile && int64(len(b)) != size {
				return fmt.Errorf("object %s has %d bytes, thanos.files says %d", name, len(b), size)
			}
			dst := filepath.Join(dir, filepath.FromSlash(rel))
			if err := os.MkdirAll(filepath.Dir(dst), 0o777); err != nil {
				return err
			}
			return os.WriteFile(dst, b, 0o666)
		}, objstore.WithRecursiveIter())
		if err != nil {
			t.Fatal(err)
		}
		if len(listed) != 0 {
			t.Errorf("thanos.files of %s lists objects the bucket lacks: %v", id, listed)
		}
		b, err := tsdb.OpenBlock(nil, dir, nil, nil)
		if err != nil {
			t.Fatalf("block %s as downloaded: %v", id, err)
		}
		if got := b.Meta().Stats; got.NumSeries != 2 || got.NumSamples != 2*2*60 {
			t.Errorf("block %s holds %d series and %d samples, want 2 and %d", id, got.NumSeries, got.NumSamples, 2*2*60)
		}
		b.Close()
	}
}

package shipper

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"os"
	"path"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/metadata"

	"github.com/promspace/promspace/workspace"
)

// TestRestoreOnEmptyDisk replaces the node: write, cut blocks, close
// (which ships them), delete the data directory, start on the same bucket,
// and read the same answers for the shipped range; then keep ingesting.
func TestRestoreOnEmptyDisk(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.open()
	w := e.create("replaced")
	id := w.ID()
	writeAndCompact(t, w, 0, 2)
	writeAndCompact(t, w, 2, 4)
	w.Metadata().Set("shipped", metadata.Metadata{Type: model.MetricTypeGauge, Help: "A shipped gauge."})
	// Close ships the blocks and the metadata, which is not yet on disk.
	want := samples(t, w, 0, 4*hour-1)
	if len(want) != 2*4*60 {
		t.Fatalf("%d samples before the replacement, want %d", len(want), 2*4*60)
	}
	// An object of another component, in a directory of its own.
	if err := w.Bucket().Upload(ctx, "rulegroupsnamespaces/ns.json", strings.NewReader("{}")); err != nil {
		t.Fatal(err)
	}
	e.close()

	if err := os.RemoveAll(e.dataDir); err != nil {
		t.Fatal(err)
	}
	e.open()
	w = e.get(id)
	if logs := e.logs.String(); strings.Contains(logs, "block=rulegroupsnamespaces") {
		t.Errorf("a directory that is no block taken for one:\n%s", logs)
	}
	if got := samples(t, w, 0, 4*hour-1); !slices.Equal(got, want) {
		t.Errorf("after the replacement, %d samples, want the %d shipped", len(got), len(want))
	}
	if got := w.Metadata().List("shipped", 0, 0)["shipped"]; len(got) != 1 || got[0].Help != "A shipped gauge." {
		t.Errorf("metric metadata after the replacement: %v", got)
	}
	// Restored blocks are not shipped again, and new ones are.
	before := len(e.bkt.uploaded("/" + metaFile))
	writeAndCompact(t, w, 4, 6)
	if err := instance(t, w).Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(e.bkt.uploaded("/"+metaFile)) - before; got != 1 {
		t.Errorf("%d blocks uploaded after the restore, want the 1 new one", got)
	}
}

// TestRestoreSkipsCorruptBlocks breaks five of six shipped blocks in five
// ways, and the metric metadata, and checks that a node on an empty disk
// reports each object by name, restores the sixth block and opens.
func TestRestoreSkipsCorruptBlocks(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.open()
	w := e.create("corrupt")
	id := w.ID()
	for h := int64(0); h < 12; h += 2 {
		writeAndCompact(t, w, h, h+2)
	}
	w.Metadata().Set("shipped", metadata.Metadata{Type: model.MetricTypeGauge, Help: "A shipped gauge."})
	e.close()
	metas := e.bkt.uploaded("/" + metaFile)
	if len(metas) != 6 {
		t.Fatalf("%d blocks shipped, want 6", len(metas))
	}
	slices.Sort(metas) // ULIDs sort by time: [0h,2h) first
	blockOf := func(i int) string { return path.Dir(metas[i]) }
	chunk := func(i int) string { return blockOf(i) + "/chunks/000001" }
	index := func(i int) string { return blockOf(i) + "/index" }
	put := func(name, body string) {
		t.Helper()
		if err := e.bkt.Upload(ctx, name, strings.NewReader(body)); err != nil {
			t.Fatal(err)
		}
	}
	del := func(name string) {
		t.Helper()
		if err := e.bkt.Delete(ctx, name); err != nil {
			t.Fatal(err)
		}
	}
	put(metas[0], "{truncated") // [0h,2h): meta.json is no JSON
	del(chunk(1))               // [2h,4h): its chunks are gone
	put(index(2), "short")      // [4h,6h): its index is truncated
	del(index(3))               // [6h,8h): its index is gone
	rc, err := e.bkt.Get(ctx, chunk(4))
	if err != nil {
		t.Fatal(err)
	}
	whole, err := io.ReadAll(rc)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	put(chunk(4), string(whole[:len(whole)/2])) // [8h,10h): its chunks are cut in half
	metadataObject := blockPrefix(w) + workspace.MetadataFile
	put(metadataObject, `{"version":1,"families":"not families"}`)
	if err := os.RemoveAll(e.dataDir); err != nil {
		t.Fatal(err)
	}
	e.open()
	w = e.get(id)
	if got := len(samples(t, w, 10*hour, 12*hour-1)); got != 2*2*60 {
		t.Errorf("%d samples of the intact block, want %d", got, 2*2*60)
	}
	if got := len(samples(t, w, 0, 10*hour-1)); got != 0 {
		t.Errorf("%d samples of the corrupt blocks, want none", got)
	}
	if n := w.Metadata().Len(); n != 0 {
		t.Errorf("%d metric families restored from a corrupt object, want none", n)
	}
	logs := e.logs.String()
	for _, name := range []string{metas[0], chunk(1), index(2), index(3), chunk(4), metadataObject} {
		if !strings.Contains(logs, strings.TrimPrefix(name, blockPrefix(w))) {
			t.Errorf("no report names %s; logs:\n%s", name, logs)
		}
	}
	if got := testutil.ToFloat64(e.shipper.metrics.skipped.WithLabelValues(id)); got != 5 {
		t.Errorf("%v blocks counted as skipped, want 5", got)
	}
	// The corrupt blocks stay in the bucket for an operator, and are not
	// downloaded again at each start.
	for i := range 5 {
		if _, err := os.Stat(filepath.Join(e.dataDir, "workspaces", id, path.Base(blockOf(i)))); err == nil {
			t.Errorf("corrupt block %s restored", blockOf(i))
		}
		if ok, err := e.bkt.Exists(ctx, metas[i]); err != nil || !ok {
			t.Errorf("meta.json of the corrupt block %s left the bucket: %v", blockOf(i), err)
		}
	}
}

// TestRestoreBlockWithoutFileList restores a block whose meta.json lists no
// files, as a bucket filled by another tool may hold, from the objects
// under its name.
func TestRestoreBlockWithoutFileList(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.open()
	w := e.create("foreign")
	id := w.ID()
	writeAndCompact(t, w, 0, 2)
	want := samples(t, w, 0, 2*hour-1)
	e.close()
	metas := e.bkt.uploaded("/" + metaFile)
	rc, err := e.bkt.Get(ctx, metas[0])
	if err != nil {
		t.Fatal(err)
	}
	var m blockMeta
	err = json.NewDecoder(rc).Decode(&m)
	rc.Close()
	if err != nil {
		t.Fatal(err)
	}
	m.Thanos.Files = nil
	b, _ := json.Marshal(m)
	if err := e.bkt.Upload(ctx, metas[0], bytes.NewReader(b)); err != nil {
		t.Fatal(err)
	}
	// A file that is no block file is left out.
	if err := e.bkt.Upload(ctx, path.Dir(metas[0])+"/deletion-mark.json", strings.NewReader("{}")); err != nil {
		t.Fatal(err)
	}
	if err := os.RemoveAll(e.dataDir); err != nil {
		t.Fatal(err)
	}
	e.open()
	if got := samples(t, e.get(id), 0, 2*hour-1); !slices.Equal(got, want) {
		t.Errorf("%d samples restored, want %d", len(got), len(want))
	}
}

// TestRestoreRetriesListing checks that a bucket that fails to list a few
// times delays the restore, and one that keeps failing fails the opening
// of the workspace rather than opening it without its blocks.
func TestRestoreRetriesListing(t *testing.T) {
	e := newEnv(t)
	e.opts.Retries = 2
	e.open()
	w := e.create("listed")
	id := w.ID()
	writeAndCompact(t, w, 0, 2)
	e.close()
	if err := os.RemoveAll(e.dataDir); err != nil {
		t.Fatal(err)
	}
	// The Registry lists the records once, then the shipper the blocks:
	// two failures are retried.
	e.bkt.failListingsAfter(1, 2)
	e.open()
	if got := len(samples(t, e.get(id), 0, 2*hour-1)); got != 2*2*60 {
		t.Errorf("%d samples restored after 2 failed listings, want %d", got, 2*2*60)
	}
	e.close()
	if err := os.RemoveAll(e.dataDir); err != nil {
		t.Fatal(err)
	}
	e.bkt.failListingsAfter(1, 3) // more failures than retries
	e.open()
	if _, err := e.registry.Get(context.Background(), id); err == nil {
		t.Error("workspace opened without the blocks its bucket could not list")
	}
}

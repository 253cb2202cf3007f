package shipper

import (
	"context"
	"encoding/json"
	"io"
	"path"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestSyncShipsBlocksInThanosLayout(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.open()
	w := e.create("ship")
	writeAndCompact(t, w, 0, 2)
	writeAndCompact(t, w, 2, 4)
	in := instance(t, w)
	if err := in.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	metas := e.bkt.uploaded("/" + metaFile)
	if len(metas) != 2 {
		t.Fatalf("meta.json uploaded %d times, want once for each of 2 blocks: %q", len(metas), metas)
	}
	for _, name := range metas {
		id := path.Base(path.Dir(name))
		got := objects(t, e.bkt, blockPrefix(w)+id+"/")
		want := []string{blockPrefix(w) + id + "/chunks/000001", blockPrefix(w) + id + "/index", blockPrefix(w) + id + "/meta.json"}
		if !slices.Equal(got, want) {
			t.Errorf("objects of block %s: %q, want %q", id, got, want)
		}
		// meta.json is the last object of its block to be uploaded.
		var ofBlock []string
		for _, n := range e.bkt.uploaded("") {
			if strings.Contains(n, id) {
				ofBlock = append(ofBlock, n)
			}
		}
		if ofBlock[len(ofBlock)-1] != name {
			t.Errorf("uploads of block %s: %q, want meta.json last", id, ofBlock)
		}
		rc, err := e.bkt.Get(ctx, name)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(rc)
		rc.Close()
		var m struct {
			ULID   string `json:"ulid"`
			Thanos struct {
				Labels     map[string]string `json:"labels"`
				Downsample struct {
					Resolution *int64 `json:"resolution"`
				} `json:"downsample"`
				Source string `json:"source"`
				Files  []struct {
					RelPath   string `json:"rel_path"`
					SizeBytes int64  `json:"size_bytes"`
				} `json:"files"`
			} `json:"thanos"`
		}
		if err := json.Unmarshal(b, &m); err != nil {
			t.Fatal(err)
		}
		th := m.Thanos
		if m.ULID != id || th.Labels[WorkspaceLabel] != w.ID() || th.Source != "promspace" ||
			th.Downsample.Resolution == nil || *th.Downsample.Resolution != 0 || len(th.Files) != 3 || th.Files[1].RelPath != "index" || th.Files[1].SizeBytes == 0 {
			t.Errorf("meta.json of %s lacks Thanos' section:\n%s", id, b)
		}
	}

	// Nothing is uploaded twice: not by the next sync, nor after a restart.
	if err := in.Sync(ctx); err != nil {
		t.Fatal(err)
	}
	e.close()
	if got := testutil.CollectAndCount(e.reg); got != 0 {
		t.Errorf("%d metrics left after the workspace closed, want none", got)
	}
	e.open()
	if err := instance(t, e.get(w.ID())).Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(e.bkt.uploaded("/" + metaFile)); got != 2 {
		t.Errorf("meta.json uploaded %d times after a restart, want still 2", got)
	}
}

func TestUploadsAreRetried(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.opts.Retries = 3
	e.open()
	w := e.create("retry")
	writeAndCompact(t, w, 0, 2)
	e.bkt.failures = 3 // the first object fails 3 times and succeeds at the 4th
	if err := instance(t, w).Sync(ctx); err != nil {
		t.Fatalf("sync with 3 failures and 3 retries: %v", err)
	}
	if got := testutil.ToFloat64(e.shipper.metrics.uploadFailures.WithLabelValues(w.ID())); got != 3 {
		t.Errorf("upload failures %v, want 3", got)
	}

	// A block whose uploads keep failing is shipped at a later sync.
	writeAndCompact(t, w, 2, 4)
	e.bkt.failures = 4
	if err := instance(t, w).Sync(ctx); err == nil {
		t.Fatal("sync succeeded with more failures than retries")
	}
	if got := len(e.bkt.uploaded("/" + metaFile)); got != 1 {
		t.Fatalf("%d blocks shipped, want 1 before the next sync", got)
	}
	if err := instance(t, w).Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := len(e.bkt.uploaded("/" + metaFile)); got != 2 {
		t.Fatalf("%d blocks shipped, want 2", got)
	}
}

func TestPeriodicSyncAndCloseSync(t *testing.T) {
	e := newEnv(t)
	ticks := make(chan time.Time)
	synced := make(chan error)
	e.opts.NewTicker = func(d time.Duration) (<-chan time.Time, func()) {
		if d != DefaultInterval {
			t.Errorf("ticker of %v, want the default %v", d, DefaultInterval)
		}
		return ticks, func() {}
	}
	e.opts.synced = func(_ string, err error) { synced <- err }
	e.open()
	w := e.create("periodic")
	writeAndCompact(t, w, 0, 2)
	ticks <- time.Now()
	if err := <-synced; err != nil {
		t.Fatal(err)
	}
	if got := len(e.bkt.uploaded("/" + metaFile)); got != 1 {
		t.Fatalf("%d blocks shipped after a tick, want 1", got)
	}
	// Close ships what the ticker has not.
	writeAndCompact(t, w, 2, 4)
	e.close()
	if got := len(e.bkt.uploaded("/" + metaFile)); got != 2 {
		t.Fatalf("%d blocks shipped after Close, want 2", got)
	}
}

func TestDisabled(t *testing.T) {
	e := newEnv(t)
	e.opts.Disabled = true
	e.open()
	w := e.create("off")
	writeAndCompact(t, w, 0, 2)
	if err := instance(t, w).Sync(context.Background()); err != nil {
		t.Fatal(err)
	}
	e.close()
	if got := e.bkt.uploaded("/" + metaFile); len(got) != 0 {
		t.Errorf("disabled shipper uploaded %q", got)
	}
}

// TestDeleteWorkspaceDeletesItsBlocks checks that a deleted workspace's
// blocks leave the bucket, and that its closing ships nothing more.
func TestDeleteWorkspaceDeletesItsBlocks(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.open()
	w := e.create("deleted")
	writeAndCompact(t, w, 0, 2)
	if err := instance(t, w).Sync(ctx); err != nil {
		t.Fatal(err)
	}
	writeAndCompact(t, w, 2, 4) // not shipped before the deletion
	if err := e.registry.Delete(ctx, w.ID()); err != nil {
		t.Fatal(err)
	}
	e.close() // waits for the deletion
	if got := objects(t, e.bkt, blockPrefix(w)); len(got) != 0 {
		t.Errorf("objects of the deleted workspace left: %q", got)
	}
	if got := len(e.bkt.uploaded("/" + metaFile)); got != 1 {
		t.Errorf("%d blocks uploaded, want only the one shipped before the deletion", got)
	}
}

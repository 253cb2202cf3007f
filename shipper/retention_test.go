package shipper

import (
	"context"
	"os"
	"slices"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/promspace/promspace/workspace"
)

// TestRetentionAppliesToTheBucket gives two workspaces the same blocks and
// different retentions: the blocks past the shorter one disappear from the
// disk and the bucket of its workspace only.
func TestRetentionAppliesToTheBucket(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.blockRange = 24 * hour
	e.open()
	short, long := e.create("short"), e.create("long")
	for _, c := range []struct {
		w    *workspace.Workspace
		days int
	}{{short, 1}, {long, 10}} {
		if _, err := e.registry.UpdateConfiguration(ctx, workspace.UpdateConfigurationInput{ID: c.w.ID(), RetentionPeriodInDays: &c.days}); err != nil {
			t.Fatal(err)
		}
	}
	// One block a day, each shipped as it is cut: the short retention (a
	// day before the newest block's end, the TSDB's rule) drops each block
	// once the next one is cut, from the disk and then from the bucket.
	for d := int64(0); d < 4; d++ {
		for _, w := range []*workspace.Workspace{short, long} {
			writeAndCompact(t, w, d*24, (d+1)*24)
			if err := instance(t, w).Sync(ctx); err != nil {
				t.Fatal(err)
			}
		}
	}
	for _, c := range []struct {
		w           *workspace.Workspace
		local, bckt int
	}{{short, 1, 1}, {long, 4, 4}} {
		release, _ := c.w.Acquire()
		local := len(c.w.DB().Blocks())
		release()
		if bckt := bucketBlocks(t, e, c.w); local != c.local || bckt != c.bckt {
			t.Errorf("%s: %d blocks on disk and %d in the bucket, want %d and %d", c.w.Alias(), local, bckt, c.local, c.bckt)
		}
	}
	if got := testutil.ToFloat64(e.shipper.metrics.deleted.WithLabelValues(short.ID())); got != 3 {
		t.Errorf("%v blocks deleted from the bucket, want 3", got)
	}
	if n := len(objects(t, e.bkt, blockPrefix(short))); n != 3 {
		t.Errorf("%d objects left of the short workspace, want the 3 of its last block", n)
	}
}

func bucketBlocks(t *testing.T, e *env, w *workspace.Workspace) int {
	t.Helper()
	n := 0
	for _, name := range objects(t, e.bkt, blockPrefix(w)) {
		if strings.HasSuffix(name, "/"+metaFile) {
			n++
		}
	}
	return n
}

// TestCompactedBlocksReplaceTheirSources checks that once the TSDB compacts
// shipped blocks into a larger one, the bucket holds the larger one in
// their place, and that a node on an empty disk gets the same data back.
func TestCompactedBlocksReplaceTheirSources(t *testing.T) {
	ctx := context.Background()
	e := newEnv(t)
	e.maxBlockRange = 6 * hour
	e.open()
	w := e.create("compacted")
	for h := int64(0); h < 8; h += 2 {
		writeAndCompact(t, w, h, h+2)
		if err := instance(t, w).Sync(ctx); err != nil {
			t.Fatal(err)
		}
	}
	want := samples(t, w, 0, 8*hour-1)
	release, _ := w.Acquire()
	err := w.DB().Compact(ctx) // [0h,6h) into one block; [6h,8h) stays
	n := len(w.DB().Blocks())
	release()
	if err != nil {
		t.Fatal(err)
	}
	if n != 2 {
		t.Fatalf("%d blocks after compaction, want 2", n)
	}
	if err := instance(t, w).Sync(ctx); err != nil {
		t.Fatal(err)
	}
	if got := bucketBlocks(t, e, w); got != 2 {
		t.Errorf("%d blocks in the bucket, want the 2 on disk", got)
	}
	id := w.ID()
	e.close()
	if err := os.RemoveAll(e.dataDir); err != nil {
		t.Fatal(err)
	}
	e.open()
	if got := samples(t, e.get(id), 0, 8*hour-1); !slices.Equal(got, want) {
		t.Errorf("%d samples restored, want %d", len(got), len(want))
	}
}

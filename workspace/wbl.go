package workspace

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/wlog"
)

// settleOutOfOrderHead compacts the out-of-order head that the replay of a
// TSDB's write-behind log (WBL) rebuilt into blocks, and so truncates the
// WBL, before the workspace takes any write.
//
// tsdb's replay of the WBL trusts an m-map marker (the record that says a
// series' out-of-order head chunk went to chunks_head) only if its chunk
// reference is below the last chunk loaded from chunks_head; one beyond it
// is a chunk that a kill caught in the chunk write queue, and the replay
// keeps the chunk's samples in the out-of-order head, as it should. But
// the chunk disk mapper starts a new file after each start, so after the
// next start the chunks loaded reach past the old marker's reference: the
// replay then trusts the marker and drops the out-of-order head chunk it
// stands for, losing acknowledged samples that are nowhere else. Writing
// the out-of-order head into blocks at once, and removing the WBL segments
// replayed, leaves no such marker for a later start to meet.
func settleOutOfOrderHead(ctx context.Context, db *tsdb.DB, dir string) error {
	if !hasWBLRecords(filepath.Join(dir, wlog.WblDirName)) {
		return nil
	}
	if err := db.CompactOOOHead(ctx); err != nil {
		return fmt.Errorf("compact the out-of-order head replayed from the WBL: %w", err)
	}
	return nil
}

// hasWBLRecords reports whether the WBL directory holds a segment that is
// not empty.
func hasWBLRecords(dir string) bool {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return false
	}
	for _, e := range entries {
		if info, err := e.Info(); err == nil && info.Mode().IsRegular() && info.Size() > 0 {
			return true
		}
	}
	return false
}

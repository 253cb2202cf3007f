package workspace

import (
	"os"
	"path/filepath"
	"strconv"
	"testing"

	"github.com/prometheus/prometheus/tsdb/chunks"
	tsdbrecord "github.com/prometheus/prometheus/tsdb/record"
	"github.com/prometheus/prometheus/tsdb/wlog"
)

// TestDanglingMmapMarkers reports, for the TSDB directory in
// PROMSPACE_MARKERS_DIR (a workspace's directory kept from a crash test),
// the WBL m-map markers whose chunk lies beyond the end of its head chunk
// file although a later head chunk file exists: replay takes such a marker
// for a chunk on disk and clears the series' out-of-order head chunk.
func TestDanglingMmapMarkers(t *testing.T) {
	dir := os.Getenv("PROMSPACE_MARKERS_DIR")
	if dir == "" {
		t.Skip("PROMSPACE_MARKERS_DIR not set")
	}
	sizes := map[uint64]int64{}
	var maxSeq uint64
	entries, _ := os.ReadDir(filepath.Join(dir, "chunks_head"))
	for _, e := range entries {
		seq, err := strconv.ParseUint(e.Name(), 10, 64)
		if err != nil {
			continue
		}
		fi, _ := e.Info()
		sizes[seq] = fi.Size()
		maxSeq = max(maxSeq, seq)
	}
	sr, err := wlog.NewSegmentsReader(filepath.Join(dir, "wbl"))
	if err != nil {
		t.Fatal(err)
	}
	defer sr.Close()
	r := wlog.NewReader(sr)
	var dec tsdbrecord.Decoder
	total, dangling := 0, 0
	for r.Next() {
		rec := r.Record()
		if dec.Type(rec) != tsdbrecord.MmapMarkers {
			continue
		}
		ms, err := dec.MmapMarkers(rec, nil)
		if err != nil {
			t.Fatal(err)
		}
		for _, m := range ms {
			total++
			seq, off := chunks.ChunkDiskMapperRef(m.MmapRef).Unpack()
			if seq > 0 && uint64(seq) < maxSeq && int64(off) >= sizes[uint64(seq)] {
				if dangling++; dangling <= 5 {
					t.Logf("marker of series %d: chunk %d:%d, file size %d", m.Ref, seq, off, sizes[uint64(seq)])
				}
			}
		}
	}
	t.Logf("%d markers, %d dangling", total, dangling)
}

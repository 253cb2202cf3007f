package workspace

// The WAL and WBL reader with which the out-of-order replay tests say what
// happened to each sample a crash lost.

import (
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb/chunks"
	walrecord "github.com/prometheus/prometheus/tsdb/record"
	"github.com/prometheus/prometheus/tsdb/wlog"
	"github.com/stretchr/testify/require"
)

// walLogs is what a crash left in the WAL and the WBL.
type walLogs struct {
	refs map[string]chunks.HeadSeriesRef // by labels
	// seriesAt is the position of each series' first Series record.
	seriesAt map[chunks.HeadSeriesRef]int
	// samples lists each series' WAL samples in WAL order, with the
	// position of their record.
	samples map[chunks.HeadSeriesRef][]walSample
	wbl     map[chunks.HeadSeriesRef][]walSample
	markers map[chunks.HeadSeriesRef][]int
}

type walSample struct {
	t   int64
	pos int
}

// readLogs reads the WAL and the WBL under dir.
func readLogs(t *testing.T, dir string) walLogs {
	t.Helper()
	l := walLogs{
		refs:     map[string]chunks.HeadSeriesRef{},
		seriesAt: map[chunks.HeadSeriesRef]int{},
		samples:  map[chunks.HeadSeriesRef][]walSample{},
		wbl:      map[chunks.HeadSeriesRef][]walSample{},
		markers:  map[chunks.HeadSeriesRef][]int{},
	}
	read := func(sub string, wbl bool) {
		sr, err := wlog.NewSegmentsReader(filepath.Join(dir, sub))
		if os.IsNotExist(err) {
			return
		}
		require.NoError(t, err)
		defer sr.Close()
		r := wlog.NewReader(sr)
		dec := walrecord.NewDecoder(nil, nil)
		for pos := 0; r.Next(); pos++ {
			rec := r.Record()
			switch dec.Type(rec) {
			case walrecord.Series:
				ss, err := dec.Series(rec, nil)
				require.NoError(t, err)
				for _, s := range ss {
					if _, ok := l.seriesAt[s.Ref]; !ok {
						l.seriesAt[s.Ref] = pos
						l.refs[s.Labels.String()] = s.Ref
					}
				}
			case walrecord.Samples, walrecord.SamplesV2:
				ss, err := dec.Samples(rec, nil)
				require.NoError(t, err)
				for _, s := range ss {
					if wbl {
						l.wbl[s.Ref] = append(l.wbl[s.Ref], walSample{s.T, pos})
					} else {
						l.samples[s.Ref] = append(l.samples[s.Ref], walSample{s.T, pos})
					}
				}
			case walrecord.MmapMarkers:
				ms, err := dec.MmapMarkers(rec, nil)
				require.NoError(t, err)
				for _, m := range ms {
					l.markers[m.Ref] = append(l.markers[m.Ref], pos)
				}
			}
		}
		// A torn tail is what a crash leaves; replay stops there too.
		_ = r.Err()
	}
	read("wal", false)
	read("wbl", true)
	return l
}

// cause tells why replay lost the sample of ls at ts:
//   - "series record after sample": the WAL has the sample before the
//     series record, so replay drops it as a sample of an unknown series;
//   - "newer sample earlier in WAL": a sample of the same series with a
//     later timestamp precedes it in the WAL, so in-order replay drops it,
//     and it is not in the WBL (it was in order when committed);
//   - "in WBL before m-map marker": it is in the WBL, but an m-map marker of
//     its series follows it there, and replay discards the samples before
//     a marker as m-mapped;
//   - "other".
func (l walLogs) cause(ls labels.Labels, ts int64) string {
	ref, ok := l.refs[ls.String()]
	if !ok {
		return "no series record"
	}
	var at walSample
	found := false
	for _, s := range l.samples[ref] {
		if s.t == ts {
			at, found = s, true
			break
		}
	}
	if !found {
		return "not in WAL"
	}
	if l.seriesAt[ref] > at.pos {
		return "series record after sample"
	}
	for _, s := range l.wbl[ref] {
		if s.t == ts {
			for _, m := range l.markers[ref] {
				if m > s.pos {
					return "in WBL before m-map marker"
				}
			}
			return "in WBL"
		}
	}
	for _, s := range l.samples[ref] {
		if s.pos >= at.pos {
			break
		}
		if s.t > ts {
			return "newer sample earlier in WAL"
		}
	}
	return "other"
}

// copyDir copies the regular files under src to dst.
func copyDir(t *testing.T, src, dst string) {
	t.Helper()
	require.NoError(t, filepath.Walk(src, func(p string, fi os.FileInfo, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(src, p)
		if err != nil {
			return err
		}
		out := filepath.Join(dst, rel)
		if fi.IsDir() {
			return os.MkdirAll(out, 0o777)
		}
		if !fi.Mode().IsRegular() || fi.Name() == "lock" {
			return nil
		}
		in, err := os.Open(p)
		if err != nil {
			return err
		}
		defer in.Close()
		f, err := os.Create(out)
		if err != nil {
			return err
		}
		if _, err := io.Copy(f, in); err != nil {
			f.Close()
			return err
		}
		return f.Close()
	}))
}

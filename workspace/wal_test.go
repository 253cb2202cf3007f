package workspace

import (
	"context"
	"fmt"
	"io/fs"
	"path/filepath"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/util/compression"
)

// TestWALCompression checks that a workspace's WAL is compressed as the
// Prometheus server's is (snappy) unless told otherwise, by writing the
// same samples into workspaces of each setting and comparing the WALs.
func TestWALCompression(t *testing.T) {
	if got := DefaultTSDBOptions().WALCompression; got != compression.Snappy {
		t.Errorf("DefaultTSDBOptions().WALCompression = %q, want snappy", got)
	}
	walBytes := map[compression.Type]int64{}
	for _, c := range []compression.Type{"", compression.None, compression.Snappy, compression.Zstd} {
		t.Run(cmpName(c), func(t *testing.T) {
			opts := testOptions(t, t.TempDir())
			opts.WALCompression = c
			r := openRegistry(t, opts)
			w := createActive(t, r, CreateInput{})
			want := c
			if want == "" {
				want = compression.Snappy
			}
			if got := w.tsdbOpts.WALCompression; got != want {
				t.Fatalf("WAL compression %q, want %q", got, want)
			}
			appendWALTestSamples(t, w)
			n := dirBytes(t, filepath.Join(w.Dir(), "wal"))
			if c != "" {
				walBytes[c] = n
			}
			t.Logf("WAL: %d bytes, %.2f bytes per sample", n, float64(n)/walTestSamples)
		})
	}
	if walBytes[compression.Snappy]*5 > walBytes[compression.None]*4 {
		t.Errorf("snappy WAL of %d bytes is not a fifth smaller than the uncompressed one of %d", walBytes[compression.Snappy], walBytes[compression.None])
	}

	opts := testOptions(t, t.TempDir())
	opts.WALCompression = "lz4"
	if r, err := Open(context.Background(), opts); err == nil {
		r.Close()
		t.Fatal("Open with WAL compression lz4 succeeded")
	} else if !strings.Contains(err.Error(), "WAL compression") {
		t.Errorf("Open with WAL compression lz4: %v", err)
	}
}

const (
	walTestSeries  = 1000
	walTestSamples = walTestSeries * 20
)

// appendWALTestSamples writes 20 samples, 15 s apart, into each of 1,000
// series shaped like node exporter's, one commit per round as remote
// write does.
func appendWALTestSamples(t *testing.T, w *Workspace) {
	t.Helper()
	series := make([]labels.Labels, walTestSeries)
	for i := range series {
		series[i] = labels.FromStrings("__name__", "node_cpu_seconds_total", "cpu", fmt.Sprint(i%16), "instance", fmt.Sprintf("10.0.%d.%d:9100", i/250, i%250), "job", "node", "mode", "idle")
	}
	base := testNow.Add(-10 * 60e9).UnixMilli()
	for round := range walTestSamples / walTestSeries {
		app := w.AppenderV2(context.Background())
		for i, ls := range series {
			if _, err := app.Append(0, ls, 0, base+int64(round)*15000, float64(round*i), nil, nil, storage.AOptions{}); err != nil {
				t.Fatal(err)
			}
		}
		if err := app.Commit(); err != nil {
			t.Fatal(err)
		}
	}
}

func dirBytes(t *testing.T, dir string) int64 {
	t.Helper()
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			n += info.Size()
		}
		return err
	})
	if err != nil {
		t.Fatal(err)
	}
	return n
}

func cmpName(c compression.Type) string {
	if c == "" {
		return "default"
	}
	return c
}

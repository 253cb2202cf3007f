package bucketconfig_test

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/thanos-io/objstore"

	"github.com/promspace/promspace"
	"github.com/promspace/promspace/shipper/bucketconfig"
)

// s3Config starts an S3-compatible server (gofakes3) on loopback with an
// empty bucket and returns the objstore client YAML of that bucket. The
// MD5 of each part of a multipart upload is off: gofakes3 answers BadDigest
// to it (S3 accepts it), and blocks' chunk files are large enough to be
// uploaded in parts.
func s3Config(t *testing.T) string {
	t.Helper()
	backend := s3mem.New()
	if err := backend.CreateBucket("promspace"); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(gofakes3.New(backend).Server())
	t.Cleanup(srv.Close)
	return fmt.Sprintf(`type: S3
config:
  bucket: promspace
  endpoint: %s
  region: us-east-1
  access_key: promspace
  secret_key: promspace
  insecure: true
  bucket_lookup_type: path
  send_content_md5: false
`, strings.TrimPrefix(srv.URL, "http://"))
}

func fsConfig(t *testing.T) string {
	return "type: FILESYSTEM\nconfig:\n  directory: " + filepath.Join(t.TempDir(), "bucket") + "\n"
}

func open(t *testing.T, conf string) objstore.Bucket {
	t.Helper()
	path := filepath.Join(t.TempDir(), "bucket.yml")
	if err := os.WriteFile(path, []byte(conf), 0o666); err != nil {
		t.Fatal(err)
	}
	bkt, err := bucketconfig.OpenFile(path, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { bkt.Close() })
	return bkt
}

var configs = []struct {
	name string
	conf func(*testing.T) string
}{{"FILESYSTEM", fsConfig}, {"S3", s3Config}}

func TestAcceptance(t *testing.T) {
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) { objstore.AcceptanceTest(t, open(t, c.conf(t))) })
	}
}

func TestInvalidConfig(t *testing.T) {
	for _, conf := range []string{"type: NOPE\n", "type: FILESYSTEM\nconfig: {}\n", "type: [\n"} {
		if _, err := bucketconfig.Open([]byte(conf), nil); err == nil {
			t.Errorf("%q opened", conf)
		}
	}
}

const hour = int64(time.Hour / time.Millisecond)

// TestReplacement runs a Service, writes two blocks' worth of samples and
// cuts them, stops, deletes the data directory, starts a Service on the
// same bucket and reads the same answers, on each kind of bucket.
func TestReplacement(t *testing.T) {
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			bkt := open(t, c.conf(t))
			dataDir := t.TempDir()
			start := func() (*promspace.Service, *httptest.Server) {
				t.Helper()
				opts := promspace.Options{DataDir: dataDir, Bucket: bkt}
				opts.Workspace.TSDBOptions = func() *tsdb.Options {
					o := tsdb.DefaultOptions()
					o.MinBlockDuration, o.MaxBlockDuration = 2*hour, 2*hour
					return o
				}
				opts.Shipper.NewTicker = func(time.Duration) (<-chan time.Time, func()) { return nil, func() {} }
				s, err := promspace.New(ctx, opts)
				if err != nil {
					t.Fatal(err)
				}
				srv := httptest.NewServer(s)
				t.Cleanup(func() { srv.Close(); s.Close() })
				return s, srv
			}
			s, srv := start()
			w, err := s.EnsureWorkspace(ctx, "replaced")
			if err != nil {
				t.Fatal(err)
			}
			id := w.ID()
			for h := int64(0); h < 4; h += 2 {
				app := w.AppenderV2(ctx)
				for ts := h * hour; ts < (h+2)*hour; ts += 15_000 {
					for _, job := range []string{"a", "b"} {
						if _, err := app.Append(0, labels.FromStrings("__name__", "shipped", "job", job), 0, ts, float64(ts), nil, nil, storage.AOptions{}); err != nil {
							t.Fatal(err)
						}
					}
				}
				if err := app.Commit(); err != nil {
					t.Fatal(err)
				}
				release, _ := w.Acquire()
				err := w.DB().CompactHead(tsdb.NewRangeHead(w.DB().Head(), h*hour, (h+2)*hour-1))
				release()
				if err != nil {
					t.Fatal(err)
				}
			}
			queries := []string{"sum by (job) (rate(shipped[5m]))", "count_over_time(shipped[1h])", "shipped"}
			want := make([]string, len(queries))
			for i, q := range queries {
				want[i] = queryRange(t, srv.URL, id, q)
			}
			// Close ships the blocks.
			srv.Close()
			if err := s.Close(); err != nil {
				t.Fatal(err)
			}
			if err := os.RemoveAll(dataDir); err != nil {
				t.Fatal(err)
			}

			s, srv = start()
			for i, q := range queries {
				if got := queryRange(t, srv.URL, id, q); got != want[i] {
					t.Errorf("%s after the replacement:\n%.300s\nwant\n%.300s", q, got, want[i])
				}
			}
			// And it keeps ingesting.
			w, err = s.Registry().Get(ctx, id)
			if err != nil {
				t.Fatal(err)
			}
			app := w.AppenderV2(ctx)
			if _, err := app.Append(0, labels.FromStrings("__name__", "shipped", "job", "a"), 0, 4*hour, 1, nil, nil, storage.AOptions{}); err != nil {
				t.Fatal(err)
			}
			if err := app.Commit(); err != nil {
				t.Fatal(err)
			}
			var blocks int
			if err := bkt.Iter(ctx, "workspaces/"+id+"/", func(name string) error {
				if strings.HasSuffix(name, "/") {
					blocks++
				}
				return nil
			}); err != nil {
				t.Fatal(err)
			}
			if blocks != 2 {
				t.Errorf("%d blocks in the bucket, want 2", blocks)
			}
		})
	}
}

// queryRange returns the body of a range query over the shipped [0h, 4h).
func queryRange(t *testing.T, base, id, q string) string {
	t.Helper()
	v := url.Values{"query": {q}, "start": {"0"}, "end": {fmt.Sprint(4*hour/1000 - 1)}, "step": {"60"}}
	resp, err := http.Get(base + "/workspaces/" + id + "/api/v1/query_range?" + v.Encode())
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(b), `"result":[{`) {
		t.Fatalf("%s: %s: %.300s", q, resp.Status, b)
	}
	return string(b)
}

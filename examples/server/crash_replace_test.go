//go:build crash

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/johannesboyne/gofakes3"
	"github.com/johannesboyne/gofakes3/backend/s3mem"
	"github.com/prometheus/prometheus/prompb"
	"github.com/thanos-io/objstore"

	"github.com/promspace/promspace/internal/logbuf"
	"github.com/promspace/promspace/shipper/bucketconfig"
)

// TestCrashReplacement replaces the node, on a filesystem bucket and on an
// S3 server: the server, on a bucket of its own (-objstore.config-file),
// takes five hours of samples, of which the
// TSDB cuts blocks that the shipper uploads; it is SIGKILLed once they are
// in the bucket, its data directory is deleted, and a server started on an
// empty directory with the same bucket must answer every acknowledged
// sample of the shipped blocks, then keep ingesting; twice.
func TestCrashReplacement(t *testing.T) {
	bin := filepath.Join(t.TempDir(), "promspace")
	if out, err := exec.Command("go", "build", "-o", bin, ".").CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, out)
	}
	t.Run("FILESYSTEM", func(t *testing.T) {
		replace(t, bin, "type: FILESYSTEM\nconfig:\n  directory: "+filepath.Join(t.TempDir(), "bucket")+"\n")
	})
	t.Run("S3", func(t *testing.T) {
		// An S3-compatible server on loopback, for the child process.
		backend := s3mem.New()
		if err := backend.CreateBucket("promspace"); err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(gofakes3.New(backend).Server())
		t.Cleanup(srv.Close)
		replace(t, bin, fmt.Sprintf("type: S3\nconfig:\n  bucket: promspace\n  endpoint: %s\n  region: us-east-1\n  access_key: promspace\n  secret_key: promspace\n  insecure: true\n  bucket_lookup_type: path\n  send_content_md5: false\n",
			strings.TrimPrefix(srv.URL, "http://")))
	})
}

func replace(t *testing.T, bin, bucketConf string) {
	conf := filepath.Join(t.TempDir(), "bucket.yml")
	if err := os.WriteFile(conf, []byte(bucketConf), 0o666); err != nil {
		t.Fatal(err)
	}
	bkt, err := bucketconfig.OpenFile(conf, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer bkt.Close()
	c := &crash{t: t, bin: bin, dataDir: filepath.Join(t.TempDir(), "data"), logs: &logbuf.Buffer{}, args: []string{"-objstore.config-file", conf}}
	c.start()
	c.defaultID = defaultWorkspaces(t, c.base)[0]
	silenceID := replSilence(t, c)
	const series = 20
	start := time.Now().Add(-6 * time.Hour).Truncate(time.Minute).UnixMilli()
	var acked []int64
	for ts := start; ts < start+5*time.Hour.Milliseconds(); ts += time.Minute.Milliseconds() {
		if replWrite(t, c, ts, series) {
			acked = append(acked, ts)
		}
	}
	// The TSDB cuts blocks of the head in the background, and the shipper
	// uploads them within its interval (30s).
	var shipped [][2]int64
	deadline := time.Now().Add(3 * time.Minute)
	for len(shipped) < 2 && time.Now().Before(deadline) {
		time.Sleep(time.Second)
		shipped = shippedRanges(t, bkt, "workspaces/"+c.defaultID+"/")
	}
	if len(shipped) == 0 {
		t.Fatalf("no block shipped in 3 minutes:\n%s", tail(c.logs.String()))
	}
	inBlocks := 0
	for _, ts := range acked {
		for _, r := range shipped {
			if ts >= r[0] && ts < r[1] {
				inBlocks++
			}
		}
	}
	for round := range 2 {
		c.kill()
		if err := os.RemoveAll(c.dataDir); err != nil {
			t.Fatal(err)
		}
		c.start()
		if id := defaultWorkspaces(t, c.base)[0]; id != c.defaultID {
			t.Fatalf("round %d: default workspace %s after the replacement, want %s", round, id, c.defaultID)
		}
		found, dups := replFound(t, c, acked, shipped, series)
		if found != inBlocks*series {
			t.Errorf("round %d: %d samples of the shipped blocks found, want %d", round, found, inBlocks*series)
		}
		code, body := c.do("GET", "/workspaces/"+c.defaultID+"/alertmanager/api/v2/silence/"+silenceID, "")
		if code != http.StatusOK || !strings.Contains(string(body), `"active"`) {
			t.Errorf("round %d: the silence on an empty disk: %d %s", round, code, body)
		}
		if !replWrite(t, c, time.Now().UnixMilli(), series) {
			t.Errorf("round %d: the restored workspace does not ingest", round)
		}
		fmt.Printf("%s, round %d: %d samples acknowledged, %d in %d shipped blocks, %d of them found on an empty disk, %d duplicated\n",
			t.Name(), round, len(acked)*series, inBlocks*series, len(shipped), found, dups)
	}
	c.stop()
}

// replSilence creates the default workspace's alert manager definition
// and a silence through the server's HTTP API, and returns the silence's
// ID: both are to come back on an empty disk.
func replSilence(t *testing.T, c *crash) string {
	def := "alertmanager_config: |\n  route:\n    receiver: hook\n  receivers:\n  - name: hook\n    webhook_configs:\n    - url: http://127.0.0.1:1/\n"
	body, _ := json.Marshal(map[string][]byte{"data": []byte(def)})
	if code, out := c.do("POST", "/workspaces/"+c.defaultID+"/alertmanager/definition", string(body)); code != http.StatusAccepted {
		t.Fatalf("create alert manager definition: %d %s", code, out)
	}
	now := time.Now().UTC()
	sil := fmt.Sprintf(`{"matchers":[{"name":"alertname","value":"Noisy","isEqual":true,"isRegex":false}],"startsAt":%q,"endsAt":%q,"createdBy":"test","comment":"kept"}`,
		now.Format(time.RFC3339), now.Add(24*time.Hour).Format(time.RFC3339))
	code, out := c.do("POST", "/workspaces/"+c.defaultID+"/alertmanager/api/v2/silences", sil)
	var ok struct {
		SilenceID string `json:"silenceID"`
	}
	if code != http.StatusOK || json.Unmarshal(out, &ok) != nil || ok.SilenceID == "" {
		t.Fatalf("create silence: %d %s", code, out)
	}
	return ok.SilenceID
}

// replWrite sends one sample at ts for each of n series; true if
// acknowledged.
func replWrite(t *testing.T, c *crash, ts int64, n int) bool {
	req := &prompb.WriteRequest{Timeseries: make([]prompb.TimeSeries, n)}
	for i := range req.Timeseries {
		req.Timeseries[i] = prompb.TimeSeries{
			Labels:  []prompb.Label{{Name: "__name__", Value: "repl_sample"}, {Name: "s", Value: strconv.Itoa(i)}},
			Samples: []prompb.Sample{{Value: float64(ts), Timestamp: ts}},
		}
	}
	b, _ := req.Marshal()
	hr, _ := http.NewRequest("POST", c.base+"/workspaces/"+c.defaultID+"/api/v1/remote_write", bytes.NewReader(snappy.Encode(nil, b)))
	hr.Header.Set("Content-Type", "application/x-protobuf")
	hr.Header.Set("Content-Encoding", "snappy")
	hr.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	resp, err := c.client.Do(hr)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		t.Errorf("remote write at %d: %s", ts, resp.Status)
	}
	return resp.StatusCode/100 == 2
}

// shippedRanges returns the [minTime, maxTime) of the blocks whose
// meta.json is in the bucket under prefix.
func shippedRanges(t *testing.T, bkt objstore.Bucket, prefix string) [][2]int64 {
	ctx := context.Background()
	var out [][2]int64
	err := bkt.Iter(ctx, prefix, func(name string) error {
		if !strings.HasSuffix(name, "/meta.json") {
			return nil
		}
		rc, err := bkt.Get(ctx, name)
		if err != nil {
			return err
		}
		defer rc.Close()
		var meta struct{ MinTime, MaxTime int64 }
		if err := json.NewDecoder(rc).Decode(&meta); err != nil {
			return fmt.Errorf("%s: %w", name, err)
		}
		out = append(out, [2]int64{meta.MinTime, meta.MaxTime})
		return nil
	}, objstore.WithRecursiveIter())
	if err != nil {
		t.Fatal(err)
	}
	return out
}

// replFound counts the acknowledged samples of the shipped ranges that the
// query API answers, and the samples it answers twice.
func replFound(t *testing.T, c *crash, acked []int64, shipped [][2]int64, n int) (found, dups int) {
	have, dups := c.storedSamples(t, "repl_sample[7h]")
	for s, samples := range have {
		for ts, v := range samples {
			if v != float64(ts) {
				t.Errorf("sample of s=%s at %d = %g, never sent", s, ts, v)
			}
		}
	}
	for _, ts := range acked {
		for _, r := range shipped {
			if ts < r[0] || ts >= r[1] {
				continue
			}
			for i := range n {
				if _, ok := have[strconv.Itoa(i)][ts]; ok {
					found++
				}
			}
		}
	}
	return found, dups
}

//go:build crash

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
)

// sampleWriter sends batches of one sample for each of 200 series; the two
// writers take turns with the timestamps (batch k at base+10k ms, writer 0
// the even k), so a batch retried after a restart lands out of order.
type sampleWriter struct {
	parity int
	base   int64
	other  *sampleWriter
	// next is the batch being sent; acked the batches acknowledged.
	next  atomic.Int64
	acked []int64
}

const crashSeries = 200

func (w *sampleWriter) run(ctx context.Context, c *crash) {
	if w.next.Load() == 0 {
		w.next.Store(int64(w.parity))
	}
	for ctx.Err() == nil {
		k := w.next.Load()
		// Keep in step with the other writer, well inside the
		// out-of-order window.
		if k > w.other.next.Load()+20 {
			time.Sleep(time.Millisecond)
			continue
		}
		ts := w.base + 10*k
		req := &prompb.WriteRequest{Timeseries: make([]prompb.TimeSeries, crashSeries)}
		for i := range req.Timeseries {
			req.Timeseries[i] = prompb.TimeSeries{
				Labels:  []prompb.Label{{Name: "__name__", Value: "crash_sample"}, {Name: "s", Value: strconv.Itoa(i)}},
				Samples: []prompb.Sample{{Value: float64(k), Timestamp: ts}},
			}
		}
		b, _ := req.Marshal()
		hr, _ := http.NewRequest("POST", c.base+"/workspaces/"+c.defaultID+"/api/v1/remote_write", bytes.NewReader(snappy.Encode(nil, b)))
		hr.Header.Set("Content-Type", "application/x-protobuf")
		hr.Header.Set("Content-Encoding", "snappy")
		hr.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
		resp, err := c.client.Do(hr)
		if err != nil {
			return // retried after the restart
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 != 2 {
			c.t.Errorf("remote write of batch %d: %d %s", k, resp.StatusCode, body)
			return
		}
		w.acked = append(w.acked, ts)
		w.next.Store(k + 2)
	}
}

// verifySamples reads every sample of every series back through the query
// API, looks for each acknowledged one, and checks that every sample read
// back was sent: once, at a batch's timestamp, with that batch's value.
// What it counts is the state after the latest restart.
func (c *crash) verifySamples(when string) {
	t := c.t
	// Read back a tenth of the series at a time, to stay within the
	// workspace's samples-per-query quota however long the run.
	have, dups := map[string]map[int64]float64{}, 0
	for d := range 10 {
		part, n := c.storedSamples(t, fmt.Sprintf(`crash_sample{s=~".*%d"}[3h]`, d))
		maps.Copy(have, part)
		dups += n
	}
	acked, found, missing := 0, 0, 0
	for _, w := range c.writers {
		for _, ts := range w.acked {
			for i := range crashSeries {
				acked++
				if _, ok := have[strconv.Itoa(i)][ts]; ok {
					found++
				} else if missing++; missing <= 10 {
					t.Errorf("%s: acknowledged sample of s=%d at %d missing", when, i, ts)
				}
			}
		}
	}
	if missing > 0 {
		t.Errorf("%s: %d of %d acknowledged samples missing", when, missing, acked)
	}
	// A batch in flight at a kill may be stored without its
	// acknowledgement, but nothing else: no batch past the writers'.
	read, wrong := 0, 0
	for s, samples := range have {
		for ts, v := range samples {
			read++
			k := (ts - c.writers[0].base) / 10
			var w *sampleWriter
			if k >= 0 && (ts-c.writers[0].base)%10 == 0 {
				w = c.writers[k%2]
			}
			if w == nil || k > w.next.Load() || v != float64(k) {
				if wrong++; wrong <= 10 {
					t.Errorf("%s: sample of s=%s at %d = %g was never sent", when, s, ts, v)
				}
			}
		}
	}
	if wrong > 0 {
		t.Errorf("%s: %d of the %d samples read back were never sent", when, wrong, read)
	}
	c.samples = sampleCounts{acked: acked, found: found, read: read, duplicated: dups, neverSent: wrong}
}

// sampleCounts are what a verifySamples counted.
type sampleCounts struct{ acked, found, read, duplicated, neverSent int }

// storedSamples runs the instant query expr, a range selector, on the
// default workspace and returns the value of each sample by the label s of
// its series and its timestamp in milliseconds. A series that answers one
// timestamp twice, or two series of one s, fail the test: a sample would
// be duplicated. dups counts the samples read twice.
func (c *crash) storedSamples(t *testing.T, expr string) (have map[string]map[int64]float64, dups int) {
	q := url.Values{"query": {expr}, "time": {strconv.FormatInt(time.Now().Unix(), 10)}}
	code, body := c.do("GET", "/workspaces/"+c.defaultID+"/api/v1/query?"+q.Encode(), "")
	if code != http.StatusOK {
		t.Fatalf("query: %d %s", code, body)
	}
	var out struct {
		Data struct {
			Result []struct {
				Metric map[string]string
				Values [][2]any
			}
		}
	}
	if err := json.Unmarshal(body, &out); err != nil {
		t.Fatal(err)
	}
	have = map[string]map[int64]float64{}
	for _, r := range out.Data.Result {
		s := r.Metric["s"]
		if prev, ok := have[s]; ok {
			t.Errorf("%s: two series of s=%s: %v", expr, s, r.Metric)
			dups += len(prev)
		}
		samples := map[int64]float64{}
		for _, v := range r.Values {
			ts := int64(math.Round(v[0].(float64) * 1000))
			f, err := strconv.ParseFloat(v[1].(string), 64)
			if err != nil {
				t.Fatalf("%s: value %v: %v", expr, v[1], err)
			}
			if _, ok := samples[ts]; ok {
				if dups++; dups <= 10 {
					t.Errorf("%s: sample of s=%s at %d duplicated", expr, s, ts)
				}
			}
			samples[ts] = f
		}
		have[s] = samples
	}
	if dups > 0 {
		t.Errorf("%s: %d samples duplicated", expr, dups)
	}
	return have, dups
}

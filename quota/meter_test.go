package quota_test

import (
	"bytes"
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/prompb"

	"github.com/promspace/promspace/ingest"
	"github.com/promspace/promspace/quota"
	"github.com/promspace/promspace/workspace"
)

// meterEnv is a workspace of a real registry with its Quota and Meter, and
// a real ingest endpoint over loopback that runs the Quota and tells the
// Meter what it wrote.
type meterEnv struct {
	t       *testing.T
	reg     *workspace.Registry
	w       *workspace.Workspace
	q       *quota.Quota
	m       *quota.Meter
	metrics *prometheus.Registry
	srv     *httptest.Server
}

func newMeterEnv(t *testing.T, opts quota.Options) *meterEnv {
	t.Helper()
	ctx := context.Background()
	e := &meterEnv{t: t, metrics: prometheus.NewRegistry()}
	ih := ingest.NewHandler(ingest.Options{Registerer: e.metrics})
	meters := quota.NewMeters(quota.MeterOptions{Registerer: e.metrics, Ingest: ih})
	r, err := workspace.Open(ctx, workspace.Options{DataDir: t.TempDir(),
		Components: []workspace.Component{quota.New(opts).Component(), meters.Component()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	w, err := r.Create(ctx, workspace.CreateInput{Alias: "metered"})
	if err != nil {
		t.Fatal(err)
	}
	if w, err = r.Get(ctx, w.ID()); err != nil {
		t.Fatal(err)
	}
	e.reg, e.w = r, w
	e.q, _ = workspace.InstanceOf[*quota.Quota](w, quota.ComponentName)
	e.m, _ = workspace.InstanceOf[*quota.Meter](w, quota.MeterComponentName)
	if e.q == nil || e.m == nil || e.q.Meter() != e.m {
		t.Fatalf("quota %v, meter %v", e.q, e.m)
	}
	e.srv = httptest.NewServer(ih.Open(ingest.Target{ID: w.ID(), Appendable: w, Metadata: w.Metadata(), Pipeline: []ingest.Stage{e.q}}))
	t.Cleanup(e.srv.Close)
	return e
}

// write sends series over remote write 1.0 and returns the status.
func (e *meterEnv) write(series ...prompb.TimeSeries) int {
	e.t.Helper()
	raw, err := (&prompb.WriteRequest{Timeseries: series}).Marshal()
	if err != nil {
		e.t.Fatal(err)
	}
	req, _ := http.NewRequest(http.MethodPost, e.srv.URL, bytes.NewReader(snappy.Encode(nil, raw)))
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// samples returns a series of the label pairs with n samples every 15 s,
// the last at end.
func samples(end time.Time, n int, pairs ...string) prompb.TimeSeries {
	var ts prompb.TimeSeries
	for i := 0; i < len(pairs); i += 2 {
		ts.Labels = append(ts.Labels, prompb.Label{Name: pairs[i], Value: pairs[i+1]})
	}
	for i := range n {
		ts.Samples = append(ts.Samples, prompb.Sample{Timestamp: end.Add(-time.Duration(n-1-i) * 15 * time.Second).UnixMilli(), Value: float64(i)})
	}
	return ts
}

// gauge returns the value of the series of name with the given labels, and
// whether there is one.
func gauge(t *testing.T, g prometheus.Gatherer, name string, lbls map[string]string) (float64, bool) {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range lbls {
				if have[k] != v {
					continue metrics
				}
			}
			if c := m.GetCounter(); c != nil {
				return c.GetValue(), true
			}
			return m.GetGauge().GetValue(), true
		}
	}
	return 0, false
}

// TestMeterStorage: the storage meter and its gauges move as data is
// written (the WAL) and compacted (blocks), and agree with each other.
func TestMeterStorage(t *testing.T) {
	e := newMeterEnv(t, quota.Options{})
	before := e.m.Read().Storage
	if before.Blocks != 0 {
		t.Fatalf("a new workspace has blocks: %+v", before)
	}
	// Four hours of two series, 15 s apart: enough for a block.
	now := time.Now()
	if code := e.write(samples(now, 960, "__name__", "m", "i", "0"), samples(now, 960, "__name__", "m", "i", "1")); code != http.StatusNoContent {
		t.Fatalf("write: %d", code)
	}
	written := e.m.Read().Storage
	if written.WAL <= before.WAL {
		t.Errorf("WAL %d bytes after writing, %d before", written.WAL, before.WAL)
	}
	release, ok := e.w.Acquire()
	if !ok {
		t.Fatal("workspace not usable")
	}
	err := e.w.DB().Compact(context.Background())
	release()
	if err != nil {
		t.Fatal(err)
	}
	compacted := e.m.Read().Storage
	if compacted.Blocks <= 0 || compacted.Total() != compacted.Head+compacted.WAL+compacted.Blocks {
		t.Errorf("after compaction: %+v", compacted)
	}
	for kind, want := range map[string]int64{"head": compacted.Head, "wal": compacted.WAL, "blocks": compacted.Blocks} {
		got, ok := gauge(t, e.metrics, "promspace_usage_storage_bytes", map[string]string{"workspace": e.w.ID(), "kind": kind})
		if !ok || int64(got) != want {
			t.Errorf("promspace_usage_storage_bytes{kind=%q} = %v (%v), want %d", kind, got, ok, want)
		}
	}
}

// TestMeterCounts: samples ingested and discarded by reason, and query
// samples processed, in the Go reading and on the metrics.
func TestMeterCounts(t *testing.T) {
	l := quota.DefaultLimits()
	l.MaxLabelsPerSeries = 2
	e := newMeterEnv(t, quota.Options{Limits: &l})
	now := time.Now()
	code := e.write(samples(now, 3, "__name__", "ok"), samples(now, 2, "__name__", "too_many", "a", "1", "b", "2"))
	if code != http.StatusBadRequest {
		t.Fatalf("write: %d, want 400 for the series over the label limit", code)
	}
	e.m.ObserveQuery(40)
	e.m.ObserveQuery(2)
	e.m.ObserveQuery(0)
	r := e.m.Read()
	if r.SamplesIngested != 3 || r.HistogramsIngested != 0 || r.QuerySamplesProcessed != 42 {
		t.Errorf("reading %+v", r)
	}
	if got := r.SamplesDiscarded[quota.ReasonMaxLabelNamesPerSeries]; got != 2 || len(r.SamplesDiscarded) != 1 {
		t.Errorf("discarded %v, want 2 %s", r.SamplesDiscarded, quota.ReasonMaxLabelNamesPerSeries)
	}
	ws := map[string]string{"workspace": e.w.ID()}
	for name, want := range map[string]float64{
		"promspace_usage_query_samples_processed_total": 42,
		"promspace_ingest_written_samples_total":        3,
	} {
		if got, ok := gauge(t, e.metrics, name, ws); !ok || got != want {
			t.Errorf("%s = %v (%v), want %v", name, got, ok, want)
		}
	}
}

// TestMeterGoesWithTheWorkspace: deleting the workspace deletes its usage
// metrics, and a late reading measures nothing.
func TestMeterGoesWithTheWorkspace(t *testing.T) {
	e := newMeterEnv(t, quota.Options{})
	e.m.ObserveQuery(5)
	ws := map[string]string{"workspace": e.w.ID()}
	for _, name := range []string{"promspace_usage_query_samples_processed_total", "promspace_usage_storage_bytes"} {
		if _, ok := gauge(t, e.metrics, name, ws); !ok {
			t.Fatalf("no %s for an open workspace", name)
		}
	}
	if err := e.reg.Delete(context.Background(), e.w.ID()); err != nil {
		t.Fatal(err)
	}
	// The deletion closes the workspace in the background; Close waits.
	if err := e.reg.Close(); err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"promspace_usage_query_samples_processed_total", "promspace_usage_storage_bytes"} {
		if v, ok := gauge(t, e.metrics, name, ws); ok {
			t.Errorf("%s = %v after the workspace was deleted", name, v)
		}
	}
	if s := e.m.Read().Storage; s.Total() != 0 {
		t.Errorf("storage of a closed meter: %+v", s)
	}
}

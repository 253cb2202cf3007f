package quota_test

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	config_util "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage/remote"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/promspace/promspace/ingest"
	"github.com/promspace/promspace/quota"
)

// TestPrometheusRetries429: Prometheus' own remote-write queue manager,
// tailing the WAL of a TSDB of its own as a Prometheus server does, sends
// faster than the workspace's rate limit allows and retries the requests
// refused with 429 after their Retry-After (retry_on_http_429). In the end
// every sample is stored exactly once: every one passed the quota once and
// the workspace holds them all.
//
// The quota's clock is injected: it moves by each Retry-After the
// workspace answers, so the bucket refills exactly as the sender waits.
// The sender's waits are real seconds (at least one a 429).
func TestPrometheusRetries429(t *testing.T) {
	const (
		rate, burst = 1000, 1000
		total       = 3000
		perSend     = 500
	)
	clock := &fakeClock{t: time.Now()}
	e := newEnvClock(t, clock, quota.Options{Limits: limits(func(l *quota.Limits) {
		l.IngestionRate, l.IngestionBurst = rate, burst
	})})

	// Count the samples past the quota; signal once all are answered.
	var passed atomic.Int64
	var once sync.Once
	done := make(chan struct{})
	count := ingest.StageFunc(func(_ context.Context, _ ingest.Target, req *ingest.Request) error {
		passed.Add(int64(req.SampleCount()))
		return nil
	})
	h := ingest.NewHandler(ingest.Options{Now: clock.Now})
	ep := h.Open(ingest.Target{ID: e.w.ID(), Appendable: e.w, Metadata: e.w.Metadata(), Pipeline: []ingest.Stage{e.q, count}})
	var refused atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &statusRecorder{ResponseWriter: w}
		ep.ServeHTTP(rec, r)
		if rec.status == http.StatusTooManyRequests {
			refused.Add(1)
			s, _ := strconv.Atoi(w.Header().Get("Retry-After"))
			clock.Advance(time.Duration(s) * time.Second)
		}
		if rec.status == http.StatusNoContent && passed.Load() == total {
			once.Do(func() { close(done) })
		}
	}))
	defer srv.Close()

	// The sender: a TSDB and the remote storage that tails its WAL.
	dir := t.TempDir()
	db, err := tsdb.Open(dir, slog.New(slog.DiscardHandler), nil, tsdb.DefaultOptions(), nil)
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	ws := remote.NewWriteStorage(slog.New(slog.DiscardHandler), prometheus.NewRegistry(), dir, time.Second, nil, false)
	defer ws.Close()
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	rw := config.DefaultRemoteWriteConfig
	rw.Name = "quota"
	rw.URL = &config_util.URL{URL: u}
	rw.QueueConfig.MinShards, rw.QueueConfig.MaxShards = 1, 1
	rw.QueueConfig.MaxSamplesPerSend = perSend
	rw.QueueConfig.BatchSendDeadline = model.Duration(50 * time.Millisecond)
	rw.QueueConfig.RetryOnRateLimit = true
	rw.MetadataConfig.Send = false
	if err := ws.ApplyConfig(&config.Config{GlobalConfig: config.DefaultGlobalConfig, RemoteWriteConfigs: []*config.RemoteWriteConfig{&rw}}); err != nil {
		t.Fatal(err)
	}

	// Samples later than the WAL watcher's start, which sends no older.
	first := time.Now().Add(5 * time.Second).UnixMilli()
	app := db.Appender(context.Background())
	for i := range total {
		lset := labels.FromStrings("__name__", "retried", "series", strconv.Itoa(i%100))
		if _, err := app.Append(0, lset, first+int64(i/100), float64(i)); err != nil {
			t.Fatal(err)
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	ws.Notify()

	select {
	case <-done:
	case <-time.After(time.Minute):
		t.Fatalf("%d samples of %d passed the quota in a minute", passed.Load(), total)
	}
	if refused.Load() == 0 {
		t.Error("no request refused with 429: the test does not exercise retries")
	}
	if got := e.stored(); got != total {
		t.Errorf("%d samples stored, want %d", got, total)
	}
	if got := passed.Load(); got != total {
		t.Errorf("%d samples passed the quota, want %d", got, total)
	}
	t.Logf("%d requests refused with 429 and retried", refused.Load())
}

// statusRecorder keeps the status a handler writes.
type statusRecorder struct {
	http.ResponseWriter
	status int
}

func (r *statusRecorder) WriteHeader(code int) {
	r.status = code
	r.ResponseWriter.WriteHeader(code)
}

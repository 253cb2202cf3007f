package dedupe_test

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/promspace/promspace/dedupe"
	"github.com/promspace/promspace/ingest"
)

// clock is an injected clock that tests move by hand.
type clock struct {
	mtx sync.Mutex
	t   time.Time
}

func newClock() *clock { return &clock{t: time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)} }

func (c *clock) Now() time.Time {
	c.mtx.Lock()
	defer c.mtx.Unlock()
	return c.t
}

func (c *clock) Add(d time.Duration) {
	c.mtx.Lock()
	c.t = c.t.Add(d)
	c.mtx.Unlock()
}

// countingKV counts the writes of a KV and fails on demand.
type countingKV struct {
	dedupe.KV
	swaps atomic.Int64
	fail  atomic.Bool
}

var errKVDown = errors.New("kv down")

func (kv *countingKV) Get(ctx context.Context, key string) (dedupe.Entry, error) {
	if kv.fail.Load() {
		return dedupe.Entry{}, errKVDown
	}
	return kv.KV.Get(ctx, key)
}

func (kv *countingKV) CompareAndSwap(ctx context.Context, key string, rev int64, l dedupe.Leader) (dedupe.Entry, bool, error) {
	if kv.fail.Load() {
		return dedupe.Entry{}, false, errKVDown
	}
	e, ok, err := kv.KV.CompareAndSwap(ctx, key, rev, l)
	if ok {
		kv.swaps.Add(1)
	}
	return e, ok, err
}

func (kv *countingKV) List(ctx context.Context, prefix string) ([]dedupe.Entry, error) {
	if kv.fail.Load() {
		return nil, errKVDown
	}
	return kv.KV.List(ctx, prefix)
}

// node is one promspace node's tracker of a workspace.
type node struct {
	*dedupe.Tracker
	reg *prometheus.Registry
}

// newNode opens the tracker of workspace id on a node of its own, with its
// own metrics registry.
func newNode(t *testing.T, id string, opts dedupe.Options) node {
	t.Helper()
	reg := prometheus.NewRegistry()
	opts.Registerer = reg
	ts, err := dedupe.New(opts)
	if err != nil {
		t.Fatal(err)
	}
	tr, err := ts.Open(id)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { tr.Close() })
	return node{tr, reg}
}

// series builds a series of one sample from label pairs.
func series(ts int64, pairs ...string) ingest.Series {
	return ingest.Series{Labels: labels.FromStrings(pairs...), Samples: []ingest.Sample{{Timestamp: ts, Value: 1}}}
}

// send processes a request of one series of cluster and replica and
// returns the status it would be answered with (204 for accepted).
func (n node) send(t *testing.T, cluster, replica string) int {
	t.Helper()
	req := &ingest.Request{Series: []ingest.Series{series(1, "__name__", "up", "cluster", cluster, "__replica__", replica)}}
	return status(t, n.Process(context.Background(), ingest.Target{}, req))
}

// status is the HTTP status of a stage's error.
func status(t *testing.T, err error) int {
	t.Helper()
	var se *ingest.StatusError
	switch {
	case err == nil:
		return http.StatusNoContent
	case errors.As(err, &se):
		return se.Status
	default:
		t.Logf("stage failed: %v", err)
		return http.StatusInternalServerError
	}
}

func labelsOf(req *ingest.Request) []string {
	var out []string
	for _, s := range req.Series {
		out = append(out, s.Labels.String())
	}
	return out
}

func clusterName(i int) string { return fmt.Sprintf("c%03d", i) }

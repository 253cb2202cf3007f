package quota_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"

	"github.com/promspace/promspace/ingest"
	"github.com/promspace/promspace/quota"
	"github.com/promspace/promspace/workspace"
)

// testStart is the injected clock's start: a whole second, so that
// timestamps in milliseconds are exact.
var testStart = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// fakeClock is an injected clock that moves only when told to.
type fakeClock struct {
	mtx sync.Mutex
	t   time.Time
}

func newClock() *fakeClock { return &fakeClock{t: testStart} }

func (c *fakeClock) Now() time.Time {
	c.mtx.Lock()
	defer c.mtx.Unlock()
	return c.t
}

func (c *fakeClock) Advance(d time.Duration) time.Time {
	c.mtx.Lock()
	defer c.mtx.Unlock()
	c.t = c.t.Add(d)
	return c.t
}

// env is a workspace of a real registry in t.TempDir() with its Quota,
// served by a real ingest.Handler over loopback HTTP.
type env struct {
	t     *testing.T
	clock *fakeClock
	dir   string
	opts  quota.Options
	reg   *workspace.Registry
	w     *workspace.Workspace
	q     *quota.Quota
	srv   *httptest.Server
	// metrics are the ingest handler's, new with each attach.
	metrics *prometheus.Registry
}

// newEnv opens an env whose Quotas have opts, with a fake clock unless
// opts has one.
func newEnv(t *testing.T, opts quota.Options) *env {
	t.Helper()
	return newEnvClock(t, newClock(), opts)
}

// newEnvClock opens an env on clock.
func newEnvClock(t *testing.T, clock *fakeClock, opts quota.Options) *env {
	t.Helper()
	e := &env{t: t, clock: clock, dir: t.TempDir(), opts: opts}
	if e.opts.Now == nil {
		e.opts.Now = e.clock.Now
	}
	ctx := context.Background()
	e.open()
	w, err := e.reg.Create(ctx, workspace.CreateInput{Alias: "quota"})
	if err != nil {
		t.Fatal(err)
	}
	e.attach(w.ID())
	return e
}

func (e *env) open() {
	e.t.Helper()
	r, err := workspace.Open(context.Background(), workspace.Options{
		DataDir:    e.dir,
		Now:        e.clock.Now,
		Components: []workspace.Component{quota.New(e.opts).Component()},
	})
	if err != nil {
		e.t.Fatal(err)
	}
	e.reg = r
	e.t.Cleanup(func() { r.Close() })
}

// attach serves workspace id of the open registry.
func (e *env) attach(id string) {
	e.t.Helper()
	w, err := e.reg.Get(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	q, ok := workspace.InstanceOf[*quota.Quota](w, quota.ComponentName)
	if !ok {
		e.t.Fatal("no *quota.Quota for an open workspace")
	}
	e.w, e.q = w, q
	e.metrics = prometheus.NewRegistry()
	h := ingest.NewHandler(ingest.Options{Now: e.clock.Now, Registerer: e.metrics})
	ep := h.Open(ingest.Target{ID: w.ID(), Appendable: w, Metadata: w.Metadata(), Pipeline: []ingest.Stage{q}})
	e.srv = httptest.NewServer(ep)
	e.t.Cleanup(e.srv.Close)
}

// restart closes the registry and opens it again, as a restart does.
func (e *env) restart() {
	e.t.Helper()
	e.srv.Close()
	id := e.w.ID()
	if err := e.reg.Close(); err != nil {
		e.t.Fatal(err)
	}
	e.open()
	e.attach(id)
}

// result is the answer to a remote-write request.
type result struct {
	status     int
	body       string
	retryAfter string
}

// push sends series in one remote write 1.0 request.
func (e *env) push(series ...prompb.TimeSeries) result {
	e.t.Helper()
	return e.pushRequest(&prompb.WriteRequest{Timeseries: series})
}

func (e *env) pushRequest(wr *prompb.WriteRequest) result {
	e.t.Helper()
	raw, err := wr.Marshal()
	if err != nil {
		e.t.Fatal(err)
	}
	req, err := http.NewRequest(http.MethodPost, e.srv.URL, bytes.NewReader(snappy.Encode(nil, raw)))
	if err != nil {
		e.t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/x-protobuf")
	req.Header.Set("Content-Encoding", "snappy")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	return result{status: resp.StatusCode, body: string(bytes.TrimSpace(body)), retryAfter: resp.Header.Get("Retry-After")}
}

// series returns a series of the given label pairs with n samples, the
// last at the clock's now, one millisecond apart.
func (e *env) series(n int, pairs ...string) prompb.TimeSeries {
	now := e.clock.Now().UnixMilli()
	ts := prompb.TimeSeries{}
	for i := 0; i < len(pairs); i += 2 {
		ts.Labels = append(ts.Labels, prompb.Label{Name: pairs[i], Value: pairs[i+1]})
	}
	for i := range n {
		ts.Samples = append(ts.Samples, prompb.Sample{Timestamp: now - int64(n-1-i), Value: float64(i)})
	}
	return ts
}

// numbered returns n series of metric, each with one sample at now and a
// label i from first on, and extra label pairs.
func (e *env) numbered(metric string, first, n int, extra ...string) []prompb.TimeSeries {
	out := make([]prompb.TimeSeries, n)
	for k := range n {
		out[k] = e.series(1, append([]string{"__name__", metric, "i", strconv.Itoa(first + k)}, extra...)...)
	}
	return out
}

// stored returns the number of samples the workspace holds for the
// series matching ms.
func (e *env) stored(ms ...*labels.Matcher) int {
	e.t.Helper()
	if len(ms) == 0 {
		ms = []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, labels.MetricName, ".+")}
	}
	q, err := e.w.Querier(0, e.clock.Now().Add(time.Hour).UnixMilli())
	if err != nil {
		e.t.Fatal(err)
	}
	defer q.Close()
	n := 0
	set := q.Select(context.Background(), false, nil, ms...)
	for set.Next() {
		it := set.At().Iterator(nil)
		for it.Next() != 0 {
			n++
		}
	}
	if err := set.Err(); err != nil {
		e.t.Fatal(err)
	}
	return n
}

// expect checks a result's status and body.
func (r result) expect(t *testing.T, status int, body string) {
	t.Helper()
	if r.status != status || r.body != body {
		t.Errorf("got %d %q,\nwant %d %q", r.status, r.body, status, body)
	}
}

package promspace_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	"github.com/prometheus/client_golang/prometheus"
	config_util "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"github.com/prometheus/prometheus/storage/remote"

	"github.com/promspace/promspace"
	"github.com/promspace/promspace/dedupe"
)

// haClock is the HA trackers' injected clock, moved by the test.
type haClock struct{ ns atomic.Int64 }

func (c *haClock) Now() time.Time      { return time.Unix(0, c.ns.Load()).UTC() }
func (c *haClock) Add(d time.Duration) { c.ns.Add(int64(d)) }

// haNode is a promspace service on loopback: one node.
type haNode struct {
	svc *promspace.Service
	url string
	ws  string
	reg *prometheus.Registry
	// status is the HTTP status of the last remote write of each replica,
	// told apart by the X-Replica header its client sends.
	mtx    sync.Mutex
	status map[string]int
}

// startHANode starts a service with the given options, a registry of its
// own and a workspace aliased "ha".
func startHANode(t *testing.T, opts promspace.Options) *haNode {
	t.Helper()
	n := &haNode{reg: prometheus.NewRegistry(), status: map[string]int{}}
	opts.DataDir, opts.Registerer = t.TempDir(), n.reg
	svc, err := promspace.New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	ws, err := svc.EnsureWorkspace(context.Background(), "ha")
	if err != nil {
		t.Fatal(err)
	}
	n.svc, n.ws = svc, ws.ID()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &haStatusWriter{ResponseWriter: w, code: http.StatusOK}
		svc.ServeHTTP(rec, r)
		if replica := r.Header.Get("X-Replica"); replica != "" {
			n.mtx.Lock()
			n.status[replica] = rec.code
			n.mtx.Unlock()
		}
	}))
	n.url = srv.URL
	t.Cleanup(func() {
		srv.Close()
		if err := svc.Close(); err != nil {
			t.Errorf("close: %v", err)
		}
	})
	return n
}

type haStatusWriter struct {
	http.ResponseWriter
	code int
}

func (w *haStatusWriter) WriteHeader(code int) {
	w.code = code
	w.ResponseWriter.WriteHeader(code)
}

func (n *haNode) lastStatus(replica string) int {
	n.mtx.Lock()
	defer n.mtx.Unlock()
	return n.status[replica]
}

// samples returns every stored sample of the series matching sel in the
// workspace, by series.
func (n *haNode) samples(t *testing.T, sel string, at time.Time) map[string][]model.SamplePair {
	t.Helper()
	client, err := api.NewClient(api.Config{Address: n.url + "/workspaces/" + n.ws})
	if err != nil {
		t.Fatal(err)
	}
	v, _, _, err := v1.NewAPI(client).Query(context.Background(), sel+"[1h]", at)
	if err != nil {
		t.Fatal(err)
	}
	out := map[string][]model.SamplePair{}
	for _, s := range v.(model.Matrix) {
		out[s.Metric.String()] = s.Values
	}
	return out
}

// haReplica is one Prometheus of an HA pair: Prometheus' own remote-write
// client, sending its series with its external labels added as Prometheus
// adds them (a series' own label of the same name wins).
type haReplica struct {
	name     string
	client   remote.WriteClient
	external labels.Labels
	v2       bool
}

func newHAReplica(t *testing.T, n *haNode, name string, v2 bool, external ...string) *haReplica {
	t.Helper()
	u, _ := url.Parse(n.url + "/workspaces/" + n.ws + "/api/v1/remote_write")
	msg := remoteapi.WriteV1MessageType
	if v2 {
		msg = remoteapi.WriteV2MessageType
	}
	c, err := remote.NewWriteClient(name, &remote.ClientConfig{
		URL:           &config_util.URL{URL: u},
		Timeout:       model.Duration(10 * time.Second),
		Headers:       map[string]string{"X-Replica": name},
		WriteProtoMsg: msg,
	})
	if err != nil {
		t.Fatal(err)
	}
	return &haReplica{name: name, client: c, external: labels.FromStrings(external...), v2: v2}
}

// send writes one sample of each series, given by its label pairs, at ts
// and returns the client's error.
func (r *haReplica) send(ts time.Time, v float64, series ...[]string) error {
	var sets []labels.Labels
	for _, pairs := range series {
		b := labels.NewBuilder(labels.FromStrings(pairs...))
		r.external.Range(func(l labels.Label) {
			if b.Get(l.Name) == "" {
				b.Set(l.Name, l.Value)
			}
		})
		sets = append(sets, b.Labels())
	}
	var raw []byte
	var err error
	if r.v2 {
		st := writev2.NewSymbolTable()
		req := &writev2.Request{}
		for _, ls := range sets {
			req.Timeseries = append(req.Timeseries, writev2.TimeSeries{
				LabelsRefs: st.SymbolizeLabels(ls, nil),
				Samples:    []writev2.Sample{{Timestamp: ts.UnixMilli(), Value: v}},
			})
		}
		req.Symbols = st.Symbols()
		raw, err = req.Marshal()
	} else {
		req := &prompb.WriteRequest{}
		for _, ls := range sets {
			req.Timeseries = append(req.Timeseries, prompb.TimeSeries{
				Labels:  prompb.FromLabels(ls, nil),
				Samples: []prompb.Sample{{Timestamp: ts.UnixMilli(), Value: v}},
			})
		}
		raw, err = req.Marshal()
	}
	if err != nil {
		return err
	}
	_, err = r.client.Store(context.Background(), snappy.Encode(nil, raw), 0)
	return err
}

// haPair drives an HA pair through its nodes: both replicas send the same
// series every interval, r2 a few milliseconds after r1, until r1 stops
// after r1Steps; r2 goes on for r2Steps more. It checks the status of
// every request and keeps the times of the accepted samples.
type haPair struct {
	t            *testing.T
	clk          *haClock
	r1, r2       *haReplica
	n1, n2       *haNode
	interval     time.Duration
	accepted     []time.Time // every accepted sample's time, both replicas
	lastR1       time.Time
	firstR2      time.Time
	deduplicated int
}

var haSeries = []string{"__name__", "ha_requests_total", "job", "api"}

func (p *haPair) step(replica *haReplica, n *haNode, v float64) int {
	p.t.Helper()
	ts := p.clk.Now()
	if err := replica.send(ts, v, haSeries); err != nil {
		p.t.Fatalf("%s at %v: %v", replica.name, ts, err)
	}
	code := n.lastStatus(replica.name)
	switch code {
	case http.StatusNoContent:
		p.accepted = append(p.accepted, ts)
	case http.StatusAccepted:
		p.deduplicated++
	default:
		p.t.Fatalf("%s at %v: status %d", replica.name, ts, code)
	}
	return code
}

func (p *haPair) run(r1Steps, r2Steps int) {
	p.t.Helper()
	const skew = 3 * time.Millisecond
	for i := range r1Steps {
		if code := p.step(p.r1, p.n1, float64(i)); code != http.StatusNoContent {
			p.t.Fatalf("leader r1 got %d at step %d", code, i)
		}
		p.lastR1 = p.clk.Now()
		p.clk.Add(skew)
		if code := p.step(p.r2, p.n2, 1000+float64(i)); code != http.StatusAccepted {
			p.t.Fatalf("r2 got %d at step %d while r1 sends", code, i)
		}
		p.clk.Add(p.interval - skew)
	}
	for i := range r2Steps {
		p.clk.Add(p.interval)
		if p.step(p.r2, p.n2, 2000+float64(i)) == http.StatusNoContent && p.firstR2.IsZero() {
			p.firstR2 = p.clk.Now()
		}
	}
	if p.firstR2.IsZero() {
		p.t.Fatal("r2 never took over")
	}
	if gap := p.firstR2.Sub(p.lastR1); gap > dedupe.DefaultFailoverTimeout+p.interval {
		p.t.Errorf("r2 took over %v after r1's last sample, want at most %v", gap, dedupe.DefaultFailoverTimeout+p.interval)
	}
}

// checkStored checks that the series stored across nodes are one series
// without __replica__ whose samples are exactly the accepted ones, r1's
// then r2's, with no gap longer than the failover timeout plus one
// interval.
func (p *haPair) checkStored(nodes ...*haNode) {
	p.t.Helper()
	var got []model.SamplePair
	for _, n := range nodes {
		for metric, vs := range n.samples(p.t, "ha_requests_total", p.clk.Now()) {
			if want := `ha_requests_total{cluster="c1", job="api"}`; metric != want {
				p.t.Errorf("stored series %s, want only %s", metric, want)
			}
			got = append(got, vs...)
		}
	}
	if len(got) != len(p.accepted) {
		p.t.Fatalf("%d samples stored, %d accepted", len(got), len(p.accepted))
	}
	for i, s := range got {
		if d := s.Timestamp.Sub(got[max(i-1, 0)].Timestamp); i > 0 && (d <= 0 || d > dedupe.DefaultFailoverTimeout+p.interval) {
			p.t.Errorf("sample at %v %v after the one before: want one copy and no gap over the failover timeout plus an interval", s.Timestamp, d)
		}
		fromR1 := s.Value < 1000
		if before := s.Timestamp.Time().Before(p.firstR2); fromR1 != before {
			p.t.Errorf("sample %v at %v: from r1 %v, before r2 took over %v", s.Value, s.Timestamp, fromR1, before)
		}
	}
}

// haStart is where the injected clock starts: in the past, so that every
// sample the test sends is older than the ingest's real clock.
func haStart() *haClock {
	c := &haClock{}
	c.ns.Store(time.Now().Add(-30 * time.Minute).Truncate(time.Second).UnixNano())
	return c
}

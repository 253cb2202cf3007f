package promspace_test

import (
	"context"
	"net/http/httptest"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/amp"
	"github.com/aws/aws-sdk-go-v2/service/amp/types"
	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	config_util "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"github.com/prometheus/prometheus/storage/remote"
	"github.com/prometheus/prometheus/tsdb/tsdbutil"

	"github.com/promspace/promspace"
)

// harness is a service on loopback with an AWS SDK amp client pointed at it.
type harness struct {
	t   *testing.T
	dir string
	svc *promspace.Service
	srv *httptest.Server
	amp *amp.Client
}

func start(t *testing.T, dir string) *harness {
	t.Helper()
	svc, err := promspace.New(context.Background(), promspace.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc)
	h := &harness{t: t, dir: dir, svc: svc, srv: srv}
	h.amp = amp.New(amp.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	})
	t.Cleanup(h.stop)
	return h
}

func (h *harness) stop() {
	if h.srv == nil {
		return
	}
	h.srv.Close()
	if err := h.svc.Close(); err != nil {
		h.t.Errorf("close: %v", err)
	}
	h.srv = nil
}

func (h *harness) createWorkspace(alias string) string {
	h.t.Helper()
	ctx := context.Background()
	out, err := h.amp.CreateWorkspace(ctx, &amp.CreateWorkspaceInput{Alias: aws.String(alias)})
	if err != nil {
		h.t.Fatal(err)
	}
	w := amp.NewWorkspaceActiveWaiter(h.amp, func(o *amp.WorkspaceActiveWaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 50*time.Millisecond
	})
	if err := w.Wait(ctx, &amp.DescribeWorkspaceInput{WorkspaceId: out.WorkspaceId}, 10*time.Second); err != nil {
		h.t.Fatal(err)
	}
	return aws.ToString(out.WorkspaceId)
}

func (h *harness) writeClient(id string, msg remoteapi.WriteMessageType) remote.WriteClient {
	h.t.Helper()
	u, _ := url.Parse(h.srv.URL + "/workspaces/" + id + "/api/v1/remote_write")
	c, err := remote.NewWriteClient("test", &remote.ClientConfig{
		URL:           &config_util.URL{URL: u},
		Timeout:       model.Duration(10 * time.Second),
		WriteProtoMsg: msg,
	})
	if err != nil {
		h.t.Fatal(err)
	}
	return c
}

func (h *harness) queryAPI(id string) v1.API {
	h.t.Helper()
	c, err := api.NewClient(api.Config{Address: h.srv.URL + "/workspaces/" + id})
	if err != nil {
		h.t.Fatal(err)
	}
	return v1.NewAPI(c)
}

func (h *harness) writeV1(id string, req *prompb.WriteRequest) {
	h.t.Helper()
	raw, err := req.Marshal()
	if err != nil {
		h.t.Fatal(err)
	}
	if _, err := h.writeClient(id, remoteapi.WriteV1MessageType).Store(context.Background(), snappy.Encode(nil, raw), 0); err != nil {
		h.t.Fatal(err)
	}
}

func (h *harness) writeV2(id string, req *writev2.Request) remote.WriteResponseStats {
	h.t.Helper()
	raw, err := req.Marshal()
	if err != nil {
		h.t.Fatal(err)
	}
	stats, err := h.writeClient(id, remoteapi.WriteV2MessageType).Store(context.Background(), snappy.Encode(nil, raw), 0)
	if err != nil {
		h.t.Fatal(err)
	}
	return stats
}

func series(ts int64, v float64, kv ...string) prompb.TimeSeries {
	return prompb.TimeSeries{
		Labels:  prompb.FromLabels(labels.FromStrings(kv...), nil),
		Samples: []prompb.Sample{{Timestamp: ts, Value: v}},
	}
}

func instant(t *testing.T, q v1.API, expr string, at time.Time) model.Vector {
	t.Helper()
	v, _, _, err := q.Query(context.Background(), expr, at)
	if err != nil {
		t.Fatalf("query %q: %v", expr, err)
	}
	vec, ok := v.(model.Vector)
	if !ok {
		t.Fatalf("query %q: got %s", expr, v.Type())
	}
	return vec
}

// TestEndToEnd creates a workspace with the AWS SDK, writes remote write 1.0
// and 2.0 with Prometheus' own client, and reads everything back through
// each query endpoint with client_golang.
func TestEndToEnd(t *testing.T) {
	h := start(t, t.TempDir())
	id := h.createWorkspace("e2e")
	now := time.Now().Truncate(time.Second)
	ms := now.UnixMilli()

	h.writeV1(id, &prompb.WriteRequest{
		Timeseries: []prompb.TimeSeries{
			series(ms, 1, "__name__", "up", "job", "node", "instance", "a:9100"),
			series(ms, 0, "__name__", "up", "job", "node", "instance", "b:9100"),
		},
		Metadata: []prompb.MetricMetadata{{
			Type: prompb.MetricMetadata_GAUGE, MetricFamilyName: "up", Help: "Whether the target is up.",
		}},
	})

	st := writev2.NewSymbolTable()
	reqs := []writev2.TimeSeries{
		{
			LabelsRefs: st.SymbolizeLabels(labels.FromStrings("__name__", "http_requests_total", "job", "api"), nil),
			Samples:    []writev2.Sample{{Value: 42, Timestamp: ms, StartTimestamp: ms - 60_000}},
			Exemplars: []writev2.Exemplar{{
				LabelsRefs: st.SymbolizeLabels(labels.FromStrings("trace_id", "abc123"), nil),
				Value:      1, Timestamp: ms,
			}},
			Metadata: writev2.Metadata{
				Type:    writev2.Metadata_METRIC_TYPE_COUNTER,
				HelpRef: st.Symbolize("Requests served."),
			},
		},
		{
			LabelsRefs: st.SymbolizeLabels(labels.FromStrings("__name__", "request_duration_seconds", "job", "api"), nil),
			Histograms: []writev2.Histogram{writev2.FromIntHistogram(0, ms, tsdbutil.GenerateTestHistogram(3))},
			Metadata:   writev2.Metadata{Type: writev2.Metadata_METRIC_TYPE_HISTOGRAM},
		},
		{
			LabelsRefs: st.SymbolizeLabels(labels.FromStrings("__name__", "payload_bytes", "job", "api"), nil),
			Histograms: []writev2.Histogram{writev2.FromFloatHistogram(0, ms, tsdbutil.GenerateTestFloatHistogram(2))},
		},
	}
	stats := h.writeV2(id, &writev2.Request{Symbols: st.Symbols(), Timeseries: reqs})
	if stats.Samples != 1 || stats.Histograms != 2 || stats.Exemplars != 1 {
		t.Errorf("written stats = %+v, want 1 sample, 2 histograms, 1 exemplar", stats)
	}

	q := h.queryAPI(id)
	ctx := context.Background()
	if got := instant(t, q, `sum(up)`, now); len(got) != 1 || got[0].Value != 1 {
		t.Errorf("sum(up) = %v", got)
	}
	if got := instant(t, q, `http_requests_total{job="api"}`, now); len(got) != 1 || got[0].Value != 42 {
		t.Errorf("http_requests_total = %v", got)
	}
	if got := instant(t, q, `histogram_count(request_duration_seconds)`, now); len(got) != 1 || got[0].Value == 0 {
		t.Errorf("histogram_count(request_duration_seconds) = %v", got)
	}
	if got := instant(t, q, `histogram_sum(payload_bytes)`, now); len(got) != 1 {
		t.Errorf("histogram_sum(payload_bytes) = %v", got)
	}

	rng, _, _, err := q.QueryRange(ctx, `up`, v1.Range{Start: now.Add(-time.Minute), End: now, Step: 15 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if m, ok := rng.(model.Matrix); !ok || len(m) != 2 {
		t.Errorf("query_range up = %v", rng)
	}

	sets, _, _, err := q.Series(ctx, []string{`{job="api"}`}, now.Add(-time.Hour), now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(sets) != 3 {
		t.Errorf("series {job=\"api\"} = %v, want 3", sets)
	}
	names, _, _, err := q.LabelNames(ctx, nil, now.Add(-time.Hour), now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if want := []string{"__name__", "instance", "job"}; len(names) != len(want) {
		t.Errorf("labels = %v, want %v", names, want)
	}
	vals, _, _, err := q.LabelValues(ctx, "job", nil, now.Add(-time.Hour), now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(vals) != 2 || vals[0] != "api" || vals[1] != "node" {
		t.Errorf("label values job = %v", vals)
	}
	md, err := q.Metadata(ctx, "", "")
	if err != nil {
		t.Fatal(err)
	}
	if got := md["up"]; len(got) != 1 || got[0].Type != v1.MetricTypeGauge || got[0].Help != "Whether the target is up." {
		t.Errorf("metadata up = %+v", got)
	}
	if got := md["http_requests_total"]; len(got) != 1 || got[0].Type != v1.MetricTypeCounter {
		t.Errorf("metadata http_requests_total = %+v", got)
	}
	ex, err := q.QueryExemplars(ctx, `http_requests_total`, now.Add(-time.Minute), now.Add(time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	if len(ex) != 1 || len(ex[0].Exemplars) != 1 || ex[0].Exemplars[0].Labels["trace_id"] != "abc123" {
		t.Errorf("exemplars = %+v", ex)
	}
	if _, err := q.Buildinfo(ctx); err != nil {
		t.Errorf("buildinfo: %v", err)
	}
}

// TestWorkspaceIsolation checks that data written to one workspace is never
// visible through another.
func TestWorkspaceIsolation(t *testing.T) {
	h := start(t, t.TempDir())
	a, b := h.createWorkspace("a"), h.createWorkspace("b")
	now := time.Now().Truncate(time.Second)
	h.writeV1(a, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{series(now.UnixMilli(), 1, "__name__", "only_in_a")}})
	h.writeV1(b, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{series(now.UnixMilli(), 2, "__name__", "only_in_b")}})

	if got := instant(t, h.queryAPI(a), `{__name__=~"only_in_.*"}`, now); len(got) != 1 || got[0].Metric["__name__"] != "only_in_a" {
		t.Errorf("workspace a sees %v", got)
	}
	if got := instant(t, h.queryAPI(b), `{__name__=~"only_in_.*"}`, now); len(got) != 1 || got[0].Metric["__name__"] != "only_in_b" {
		t.Errorf("workspace b sees %v", got)
	}
	vals, _, _, err := h.queryAPI(a).LabelValues(context.Background(), "__name__", nil, now.Add(-time.Hour), now.Add(time.Hour))
	if err != nil {
		t.Fatal(err)
	}
	if len(vals) != 1 || vals[0] != "only_in_a" {
		t.Errorf("workspace a metric names = %v", vals)
	}
}

// TestRestart writes, stops the service, starts a new one on the same
// directory and reads the same answers.
func TestRestart(t *testing.T) {
	dir := t.TempDir()
	h := start(t, dir)
	id := h.createWorkspace("durable")
	ctx := context.Background()
	if _, err := h.amp.TagResource(ctx, &amp.TagResourceInput{
		ResourceArn: h.describe(id).Arn, Tags: map[string]string{"team": "infra"},
	}); err != nil {
		t.Fatal(err)
	}
	now := time.Now().Truncate(time.Second)
	h.writeV1(id, &prompb.WriteRequest{
		Timeseries: []prompb.TimeSeries{series(now.UnixMilli(), 3, "__name__", "kept", "job", "x")},
		Metadata:   []prompb.MetricMetadata{{Type: prompb.MetricMetadata_COUNTER, MetricFamilyName: "kept", Help: "Kept."}},
	})
	h.stop()

	h2 := start(t, dir)
	ws := h2.describe(id)
	if ws.Alias == nil || *ws.Alias != "durable" || ws.Tags["team"] != "infra" || ws.Status.StatusCode != types.WorkspaceStatusCodeActive {
		t.Errorf("after restart: %+v", ws)
	}
	if got := instant(t, h2.queryAPI(id), `kept`, now); len(got) != 1 || got[0].Value != 3 {
		t.Errorf("after restart kept = %v", got)
	}
	md, err := h2.queryAPI(id).Metadata(ctx, "kept", "")
	if err != nil {
		t.Fatal(err)
	}
	if len(md["kept"]) != 1 || md["kept"][0].Help != "Kept." {
		t.Errorf("after restart metadata = %v", md)
	}
}

func (h *harness) describe(id string) *types.WorkspaceDescription {
	h.t.Helper()
	out, err := h.amp.DescribeWorkspace(context.Background(), &amp.DescribeWorkspaceInput{WorkspaceId: aws.String(id)})
	if err != nil {
		h.t.Fatal(err)
	}
	return out.Workspace
}

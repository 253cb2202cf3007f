package promspace_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
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

// TestDataPlaneUnknownWorkspace checks that a workspace that does not exist,
// or no longer does, answers 404 on the data plane, and that its data is
// gone after delete.
func TestDataPlaneUnknownWorkspace(t *testing.T) {
	h := start(t, t.TempDir())
	id := h.createWorkspace("doomed")
	ctx := context.Background()
	if _, err := h.amp.DeleteWorkspace(ctx, &amp.DeleteWorkspaceInput{WorkspaceId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	w := amp.NewWorkspaceDeletedWaiter(h.amp, func(o *amp.WorkspaceDeletedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 50*time.Millisecond
	})
	if err := w.Wait(ctx, &amp.DescribeWorkspaceInput{WorkspaceId: aws.String(id)}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	var nf *types.ResourceNotFoundException
	if _, err := h.amp.DescribeWorkspace(ctx, &amp.DescribeWorkspaceInput{WorkspaceId: aws.String(id)}); !errors.As(err, &nf) {
		t.Errorf("describe deleted: %v", err)
	}

	for _, ws := range []string{id, "ws-00000000-0000-0000-0000-000000000000"} {
		resp, err := http.Get(h.srv.URL + "/workspaces/" + ws + "/api/v1/query?query=up")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("query on %s: %d, want 404", ws, resp.StatusCode)
		}
		resp, err = http.Post(h.srv.URL+"/workspaces/"+ws+"/api/v1/remote_write", "application/x-protobuf", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("remote write on %s: %d, want 404", ws, resp.StatusCode)
		}
	}
}

func TestEnsureWorkspaceReusesAlias(t *testing.T) {
	h := start(t, t.TempDir())
	ctx := context.Background()
	a, err := h.svc.EnsureWorkspace(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.svc.EnsureWorkspace(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	if a.ID() != b.ID() {
		t.Errorf("EnsureWorkspace made two workspaces: %s, %s", a.ID(), b.ID())
	}
	out, err := h.amp.ListWorkspaces(ctx, &amp.ListWorkspacesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(out.Workspaces); n != 1 {
		t.Errorf("%d workspaces, want 1", n)
	}
}

// TestDeleteDuringWrites: writes racing a DeleteWorkspace are answered 204
// or 404, never a 500 from a TSDB closed under them.
func TestDeleteDuringWrites(t *testing.T) {
	h := start(t, t.TempDir())
	id := h.createWorkspace("busy")
	raw, err := (&prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		series(time.Now().UnixMilli(), 1, "__name__", "busy", "job", "x"),
	}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	body := snappy.Encode(nil, raw)
	url := h.srv.URL + "/workspaces/" + id + "/api/v1/remote_write"

	// Each writer goes on until it sees the workspace gone, or gives up.
	const writers, maxWrites = 4, 5000
	codes := make(chan int, writers*maxWrites)
	started := make(chan struct{}, writers)
	done := make(chan struct{})
	for range writers {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range maxWrites {
				resp, err := http.Post(url, "application/x-protobuf", bytes.NewReader(body))
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				codes <- resp.StatusCode
				if i == 0 {
					started <- struct{}{}
				}
				if resp.StatusCode == http.StatusNotFound {
					return
				}
			}
		}()
	}
	for range writers {
		<-started
	}
	if _, err := h.amp.DeleteWorkspace(context.Background(), &amp.DeleteWorkspaceInput{WorkspaceId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	for range writers {
		<-done
	}
	close(codes)
	seen := map[int]int{}
	for c := range codes {
		seen[c]++
	}
	for c, n := range seen {
		if c != http.StatusNoContent && c != http.StatusNotFound {
			t.Errorf("%d writes answered %d", n, c)
		}
	}
	if seen[http.StatusNotFound] != writers {
		t.Errorf("not every writer saw the workspace gone: %v", seen)
	}
}

// Paths that are no AMP operation get what Prometheus answers without
// access control, and AMP's UnknownOperationException with it.
func TestUnknownPaths(t *testing.T) {
	h := start(t, t.TempDir())
	id := h.createWorkspace("paths")
	ws := "/workspaces/" + id
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{"GET", ws + "/api/v1/remote_write", http.StatusMethodNotAllowed},
		{"PUT", ws + "/api/v1/remote_write", http.StatusMethodNotAllowed},
		{"PUT", "/foo/bar", http.StatusNotFound},
		{"GET", ws + "/api/v1/status/tsdb", http.StatusNotFound},
		{"GET", ws + "/api/v1/targets", http.StatusNotFound},
		{"POST", ws + "/api/v1/read", http.StatusNotFound},
		{"POST", "/otlp/v1/metrics", http.StatusNotFound},
		{"GET", "/api/v1/read", http.StatusNotFound},
		{"DELETE", ws + "/api/v1/query", http.StatusMethodNotAllowed},
	} {
		req, _ := http.NewRequest(tc.method, h.srv.URL+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want || strings.Contains(string(body), "AccessDenied") {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, resp.StatusCode, body, tc.want)
		}
	}
	if resp, err := http.Get(h.srv.URL + ws + "/api/v1/remote_write"); err == nil {
		if got := resp.Header.Get("Allow"); got != "POST" {
			t.Errorf("Allow = %q, want POST", got)
		}
		resp.Body.Close()
	}
}

// A default workspace whose TSDB cannot open is reported once, for what it
// is: neither "creation" of a workspace that exists nor "not found".
func TestEnsureWorkspaceSaysWhyItCannotOpen(t *testing.T) {
	dir := t.TempDir()
	svc, err := promspace.New(context.Background(), promspace.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ws, err := svc.EnsureWorkspace(context.Background(), "default")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Close(); err != nil {
		t.Fatal(err)
	}
	// A file where the TSDB's WAL directory should be.
	if err := os.RemoveAll(filepath.Join(ws.Dir(), "wal")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ws.Dir(), "wal"), []byte("not a directory"), 0o666); err != nil {
		t.Fatal(err)
	}
	svc, err = promspace.New(context.Background(), promspace.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	_, err = svc.EnsureWorkspace(context.Background(), "default")
	if err == nil {
		t.Fatal("EnsureWorkspace of a workspace that cannot open succeeded")
	}
	msg := err.Error()
	if !strings.Contains(msg, ws.ID()+` (alias "default") cannot be opened: open TSDB: `) ||
		strings.Contains(msg, "not found") || strings.Contains(msg, "creation") {
		t.Errorf("error %q", msg)
	}
}

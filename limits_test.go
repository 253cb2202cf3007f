package promspace_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/amp"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/prompb"

	"github.com/promspace/promspace"
	"github.com/promspace/promspace/quota"
	"github.com/promspace/promspace/workspace"
)

// liveOverrides is a quota.Options.Overrides whose answer a test changes;
// UpdateWorkspaceConfiguration applies it to the running workspace.
type liveOverrides struct {
	mtx sync.Mutex
	l   quota.Limits
}

func (o *liveOverrides) get(*workspace.Workspace) (quota.Limits, bool) {
	o.mtx.Lock()
	defer o.mtx.Unlock()
	return o.l, true
}

func (o *liveOverrides) set(fn func(*quota.Limits)) {
	o.mtx.Lock()
	fn(&o.l)
	o.mtx.Unlock()
}

// startWith is start with the service's options and metrics registry.
func startWith(t *testing.T, opts promspace.Options) (*harness, *prometheus.Registry) {
	t.Helper()
	reg := prometheus.NewRegistry()
	opts.DataDir, opts.Registerer = t.TempDir(), reg
	svc, err := promspace.New(context.Background(), opts)
	if err != nil {
		t.Fatal(err)
	}
	h := &harness{t: t, dir: opts.DataDir, svc: svc, srv: httptest.NewServer(svc)}
	h.amp = amp.New(amp.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(h.srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	})
	t.Cleanup(h.stop)
	return h, reg
}

// getJSON GETs url through rt (nil: no signing) and decodes the body.
func getJSON(t *testing.T, rt http.RoundTripper, url string, into any) int {
	t.Helper()
	if rt == nil {
		rt = http.DefaultTransport
	}
	req, _ := http.NewRequest(http.MethodGet, url, nil)
	resp, err := rt.RoundTrip(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, _ := io.ReadAll(resp.Body)
	if err := json.Unmarshal(body, into); err != nil {
		t.Fatalf("%s: %d %s: %v", url, resp.StatusCode, body, err)
	}
	return resp.StatusCode
}

// reconfigure sends UpdateWorkspaceConfiguration, which applies the
// overrides' current answer.
func (h *harness) reconfigure(id string) {
	h.t.Helper()
	if _, err := h.amp.UpdateWorkspaceConfiguration(context.Background(), &amp.UpdateWorkspaceConfigurationInput{
		WorkspaceId: aws.String(id), RetentionPeriodInDays: aws.Int32(150),
	}); err != nil {
		h.t.Fatal(err)
	}
}

// TestQueryLimitsLiveAndMetered: through the Service on loopback, a
// workspace's query limits are its Quota's, an override applies to the
// next query without a restart, and the QSP of known queries over known
// data is the engine's count in the Go reading, /metrics and /limits.
func TestQueryLimitsLiveAndMetered(t *testing.T) {
	o := &liveOverrides{l: quota.DefaultLimits()}
	h, reg := startWith(t, promspace.Options{Quota: quota.Options{Overrides: o.get}})
	id := h.createWorkspace("limits")
	// Two series of 41 samples, 15 s apart: ten minutes.
	base := time.Now().Add(-time.Hour).Truncate(time.Minute)
	var wr prompb.WriteRequest
	for _, inst := range []string{"a", "b"} {
		ts := series(base.UnixMilli(), 0, "__name__", "m", "instance", inst)
		for i := 1; i <= 40; i++ {
			ts.Samples = append(ts.Samples, prompb.Sample{Timestamp: base.Add(time.Duration(i) * 15 * time.Second).UnixMilli(), Value: float64(i)})
		}
		wr.Timeseries = append(wr.Timeseries, ts)
	}
	h.writeV1(id, &wr)
	q := h.queryAPI(id)
	ctx := context.Background()
	at := base.Add(10 * time.Minute)

	// QSP: the engine's own count (stats=all), charged once per query.
	var charged int64
	for _, qs := range []string{`sum(count_over_time(m[5m]))`, `m`} {
		var resp struct {
			Data struct {
				Stats struct {
					Samples struct {
						TotalQueryableSamples int64 `json:"totalQueryableSamples"`
					} `json:"samples"`
				} `json:"stats"`
			} `json:"data"`
		}
		u := h.srv.URL + "/workspaces/" + id + "/api/v1/query?" + url.Values{"query": {qs}, "time": {fmt.Sprint(at.Unix())}, "stats": {"all"}}.Encode()
		if code := getJSON(t, nil, u, &resp); code != 200 {
			t.Fatalf("%s: %d", qs, code)
		}
		charged += resp.Data.Stats.Samples.TotalQueryableSamples
	}
	if charged != 40+2 {
		t.Errorf("engine counted %d samples, want 40 + 2", charged)
	}
	w, err := h.svc.Registry().Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	qt, _ := workspace.InstanceOf[*quota.Quota](w, quota.ComponentName)
	r := qt.Meter().Read()
	if r.QuerySamplesProcessed != charged || r.SamplesIngested != 82 {
		t.Errorf("meter: QSP %d, ingested %d; want %d, 82", r.QuerySamplesProcessed, r.SamplesIngested, charged)
	}
	if got, ok := metricValue(t, reg, "promspace_usage_query_samples_processed_total", id); !ok || int64(got) != charged {
		t.Errorf("QSP metric %v (%v), want %d", got, ok, charged)
	}

	// The time range: at the limit and over it, and lowered live.
	rng := func(d time.Duration) error {
		_, _, _, err := q.QueryRange(ctx, "m", v1.Range{Start: at.Add(-d), End: at, Step: time.Minute})
		return err
	}
	if err := rng(2 * time.Hour); err != nil {
		t.Fatalf("2h range under the default 32d: %v", err)
	}
	o.set(func(l *quota.Limits) { l.MaxQueryLength = time.Hour })
	h.reconfigure(id)
	if err := rng(time.Hour); err != nil {
		t.Errorf("at the limit: %v", err)
	}
	wantAPIError(t, rng(time.Hour+time.Second), v1.ErrBadData, "the query time range exceeds the limit (query length: 1h1s, limit: 1h)")

	// Samples per query, raised and lowered live: m[5m] holds 40.
	inst := func() error { _, _, _, err := q.Query(ctx, "m[5m]", at); return err }
	o.set(func(l *quota.Limits) { l.MaxSamplesPerQuery = 40 })
	h.reconfigure(id)
	if err := inst(); err != nil {
		t.Errorf("at the samples limit: %v", err)
	}
	o.set(func(l *quota.Limits) { l.MaxSamplesPerQuery = 39 })
	h.reconfigure(id)
	wantAPIError(t, inst(), v1.ErrExec, "query processing would load too many samples into memory in query execution")

	var view quota.View
	if code := getJSON(t, nil, h.srv.URL+"/workspaces/"+id+"/limits", &view); code != 200 {
		t.Fatalf("/limits: %d", code)
	}
	if l := view.Limits; *l.QueryTimeRange.Limit != 3600 || *l.SamplesPerQuery.Limit != 39 || view.Usage.SamplesIngested != 82 {
		t.Errorf("view limits %+v usage %+v", l, view.Usage)
	}
}

func wantAPIError(t *testing.T, err error, typ v1.ErrorType, msg string) {
	t.Helper()
	e, ok := errors.AsType[*v1.Error](err)
	if !ok || e.Type != typ || e.Msg != msg {
		t.Errorf("error %v, want %s %q", err, typ, msg)
	}
}

// metricValue returns the value of name's series of workspace id.
func metricValue(t *testing.T, g prometheus.Gatherer, name, id string) (float64, bool) {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatal(err)
	}
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if lp.GetName() == "workspace" && lp.GetValue() == id {
					if c := m.GetCounter(); c != nil {
						return c.GetValue(), true
					}
					return m.GetGauge().GetValue(), true
				}
			}
		}
	}
	return 0, false
}

// TestLimitsView: GET /workspaces/{id}/limits answers 200 with the view's
// JSON, and 404 for an unknown workspace; the usage metrics of a deleted
// workspace go.
func TestLimitsView(t *testing.T) {
	h, reg := startWith(t, promspace.Options{})
	id := h.createWorkspace("view")
	h.writeV1(id, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{series(time.Now().UnixMilli(), 1, "__name__", "up", "job", "a")}})

	var view map[string]any
	if code := getJSON(t, nil, h.srv.URL+"/workspaces/"+id+"/limits", &view); code != 200 {
		t.Fatalf("%d %v", code, view)
	}
	limits, _ := view["limits"].(map[string]any)
	series, _ := limits["activeSeries"].(map[string]any)
	if view["workspaceId"] != id || series["limit"] != float64(quota.DefaultMaxActiveSeries) || series["usage"] != float64(1) {
		t.Errorf("view %v", view)
	}
	var notFound struct {
		Message string `json:"message"`
	}
	if code := getJSON(t, nil, h.srv.URL+"/workspaces/ws-00000000-0000-0000-0000-000000000000/limits", &notFound); code != 404 ||
		!strings.HasPrefix(notFound.Message, "Workspace not found") {
		t.Errorf("unknown workspace: %d %+v", code, notFound)
	}

	for _, name := range []string{"promspace_usage_query_samples_processed_total", "promspace_usage_storage_bytes", "promspace_ingest_written_samples_total"} {
		if _, ok := metricValue(t, reg, name, id); !ok {
			t.Errorf("no %s of an open workspace", name)
		}
	}
	if _, err := h.amp.DeleteWorkspace(context.Background(), &amp.DeleteWorkspaceInput{WorkspaceId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	h.stop() // waits for the deletion
	for _, name := range []string{"promspace_usage_query_samples_processed_total", "promspace_usage_storage_bytes", "promspace_ingest_written_samples_total"} {
		if v, ok := metricValue(t, reg, name, id); ok {
			t.Errorf("%s = %v after the workspace was deleted", name, v)
		}
	}
}

// TestLimitsViewAccess: the view is authorized as DescribeWorkspace, and
// another account's workspace is as unknown as one that does not exist.
func TestLimitsViewAccess(t *testing.T) {
	s := startSecured(t)
	var out map[string]any
	if code := getJSON(t, sigv4Transport(t, "AKIDADMIN", "admin-secret"), s.srv.URL+"/workspaces/"+s.a+"/limits", &out); code != 200 || out["workspaceId"] != s.a {
		t.Errorf("owner: %d %v", code, out)
	}
	out = nil
	if code := getJSON(t, sigv4Transport(t, "AKIDMALLORY", "mallory-secret"), s.srv.URL+"/workspaces/"+s.a+"/limits", &out); code != 404 {
		t.Errorf("other account: %d %v", code, out)
	}
	out = nil
	if code := getJSON(t, sigv4Transport(t, "AKIDALICE", "alice-secret"), s.srv.URL+"/workspaces/"+s.b+"/limits", &out); code != 403 {
		t.Errorf("no DescribeWorkspace on the workspace: %d %v", code, out)
	}
}

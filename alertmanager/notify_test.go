package alertmanager

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/go-openapi/strfmt"
	amclient "github.com/prometheus/alertmanager/api/v2/client"
	"github.com/prometheus/alertmanager/api/v2/client/alert"
	"github.com/prometheus/alertmanager/api/v2/client/general"
	"github.com/prometheus/alertmanager/api/v2/client/silence"
	"github.com/prometheus/alertmanager/api/v2/models"
	promrules "github.com/prometheus/prometheus/rules"

	"github.com/promspace/promspace/alertmanager/snstest"
	"github.com/promspace/promspace/quota"
	"github.com/promspace/promspace/workspace"
)

// apiClient is Alertmanager's own API client for the workspace's
// Alertmanager served by srv.
func apiClient(t *testing.T, srv *httptest.Server, w *workspace.Workspace) *amclient.AlertmanagerAPI {
	u, err := url.Parse(srv.URL)
	if err != nil {
		t.Fatal(err)
	}
	return amclient.NewHTTPClientWithConfig(strfmt.Default, amclient.DefaultTransportConfig().
		WithHost(u.Host).WithBasePath("/workspaces/"+w.ID()+"/alertmanager/api/v2").WithSchemes([]string{"http"}))
}

func count(msgs []webhookMsg, alertname string) int {
	n := 0
	for _, m := range msgs {
		if m.CommonLabels["alertname"] == alertname {
			n++
		}
	}
	return n
}

func TestWebhookAndSNS(t *testing.T) {
	ctx := context.Background()
	sns := snstest.NewServer(t, "us-east-1", "AKIDSNS", "sns-secret")
	opts := Options{SNSEndpoint: sns.URL, SNSCredentials: &SNSCredentials{AccessKeyID: "AKIDSNS", SecretAccessKey: "sns-secret"}}
	_, _, in := openWorkspace(t, t.TempDir(), opts, quota.DefaultLimits())
	h := newHook(t)
	conf := webhookConfig(h.URL) + `  sns_configs:
  - topic_arn: arn:aws:sns:us-east-1:123456789012:alerts
    subject: '{{ .CommonLabels.alertname }} is {{ .Status }}'
    sigv4:
      region: us-east-1
`
	if _, err := in.Create(ctx, definition(conf, nil), ""); err != nil {
		t.Fatal(err)
	}
	in.Send(ctx, "up == 0", []*promrules.Alert{firing("Down", "job", "api")})
	waitFor(t, "the webhook", func() bool { return len(h.messages()) > 0 })
	m := h.messages()[0]
	if m.Receiver != "hook" || m.Status != "firing" || len(m.Alerts) != 1 || m.Alerts[0].Labels["job"] != "api" {
		t.Errorf("webhook message: %+v", m)
	}
	if g := m.Alerts[0].GeneratorURL; !strings.HasSuffix(g, "/graph?g0.expr=up+%3D%3D+0&g0.tab=1") || !strings.Contains(g, "/workspaces/") {
		t.Errorf("generator URL %q", g)
	}
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	msgs, err := sns.WaitMessages(wctx, 1)
	if err != nil {
		t.Fatalf("SNS: %v (rejected: %v)", err, sns.Rejected())
	}
	if msgs[0].TopicArn != "arn:aws:sns:us-east-1:123456789012:alerts" || msgs[0].Subject != "Down is firing" ||
		msgs[0].AccessKeyID != "AKIDSNS" || !strings.Contains(msgs[0].Message, "Down") {
		t.Errorf("SNS message: %+v", msgs[0])
	}
	if r := sns.Rejected(); len(r) > 0 {
		t.Errorf("SNS refused signatures: %v", r)
	}
}

// hookedWorkspace opens the workspace under dir with a definition whose
// receiver is a webhook, and serves its Alertmanager.
func hookedWorkspace(t *testing.T, dir string) (*workspace.Registry, *workspace.Workspace, *Instance, *hook, *httptest.Server) {
	t.Helper()
	r, w, in := openWorkspace(t, dir, Options{}, quota.DefaultLimits())
	h := newHook(t)
	if _, err := in.Create(context.Background(), definition(webhookConfig(h.URL), nil), ""); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(in)
	t.Cleanup(srv.Close)
	return r, w, in, h, srv
}

func TestSilences(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	r, w, in, h, srv := hookedWorkspace(t, dir)
	c := apiClient(t, srv, w)
	in.Send(ctx, "vector(1)", []*promrules.Alert{firing("Noisy")})
	waitFor(t, "a notification", func() bool { return count(h.messages(), "Noisy") > 0 })

	start, end := strfmt.DateTime(time.Now()), strfmt.DateTime(time.Now().Add(time.Hour))
	name, isEqual, isRegex := "alertname", true, false
	value, by, comment := "Noisy", "test", "quiet"
	ok, err := c.Silence.PostSilences(silence.NewPostSilencesParams().WithContext(ctx).WithSilence(&models.PostableSilence{
		Silence: models.Silence{
			Matchers: models.Matchers{{Name: &name, Value: &value, IsEqual: &isEqual, IsRegex: &isRegex}},
			StartsAt: &start, EndsAt: &end, CreatedBy: &by, Comment: &comment,
		},
	}))
	if err != nil {
		t.Fatal(err)
	}
	id := ok.Payload.SilenceID
	silenced := count(h.messages(), "Noisy")
	// Another group, notified on the same timers: once it has been
	// notified twice after the silence, the silenced one would have been
	// too.
	in.Send(ctx, "vector(1)", []*promrules.Alert{firing("Other")})
	waitFor(t, "the other group's repeats", func() bool { return count(h.messages(), "Other") >= 3 })
	if n := count(h.messages(), "Noisy"); n > silenced+1 { // one may have been under way
		t.Errorf("%d notifications of the silenced alert after the silence, before it %d", n, silenced)
	}
	as, err := c.Alert.GetAlerts(alert.NewGetAlertsParams().WithContext(ctx).WithFilter([]string{`alertname="Noisy"`}))
	if err != nil {
		t.Fatal(err)
	}
	if len(as.Payload) != 1 || *as.Payload[0].Status.State != "suppressed" || len(as.Payload[0].Status.SilencedBy) != 1 {
		t.Errorf("silenced alert: %+v", as.Payload)
	}

	// The silence survives a restart.
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	for _, f := range []string{"silences", "nflog"} {
		if _, err := os.Stat(filepath.Join(w.Dir(), stateDirName, f)); err != nil {
			t.Errorf("snapshot after close: %v", err)
		}
	}
	_, w, in = openWorkspace(t, dir, Options{}, quota.DefaultLimits())
	if d, err := in.Describe(); err != nil || d.Status != StatusActive || in.running.Load() == nil {
		t.Fatalf("definition after restart: %+v, %v", d, err)
	}
	srv2 := httptest.NewServer(in)
	defer srv2.Close()
	c = apiClient(t, srv2, w)
	got, err := c.Silence.GetSilence(silence.NewGetSilenceParams().WithContext(ctx).WithSilenceID(strfmt.UUID(id)))
	if err != nil {
		t.Fatalf("silence after restart: %v", err)
	}
	if *got.Payload.Status.State != "active" || *got.Payload.Comment != "quiet" {
		t.Errorf("silence after restart: %+v", got.Payload)
	}
	if _, err := c.Silence.DeleteSilence(silence.NewDeleteSilenceParams().WithContext(ctx).WithSilenceID(strfmt.UUID(id))); err != nil {
		t.Fatal(err)
	}
	st, err := c.General.GetStatus(general.NewGetStatusParams().WithContext(ctx))
	if err != nil || !strings.Contains(*st.Payload.Config.Original, "hook") {
		t.Errorf("status: %v", err)
	}
}

func TestGroupingAndInhibition(t *testing.T) {
	ctx := context.Background()
	_, w, in := openWorkspace(t, t.TempDir(), Options{}, quota.DefaultLimits())
	h := newHook(t)
	conf := webhookConfig(h.URL) + `inhibit_rules:
- source_matchers: [severity="critical"]
  target_matchers: [severity="warning"]
  equal: [cluster]
`
	if _, err := in.Create(ctx, definition(conf, nil), ""); err != nil {
		t.Fatal(err)
	}
	// The source first: an inhibitor learns of alerts as the dispatcher
	// does, so a target sent with its source may be notified before the
	// inhibitor has seen the source.
	in.Send(ctx, "x", []*promrules.Alert{firing("ClusterDown", "severity", "critical", "cluster", "c1")})
	waitFor(t, "the critical alert", func() bool { return count(h.messages(), "ClusterDown") > 0 })
	in.Send(ctx, "x", []*promrules.Alert{
		firing("Grouped", "instance", "a"), firing("Grouped", "instance", "b"),
		firing("NodeSlow", "severity", "warning", "cluster", "c1"),
	})
	waitFor(t, "the grouped and the critical alerts' repeats", func() bool {
		m := h.messages()
		return count(m, "Grouped") >= 2 && count(m, "ClusterDown") >= 3
	})
	keys, both := map[string]bool{}, false
	for _, m := range h.messages() {
		if m.GroupLabels["alertname"] == "Grouped" {
			keys[m.GroupKey] = true
			both = both || len(m.Alerts) == 2
		}
		if m.CommonLabels["alertname"] == "NodeSlow" {
			t.Errorf("an inhibited alert was notified: %+v", m)
		}
	}
	if len(keys) != 1 || !both {
		t.Errorf("grouped alerts notified in groups %v, both in one notification: %v", keys, both)
	}
	srv := httptest.NewServer(in)
	defer srv.Close()
	groups, err := apiClient(t, srv, w).Alertgroup.GetAlertGroups(nil)
	if err != nil || len(groups.Payload) != 3 {
		t.Errorf("alert groups: %v, %v", groups, err)
	}
}

func TestForwarding(t *testing.T) {
	ctx := context.Background()
	var (
		mtx  sync.Mutex
		got  []models.PostableAlert
		path string
	)
	ext := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var as []models.PostableAlert
		if err := json.NewDecoder(r.Body).Decode(&as); err != nil {
			t.Errorf("forwarded body: %v", err)
		}
		mtx.Lock()
		got, path = append(got, as...), r.URL.Path
		mtx.Unlock()
	}))
	defer ext.Close()
	u, _ := url.Parse(ext.URL + "/am")
	_, _, in := openWorkspace(t, t.TempDir(), Options{ForwardURLs: []*url.URL{u}}, quota.DefaultLimits())
	// Forwarded even without a definition.
	in.Send(ctx, "up == 0", []*promrules.Alert{firing("Down", "job", "api")})
	waitFor(t, "the forwarded alert", func() bool {
		mtx.Lock()
		defer mtx.Unlock()
		return len(got) > 0
	})
	mtx.Lock()
	defer mtx.Unlock()
	if path != "/am/api/v2/alerts" || got[0].Labels["alertname"] != "Down" || got[0].Labels["job"] != "api" ||
		!strings.Contains(string(got[0].GeneratorURL), "g0.expr=up") {
		t.Errorf("forwarded to %s: %+v", path, got[0])
	}
}

func TestAPIWithoutDefinition(t *testing.T) {
	_, w, in := openWorkspace(t, t.TempDir(), Options{}, quota.DefaultLimits())
	rec := httptest.NewRecorder()
	in.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/workspaces/"+w.ID()+"/alertmanager/api/v2/status", nil))
	if rec.Code != http.StatusNotFound || rec.Header().Get("x-amzn-ErrorType") != "ResourceNotFoundException" {
		t.Errorf("status without a definition: %d %s", rec.Code, rec.Body)
	}
}

func TestAPIRequests(t *testing.T) {
	ctx := context.Background()
	_, w, in := openWorkspace(t, t.TempDir(), Options{}, quota.DefaultLimits())
	h := newHook(t)
	if _, err := in.Create(ctx, definition(webhookConfig(h.URL), nil), ""); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(in)
	defer srv.Close()
	c := apiClient(t, srv, w)
	// CreateAlertManagerAlerts: alerts posted to the API are notified.
	if _, err := c.Alert.PostAlerts(alert.NewPostAlertsParams().WithContext(ctx).WithAlerts(models.PostableAlerts{{
		Alert: models.Alert{Labels: models.LabelSet{"alertname": "Posted"}},
	}})); err != nil {
		t.Fatal(err)
	}
	waitFor(t, "the posted alert's notification", func() bool { return count(h.messages(), "Posted") > 0 })
	base := srv.URL + "/workspaces/" + w.ID() + "/alertmanager/api/v2/"
	for _, tc := range []struct {
		name, body string
	}{
		{"not JSON", "{"},
		{"no labels", `[{"labels":{}}]`},
		{"over the payload quota", `[{"labels":{"alertname":"` + strings.Repeat("x", maxAPIBody) + `"}}]`},
	} {
		resp, err := http.Post(base+"alerts", "application/json", strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode/100 != 4 {
			t.Errorf("%s: %d, want a 4xx", tc.name, resp.StatusCode)
		}
	}
}

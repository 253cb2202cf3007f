package promspacetest_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/amp"
	"github.com/aws/aws-sdk-go-v2/service/amp/types"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"

	"github.com/promspace/promspace"
	"github.com/promspace/promspace/promspacetest"
	"github.com/promspace/promspace/quota"
	"github.com/promspace/promspace/rules"
	"github.com/promspace/promspace/workspace"
)

const apiRules = `groups:
- name: api
  rules:
  - record: job:errors:rate2m
    expr: sum by (job) (rate(errors_total[2m]))
  - alert: HighErrorRate
    expr: job:errors:rate2m > 0.5
    for: 2m
    labels:
      severity: page
    annotations:
      summary: "{{ $labels.job }} fails {{ $value }} times a second"
`

func ampClient(url string) *amp.Client {
	return amp.New(amp.Options{
		BaseEndpoint: aws.String(url),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	})
}

// pushErrors writes errors_total{job="api"} rising by 60 a minute from
// base to base+minutes.
func pushErrors(t *testing.T, srv *promspacetest.Server, base time.Time, minutes int) {
	t.Helper()
	ts := prompb.TimeSeries{Labels: prompb.FromLabels(labels.FromStrings("__name__", "errors_total", "job", "api"), nil)}
	for i := 0; i <= minutes; i++ {
		ts.Samples = append(ts.Samples, prompb.Sample{Timestamp: base.Add(time.Duration(i) * time.Minute).UnixMilli(), Value: float64(60 * i)})
	}
	srv.Push(t, []prompb.TimeSeries{ts})
}

func wantValidation(t *testing.T, err error, contains string) {
	t.Helper()
	var ve *types.ValidationException
	if !errors.As(err, &ve) || !strings.Contains(aws.ToString(ve.Message), contains) {
		t.Errorf("got %v, want a ValidationException saying %q", err, contains)
	}
}

func TestRuleGroupsNamespacesEndToEnd(t *testing.T) {
	srv := promspacetest.NewServer(t, promspacetest.WithOptions(func(o *promspace.Options) {
		l := quota.DefaultLimits()
		l.MaxRules = 3
		o.Quota.Limits = &l
	}))
	c := ampClient(srv.URL)
	ctx := context.Background()
	id := aws.String(srv.WorkspaceID)
	base := time.Now().Add(-time.Hour).Truncate(time.Minute)
	pushErrors(t, srv, base, 10)

	created, err := c.CreateRuleGroupsNamespace(ctx, &amp.CreateRuleGroupsNamespaceInput{
		WorkspaceId: id, Name: aws.String("api"), Data: []byte(apiRules), Tags: map[string]string{"team": "obs"},
	})
	if err != nil {
		t.Fatal(err)
	}
	wantARN := "arn:aws:aps:us-east-1:000000000000:rulegroupsnamespace/" + srv.WorkspaceID + "/api"
	if aws.ToString(created.Arn) != wantARN || created.Status.StatusCode != types.RuleGroupsNamespaceStatusCodeCreating || created.Tags["team"] != "obs" {
		t.Errorf("created %s %s %v", aws.ToString(created.Arn), created.Status.StatusCode, created.Tags)
	}
	desc, err := c.DescribeRuleGroupsNamespace(ctx, &amp.DescribeRuleGroupsNamespaceInput{WorkspaceId: id, Name: aws.String("api")})
	if err != nil {
		t.Fatal(err)
	}
	if ns := desc.RuleGroupsNamespace; string(ns.Data) != apiRules || ns.Status.StatusCode != types.RuleGroupsNamespaceStatusCodeActive ||
		aws.ToString(ns.Arn) != wantARN || ns.CreatedAt == nil || ns.Tags["team"] != "obs" {
		t.Errorf("described %+v", ns)
	}

	// Recording rule, then the alert: pending at +3m, firing 2m later.
	for _, m := range []int{3, 4, 5} {
		srv.EvalRules(t, base.Add(time.Duration(m)*time.Minute))
	}
	at := base.Add(5 * time.Minute)
	if v := srv.Query(t, `job:errors:rate2m`, at).(model.Vector); len(v) != 1 || v[0].Value != 1 || v[0].Metric["job"] != "api" {
		t.Errorf("job:errors:rate2m = %v, want {job=\"api\"} 1", v)
	}
	if v := srv.Query(t, `ALERTS{alertname="HighErrorRate", alertstate="firing"}`, at).(model.Vector); len(v) != 1 {
		t.Errorf("ALERTS = %v, want one firing", v)
	}
	if v := srv.Query(t, `ALERTS_FOR_STATE`, at).(model.Vector); len(v) != 1 || int64(v[0].Value) != base.Add(3*time.Minute).Unix() {
		t.Errorf("ALERTS_FOR_STATE = %v, want the time the alert became active", v)
	}
	firing := promspacetest.Alert{
		Labels:      map[string]string{"alertname": "HighErrorRate", "job": "api", "severity": "page"},
		Annotations: map[string]string{"summary": "api fails 1 times a second"},
	}
	srv.AssertFiring(t, firing)

	// Prometheus' API, filters included.
	alerts, err := srv.API().Alerts(ctx)
	if err != nil || len(alerts.Alerts) != 1 || alerts.Alerts[0].State != "firing" {
		t.Errorf("/api/v1/alerts = %+v, %v", alerts, err)
	}
	rs, err := srv.API().Rules(ctx, nil)
	if err != nil || len(rs.Groups) != 1 || rs.Groups[0].File != "api" || len(rs.Groups[0].Rules) != 2 {
		t.Errorf("/api/v1/rules = %+v, %v", rs, err)
	}
	if body := get(t, srv.QueryURL+"/api/v1/rules?type=record"); !strings.Contains(body, `"job:errors:rate2m"`) || strings.Contains(body, "HighErrorRate") {
		t.Errorf("/api/v1/rules?type=record = %s", body)
	}

	// Refused files change nothing.
	put := func(data string) error {
		_, err := c.PutRuleGroupsNamespace(ctx, &amp.PutRuleGroupsNamespaceInput{WorkspaceId: id, Name: aws.String("api"), Data: []byte(data)})
		return err
	}
	wantValidation(t, put("groups: [\n"), "invalid rules file")
	wantValidation(t, put("groups:\n- name: g\n  rules:\n  - record: r\n    expr: sum(\n"), "parse error")
	wantValidation(t, put(apiRules+"  - record: a\n    expr: vector(1)\n  - record: b\n    expr: vector(2)\n"), "over its limit of 3")
	if desc, err := c.DescribeRuleGroupsNamespace(ctx, &amp.DescribeRuleGroupsNamespaceInput{WorkspaceId: id, Name: aws.String("api")}); err != nil ||
		string(desc.RuleGroupsNamespace.Data) != apiRules {
		t.Errorf("after refused puts: %v, %v", desc, err)
	}
	srv.EvalRules(t, base.Add(6*time.Minute))
	srv.AssertFiring(t, firing)

	// Put, list with a prefix and pages.
	updated, err := c.PutRuleGroupsNamespace(ctx, &amp.PutRuleGroupsNamespaceInput{WorkspaceId: id, Name: aws.String("api"), Data: []byte(apiRules)})
	if err != nil || updated.Status.StatusCode != types.RuleGroupsNamespaceStatusCodeUpdating {
		t.Fatalf("put: %+v, %v", updated, err)
	}
	if _, err := c.CreateRuleGroupsNamespace(ctx, &amp.CreateRuleGroupsNamespaceInput{WorkspaceId: id, Name: aws.String("api-extra"),
		Data: []byte("groups:\n- name: x\n  rules:\n  - record: one\n    expr: vector(1)\n")}); err != nil {
		t.Fatal(err)
	}
	var names []string
	p := amp.NewListRuleGroupsNamespacesPaginator(c, &amp.ListRuleGroupsNamespacesInput{WorkspaceId: id, Name: aws.String("api"), MaxResults: aws.Int32(1)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		for _, ns := range page.RuleGroupsNamespaces {
			names = append(names, aws.ToString(ns.Name))
		}
	}
	if strings.Join(names, ",") != "api,api-extra" {
		t.Errorf("listed %v", names)
	}

	// Deleting stops the evaluation.
	if _, err := c.DeleteRuleGroupsNamespace(ctx, &amp.DeleteRuleGroupsNamespaceInput{WorkspaceId: id, Name: aws.String("api")}); err != nil {
		t.Fatal(err)
	}
	_, err = c.DescribeRuleGroupsNamespace(ctx, &amp.DescribeRuleGroupsNamespaceInput{WorkspaceId: id, Name: aws.String("api")})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Errorf("describe after delete: %v, want ResourceNotFoundException", err)
	}
	later := base.Add(20 * time.Minute)
	srv.EvalRules(t, later)
	if v := srv.Query(t, `job:errors:rate2m`, later).(model.Vector); len(v) != 0 {
		t.Errorf("job:errors:rate2m after delete = %v", v)
	}
	srv.AssertFiring(t)
	_, err = c.DescribeRuleGroupsNamespace(ctx, &amp.DescribeRuleGroupsNamespaceInput{WorkspaceId: aws.String("ws-unknown"), Name: aws.String("api")})
	if !errors.As(err, &nf) {
		t.Errorf("describe in an unknown workspace: %v, want ResourceNotFoundException", err)
	}
}

func get(t *testing.T, url string) string {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return string(b)
}

// TestRuleGroupsNamespacesSurviveRestart uploads a namespace with the SDK,
// restarts the service on the same data directory, and finds it described
// and evaluated.
func TestRuleGroupsNamespacesSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	start := func() (*promspace.Service, *amp.Client, string, func()) {
		svc, err := promspace.New(ctx, promspace.Options{DataDir: dir})
		if err != nil {
			t.Fatal(err)
		}
		w, err := svc.EnsureWorkspace(ctx, "default")
		if err != nil {
			t.Fatal(err)
		}
		hs := httptest.NewServer(svc)
		return svc, ampClient(hs.URL), w.ID(), func() {
			hs.Close()
			if err := svc.Close(); err != nil {
				t.Error(err)
			}
		}
	}
	_, c, id, stop := start()
	if _, err := c.CreateRuleGroupsNamespace(ctx, &amp.CreateRuleGroupsNamespaceInput{
		WorkspaceId: &id, Name: aws.String("api"), Data: []byte(apiRules),
	}); err != nil {
		t.Fatal(err)
	}
	stop()

	svc, c, id2, stop := start()
	defer stop()
	if id2 != id {
		t.Fatalf("workspace %s after restart, want %s", id2, id)
	}
	desc, err := c.DescribeRuleGroupsNamespace(ctx, &amp.DescribeRuleGroupsNamespaceInput{WorkspaceId: &id, Name: aws.String("api")})
	if err != nil || string(desc.RuleGroupsNamespace.Data) != apiRules {
		t.Fatalf("after restart: %v, %v", desc, err)
	}
	w, err := svc.Registry().Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	m, ok := workspace.InstanceOf[*rules.RuleManager](w, rules.ComponentName)
	if !ok || len(m.RuleGroups()) != 1 || len(m.AlertingRules()) != 1 {
		t.Errorf("rules evaluated after restart: %v", m.RuleGroups())
	}
}

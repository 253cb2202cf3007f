package promspace_test

import (
	"context"
	"encoding/json"
	"errors"
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
	"github.com/aws/aws-sdk-go-v2/service/amp/types"
	"github.com/go-openapi/strfmt"
	amclient "github.com/prometheus/alertmanager/api/v2/client"
	"github.com/prometheus/alertmanager/api/v2/client/silence"
	"github.com/prometheus/alertmanager/api/v2/models"
	"github.com/prometheus/alertmanager/notify/webhook"
	"github.com/prometheus/prometheus/prompb"

	"github.com/promspace/promspace"
	"github.com/promspace/promspace/alertmanager"
	"github.com/promspace/promspace/alertmanager/snstest"
	"github.com/promspace/promspace/rules"
	"github.com/promspace/promspace/workspace"
)

const alertRules = `groups:
- name: oven
  rules:
  - record: job:temperature:max
    expr: max by (job) (temperature)
  - alert: TooHot
    expr: job:temperature:max > 30
    labels:
      severity: page
    annotations:
      summary: '{{ $labels.job }} is at {{ $value }}'
  - alert: Warm
    expr: job:temperature:max > 20
`

const alertmanagerDefinition = `alertmanager_config: |
  route:
    receiver: team
    group_by: [alertname]
    group_wait: 10ms
    group_interval: 50ms
    repeat_interval: 100ms
  receivers:
  - name: team
    webhook_configs:
    - url: WEBHOOK
    sns_configs:
    - topic_arn: arn:aws:sns:us-east-1:123456789012:oncall
      subject: '{{ .CommonLabels.alertname }}'
      sigv4:
        region: us-east-1
`

// webhookReceiver is a loopback webhook counting Alertmanager's
// notifications by alertname.
type webhookReceiver struct {
	mtx sync.Mutex
	by  map[string]int
	msg []webhook.Message
}

func (wr *webhookReceiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	var m webhook.Message
	if err := json.NewDecoder(r.Body).Decode(&m); err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	wr.mtx.Lock()
	defer wr.mtx.Unlock()
	wr.by[m.CommonLabels["alertname"]]++
	wr.msg = append(wr.msg, m)
}

func (wr *webhookReceiver) count(alertname string) int {
	wr.mtx.Lock()
	defer wr.mtx.Unlock()
	return wr.by[alertname]
}

func poll(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.Now().Add(10 * time.Second)
	for !cond() {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
		time.Sleep(5 * time.Millisecond)
	}
}

// TestAlerting is the alerting path end to end with real clients: the AWS
// SDK's amp client uploads rules and an alert manager definition,
// remote-written data makes the rules record and fire, the alert reaches
// a webhook and a loopback SNS that checks its signature, a silence made
// with Alertmanager's API client stops its notifications, and deleting the
// namespace stops the evaluation.
func TestAlerting(t *testing.T) {
	ctx := context.Background()
	sns := snstest.NewServer(t, "us-east-1", "AKIDSNS", "sns-secret")
	hook := &webhookReceiver{by: map[string]int{}}
	hookSrv := httptest.NewServer(hook)
	defer hookSrv.Close()

	dir := t.TempDir()
	svc, err := promspace.New(ctx, promspace.Options{
		DataDir: dir,
		Rules:   rules.Options{ManualEvaluation: true},
		Alertmanager: alertmanager.Options{
			SNSEndpoint:    sns.URL,
			SNSCredentials: &alertmanager.SNSCredentials{AccessKeyID: "AKIDSNS", SecretAccessKey: "sns-secret"},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc)
	h := &harness{t: t, dir: dir, svc: svc, srv: srv, amp: amp.New(amp.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	})}
	t.Cleanup(h.stop)
	id := h.createWorkspace("alerts")

	def := strings.Replace(alertmanagerDefinition, "WEBHOOK", hookSrv.URL, 1)
	if _, err := h.amp.CreateAlertManagerDefinition(ctx, &amp.CreateAlertManagerDefinitionInput{
		WorkspaceId: aws.String(id), Data: []byte(def),
	}); err != nil {
		t.Fatal(err)
	}
	// A receiver AMP does not offer is refused, and changes nothing.
	var ve *types.ValidationException
	if _, err := h.amp.PutAlertManagerDefinition(ctx, &amp.PutAlertManagerDefinitionInput{
		WorkspaceId: aws.String(id),
		Data:        []byte(strings.Replace(def, "webhook_configs:\n    - url: "+hookSrv.URL, "pagerduty_configs:\n    - routing_key: x", 1)),
	}); !errors.As(err, &ve) || !strings.Contains(ve.ErrorMessage(), "pagerduty_configs") {
		t.Errorf("a pagerduty receiver: %v", err)
	}
	if _, err := h.amp.CreateRuleGroupsNamespace(ctx, &amp.CreateRuleGroupsNamespaceInput{
		WorkspaceId: aws.String(id), Name: aws.String("oven"), Data: []byte(alertRules),
	}); err != nil {
		t.Fatal(err)
	}

	t0 := time.Now().Truncate(time.Second)
	h.writeV1(id, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		series(t0.UnixMilli(), 42, "__name__", "temperature", "job", "oven", "instance", "a"),
	}})
	w, err := svc.Registry().Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	rm, _ := workspace.InstanceOf[*rules.RuleManager](w, rules.ComponentName)
	rm.EvalAt(ctx, t0)

	if v := instant(t, h.queryAPI(id), "job:temperature:max", t0); len(v) != 1 || v[0].Value != 42 {
		t.Fatalf("recorded series: %v", v)
	}
	poll(t, "the webhook", func() bool { return hook.count("TooHot") > 0 && hook.count("Warm") > 0 })
	hook.mtx.Lock()
	for _, m := range hook.msg {
		if a := m.Alerts[0]; a.Labels["alertname"] == "TooHot" &&
			(a.Labels["severity"] != "page" || a.Labels["job"] != "oven" || a.Annotations["summary"] != "oven is at 42") {
			t.Errorf("webhook alert: %+v", a)
		}
	}
	hook.mtx.Unlock()
	wctx, cancel := context.WithTimeout(ctx, 10*time.Second)
	defer cancel()
	msgs, err := sns.WaitMessages(wctx, 2)
	if err != nil {
		t.Fatalf("SNS: %v, rejected %v", err, sns.Rejected())
	}
	subjects := map[string]bool{}
	for _, m := range msgs {
		subjects[m.Subject] = m.TopicArn == "arn:aws:sns:us-east-1:123456789012:oncall" && m.AccessKeyID == "AKIDSNS"
	}
	if !subjects["TooHot"] || !subjects["Warm"] || len(sns.Rejected()) > 0 {
		t.Errorf("SNS messages %+v, rejected %v", msgs, sns.Rejected())
	}

	// A silence made with Alertmanager's own client stops TooHot's
	// notifications; Warm's go on, on the same timers.
	u, _ := url.Parse(srv.URL)
	am := amclient.NewHTTPClientWithConfig(strfmt.Default, amclient.DefaultTransportConfig().
		WithHost(u.Host).WithBasePath("/workspaces/"+id+"/alertmanager/api/v2").WithSchemes([]string{"http"}))
	name, value, isEqual, isRegex, by, comment := "alertname", "TooHot", true, false, "oncall", "known"
	start, end := strfmt.DateTime(time.Now()), strfmt.DateTime(time.Now().Add(time.Hour))
	if _, err := am.Silence.PostSilences(silence.NewPostSilencesParams().WithContext(ctx).WithSilence(&models.PostableSilence{
		Silence: models.Silence{
			Matchers: models.Matchers{{Name: &name, Value: &value, IsEqual: &isEqual, IsRegex: &isRegex}},
			StartsAt: &start, EndsAt: &end, CreatedBy: &by, Comment: &comment,
		},
	})); err != nil {
		t.Fatal(err)
	}
	silenced, warm := hook.count("TooHot"), hook.count("Warm")
	poll(t, "Warm's repeats", func() bool { return hook.count("Warm") >= warm+3 })
	if n := hook.count("TooHot"); n > silenced+1 { // one may have been under way
		t.Errorf("TooHot notified %d times after its silence, %d before", n-silenced, silenced)
	}

	// Deleting the namespace stops the evaluation: no sample is recorded
	// after it.
	if _, err := h.amp.DeleteRuleGroupsNamespace(ctx, &amp.DeleteRuleGroupsNamespaceInput{
		WorkspaceId: aws.String(id), Name: aws.String("oven"),
	}); err != nil {
		t.Fatal(err)
	}
	h.writeV1(id, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		series(t0.Add(time.Minute).UnixMilli(), 50, "__name__", "temperature", "job", "oven", "instance", "a"),
	}})
	rm.EvalAt(ctx, t0.Add(time.Minute))
	if v := instant(t, h.queryAPI(id), "count_over_time(job:temperature:max[5m])", t0.Add(2*time.Minute)); len(v) != 1 || v[0].Value != 1 {
		t.Errorf("recorded samples after the namespace's deletion: %v", v)
	}
}

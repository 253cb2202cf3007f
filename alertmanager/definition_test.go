package alertmanager

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/amp"
	"github.com/aws/aws-sdk-go-v2/service/amp/types"
	"github.com/prometheus/client_golang/prometheus"

	"github.com/promspace/promspace/quota"
)

const snsConfig = `route:
  receiver: sns
receivers:
- name: sns
  sns_configs:
  - topic_arn: arn:aws:sns:us-east-1:123456789012:alerts
    sigv4:
      region: us-east-1
`

// TestDefinitionOperations runs AMP's definition operations with the AWS
// SDK's amp client against the instance's handler.
func TestDefinitionOperations(t *testing.T) {
	ctx := context.Background()
	_, w, in := openWorkspace(t, t.TempDir(), Options{}, quota.DefaultLimits())
	srv := httptest.NewServer(in)
	defer srv.Close()
	c := amp.New(amp.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "")})
	id := aws.String(w.ID())

	_, err := c.DescribeAlertManagerDefinition(ctx, &amp.DescribeAlertManagerDefinitionInput{WorkspaceId: id})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) {
		t.Fatalf("describe before create: %v", err)
	}
	if _, err := c.PutAlertManagerDefinition(ctx, &amp.PutAlertManagerDefinitionInput{WorkspaceId: id, Data: definition(snsConfig, nil)}); !errors.As(err, &nf) {
		t.Errorf("put before create: %v", err)
	}
	data := definition(snsConfig, map[string]string{"default_template": `{{ define "sns.default.message" }}{{ .CommonLabels.alertname }}{{ end }}`})
	out, err := c.CreateAlertManagerDefinition(ctx, &amp.CreateAlertManagerDefinitionInput{WorkspaceId: id, Data: data, ClientToken: aws.String("tok")})
	if err != nil {
		t.Fatal(err)
	}
	if out.Status.StatusCode != types.AlertManagerDefinitionStatusCodeCreating {
		t.Errorf("create answered %s", out.Status.StatusCode)
	}
	if _, err := c.CreateAlertManagerDefinition(ctx, &amp.CreateAlertManagerDefinitionInput{WorkspaceId: id, Data: data, ClientToken: aws.String("tok")}); err != nil {
		t.Errorf("retry with the same token: %v", err)
	}
	var conflict *types.ConflictException
	if _, err := c.CreateAlertManagerDefinition(ctx, &amp.CreateAlertManagerDefinitionInput{WorkspaceId: id, Data: data}); !errors.As(err, &conflict) {
		t.Errorf("second create: %v", err)
	}
	d, err := c.DescribeAlertManagerDefinition(ctx, &amp.DescribeAlertManagerDefinitionInput{WorkspaceId: id})
	if err != nil {
		t.Fatal(err)
	}
	if def := d.AlertManagerDefinition; string(def.Data) != string(data) || def.Status.StatusCode != types.AlertManagerDefinitionStatusCodeActive || def.CreatedAt == nil || def.ModifiedAt == nil {
		t.Errorf("describe: %+v", def)
	}
	put, err := c.PutAlertManagerDefinition(ctx, &amp.PutAlertManagerDefinitionInput{WorkspaceId: id, Data: definition(snsConfig, nil)})
	if err != nil || put.Status.StatusCode != types.AlertManagerDefinitionStatusCodeUpdating {
		t.Fatalf("put: %+v, %v", put, err)
	}
	if _, err := c.DeleteAlertManagerDefinition(ctx, &amp.DeleteAlertManagerDefinitionInput{WorkspaceId: id}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.DescribeAlertManagerDefinition(ctx, &amp.DescribeAlertManagerDefinitionInput{WorkspaceId: id}); !errors.As(err, &nf) {
		t.Errorf("describe after delete: %v", err)
	}
	if _, err := c.DeleteAlertManagerDefinition(ctx, &amp.DeleteAlertManagerDefinitionInput{WorkspaceId: id}); !errors.As(err, &nf) {
		t.Errorf("second delete: %v", err)
	}
	if in.running.Load() != nil {
		t.Error("a deleted definition still runs")
	}
}

// TestDefinitionRefusals checks that each bad definition gets a
// ValidationException and leaves the running one as it was.
func TestDefinitionRefusals(t *testing.T) {
	ctx := context.Background()
	limits := quota.DefaultLimits()
	limits.MaxAlertManagerDefinitionBytes = 4096
	limits.MaxAlertManagerTemplates = 1
	_, w, in := openWorkspace(t, t.TempDir(), Options{}, limits)
	good := definition(snsConfig, nil)
	if _, err := in.Create(ctx, good, ""); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(in)
	defer srv.Close()
	c := amp.New(amp.Options{Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKID", "secret", "")})
	running := in.running.Load()
	for _, tc := range []struct {
		name, contains string
		data           []byte
	}{
		{"broken YAML", "invalid alert manager definition", []byte("alertmanager_config: [\n")},
		{"unknown top-level key", "field bogus not found", []byte("bogus: 1\nalertmanager_config: |\n  route: {receiver: x}\n")},
		{"no config", "alertmanager_config is required", []byte("template_files: {}\n")},
		{"alertmanager's parser", "undefined receiver", definition("route:\n  receiver: missing\nreceivers:\n- name: x\n", nil)},
		{"unknown receiver type", "email_configs is not a supported receiver type", definition(`route:
  receiver: mail
receivers:
- name: mail
  email_configs:
  - to: a@example.com
    from: b@example.com
    smarthost: localhost:25
`, nil)},
		{"sns api_url", "api_url is not allowed", definition(strings.Replace(snsConfig, "    sigv4:", "    api_url: http://x\n    sigv4:", 1), nil)},
		{"broken template", "invalid template_files", definition(snsConfig, map[string]string{"t": "{{ define \"x\" }}"})},
		{"too many templates", "over the limit of 1", definition(snsConfig, map[string]string{"a": "", "b": ""})},
		{"over the size limit", "over the limit of 4096 bytes", definition(snsConfig+"# "+strings.Repeat("x", 4096)+"\n", nil)},
		{"far over the size limit", "over the limit of 4096 bytes", definition(snsConfig+"# "+strings.Repeat("x", 64<<10)+"\n", nil)},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := c.PutAlertManagerDefinition(ctx, &amp.PutAlertManagerDefinitionInput{WorkspaceId: aws.String(w.ID()), Data: tc.data})
			var ve *types.ValidationException
			if !errors.As(err, &ve) || !strings.Contains(ve.ErrorMessage(), tc.contains) {
				t.Fatalf("put: %v, want a ValidationException containing %q", err, tc.contains)
			}
			if d, _ := in.Describe(); string(d.Data) != string(good) || d.Status != StatusActive {
				t.Errorf("definition changed: %s %q", d.Status, d.Data)
			}
			if in.running.Load() != running {
				t.Error("the running definition was replaced")
			}
		})
	}
}

func TestAllowAllReceivers(t *testing.T) {
	_, _, in := openWorkspace(t, t.TempDir(), Options{AllowAllReceivers: true}, quota.DefaultLimits())
	conf := `route:
  receiver: slack
receivers:
- name: slack
  slack_configs:
  - api_url: http://127.0.0.1:1/
    channel: '#alerts'
`
	if _, err := in.Create(context.Background(), definition(conf, nil), ""); err != nil {
		t.Fatal(err)
	}
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	r, w, in := openWorkspace(t, t.TempDir(), Options{Registerer: reg}, quota.DefaultLimits())
	if _, err := in.Create(context.Background(), definition(snsConfig, nil), ""); err != nil {
		t.Fatal(err)
	}
	labelled := func() int {
		mfs, err := reg.Gather()
		if err != nil {
			t.Fatal(err)
		}
		n := 0
		for _, mf := range mfs {
			for _, m := range mf.GetMetric() {
				for _, l := range m.GetLabel() {
					if l.GetName() == "workspace" && l.GetValue() == w.ID() {
						n++
					}
				}
			}
		}
		return n
	}
	if labelled() == 0 {
		t.Error("no metric of the workspace's Alertmanager in the host's registry")
	}
	if mfs, err := in.Gatherer().Gather(); err != nil || len(mfs) == 0 {
		t.Errorf("the instance's own metrics: %d, %v", len(mfs), err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if n := labelled(); n != 0 {
		t.Errorf("%d metrics of a closed workspace left in the host's registry", n)
	}
}

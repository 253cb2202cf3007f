package promspace_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/amp"
)

// TestAlertManagerErrorsVended: a notification that its receiver refuses
// is vended to the workspace's logging configuration as an alertmanager
// record.
func TestAlertManagerErrorsVended(t *testing.T) {
	dir := t.TempDir()
	h := startLogging(t, dir)
	ctx := context.Background()
	refusing := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		http.Error(w, "no", http.StatusBadRequest)
	}))
	t.Cleanup(refusing.Close)
	created, err := h.amp.CreateWorkspace(ctx, &amp.CreateWorkspaceInput{})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(created.WorkspaceId)
	if err := amp.NewWorkspaceActiveWaiter(h.amp, func(o *amp.WorkspaceActiveWaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 50*time.Millisecond
	}).Wait(ctx, &amp.DescribeWorkspaceInput{WorkspaceId: &id}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := h.amp.CreateLoggingConfiguration(ctx, &amp.CreateLoggingConfigurationInput{WorkspaceId: &id, LogGroupArn: aws.String(logGroupA)}); err != nil {
		t.Fatal(err)
	}
	def := `alertmanager_config: |
  route:
    receiver: team
    group_wait: 10ms
    group_interval: 50ms
  receivers:
  - name: team
    webhook_configs:
    - url: ` + refusing.URL + "\n"
	if _, err := h.amp.CreateAlertManagerDefinition(ctx, &amp.CreateAlertManagerDefinitionInput{WorkspaceId: &id, Data: []byte(def)}); err != nil {
		t.Fatal(err)
	}
	resp, err := http.Post(h.srv.URL+"/workspaces/"+id+"/alertmanager/api/v2/alerts", "application/json",
		strings.NewReader(`[{"labels":{"alertname":"Refused"}}]`))
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("posting an alert: %d", resp.StatusCode)
	}
	deadline := time.Now().Add(10 * time.Second)
	for {
		for _, r := range readRecords(t, dir, logGroupA) {
			log, _ := r.Message["log"].(string)
			if r.Component == "alertmanager" && r.WorkspaceID == id && r.Message["level"] == "ERROR" && strings.Contains(log, "Notify") {
				t.Logf("vended: %s", log)
				return
			}
		}
		if time.Now().After(deadline) {
			t.Fatalf("no alertmanager record; records: %+v", readRecords(t, dir, logGroupA))
		}
		time.Sleep(10 * time.Millisecond)
	}
}

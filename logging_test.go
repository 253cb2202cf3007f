package promspace_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/amp"
	"github.com/aws/aws-sdk-go-v2/service/amp/types"

	"github.com/promspace/promspace"
	"github.com/promspace/promspace/logging"
	"github.com/promspace/promspace/rules"
	"github.com/promspace/promspace/workspace"
)

// A rule whose evaluation fails: group_left needs one series per match
// group on the right, which has two.
const failingRules = `groups:
  - name: failing
    rules:
      - record: joined
        expr: vector(1) * on() group_left() (label_replace(vector(1), "y", "1", "", "") or label_replace(vector(2), "y", "2", "", ""))
`

const (
	logGroupA = "arn:aws:logs:us-east-1:111122223333:log-group:/aws/vendedlogs/prometheus/team-a:*"
	logGroupB = "arn:aws:logs:us-east-1:111122223333:log-group:/aws/vendedlogs/prometheus/team_b:*"
)

type loggingHarness struct {
	svc *promspace.Service
	srv *httptest.Server
	amp *amp.Client
}

func startLogging(t *testing.T, dir string) *loggingHarness {
	t.Helper()
	svc, err := promspace.New(context.Background(), promspace.Options{DataDir: dir, Rules: rules.Options{ManualEvaluation: true}})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc)
	t.Cleanup(func() {
		srv.Close()
		svc.Close()
	})
	return &loggingHarness{svc: svc, srv: srv, amp: amp.New(amp.Options{
		Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
		Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	})}
}

// evalRules evaluates the workspace's rules once, now.
func (h *loggingHarness) evalRules(t *testing.T, id string) {
	t.Helper()
	w, err := h.svc.Registry().Get(context.Background(), id)
	if err != nil {
		t.Fatal(err)
	}
	m, ok := workspace.InstanceOf[*rules.RuleManager](w, rules.ComponentName)
	if !ok {
		t.Fatal("no rules manager")
	}
	m.EvalAt(context.Background(), time.Now())
}

// readRecords returns the records of a log group's file, none if there is
// no file.
func readRecords(t *testing.T, dir, logGroupARN string) []logging.Record {
	t.Helper()
	f, err := os.Open(filepath.Join(dir, logging.LogsDirName, logging.FileName(logGroupARN)))
	if errors.Is(err, os.ErrNotExist) {
		return nil
	}
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var recs []logging.Record
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var r logging.Record
		if err := json.Unmarshal(sc.Bytes(), &r); err != nil {
			t.Fatalf("line %q: %v", sc.Text(), err)
		}
		recs = append(recs, r)
	}
	return recs
}

// TestLoggingConfiguration runs every logging configuration operation with
// the AWS SDK's amp client, and checks that a rule that fails to evaluate
// is written to the log group's file as AMP vends it, only while the
// configuration exists.
func TestLoggingConfiguration(t *testing.T) {
	dir := t.TempDir()
	h := startLogging(t, dir)
	ctx := context.Background()
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

	var nf *types.ResourceNotFoundException
	if _, err := h.amp.DescribeLoggingConfiguration(ctx, &amp.DescribeLoggingConfigurationInput{WorkspaceId: &id}); !errors.As(err, &nf) {
		t.Fatalf("describe before create: %v", err)
	}
	if _, err := h.amp.UpdateLoggingConfiguration(ctx, &amp.UpdateLoggingConfigurationInput{WorkspaceId: &id, LogGroupArn: aws.String(logGroupA)}); !errors.As(err, &nf) {
		t.Fatalf("update before create: %v", err)
	}
	if _, err := h.amp.DeleteLoggingConfiguration(ctx, &amp.DeleteLoggingConfigurationInput{WorkspaceId: &id}); !errors.As(err, &nf) {
		t.Fatalf("delete before create: %v", err)
	}
	var ve *types.ValidationException
	for _, bad := range []string{"arn:aws:logs:us-east-1:111122223333:log-group:/no/wildcard",
		"arn:aws:s3:::bucket", "arn:aws:logs:us-east-1:1234:log-group:x:*", "arn:aws:logs:us-east-1:111122223333:log-group:a b:*"} {
		_, err := h.amp.CreateLoggingConfiguration(ctx, &amp.CreateLoggingConfigurationInput{WorkspaceId: &id, LogGroupArn: aws.String(bad)})
		if !errors.As(err, &ve) || !strings.Contains(aws.ToString(ve.Message), "failed to satisfy constraint: Member must satisfy regular expression pattern") {
			t.Fatalf("create with %s: %v", bad, err)
		}
	}
	if _, err := h.amp.DescribeLoggingConfiguration(ctx, &amp.DescribeLoggingConfigurationInput{WorkspaceId: &id}); !errors.As(err, &nf) {
		t.Fatalf("a refused create created: %v", err)
	}

	out, err := h.amp.CreateLoggingConfiguration(ctx, &amp.CreateLoggingConfigurationInput{WorkspaceId: &id, LogGroupArn: aws.String(logGroupA)})
	if err != nil {
		t.Fatal(err)
	}
	if out.Status.StatusCode != types.LoggingConfigurationStatusCodeCreating {
		t.Errorf("create answered %s", out.Status.StatusCode)
	}
	var conflict *types.ConflictException
	if _, err := h.amp.CreateLoggingConfiguration(ctx, &amp.CreateLoggingConfigurationInput{WorkspaceId: &id, LogGroupArn: aws.String(logGroupB)}); !errors.As(err, &conflict) {
		t.Fatalf("second create: %v", err)
	}
	desc, err := h.amp.DescribeLoggingConfiguration(ctx, &amp.DescribeLoggingConfigurationInput{WorkspaceId: &id})
	if err != nil {
		t.Fatal(err)
	}
	lc := desc.LoggingConfiguration
	if lc.Status.StatusCode != types.LoggingConfigurationStatusCodeActive || aws.ToString(lc.LogGroupArn) != logGroupA ||
		aws.ToString(lc.Workspace) != id || lc.CreatedAt == nil || lc.ModifiedAt == nil {
		t.Fatalf("described %+v", lc)
	}

	if _, err := h.amp.CreateRuleGroupsNamespace(ctx, &amp.CreateRuleGroupsNamespaceInput{
		WorkspaceId: &id, Name: aws.String("canary"), Data: []byte(failingRules)}); err != nil {
		t.Fatal(err)
	}
	h.evalRules(t, id)
	recs := readRecords(t, dir, logGroupA)
	if len(recs) != 1 {
		t.Fatalf("%d records in %s, want 1: %+v", len(recs), logging.FileName(logGroupA), recs)
	}
	r := recs[0]
	log, _ := r.Message["log"].(string)
	if r.WorkspaceID != id || r.Component != "ruler" || r.LogGroupARN != logGroupA || r.Message["level"] != "ERROR" ||
		r.Message["name"] != "joined" || r.Message["group"] != "failing" || r.Message["namespace"] != "canary" ||
		!strings.HasPrefix(log, "Evaluating rule failed, name=joined, group=failing, namespace=canary, err=") ||
		!strings.Contains(log, "found duplicate series for the match group") {
		t.Fatalf("record %+v", r)
	}

	// Updated: the next failure goes to the new log group.
	up, err := h.amp.UpdateLoggingConfiguration(ctx, &amp.UpdateLoggingConfigurationInput{WorkspaceId: &id, LogGroupArn: aws.String(logGroupB)})
	if err != nil {
		t.Fatal(err)
	}
	if up.Status.StatusCode != types.LoggingConfigurationStatusCodeUpdating {
		t.Errorf("update answered %s", up.Status.StatusCode)
	}
	h.evalRules(t, id)
	if a, b := len(readRecords(t, dir, logGroupA)), len(readRecords(t, dir, logGroupB)); a != 1 || b != 1 {
		t.Fatalf("after the update: %d records in A, %d in B", a, b)
	}
	if got := logging.FileName(logGroupB); got != "aws_vendedlogs_prometheus_team%5Fb.jsonl" {
		t.Errorf("file of %s: %s", logGroupB, got)
	}

	// Stored: a restart on the same directory comes back with it.
	h.srv.Close()
	if err := h.svc.Close(); err != nil {
		t.Fatal(err)
	}
	h = startLogging(t, dir)
	desc, err = h.amp.DescribeLoggingConfiguration(ctx, &amp.DescribeLoggingConfigurationInput{WorkspaceId: &id})
	if err != nil || aws.ToString(desc.LoggingConfiguration.LogGroupArn) != logGroupB {
		t.Fatalf("after a restart: %+v, %v", desc, err)
	}
	h.evalRules(t, id)
	if b := len(readRecords(t, dir, logGroupB)); b != 2 {
		t.Fatalf("after a restart: %d records in B, want 2", b)
	}

	// Deleted: nothing more is vended.
	if _, err := h.amp.DeleteLoggingConfiguration(ctx, &amp.DeleteLoggingConfigurationInput{WorkspaceId: &id}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.amp.DescribeLoggingConfiguration(ctx, &amp.DescribeLoggingConfigurationInput{WorkspaceId: &id}); !errors.As(err, &nf) {
		t.Fatalf("describe after delete: %v", err)
	}
	h.evalRules(t, id)
	if b := len(readRecords(t, dir, logGroupB)); b != 2 {
		t.Fatalf("after the delete: %d records in B, want 2", b)
	}

	// A workspace that does not exist.
	if _, err := h.amp.DescribeLoggingConfiguration(ctx, &amp.DescribeLoggingConfigurationInput{WorkspaceId: aws.String("ws-00000000-0000-0000-0000-000000000000")}); !errors.As(err, &nf) {
		t.Fatalf("describe on a missing workspace: %v", err)
	}
}

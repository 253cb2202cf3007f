package promspace_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/amp"
	"github.com/aws/aws-sdk-go-v2/service/amp/types"

	"github.com/promspace/promspace"
	"github.com/promspace/promspace/auth"
)

// Account A's administrator, and two users of account B: bob may query
// any workspace, bea may only list her own.
const sharingConfig = `
region: us-east-1
credentials:
  - access_key_id: AKIDADMIN
    secret_access_key: admin-secret
    account_id: "111122223333"
    name: admin
    policy: AmazonPrometheusFullAccess
  - access_key_id: AKIDBOB
    secret_access_key: bob-secret
    account_id: "444455556666"
    name: bob
    policy:
      - AmazonPrometheusQueryAccess
      - Version: "2012-10-17"
        Statement:
          - Effect: Allow
            Action: ["aps:DescribeWorkspace", "aps:PutResourcePolicy"]
            Resource: "*"
  - access_key_id: AKIDBEA
    secret_access_key: bea-secret
    account_id: "444455556666"
    name: bea
    policy:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Action: aps:ListWorkspaces
          Resource: "*"
`

func startSharing(t *testing.T, dir string) (*secured, *promspace.Service) {
	t.Helper()
	conf, err := auth.ParseConfig([]byte(sharingConfig))
	if err != nil {
		t.Fatal(err)
	}
	authn, authz, err := conf.Build()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := promspace.New(context.Background(), promspace.Options{
		DataDir: dir, AccountID: account, Region: region, Authenticator: authn, Authorizer: authz,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc)
	t.Cleanup(func() {
		srv.Close()
		svc.Close()
	})
	return &secured{srv: srv}, svc
}

// TestCrossAccountResourcePolicy: account B reads account A's workspace
// only while A's resource policy allows it and B's own identity policy
// allows it too; the policy's operations with their revisions, through
// the amp client; the policy survives a restart; deleting it ends the
// sharing.
func TestCrossAccountResourcePolicy(t *testing.T) {
	dir := t.TempDir()
	s, svc := startSharing(t, dir)
	ctx := context.Background()
	admin := s.amp("AKIDADMIN", "admin-secret")
	created, err := admin.CreateWorkspace(ctx, &amp.CreateWorkspaceInput{})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(created.WorkspaceId)
	if err := amp.NewWorkspaceActiveWaiter(admin, func(o *amp.WorkspaceActiveWaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 50*time.Millisecond
	}).Wait(ctx, &amp.DescribeWorkspaceInput{WorkspaceId: &id}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if err := s.remoteWrite(t, id, "AKIDADMIN", "admin-secret"); err != nil {
		t.Fatal(err)
	}
	arn := aws.ToString(created.Arn)

	// bob's query of A's workspace: its answer's status code.
	bobQuery := func(key, secret string) int {
		t.Helper()
		req, _ := http.NewRequest(http.MethodGet, s.srv.URL+"/workspaces/"+id+"/api/v1/query?query=signed_write", nil)
		resp, err := sigv4Transport(t, key, secret).RoundTrip(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		return resp.StatusCode
	}
	bob := s.amp("AKIDBOB", "bob-secret")
	var nf *types.ResourceNotFoundException
	if code := bobQuery("AKIDBOB", "bob-secret"); code != http.StatusNotFound {
		t.Fatalf("bob's query before the policy: %d, want 404", code)
	}
	if _, err := admin.DescribeResourcePolicy(ctx, &amp.DescribeResourcePolicyInput{WorkspaceId: &id}); !errors.As(err, &nf) {
		t.Fatalf("describe before put: %v", err)
	}

	var ve *types.ValidationException
	if _, err := admin.PutResourcePolicy(ctx, &amp.PutResourcePolicyInput{WorkspaceId: &id, PolicyDocument: aws.String(`{"Version":"2012-10-17",
		"Statement":[{"Effect":"Allow","Principal":"*","Action":"aps:QueryMetrics","Resource":"*","Condition":{"StringEquals":{"aws:SourceVpc":"vpc-1"}}}]}`)}); !errors.As(err, &ve) ||
		!strings.Contains(aws.ToString(ve.Message), `condition key "aws:SourceVpc" is not supported`) {
		t.Fatalf("a policy with an unsupported condition: %v", err)
	}
	doc := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},
		"Action":["aps:QueryMetrics","aps:GetLabels","aps:DescribeWorkspace","aps:PutResourcePolicy"],"Resource":"` + arn + `"}]}`
	put, err := admin.PutResourcePolicy(ctx, &amp.PutResourcePolicyInput{WorkspaceId: &id, PolicyDocument: &doc, RevisionId: aws.String("NO_POLICY")})
	if err != nil {
		t.Fatal(err)
	}
	if put.PolicyStatus != types.WorkspacePolicyStatusCodeCreating || aws.ToString(put.RevisionId) == "" {
		t.Fatalf("put answered %s %q", put.PolicyStatus, aws.ToString(put.RevisionId))
	}
	var conflict *types.ConflictException
	for _, rev := range []string{"NO_POLICY", "not-the-revision"} {
		if _, err := admin.PutResourcePolicy(ctx, &amp.PutResourcePolicyInput{WorkspaceId: &id, PolicyDocument: &doc, RevisionId: aws.String(rev)}); !errors.As(err, &conflict) {
			t.Fatalf("put with revision %s: %v", rev, err)
		}
	}
	up, err := admin.PutResourcePolicy(ctx, &amp.PutResourcePolicyInput{WorkspaceId: &id, PolicyDocument: &doc, RevisionId: put.RevisionId})
	if err != nil {
		t.Fatal(err)
	}
	if up.PolicyStatus != types.WorkspacePolicyStatusCodeUpdating || aws.ToString(up.RevisionId) == aws.ToString(put.RevisionId) {
		t.Fatalf("update answered %s %s", up.PolicyStatus, aws.ToString(up.RevisionId))
	}
	desc, err := admin.DescribeResourcePolicy(ctx, &amp.DescribeResourcePolicyInput{WorkspaceId: &id})
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(desc.PolicyDocument) != doc || desc.PolicyStatus != types.WorkspacePolicyStatusCodeActive || aws.ToString(desc.RevisionId) != aws.ToString(up.RevisionId) {
		t.Fatalf("described %+v", desc)
	}

	// Shared: bob, whose own policy allows queries, reads A's data.
	v, _, _, err := s.query(t, id, sigv4Transport(t, "AKIDBOB", "bob-secret")).Query(ctx, "signed_write", time.Now())
	if err != nil || !strings.Contains(v.String(), "signed_write") {
		t.Fatalf("bob's query of the shared workspace: %v, %v", v, err)
	}
	if code := bobQuery("AKIDBEA", "bea-secret"); code != http.StatusForbidden {
		t.Fatalf("bea, whose own policy allows no query: %d, want 403", code)
	}
	// Only the Prometheus-compatible operations are shared, as in AMP: the
	// control plane does not know A's workspace for bob.
	if _, err := bob.DescribeWorkspace(ctx, &amp.DescribeWorkspaceInput{WorkspaceId: &id}); !errors.As(err, &nf) {
		t.Fatalf("bob's DescribeWorkspace of A's workspace: %v", err)
	}
	if _, err := bob.PutResourcePolicy(ctx, &amp.PutResourcePolicyInput{WorkspaceId: &id, PolicyDocument: &doc}); !errors.As(err, &nf) {
		t.Fatalf("bob's PutResourcePolicy on A's workspace: %v", err)
	}

	// Stored: after a restart the workspace is still shared.
	s.srv.Close()
	if err := svc.Close(); err != nil {
		t.Fatal(err)
	}
	s, _ = startSharing(t, dir)
	admin = s.amp("AKIDADMIN", "admin-secret")
	if code := bobQuery("AKIDBOB", "bob-secret"); code != http.StatusOK {
		t.Fatalf("bob's query after a restart: %d", code)
	}

	// Deleted: the sharing ends.
	if _, err := admin.DeleteResourcePolicy(ctx, &amp.DeleteResourcePolicyInput{WorkspaceId: &id, RevisionId: put.RevisionId}); !errors.As(err, &conflict) {
		t.Fatalf("delete with an old revision: %v", err)
	}
	if _, err := admin.DeleteResourcePolicy(ctx, &amp.DeleteResourcePolicyInput{WorkspaceId: &id, RevisionId: up.RevisionId}); err != nil {
		t.Fatal(err)
	}
	if _, err := admin.DescribeResourcePolicy(ctx, &amp.DescribeResourcePolicyInput{WorkspaceId: &id}); !errors.As(err, &nf) {
		t.Fatalf("describe after delete: %v", err)
	}
	if _, err := admin.DeleteResourcePolicy(ctx, &amp.DeleteResourcePolicyInput{WorkspaceId: &id}); !errors.As(err, &nf) {
		t.Fatalf("second delete: %v", err)
	}
	if code := bobQuery("AKIDBOB", "bob-secret"); code != http.StatusNotFound {
		t.Fatalf("bob's query after the delete: %d, want 404", code)
	}
}

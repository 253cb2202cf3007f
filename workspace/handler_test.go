package workspace

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/amp"
	"github.com/aws/aws-sdk-go-v2/service/amp/types"
	smithyhttp "github.com/aws/smithy-go/transport/http"
)

const accountHeader = "X-Test-Account"

type testServer struct {
	reg *Registry
	url string
}

func newTestServer(t *testing.T, opts Options, hopts HandlerOptions) *testServer {
	t.Helper()
	reg := openRegistry(t, opts)
	if hopts.Account == nil {
		hopts.Account = func(r *http.Request) string { return r.Header.Get(accountHeader) }
	}
	srv := httptest.NewServer(NewHandler(reg, hopts))
	t.Cleanup(srv.Close)
	return &testServer{reg: reg, url: srv.URL}
}

// client returns an amp client acting for account; empty means the
// registry's default account.
func (s *testServer) client(account string) *amp.Client {
	o := amp.Options{
		BaseEndpoint: aws.String(s.url),
		Region:       "us-east-1",
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	}
	if account != "" {
		o.APIOptions = append(o.APIOptions, smithyhttp.AddHeaderValue(accountHeader, account))
	}
	return amp.New(o)
}

func fastActive(o *amp.WorkspaceActiveWaiterOptions) {
	o.MinDelay, o.MaxDelay = 5*time.Millisecond, 20*time.Millisecond
}

func fastDeleted(o *amp.WorkspaceDeletedWaiterOptions) {
	o.MinDelay, o.MaxDelay = 5*time.Millisecond, 20*time.Millisecond
}

func TestSDKWorkspaceLifecycle(t *testing.T) {
	s := newTestServer(t, testOptions(t, t.TempDir()), HandlerOptions{})
	c := s.client("")
	ctx := context.Background()

	created, err := c.CreateWorkspace(ctx, &amp.CreateWorkspaceInput{
		Alias: aws.String(" prod "),
		Tags:  map[string]string{"team": "obs"},
	})
	if err != nil {
		t.Fatal(err)
	}
	id := aws.ToString(created.WorkspaceId)
	if !strings.HasPrefix(id, "ws-") || created.Status.StatusCode != types.WorkspaceStatusCodeCreating {
		t.Errorf("created %s in %s, want ws-… CREATING", id, created.Status.StatusCode)
	}
	if want := "arn:aws:aps:us-east-1:000000000000:workspace/" + id; aws.ToString(created.Arn) != want {
		t.Errorf("arn = %s, want %s", aws.ToString(created.Arn), want)
	}
	if created.Tags["team"] != "obs" {
		t.Errorf("tags = %v", created.Tags)
	}

	out, err := amp.NewWorkspaceActiveWaiter(c, fastActive).WaitForOutput(ctx, &amp.DescribeWorkspaceInput{WorkspaceId: &id}, 10*time.Second)
	if err != nil {
		t.Fatal(err)
	}
	ws := out.Workspace
	if aws.ToString(ws.Alias) != "prod" || ws.Status.StatusCode != types.WorkspaceStatusCodeActive ||
		aws.ToString(ws.PrometheusEndpoint) != s.url+"/workspaces/"+id+"/" || ws.Tags["team"] != "obs" ||
		aws.ToString(ws.Arn) != aws.ToString(created.Arn) || aws.ToString(ws.WorkspaceId) != id {
		t.Errorf("described %+v", ws)
	}
	if !aws.ToTime(ws.CreatedAt).Equal(testNow) {
		t.Errorf("createdAt = %v, want %v", aws.ToTime(ws.CreatedAt), testNow)
	}

	if _, err := c.UpdateWorkspaceAlias(ctx, &amp.UpdateWorkspaceAliasInput{WorkspaceId: &id, Alias: aws.String("production")}); err != nil {
		t.Fatal(err)
	}
	list, err := c.ListWorkspaces(ctx, &amp.ListWorkspacesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Workspaces) != 1 || aws.ToString(list.Workspaces[0].Alias) != "production" ||
		!aws.ToTime(list.Workspaces[0].CreatedAt).Equal(testNow) || list.NextToken != nil {
		t.Errorf("listed %+v", list.Workspaces)
	}

	w, err := s.reg.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := c.DeleteWorkspace(ctx, &amp.DeleteWorkspaceInput{WorkspaceId: &id}); err != nil {
		t.Fatal(err)
	}
	if err := amp.NewWorkspaceDeletedWaiter(c, fastDeleted).Wait(ctx, &amp.DescribeWorkspaceInput{WorkspaceId: &id}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(w.Dir()); !os.IsNotExist(err) {
		t.Errorf("data directory still there: %v", err)
	}
	_, err = c.DescribeWorkspace(ctx, &amp.DescribeWorkspaceInput{WorkspaceId: &id})
	var nf *types.ResourceNotFoundException
	if !errors.As(err, &nf) || aws.ToString(nf.ResourceId) != id || aws.ToString(nf.ResourceType) != "Workspace" {
		t.Errorf("describe after delete: %v, want ResourceNotFoundException for %s", err, id)
	}
	if _, err := c.DeleteWorkspace(ctx, &amp.DeleteWorkspaceInput{WorkspaceId: &id}); !errors.As(err, &nf) {
		t.Errorf("delete after delete: %v", err)
	}
}

func TestSDKIdempotentCreate(t *testing.T) {
	s := newTestServer(t, testOptions(t, t.TempDir()), HandlerOptions{})
	c := s.client("")
	ctx := context.Background()
	in := &amp.CreateWorkspaceInput{Alias: aws.String("a"), ClientToken: aws.String("token-123")}
	first, err := c.CreateWorkspace(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	again, err := c.CreateWorkspace(ctx, in)
	if err != nil {
		t.Fatal(err)
	}
	if aws.ToString(first.WorkspaceId) != aws.ToString(again.WorkspaceId) {
		t.Errorf("retry created %s, first %s", aws.ToString(again.WorkspaceId), aws.ToString(first.WorkspaceId))
	}
	_, err = c.CreateWorkspace(ctx, &amp.CreateWorkspaceInput{Alias: aws.String("b"), ClientToken: aws.String("token-123")})
	var ce *types.ConflictException
	if !errors.As(err, &ce) {
		t.Fatalf("token reused with another alias: %v, want ConflictException", err)
	}
	// Without a token the SDK makes one up: every call creates a workspace.
	for range 2 {
		if _, err := c.CreateWorkspace(ctx, &amp.CreateWorkspaceInput{Alias: aws.String("a")}); err != nil {
			t.Fatal(err)
		}
	}
	list, err := c.ListWorkspaces(ctx, &amp.ListWorkspacesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(list.Workspaces) != 3 {
		t.Errorf("%d workspaces, want 3", len(list.Workspaces))
	}
}

func TestSDKQuota(t *testing.T) {
	opts := testOptions(t, t.TempDir())
	opts.MaxWorkspaces = 1
	s := newTestServer(t, opts, HandlerOptions{})
	c := s.client("")
	ctx := context.Background()
	if _, err := c.CreateWorkspace(ctx, &amp.CreateWorkspaceInput{}); err != nil {
		t.Fatal(err)
	}
	_, err := c.CreateWorkspace(ctx, &amp.CreateWorkspaceInput{})
	var qe *types.ServiceQuotaExceededException
	if !errors.As(err, &qe) {
		t.Fatalf("second workspace: %v, want ServiceQuotaExceededException", err)
	}
	if aws.ToString(qe.ServiceCode) != "amp" || aws.ToString(qe.QuotaCode) == "" || aws.ToString(qe.ResourceType) != "Workspace" {
		t.Errorf("quota error %+v", qe)
	}
	if _, err := s.client("444444444444").CreateWorkspace(ctx, &amp.CreateWorkspaceInput{}); err != nil {
		t.Errorf("another account: %v", err)
	}
}

func TestSDKPagination(t *testing.T) {
	opts := testOptions(t, t.TempDir())
	now := testNow
	opts.Now = func() time.Time { now = now.Add(time.Second); return now }
	s := newTestServer(t, opts, HandlerOptions{})
	c := s.client("")
	ctx := context.Background()
	var want []string
	for _, alias := range []string{"team-a", "other", "team-b", "team-c", "team-d", "team-e"} {
		out, err := c.CreateWorkspace(ctx, &amp.CreateWorkspaceInput{Alias: aws.String(alias)})
		if err != nil {
			t.Fatal(err)
		}
		if strings.HasPrefix(alias, "team") {
			want = append(want, aws.ToString(out.WorkspaceId))
		}
	}
	p := amp.NewListWorkspacesPaginator(c, &amp.ListWorkspacesInput{Alias: aws.String("team"), MaxResults: aws.Int32(2)})
	var got []string
	pages := 0
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		if err != nil {
			t.Fatal(err)
		}
		pages++
		for _, w := range page.Workspaces {
			got = append(got, aws.ToString(w.WorkspaceId))
		}
	}
	if !slices.Equal(got, want) || pages != 3 {
		t.Errorf("%d pages listing %v, want 3 pages listing %v", pages, got, want)
	}
}

func TestSDKAccountsAndVisibility(t *testing.T) {
	s := newTestServer(t, testOptions(t, t.TempDir()), HandlerOptions{
		Visible: func(_ context.Context, w *Workspace) bool { return w.Tags()["hidden"] == "" },
	})
	ctx := context.Background()
	a, b := s.client("111111111111"), s.client("222222222222")
	wa, err := a.CreateWorkspace(ctx, &amp.CreateWorkspaceInput{Alias: aws.String("a")})
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(aws.ToString(wa.Arn), ":111111111111:workspace/") {
		t.Errorf("arn %s does not name the caller's account", aws.ToString(wa.Arn))
	}
	if _, err := a.CreateWorkspace(ctx, &amp.CreateWorkspaceInput{Alias: aws.String("secret"), Tags: map[string]string{"hidden": "yes"}}); err != nil {
		t.Fatal(err)
	}

	var nf *types.ResourceNotFoundException
	if _, err := b.DescribeWorkspace(ctx, &amp.DescribeWorkspaceInput{WorkspaceId: wa.WorkspaceId}); !errors.As(err, &nf) {
		t.Errorf("describe from another account: %v", err)
	}
	if _, err := b.DeleteWorkspace(ctx, &amp.DeleteWorkspaceInput{WorkspaceId: wa.WorkspaceId}); !errors.As(err, &nf) {
		t.Errorf("delete from another account: %v", err)
	}
	if _, err := b.UpdateWorkspaceAlias(ctx, &amp.UpdateWorkspaceAliasInput{WorkspaceId: wa.WorkspaceId, Alias: aws.String("x")}); !errors.As(err, &nf) {
		t.Errorf("update alias from another account: %v", err)
	}
	list, err := b.ListWorkspaces(ctx, &amp.ListWorkspacesInput{})
	if err != nil || len(list.Workspaces) != 0 {
		t.Errorf("other account lists %v, %v", list, err)
	}
	list, err = a.ListWorkspaces(ctx, &amp.ListWorkspacesInput{})
	if err != nil || len(list.Workspaces) != 1 || aws.ToString(list.Workspaces[0].Alias) != "a" {
		t.Errorf("owner lists %+v, %v; want only the visible workspace", list, err)
	}
}

func TestPublicURL(t *testing.T) {
	s := newTestServer(t, testOptions(t, t.TempDir()), HandlerOptions{PublicURL: "https://aps-workspaces.example.com/"})
	c := s.client("")
	ctx := context.Background()
	created, err := c.CreateWorkspace(ctx, &amp.CreateWorkspaceInput{})
	if err != nil {
		t.Fatal(err)
	}
	out, err := c.DescribeWorkspace(ctx, &amp.DescribeWorkspaceInput{WorkspaceId: created.WorkspaceId})
	if err != nil {
		t.Fatal(err)
	}
	if want := "https://aps-workspaces.example.com/workspaces/" + aws.ToString(created.WorkspaceId) + "/"; aws.ToString(out.Workspace.PrometheusEndpoint) != want {
		t.Errorf("prometheusEndpoint = %s, want %s", aws.ToString(out.Workspace.PrometheusEndpoint), want)
	}
}

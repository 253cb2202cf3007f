package workspace

import (
	"context"
	"encoding/json"
	"errors"
	"io"
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
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
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

func TestSDKValidation(t *testing.T) {
	s := newTestServer(t, testOptions(t, t.TempDir()), HandlerOptions{})
	c := s.client("")
	ctx := context.Background()
	created, err := c.CreateWorkspace(ctx, &amp.CreateWorkspaceInput{})
	if err != nil {
		t.Fatal(err)
	}
	id := created.WorkspaceId

	for name, tc := range map[string]struct {
		call  func() error
		field string
	}{
		"alias too long": {func() error {
			_, err := c.CreateWorkspace(ctx, &amp.CreateWorkspaceInput{Alias: aws.String(strings.Repeat("a", 101))})
			return err
		}, "alias"},
		"blank alias": {func() error {
			_, err := c.UpdateWorkspaceAlias(ctx, &amp.UpdateWorkspaceAliasInput{WorkspaceId: id, Alias: aws.String("  ")})
			return err
		}, "alias"},
		"reserved tag key": {func() error {
			_, err := c.CreateWorkspace(ctx, &amp.CreateWorkspaceInput{Tags: map[string]string{"aws:owner": "x"}})
			return err
		}, "tags"},
		"bad kms key": {func() error {
			_, err := c.CreateWorkspace(ctx, &amp.CreateWorkspaceInput{KmsKeyArn: aws.String("key")})
			return err
		}, "kmsKeyArn"},
		"maxResults 0": {func() error {
			_, err := c.ListWorkspaces(ctx, &amp.ListWorkspacesInput{MaxResults: aws.Int32(0)})
			return err
		}, "maxResults"},
		"bad nextToken": {func() error {
			_, err := c.ListWorkspaces(ctx, &amp.ListWorkspacesInput{NextToken: aws.String("%%%")})
			return err
		}, "nextToken"},
		"retention 1096": {func() error {
			_, err := c.UpdateWorkspaceConfiguration(ctx, &amp.UpdateWorkspaceConfigurationInput{WorkspaceId: id, RetentionPeriodInDays: aws.Int32(1096)})
			return err
		}, "retentionPeriodInDays"},
		"empty configuration": {func() error {
			_, err := c.UpdateWorkspaceConfiguration(ctx, &amp.UpdateWorkspaceConfigurationInput{WorkspaceId: id})
			return err
		}, "workspaceConfiguration"},
		"bad label name": {func() error {
			_, err := c.UpdateWorkspaceConfiguration(ctx, &amp.UpdateWorkspaceConfigurationInput{WorkspaceId: id, LimitsPerLabelSet: []types.LimitsPerLabelSet{{
				LabelSet: map[string]string{"bad-name": "x"}, Limits: &types.LimitsPerLabelSetEntry{MaxSeries: aws.Int64(1)},
			}}})
			return err
		}, "limitsPerLabelSet[0].labelSet"},
		"bad metric name": {func() error {
			_, err := c.UpdateWorkspaceConfiguration(ctx, &amp.UpdateWorkspaceConfigurationInput{WorkspaceId: id, LimitsPerLabelSet: []types.LimitsPerLabelSet{{
				LabelSet: map[string]string{"__name__": "1up"}, Limits: &types.LimitsPerLabelSetEntry{MaxSeries: aws.Int64(1)},
			}}})
			return err
		}, "limitsPerLabelSet[0].labelSet"},
		"not an arn": {func() error {
			_, err := c.ListTagsForResource(ctx, &amp.ListTagsForResourceInput{ResourceArn: aws.String("workspace")})
			return err
		}, "resourceArn"},
	} {
		t.Run(name, func(t *testing.T) {
			err := tc.call()
			var ve *types.ValidationException
			if !errors.As(err, &ve) {
				t.Fatalf("err = %v, want ValidationException", err)
			}
			if ve.Reason != types.ValidationExceptionReasonFieldValidationFailed || len(ve.FieldList) == 0 ||
				aws.ToString(ve.FieldList[0].Name) != tc.field || aws.ToString(ve.FieldList[0].Message) == "" {
				t.Errorf("reason %s, fields %+v; want %s", ve.Reason, ve.FieldList, tc.field)
			}
		})
	}
}

func TestMalformedJSON(t *testing.T) {
	s := newTestServer(t, testOptions(t, t.TempDir()), HandlerOptions{})
	for _, path := range []string{"/workspaces", "/workspaces/ws-x/alias"} {
		resp, err := http.Post(s.url+path, "application/json", strings.NewReader(`{"alias":`))
		if err != nil {
			t.Fatal(err)
		}
		var body struct{ Message, Reason string }
		err = json.NewDecoder(resp.Body).Decode(&body)
		resp.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if resp.StatusCode != http.StatusBadRequest || resp.Header.Get("x-amzn-ErrorType") != "ValidationException" ||
			body.Reason != ReasonCannotParse || body.Message == "" {
			t.Errorf("POST %s: %d %s %+v", path, resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"), body)
		}
	}

	resp, err := http.Get(s.url + "/scrapers")
	if err != nil {
		t.Fatal(err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusNotFound || resp.Header.Get("x-amzn-ErrorType") != "UnknownOperationException" {
		t.Errorf("GET /scrapers: %d %s", resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"))
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

func TestSDKTags(t *testing.T) {
	s := newTestServer(t, testOptions(t, t.TempDir()), HandlerOptions{})
	c := s.client("")
	ctx := context.Background()
	created, err := c.CreateWorkspace(ctx, &amp.CreateWorkspaceInput{Tags: map[string]string{"a": "1"}})
	if err != nil {
		t.Fatal(err)
	}
	arn := created.Arn
	if _, err := c.TagResource(ctx, &amp.TagResourceInput{ResourceArn: arn, Tags: map[string]string{"b": "2", "c": "3"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := c.UntagResource(ctx, &amp.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"a", "c"}}); err != nil {
		t.Fatal(err)
	}
	tags, err := c.ListTagsForResource(ctx, &amp.ListTagsForResourceInput{ResourceArn: arn})
	if err != nil {
		t.Fatal(err)
	}
	if len(tags.Tags) != 1 || tags.Tags["b"] != "2" {
		t.Errorf("tags = %v, want {b: 2}", tags.Tags)
	}
	desc, err := c.DescribeWorkspace(ctx, &amp.DescribeWorkspaceInput{WorkspaceId: created.WorkspaceId})
	if err != nil {
		t.Fatal(err)
	}
	if len(desc.Workspace.Tags) != 1 || desc.Workspace.Tags["b"] != "2" {
		t.Errorf("described tags = %v", desc.Workspace.Tags)
	}

	var nf *types.ResourceNotFoundException
	_, err = c.ListTagsForResource(ctx, &amp.ListTagsForResourceInput{ResourceArn: aws.String("arn:aws:aps:us-east-1:000000000000:workspace/ws-missing")})
	if !errors.As(err, &nf) {
		t.Errorf("unknown workspace: %v, want ResourceNotFoundException", err)
	}
	_, err = c.TagResource(ctx, &amp.TagResourceInput{ResourceArn: aws.String("arn:aws:aps:us-east-1:000000000000:rulegroupsnamespace/" + aws.ToString(created.WorkspaceId) + "/rules"), Tags: map[string]string{"x": "y"}})
	if !errors.As(err, &nf) {
		t.Errorf("rule groups namespace: %v, want ResourceNotFoundException", err)
	}
	// Another account does not see the workspace.
	_, err = s.client("555555555555").ListTagsForResource(ctx, &amp.ListTagsForResourceInput{ResourceArn: arn})
	if !errors.As(err, &nf) {
		t.Errorf("other account: %v, want ResourceNotFoundException", err)
	}

	// The ARN may also come unescaped.
	resp, err := http.Get(s.url + "/tags/" + aws.ToString(arn))
	if err != nil {
		t.Fatal(err)
	}
	var body struct{ Tags map[string]string }
	err = json.NewDecoder(resp.Body).Decode(&body)
	resp.Body.Close()
	if err != nil || resp.StatusCode != http.StatusOK || body.Tags["b"] != "2" {
		t.Errorf("unescaped ARN: %d %v %v", resp.StatusCode, body, err)
	}
}

func TestSDKConfiguration(t *testing.T) {
	reg := prometheus.NewRegistry()
	opts := testOptions(t, t.TempDir())
	opts.Registerer = reg
	s := newTestServer(t, opts, HandlerOptions{})
	c := s.client("")
	ctx := context.Background()
	created, err := c.CreateWorkspace(ctx, &amp.CreateWorkspaceInput{})
	if err != nil {
		t.Fatal(err)
	}
	id := created.WorkspaceId

	desc, err := c.DescribeWorkspaceConfiguration(ctx, &amp.DescribeWorkspaceConfigurationInput{WorkspaceId: id})
	if err != nil {
		t.Fatal(err)
	}
	wc := desc.WorkspaceConfiguration
	if aws.ToInt32(wc.RetentionPeriodInDays) != 150 || aws.ToInt32(wc.OutOfOrderTimeWindowInSeconds) != 60 ||
		wc.Status.StatusCode != types.WorkspaceConfigurationStatusCodeActive || len(wc.LimitsPerLabelSet) != 0 {
		t.Errorf("default configuration %+v", wc)
	}

	up, err := c.UpdateWorkspaceConfiguration(ctx, &amp.UpdateWorkspaceConfigurationInput{
		WorkspaceId:                   id,
		RetentionPeriodInDays:         aws.Int32(14),
		OutOfOrderTimeWindowInSeconds: aws.Int32(0),
		RuleQueryOffsetInSeconds:      aws.Int32(30),
		LimitsPerLabelSet: []types.LimitsPerLabelSet{
			{LabelSet: map[string]string{"team": "a", "env": "prod"}, Limits: &types.LimitsPerLabelSetEntry{MaxSeries: aws.Int64(5000)}},
			{LabelSet: map[string]string{"__name__": "up"}, Limits: &types.LimitsPerLabelSetEntry{MaxSeries: aws.Int64(0)}},
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	if up.Status.StatusCode != types.WorkspaceConfigurationStatusCodeUpdating {
		t.Errorf("update answered %s, want UPDATING", up.Status.StatusCode)
	}
	desc, err = c.DescribeWorkspaceConfiguration(ctx, &amp.DescribeWorkspaceConfigurationInput{WorkspaceId: id})
	if err != nil {
		t.Fatal(err)
	}
	wc = desc.WorkspaceConfiguration
	if aws.ToInt32(wc.RetentionPeriodInDays) != 14 || aws.ToInt32(wc.OutOfOrderTimeWindowInSeconds) != 0 ||
		aws.ToInt32(wc.RuleQueryOffsetInSeconds) != 30 || wc.Status.StatusCode != types.WorkspaceConfigurationStatusCodeActive ||
		len(wc.LimitsPerLabelSet) != 2 {
		t.Fatalf("configuration after update %+v", wc)
	}
	found := false
	for _, l := range wc.LimitsPerLabelSet {
		if l.LabelSet["team"] == "a" && l.LabelSet["env"] == "prod" && aws.ToInt64(l.Limits.MaxSeries) == 5000 {
			found = true
		}
	}
	if !found {
		t.Errorf("limits %+v", wc.LimitsPerLabelSet)
	}

	// The change reached the live TSDB.
	w, err := s.reg.Get(ctx, aws.ToString(id))
	if err != nil {
		t.Fatal(err)
	}
	if got := gaugeValue(t, reg, "prometheus_tsdb_retention_limit_seconds", w.ID()); got != (14 * 24 * time.Hour).Seconds() {
		t.Errorf("live retention %vs, want 14 days", got)
	}
	lset := labels.FromStrings("__name__", "up")
	if err := appendSample(t, w, lset, 200_000, 1); err != nil {
		t.Fatal(err)
	}
	if err := appendSample(t, w, lset, 190_000, 1); err == nil {
		t.Error("out-of-order sample accepted with the window set to 0")
	}
	limits := w.Config().LimitsPerLabelSet
	if len(limits) != 2 || !slices.ContainsFunc(limits, func(l LabelSetLimit) bool {
		return labels.Equal(l.LabelSet, labels.FromStrings("env", "prod", "team", "a")) && l.MaxSeries == 5000
	}) {
		t.Errorf("Config().LimitsPerLabelSet = %v", limits)
	}

	var nf *types.ResourceNotFoundException
	_, err = c.DescribeWorkspaceConfiguration(ctx, &amp.DescribeWorkspaceConfigurationInput{WorkspaceId: aws.String("ws-missing")})
	if !errors.As(err, &nf) {
		t.Errorf("unknown workspace: %v", err)
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

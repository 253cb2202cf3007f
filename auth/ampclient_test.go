package auth_test

import (
	"context"
	"errors"
	"net/http"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/amp"
	"github.com/aws/aws-sdk-go-v2/service/amp/types"

	"github.com/promspace/promspace/auth"
)

type decision struct{ action, resource string }

// recordingAuthorizer records what it was asked and delegates.
type recordingAuthorizer struct {
	next auth.Authorizer
	mu   sync.Mutex
	last decision
}

func (r *recordingAuthorizer) Authorize(ctx context.Context, p *auth.Principal, action, resource string) (bool, error) {
	r.mu.Lock()
	r.last = decision{action, resource}
	r.mu.Unlock()
	return r.next.Authorize(ctx, p, action, resource)
}

func newAMPClient(srvURL string, c auth.Credential, hc *http.Client) *amp.Client {
	return amp.New(amp.Options{
		Region:       testRegion,
		BaseEndpoint: aws.String(srvURL),
		HTTPClient:   hc,
		Credentials: aws.CredentialsProviderFunc(func(context.Context) (aws.Credentials, error) {
			return awsCreds(c), nil
		}),
		RetryMaxAttempts: 1,
	})
}

// TestAMPClientEveryControlPlaneOperation drives all 44 operations of the
// AWS SDK's amp client through the middleware: each must verify (the SDK
// signs with its own canonical form, including the doubly encoded tag ARN
// path), match the operation of the same name and be authorized on the
// right resource.
func TestAMPClientEveryControlPlaneOperation(t *testing.T) {
	// The SDK signs with the wall clock.
	store, _ := auth.NewStaticCredentials(testCredential())
	v, err := auth.NewSigV4(auth.SigV4Options{Region: testRegion, Credentials: store})
	if err != nil {
		t.Fatal(err)
	}
	rec := &recordingAuthorizer{next: fullAccess(t)}
	srv, seen := newServer(t, auth.MiddlewareOptions{Authenticator: v, Authorizer: rec, Region: testRegion})
	client := newAMPClient(srv.URL, testCredential(), srv.Client())

	const ws = "ws-b226cc2a-a446-46a9-933a-ac50479a5568"
	wsARN := "arn:aws:aps:us-east-1:111122223333:workspace/" + ws
	s := aws.String
	ctx := context.Background()
	logGroup := s("arn:aws:logs:us-east-1:111122223333:log-group:amp:*")
	destinations := []types.LoggingDestination{{
		CloudWatchLogs: &types.CloudWatchLogDestination{LogGroupArn: logGroup},
		Filters:        &types.LoggingFilter{QspThreshold: aws.Int64(1)},
	}}
	detector := &types.AnomalyDetectorConfigurationMemberRandomCutForest{Value: types.RandomCutForestConfiguration{Query: s("rate(x[5m])")}}

	calls := []struct {
		op       string
		resource string
		call     func() error
	}{
		{"CreateWorkspace", "*", func() error {
			_, err := client.CreateWorkspace(ctx, &amp.CreateWorkspaceInput{Alias: s("a")})
			return err
		}},
		{"ListWorkspaces", "arn:aws:aps:us-east-1:111122223333:workspace/*", func() error {
			_, err := client.ListWorkspaces(ctx, &amp.ListWorkspacesInput{Alias: s("a b")})
			return err
		}},
		{"DescribeWorkspace", wsARN, func() error {
			_, err := client.DescribeWorkspace(ctx, &amp.DescribeWorkspaceInput{WorkspaceId: s(ws)})
			return err
		}},
		{"UpdateWorkspaceAlias", wsARN, func() error {
			_, err := client.UpdateWorkspaceAlias(ctx, &amp.UpdateWorkspaceAliasInput{WorkspaceId: s(ws), Alias: s("b")})
			return err
		}},
		{"DeleteWorkspace", wsARN, func() error {
			_, err := client.DeleteWorkspace(ctx, &amp.DeleteWorkspaceInput{WorkspaceId: s(ws)})
			return err
		}},
		{"DescribeWorkspaceConfiguration", wsARN, func() error {
			_, err := client.DescribeWorkspaceConfiguration(ctx, &amp.DescribeWorkspaceConfigurationInput{WorkspaceId: s(ws)})
			return err
		}},
		{"UpdateWorkspaceConfiguration", wsARN, func() error {
			_, err := client.UpdateWorkspaceConfiguration(ctx, &amp.UpdateWorkspaceConfigurationInput{WorkspaceId: s(ws), RetentionPeriodInDays: aws.Int32(30)})
			return err
		}},
		{"CreateRuleGroupsNamespace", wsARN, func() error {
			_, err := client.CreateRuleGroupsNamespace(ctx, &amp.CreateRuleGroupsNamespaceInput{WorkspaceId: s(ws), Name: s("ns"), Data: []byte("groups: []")})
			return err
		}},
		{"ListRuleGroupsNamespaces", wsARN, func() error {
			_, err := client.ListRuleGroupsNamespaces(ctx, &amp.ListRuleGroupsNamespacesInput{WorkspaceId: s(ws), Name: s("n")})
			return err
		}},
		{"PutRuleGroupsNamespace", "arn:aws:aps:us-east-1:111122223333:rulegroupsnamespace/" + ws + "/my.ns-1", func() error {
			_, err := client.PutRuleGroupsNamespace(ctx, &amp.PutRuleGroupsNamespaceInput{WorkspaceId: s(ws), Name: s("my.ns-1"), Data: []byte("groups: []")})
			return err
		}},
		{"DescribeRuleGroupsNamespace", "arn:aws:aps:us-east-1:111122223333:rulegroupsnamespace/" + ws + "/ns", func() error {
			_, err := client.DescribeRuleGroupsNamespace(ctx, &amp.DescribeRuleGroupsNamespaceInput{WorkspaceId: s(ws), Name: s("ns")})
			return err
		}},
		{"DeleteRuleGroupsNamespace", "arn:aws:aps:us-east-1:111122223333:rulegroupsnamespace/" + ws + "/ns", func() error {
			_, err := client.DeleteRuleGroupsNamespace(ctx, &amp.DeleteRuleGroupsNamespaceInput{WorkspaceId: s(ws), Name: s("ns")})
			return err
		}},
		{"CreateAlertManagerDefinition", wsARN, func() error {
			_, err := client.CreateAlertManagerDefinition(ctx, &amp.CreateAlertManagerDefinitionInput{WorkspaceId: s(ws), Data: []byte("alertmanager_config: ''")})
			return err
		}},
		{"PutAlertManagerDefinition", wsARN, func() error {
			_, err := client.PutAlertManagerDefinition(ctx, &amp.PutAlertManagerDefinitionInput{WorkspaceId: s(ws), Data: []byte("x")})
			return err
		}},
		{"DescribeAlertManagerDefinition", wsARN, func() error {
			_, err := client.DescribeAlertManagerDefinition(ctx, &amp.DescribeAlertManagerDefinitionInput{WorkspaceId: s(ws)})
			return err
		}},
		{"DeleteAlertManagerDefinition", wsARN, func() error {
			_, err := client.DeleteAlertManagerDefinition(ctx, &amp.DeleteAlertManagerDefinitionInput{WorkspaceId: s(ws)})
			return err
		}},
		{"CreateLoggingConfiguration", wsARN, func() error {
			_, err := client.CreateLoggingConfiguration(ctx, &amp.CreateLoggingConfigurationInput{WorkspaceId: s(ws), LogGroupArn: logGroup})
			return err
		}},
		{"DescribeLoggingConfiguration", wsARN, func() error {
			_, err := client.DescribeLoggingConfiguration(ctx, &amp.DescribeLoggingConfigurationInput{WorkspaceId: s(ws)})
			return err
		}},
		{"UpdateLoggingConfiguration", wsARN, func() error {
			_, err := client.UpdateLoggingConfiguration(ctx, &amp.UpdateLoggingConfigurationInput{WorkspaceId: s(ws), LogGroupArn: logGroup})
			return err
		}},
		{"DeleteLoggingConfiguration", wsARN, func() error {
			_, err := client.DeleteLoggingConfiguration(ctx, &amp.DeleteLoggingConfigurationInput{WorkspaceId: s(ws)})
			return err
		}},
		{"CreateQueryLoggingConfiguration", wsARN, func() error {
			_, err := client.CreateQueryLoggingConfiguration(ctx, &amp.CreateQueryLoggingConfigurationInput{WorkspaceId: s(ws), Destinations: destinations})
			return err
		}},
		{"DescribeQueryLoggingConfiguration", wsARN, func() error {
			_, err := client.DescribeQueryLoggingConfiguration(ctx, &amp.DescribeQueryLoggingConfigurationInput{WorkspaceId: s(ws)})
			return err
		}},
		{"UpdateQueryLoggingConfiguration", wsARN, func() error {
			_, err := client.UpdateQueryLoggingConfiguration(ctx, &amp.UpdateQueryLoggingConfigurationInput{WorkspaceId: s(ws), Destinations: destinations})
			return err
		}},
		{"DeleteQueryLoggingConfiguration", wsARN, func() error {
			_, err := client.DeleteQueryLoggingConfiguration(ctx, &amp.DeleteQueryLoggingConfigurationInput{WorkspaceId: s(ws)})
			return err
		}},
		{"PutResourcePolicy", wsARN, func() error {
			_, err := client.PutResourcePolicy(ctx, &amp.PutResourcePolicyInput{WorkspaceId: s(ws), PolicyDocument: s("{}")})
			return err
		}},
		{"DescribeResourcePolicy", wsARN, func() error {
			_, err := client.DescribeResourcePolicy(ctx, &amp.DescribeResourcePolicyInput{WorkspaceId: s(ws)})
			return err
		}},
		{"DeleteResourcePolicy", wsARN, func() error {
			_, err := client.DeleteResourcePolicy(ctx, &amp.DeleteResourcePolicyInput{WorkspaceId: s(ws)})
			return err
		}},
		{"CreateAnomalyDetector", wsARN, func() error {
			_, err := client.CreateAnomalyDetector(ctx, &amp.CreateAnomalyDetectorInput{WorkspaceId: s(ws), Alias: s("ad"), Configuration: detector})
			return err
		}},
		{"ListAnomalyDetectors", wsARN, func() error {
			_, err := client.ListAnomalyDetectors(ctx, &amp.ListAnomalyDetectorsInput{WorkspaceId: s(ws)})
			return err
		}},
		{"PutAnomalyDetector", "arn:aws:aps:us-east-1:111122223333:anomalydetector/" + ws + "/ad-1", func() error {
			_, err := client.PutAnomalyDetector(ctx, &amp.PutAnomalyDetectorInput{WorkspaceId: s(ws), AnomalyDetectorId: s("ad-1"), Configuration: detector})
			return err
		}},
		{"DescribeAnomalyDetector", "arn:aws:aps:us-east-1:111122223333:anomalydetector/" + ws + "/ad-1", func() error {
			_, err := client.DescribeAnomalyDetector(ctx, &amp.DescribeAnomalyDetectorInput{WorkspaceId: s(ws), AnomalyDetectorId: s("ad-1")})
			return err
		}},
		{"DeleteAnomalyDetector", "arn:aws:aps:us-east-1:111122223333:anomalydetector/" + ws + "/ad-1", func() error {
			_, err := client.DeleteAnomalyDetector(ctx, &amp.DeleteAnomalyDetectorInput{WorkspaceId: s(ws), AnomalyDetectorId: s("ad-1")})
			return err
		}},
		{"CreateScraper", "*", func() error {
			_, err := client.CreateScraper(ctx, &amp.CreateScraperInput{
				ScrapeConfiguration: &types.ScrapeConfigurationMemberConfigurationBlob{Value: []byte("scrape_configs: []")},
				Source:              &types.SourceMemberEksConfiguration{Value: types.EksConfiguration{ClusterArn: s("arn:aws:eks:us-east-1:111122223333:cluster/c"), SubnetIds: []string{"subnet-1"}}},
				Destination:         &types.DestinationMemberAmpConfiguration{Value: types.AmpConfiguration{WorkspaceArn: s(wsARN)}},
			})
			return err
		}},
		{"ListScrapers", "*", func() error { _, err := client.ListScrapers(ctx, &amp.ListScrapersInput{}); return err }},
		{"DescribeScraper", "arn:aws:aps:us-east-1:111122223333:scraper/s-1", func() error {
			_, err := client.DescribeScraper(ctx, &amp.DescribeScraperInput{ScraperId: s("s-1")})
			return err
		}},
		{"UpdateScraper", "arn:aws:aps:us-east-1:111122223333:scraper/s-1", func() error {
			_, err := client.UpdateScraper(ctx, &amp.UpdateScraperInput{ScraperId: s("s-1"), Alias: s("x")})
			return err
		}},
		{"DeleteScraper", "arn:aws:aps:us-east-1:111122223333:scraper/s-1", func() error {
			_, err := client.DeleteScraper(ctx, &amp.DeleteScraperInput{ScraperId: s("s-1")})
			return err
		}},
		{"DescribeScraperLoggingConfiguration", "arn:aws:aps:us-east-1:111122223333:scraper/s-1", func() error {
			_, err := client.DescribeScraperLoggingConfiguration(ctx, &amp.DescribeScraperLoggingConfigurationInput{ScraperId: s("s-1")})
			return err
		}},
		{"UpdateScraperLoggingConfiguration", "arn:aws:aps:us-east-1:111122223333:scraper/s-1", func() error {
			_, err := client.UpdateScraperLoggingConfiguration(ctx, &amp.UpdateScraperLoggingConfigurationInput{ScraperId: s("s-1"),
				LoggingDestination: &types.ScraperLoggingDestinationMemberCloudWatchLogs{Value: types.CloudWatchLogDestination{LogGroupArn: logGroup}}})
			return err
		}},
		{"DeleteScraperLoggingConfiguration", "arn:aws:aps:us-east-1:111122223333:scraper/s-1", func() error {
			_, err := client.DeleteScraperLoggingConfiguration(ctx, &amp.DeleteScraperLoggingConfigurationInput{ScraperId: s("s-1")})
			return err
		}},
		{"GetDefaultScraperConfiguration", "*", func() error {
			_, err := client.GetDefaultScraperConfiguration(ctx, &amp.GetDefaultScraperConfigurationInput{})
			return err
		}},
		{"TagResource", wsARN, func() error {
			_, err := client.TagResource(ctx, &amp.TagResourceInput{ResourceArn: s(wsARN), Tags: map[string]string{"team": "a b/c"}})
			return err
		}},
		{"UntagResource", "arn:aws:aps:us-east-1:111122223333:rulegroupsnamespace/" + ws + "/ns", func() error {
			_, err := client.UntagResource(ctx, &amp.UntagResourceInput{ResourceArn: s("arn:aws:aps:us-east-1:111122223333:rulegroupsnamespace/" + ws + "/ns"), TagKeys: []string{"team", "x y"}})
			return err
		}},
		{"ListTagsForResource", wsARN, func() error {
			_, err := client.ListTagsForResource(ctx, &amp.ListTagsForResourceInput{ResourceArn: s(wsARN)})
			return err
		}},
	}

	ops := map[string]bool{}
	for _, c := range calls {
		ops[c.op] = true
		t.Run(c.op, func(t *testing.T) {
			before := seen.count()
			if err := c.call(); err != nil {
				t.Fatalf("%s: %v", c.op, err)
			}
			if seen.count() != before+1 {
				t.Fatalf("the request did not reach the handler")
			}
			got := seen.last(t)
			if !got.opOK || got.op.Name != c.op || got.op.DataPlane {
				t.Fatalf("matched operation %+v, want %s", got.op, c.op)
			}
			rec.mu.Lock()
			last := rec.last
			rec.mu.Unlock()
			if want := (decision{"aps:" + c.op, c.resource}); last != want {
				t.Fatalf("authorized %+v, want %+v", last, want)
			}
		})
	}
	if len(ops) != 44 {
		t.Errorf("exercised %d distinct operations, want all 44", len(ops))
	}
	// The route table's control plane is exactly these 44 operations.
	var table []string
	for _, r := range auth.Routes() {
		if !r.DataPlane && !r.Extension {
			table = append(table, r.Operation)
		}
	}
	sort.Strings(table)
	var exercised []string
	for op := range ops {
		exercised = append(exercised, op)
	}
	sort.Strings(exercised)
	if strings.Join(table, ",") != strings.Join(exercised, ",") {
		t.Errorf("route table control plane:\n%v\nexercised:\n%v", table, exercised)
	}
}

// TestAMPClientSeesAMPErrors checks that the SDK decodes the middleware's
// refusals into its own error types.
func TestAMPClientSeesAMPErrors(t *testing.T) {
	store, _ := auth.NewStaticCredentials(testCredential())
	v, _ := auth.NewSigV4(auth.SigV4Options{Region: testRegion, Credentials: store})
	az := auth.NewPolicyAuthorizer()
	q, _ := auth.Preset(auth.PresetQueryAccess)
	az.Attach(testCredential().Principal().ARN, q)
	srv, _ := newServer(t, auth.MiddlewareOptions{Authenticator: v, Authorizer: az, Region: testRegion})
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()

	_, err := newAMPClient(srv.URL, testCredential(), srv.Client()).DescribeWorkspace(ctx, &amp.DescribeWorkspaceInput{WorkspaceId: aws.String("ws-1")})
	var denied *types.AccessDeniedException
	if !errors.As(err, &denied) {
		t.Fatalf("error %v is not an AccessDeniedException", err)
	}
	want := "User: arn:aws:iam::111122223333:user/alice is not authorized to perform: aps:DescribeWorkspace on resource: arn:aws:aps:us-east-1:111122223333:workspace/ws-1"
	if denied.ErrorMessage() != want {
		t.Fatalf("message %q, want %q", denied.ErrorMessage(), want)
	}

	wrong := testCredential()
	wrong.SecretAccessKey = "wrong"
	_, err = newAMPClient(srv.URL, wrong, srv.Client()).ListWorkspaces(ctx, &amp.ListWorkspacesInput{})
	if err == nil || !strings.Contains(err.Error(), "InvalidSignatureException") || !strings.Contains(err.Error(), "StatusCode: 403") {
		t.Fatalf("wrong secret: %v", err)
	}
}

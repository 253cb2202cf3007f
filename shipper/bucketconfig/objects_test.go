package bucketconfig_test

import (
	"context"
	"fmt"
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
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/stretchr/testify/require"
	"github.com/thanos-io/objstore"

	"github.com/promspace/promspace"
	"github.com/promspace/promspace/workspace"
)

const (
	restoredRules = `groups:
  - name: kept
    rules:
      - record: job:up:sum
        expr: sum by (job) (up)
`
	restoredDefinition = `alertmanager_config: |
  route:
    receiver: team
  receivers:
  - name: team
    webhook_configs:
    - url: http://127.0.0.1:1/hook
`
	restoredLogGroup = "arn:aws:logs:us-east-1:000000000000:log-group:/aws/vendedlogs/prometheus/kept:*"
	restoredScrape   = "global:\n  scrape_interval: 1h\nscrape_configs:\n  - job_name: kept\n    static_configs:\n      - targets: [\"127.0.0.1:1\"]\n"
)

// TestReplacementRestoresEverything creates one of everything a workspace
// owns through the AWS SDK's amp client, checks that each is in the bucket
// once acknowledged, stops, deletes the data directory, starts on the same
// bucket and finds each again: the workspace's record (alias, tags), its
// configuration (retention, label set limits), its metric metadata, its rule
// groups namespace, alert manager definition, logging and query logging
// configurations, resource policy, and a scraper with its logging
// configuration; on each kind of bucket.
func TestReplacementRestoresEverything(t *testing.T) {
	for _, c := range configs {
		t.Run(c.name, func(t *testing.T) {
			ctx := context.Background()
			bkt := open(t, c.conf(t))
			dataDir := t.TempDir()
			start := func() (*promspace.Service, *amp.Client) {
				t.Helper()
				s, err := promspace.New(ctx, promspace.Options{DataDir: dataDir, Bucket: bkt})
				require.NoError(t, err)
				srv := httptest.NewServer(s)
				t.Cleanup(func() { srv.Close(); s.Close() })
				return s, amp.New(amp.Options{
					Region: "us-east-1", BaseEndpoint: aws.String(srv.URL),
					Credentials: credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
				})
			}
			s, client := start()
			ws, err := client.CreateWorkspace(ctx, &amp.CreateWorkspaceInput{Alias: aws.String("kept"), Tags: map[string]string{"team": "obs"}})
			require.NoError(t, err)
			id := aws.ToString(ws.WorkspaceId)
			w, err := s.Registry().Get(ctx, id) // waits until ACTIVE
			require.NoError(t, err)
			w.Metadata().Set("kept_total", metadata.Metadata{Type: model.MetricTypeCounter, Help: "Kept things.", Unit: "things"})
			_, err = client.UpdateWorkspaceConfiguration(ctx, &amp.UpdateWorkspaceConfigurationInput{
				WorkspaceId: &id, RetentionPeriodInDays: aws.Int32(30),
				LimitsPerLabelSet: []types.LimitsPerLabelSet{{LabelSet: map[string]string{"job": "kept"}, Limits: &types.LimitsPerLabelSetEntry{MaxSeries: aws.Int64(100)}}},
			})
			require.NoError(t, err)
			_, err = client.CreateRuleGroupsNamespace(ctx, &amp.CreateRuleGroupsNamespaceInput{WorkspaceId: &id, Name: aws.String("ns"), Data: []byte(restoredRules)})
			require.NoError(t, err)
			_, err = client.CreateAlertManagerDefinition(ctx, &amp.CreateAlertManagerDefinitionInput{WorkspaceId: &id, Data: []byte(restoredDefinition)})
			require.NoError(t, err)
			_, err = client.CreateLoggingConfiguration(ctx, &amp.CreateLoggingConfigurationInput{WorkspaceId: &id, LogGroupArn: aws.String(restoredLogGroup)})
			require.NoError(t, err)
			_, err = client.CreateQueryLoggingConfiguration(ctx, &amp.CreateQueryLoggingConfigurationInput{WorkspaceId: &id, Destinations: []types.LoggingDestination{{
				CloudWatchLogs: &types.CloudWatchLogDestination{LogGroupArn: aws.String(restoredLogGroup)},
				Filters:        &types.LoggingFilter{QspThreshold: aws.Int64(7)},
			}}})
			require.NoError(t, err)
			policy := `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::444455556666:root"},"Action":["aps:QueryMetrics"],"Resource":"` + aws.ToString(ws.Arn) + `"}]}`
			_, err = client.PutResourcePolicy(ctx, &amp.PutResourcePolicyInput{WorkspaceId: &id, PolicyDocument: &policy, RevisionId: aws.String("NO_POLICY")})
			require.NoError(t, err)
			sc, err := client.CreateScraper(ctx, &amp.CreateScraperInput{
				Alias:               aws.String("kept"),
				ScrapeConfiguration: &types.ScrapeConfigurationMemberConfigurationBlob{Value: []byte(restoredScrape)},
				Source: &types.SourceMemberEksConfiguration{Value: types.EksConfiguration{
					ClusterArn: aws.String("arn:aws:eks:us-east-1:000000000000:cluster/kept"), SubnetIds: []string{"subnet-0123abcd"},
				}},
				Destination: &types.DestinationMemberAmpConfiguration{Value: types.AmpConfiguration{WorkspaceArn: ws.Arn}},
			})
			require.NoError(t, err)
			scraperID := aws.ToString(sc.ScraperId)
			require.NoError(t, amp.NewScraperActiveWaiter(client, func(o *amp.ScraperActiveWaiterOptions) {
				o.MinDelay, o.MaxDelay = 10*time.Millisecond, 50*time.Millisecond
			}).Wait(ctx, &amp.DescribeScraperInput{ScraperId: &scraperID}, 10*time.Second))
			_, err = client.UpdateScraperLoggingConfiguration(ctx, &amp.UpdateScraperLoggingConfigurationInput{
				ScraperId:          &scraperID,
				LoggingDestination: &types.ScraperLoggingDestinationMemberCloudWatchLogs{Value: types.CloudWatchLogDestination{LogGroupArn: aws.String(restoredLogGroup)}},
				ScraperComponents:  []types.ScraperComponent{{Type: types.ScraperComponentTypeCollector}},
			})
			require.NoError(t, err)

			// Each is in the bucket once acknowledged, before any
			// shutdown; the metric metadata is shipped by the shipper, at
			// its next sync or on close.
			prefix := "workspaces/" + id + "/"
			names := objectNames(t, bkt)
			for _, name := range []string{
				"workspaces/" + id + ".json", prefix + "rulegroupsnamespaces/", prefix + "alertmanager/definition.json",
				prefix + "logging/configuration.json", prefix + "logging/query.json", prefix + "resource-policy.json",
				"scrapers/" + scraperID,
			} {
				if !slices.ContainsFunc(names, func(n string) bool { return strings.HasPrefix(n, name) }) {
					t.Errorf("no object %s* in the bucket once acknowledged; it holds %q", name, names)
				}
			}

			want := describeAll(t, client, id, scraperID)
			require.NoError(t, s.Close())
			require.Contains(t, objectNames(t, bkt), prefix+workspace.MetadataFile, "the metric metadata is in the bucket after a graceful shutdown")
			require.NoError(t, os.RemoveAll(dataDir))

			s, client = start()
			got := describeAll(t, client, id, scraperID)
			require.Equal(t, want, got)
			w, err = s.Registry().Get(ctx, id)
			require.NoError(t, err)
			require.Equal(t, map[string][]metadata.Metadata{"kept_total": {{Type: model.MetricTypeCounter, Help: "Kept things.", Unit: "things"}}}, w.Metadata().List("kept_total", 0, 0))
		})
	}
}

// describeAll returns, as text, what AMP's Describe operations answer of
// the workspace id and the scraper, leaving out times and statuses that
// change on their own.
func describeAll(t *testing.T, c *amp.Client, id, scraperID string) map[string]any {
	t.Helper()
	ctx := context.Background()
	out := map[string]any{}
	dw, err := c.DescribeWorkspace(ctx, &amp.DescribeWorkspaceInput{WorkspaceId: &id})
	require.NoError(t, err)
	out["workspace"] = []any{aws.ToString(dw.Workspace.Alias), aws.ToString(dw.Workspace.Arn), dw.Workspace.Tags, dw.Workspace.Status.StatusCode}
	conf, err := c.DescribeWorkspaceConfiguration(ctx, &amp.DescribeWorkspaceConfigurationInput{WorkspaceId: &id})
	require.NoError(t, err)
	wc := conf.WorkspaceConfiguration
	var limits []string
	for _, l := range wc.LimitsPerLabelSet {
		limits = append(limits, fmt.Sprintf("%v=%d", l.LabelSet, aws.ToInt64(l.Limits.MaxSeries)))
	}
	out["configuration"] = []any{aws.ToInt32(wc.RetentionPeriodInDays), limits, wc.Status.StatusCode}
	ns, err := c.DescribeRuleGroupsNamespace(ctx, &amp.DescribeRuleGroupsNamespaceInput{WorkspaceId: &id, Name: aws.String("ns")})
	require.NoError(t, err)
	out["rules"] = []any{string(ns.RuleGroupsNamespace.Data), ns.RuleGroupsNamespace.Status.StatusCode}
	am, err := c.DescribeAlertManagerDefinition(ctx, &amp.DescribeAlertManagerDefinitionInput{WorkspaceId: &id})
	require.NoError(t, err)
	out["alertmanager"] = []any{string(am.AlertManagerDefinition.Data), am.AlertManagerDefinition.Status.StatusCode}
	lc, err := c.DescribeLoggingConfiguration(ctx, &amp.DescribeLoggingConfigurationInput{WorkspaceId: &id})
	require.NoError(t, err)
	out["logging"] = []any{aws.ToString(lc.LoggingConfiguration.LogGroupArn), lc.LoggingConfiguration.Status.StatusCode}
	qc, err := c.DescribeQueryLoggingConfiguration(ctx, &amp.DescribeQueryLoggingConfigurationInput{WorkspaceId: &id})
	require.NoError(t, err)
	d := qc.QueryLoggingConfiguration.Destinations[0]
	out["query logging"] = []any{aws.ToString(d.CloudWatchLogs.LogGroupArn), aws.ToInt64(d.Filters.QspThreshold), qc.QueryLoggingConfiguration.Status.StatusCode}
	rp, err := c.DescribeResourcePolicy(ctx, &amp.DescribeResourcePolicyInput{WorkspaceId: &id})
	require.NoError(t, err)
	out["policy"] = []any{aws.ToString(rp.PolicyDocument), aws.ToString(rp.RevisionId), rp.PolicyStatus}
	ds, err := c.DescribeScraper(ctx, &amp.DescribeScraperInput{ScraperId: &scraperID})
	require.NoError(t, err)
	sc := ds.Scraper
	out["scraper"] = []any{aws.ToString(sc.Alias), string(sc.ScrapeConfiguration.(*types.ScrapeConfigurationMemberConfigurationBlob).Value),
		aws.ToString(sc.Destination.(*types.DestinationMemberAmpConfiguration).Value.WorkspaceArn), sc.Status.StatusCode}
	sl, err := c.DescribeScraperLoggingConfiguration(ctx, &amp.DescribeScraperLoggingConfigurationInput{ScraperId: &scraperID})
	require.NoError(t, err)
	out["scraper logging"] = []any{aws.ToString(sl.LoggingDestination.(*types.ScraperLoggingDestinationMemberCloudWatchLogs).Value.LogGroupArn), sl.ScraperComponents[0].Type}
	return out
}

func objectNames(t *testing.T, bkt objstore.Bucket) []string {
	t.Helper()
	var names []string
	require.NoError(t, bkt.Iter(context.Background(), "", func(n string) error {
		names = append(names, n)
		return nil
	}, objstore.WithRecursiveIter()))
	return names
}

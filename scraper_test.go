package promspace_test

import (
	"context"
	"errors"
	"fmt"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/amp"
	"github.com/aws/aws-sdk-go-v2/service/amp/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"

	"github.com/promspace/promspace"
	"github.com/promspace/promspace/scraper"
)

// startForScrapers starts a service whose scrapers apply what discovery
// finds within milliseconds rather than Prometheus' 5 s.
func startForScrapers(t *testing.T) *harness {
	t.Helper()
	dir := t.TempDir()
	svc, err := promspace.New(context.Background(), promspace.Options{
		DataDir: dir,
		Scraper: scraper.Options{DiscoveryReloadInterval: 20 * time.Millisecond, DiscoveryUpdateInterval: 20 * time.Millisecond},
	})
	require.NoError(t, err)
	srv := httptest.NewServer(svc)
	h := &harness{t: t, dir: dir, svc: svc, srv: srv}
	h.amp = amp.New(amp.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	})
	t.Cleanup(h.stop)
	return h
}

// loopbackExporter serves a registry with one gauge through client_golang's
// handler.
func loopbackExporter(t *testing.T) string {
	t.Helper()
	reg := prometheus.NewRegistry()
	g := prometheus.NewGauge(prometheus.GaugeOpts{Name: "loopback_queue_depth", Help: "Items queued."})
	g.Set(42)
	reg.MustRegister(g)
	srv := httptest.NewServer(promhttp.HandlerFor(reg, promhttp.HandlerOpts{}))
	t.Cleanup(srv.Close)
	return strings.TrimPrefix(srv.URL, "http://")
}

func scraperWaiters(o *amp.ScraperActiveWaiterOptions) {
	o.MinDelay, o.MaxDelay = 10*time.Millisecond, 50*time.Millisecond
}

// TestScrapersThroughSDK runs every scraper operation and both waiters
// with the AWS SDK's amp client, and a scraper of a loopback exporter
// fills its workspace with data the query API answers.
func TestScrapersThroughSDK(t *testing.T) {
	h := startForScrapers(t)
	ctx := context.Background()
	wsID := h.createWorkspace("scraped")
	ws := h.describe(wsID)
	target := loopbackExporter(t)
	// Prometheus accepts any positive interval; the scrape timeout then
	// defaults to the interval.
	cfg := fmt.Sprintf("global:\n  scrape_interval: 100ms\n  external_labels:\n    clusterArn: local\nscrape_configs:\n  - job_name: loopback\n    static_configs:\n      - targets: [%q]\n", target)

	def, err := h.amp.GetDefaultScraperConfiguration(ctx, &amp.GetDefaultScraperConfigurationInput{})
	require.NoError(t, err)
	require.Contains(t, string(def.Configuration), "kubernetes_sd_configs")

	source := &types.SourceMemberEksConfiguration{Value: types.EksConfiguration{
		ClusterArn:       aws.String("arn:aws:eks:us-east-1:000000000000:cluster/local"),
		SubnetIds:        []string{"subnet-0123abcd", "subnet-4567ef01"},
		SecurityGroupIds: []string{"sg-0123abcd"},
	}}
	created, err := h.amp.CreateScraper(ctx, &amp.CreateScraperInput{
		Alias:               aws.String("loopback"),
		ScrapeConfiguration: &types.ScrapeConfigurationMemberConfigurationBlob{Value: []byte(cfg)},
		Source:              source,
		Destination:         &types.DestinationMemberAmpConfiguration{Value: types.AmpConfiguration{WorkspaceArn: ws.Arn}},
		Tags:                map[string]string{"team": "obs"},
	})
	require.NoError(t, err)
	require.Equal(t, types.ScraperStatusCodeCreating, created.Status.StatusCode)
	id := aws.ToString(created.ScraperId)
	require.True(t, strings.HasPrefix(id, "s-"))
	require.Equal(t, "arn:aws:aps:us-east-1:000000000000:scraper/"+id, aws.ToString(created.Arn))
	require.NoError(t, amp.NewScraperActiveWaiter(h.amp, scraperWaiters).Wait(ctx, &amp.DescribeScraperInput{ScraperId: &id}, 10*time.Second))

	desc, err := h.amp.DescribeScraper(ctx, &amp.DescribeScraperInput{ScraperId: &id})
	require.NoError(t, err)
	d := desc.Scraper
	require.Equal(t, types.ScraperStatusCodeActive, d.Status.StatusCode)
	require.Equal(t, "loopback", aws.ToString(d.Alias))
	require.Equal(t, []byte(cfg), d.ScrapeConfiguration.(*types.ScrapeConfigurationMemberConfigurationBlob).Value)
	require.Equal(t, source.Value.SubnetIds, d.Source.(*types.SourceMemberEksConfiguration).Value.SubnetIds)
	require.Equal(t, ws.Arn, d.Destination.(*types.DestinationMemberAmpConfiguration).Value.WorkspaceArn)
	require.Contains(t, aws.ToString(d.RoleArn), "AWSServiceRoleForAmazonPrometheusScraper")
	require.Equal(t, map[string]string{"team": "obs"}, d.Tags)
	require.WithinDuration(t, time.Now(), aws.ToTime(d.CreatedAt), time.Minute)

	// The exporter's gauge, with the job, the external label and the
	// scrape's own series, through the query API.
	q := h.queryAPI(wsID)
	deadline := time.Now().Add(8 * time.Second)
	for {
		v, _, _, err := q.Query(ctx, `loopback_queue_depth{job="loopback",clusterArn="local"}`, time.Now())
		require.NoError(t, err)
		if vec := v.(model.Vector); len(vec) == 1 {
			require.Equal(t, model.SampleValue(42), vec[0].Value)
			break
		}
		require.False(t, time.Now().After(deadline), "the scraper's samples did not arrive")
		time.Sleep(20 * time.Millisecond)
	}
	up, _, _, err := q.Query(ctx, `up{job="loopback"}`, time.Now())
	require.NoError(t, err)
	require.Len(t, up.(model.Vector), 1)

	// ListScrapers with AMP's filters: same key OR'd, different keys AND'd.
	for filters, want := range map[string]int{
		"status=ACTIVE":                            1,
		"status=ACTIVE,status=CREATING":            1,
		"status=CREATING":                          0,
		"alias=loopback,destinationArn=" + *ws.Arn: 1,
		"alias=other":                              0,
		"sourceArn=arn:aws:eks:us-east-1:000000000000:cluster/local": 1,
	} {
		f := map[string][]string{}
		for kv := range strings.SplitSeq(filters, ",") {
			k, v, _ := strings.Cut(kv, "=")
			f[k] = append(f[k], v)
		}
		out, err := h.amp.ListScrapers(ctx, &amp.ListScrapersInput{Filters: f})
		require.NoError(t, err, filters)
		require.Len(t, out.Scrapers, want, filters)
	}
	_, err = h.amp.ListScrapers(ctx, &amp.ListScrapersInput{Filters: map[string][]string{"color": {"blue"}}})
	var ve *types.ValidationException
	require.ErrorAs(t, err, &ve)

	// Tags on the scraper's ARN; the workspace's tags are still served.
	arn := created.Arn
	_, err = h.amp.TagResource(ctx, &amp.TagResourceInput{ResourceArn: arn, Tags: map[string]string{"env": "dev"}})
	require.NoError(t, err)
	_, err = h.amp.UntagResource(ctx, &amp.UntagResourceInput{ResourceArn: arn, TagKeys: []string{"team"}})
	require.NoError(t, err)
	tags, err := h.amp.ListTagsForResource(ctx, &amp.ListTagsForResourceInput{ResourceArn: arn})
	require.NoError(t, err)
	require.Equal(t, map[string]string{"env": "dev"}, tags.Tags)
	_, err = h.amp.ListTagsForResource(ctx, &amp.ListTagsForResourceInput{ResourceArn: ws.Arn})
	require.NoError(t, err)

	// Logging configuration.
	_, err = h.amp.DescribeScraperLoggingConfiguration(ctx, &amp.DescribeScraperLoggingConfigurationInput{ScraperId: &id})
	var nf *types.ResourceNotFoundException
	require.ErrorAs(t, err, &nf)
	logGroup := "arn:aws:logs:us-east-1:000000000000:log-group:/aws/prometheus/scrapers:*"
	ul, err := h.amp.UpdateScraperLoggingConfiguration(ctx, &amp.UpdateScraperLoggingConfigurationInput{
		ScraperId:          &id,
		LoggingDestination: &types.ScraperLoggingDestinationMemberCloudWatchLogs{Value: types.CloudWatchLogDestination{LogGroupArn: aws.String(logGroup)}},
		ScraperComponents:  []types.ScraperComponent{{Type: types.ScraperComponentTypeCollector}},
	})
	require.NoError(t, err)
	require.Equal(t, types.ScraperLoggingConfigurationStatusCodeActive, ul.Status.StatusCode)
	dl, err := h.amp.DescribeScraperLoggingConfiguration(ctx, &amp.DescribeScraperLoggingConfigurationInput{ScraperId: &id})
	require.NoError(t, err)
	require.Equal(t, logGroup, aws.ToString(dl.LoggingDestination.(*types.ScraperLoggingDestinationMemberCloudWatchLogs).Value.LogGroupArn))
	require.Equal(t, types.ScraperComponentTypeCollector, dl.ScraperComponents[0].Type)
	_, err = h.amp.UpdateScraperLoggingConfiguration(ctx, &amp.UpdateScraperLoggingConfigurationInput{
		ScraperId:          &id,
		LoggingDestination: &types.ScraperLoggingDestinationMemberCloudWatchLogs{Value: types.CloudWatchLogDestination{LogGroupArn: aws.String("log-group")}},
	})
	require.ErrorAs(t, err, &ve)
	_, err = h.amp.DeleteScraperLoggingConfiguration(ctx, &amp.DeleteScraperLoggingConfigurationInput{ScraperId: &id})
	require.NoError(t, err)

	// UpdateScraper: a configuration Prometheus refuses is a
	// ValidationException; a good one makes it UPDATING, then ACTIVE.
	_, err = h.amp.UpdateScraper(ctx, &amp.UpdateScraperInput{ScraperId: &id,
		ScrapeConfiguration: &types.ScrapeConfigurationMemberConfigurationBlob{Value: []byte("scrape_configs: [{job_name: a, bogus: 1}]")}})
	require.ErrorAs(t, err, &ve)
	upd, err := h.amp.UpdateScraper(ctx, &amp.UpdateScraperInput{ScraperId: &id, Alias: aws.String("renamed"),
		ScrapeConfiguration: &types.ScrapeConfigurationMemberConfigurationBlob{Value: []byte(strings.Replace(cfg, "100ms", "200ms", 1))}})
	require.NoError(t, err)
	require.Equal(t, types.ScraperStatusCodeUpdating, upd.Status.StatusCode)
	require.NoError(t, amp.NewScraperActiveWaiter(h.amp, scraperWaiters).Wait(ctx, &amp.DescribeScraperInput{ScraperId: &id}, 10*time.Second))

	// Errors: a scraper that does not exist, a destination that does not.
	_, err = h.amp.DescribeScraper(ctx, &amp.DescribeScraperInput{ScraperId: aws.String("s-00000000-0000-0000-0000-000000000000")})
	require.ErrorAs(t, err, &nf)
	_, err = h.amp.CreateScraper(ctx, &amp.CreateScraperInput{
		ScrapeConfiguration: &types.ScrapeConfigurationMemberConfigurationBlob{Value: []byte(cfg)},
		Source:              source,
		Destination:         &types.DestinationMemberAmpConfiguration{Value: types.AmpConfiguration{WorkspaceArn: aws.String("arn:aws:aps:us-east-1:000000000000:workspace/ws-gone")}},
	})
	require.ErrorAs(t, err, &nf)
	require.Equal(t, "Workspace", aws.ToString(nf.ResourceType))

	// DeleteScraper and the ScraperDeleted waiter.
	del, err := h.amp.DeleteScraper(ctx, &amp.DeleteScraperInput{ScraperId: &id})
	require.NoError(t, err)
	require.Equal(t, types.ScraperStatusCodeDeleting, del.Status.StatusCode)
	require.NoError(t, amp.NewScraperDeletedWaiter(h.amp, func(o *amp.ScraperDeletedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 50*time.Millisecond
	}).Wait(ctx, &amp.DescribeScraperInput{ScraperId: &id}, 10*time.Second))
	out, err := h.amp.ListScrapers(ctx, &amp.ListScrapersInput{})
	require.NoError(t, err)
	require.Empty(t, out.Scrapers)
}

// TestScrapersPagination: ListScrapers pages with maxResults and
// nextToken, and the scrapers come back after a restart.
func TestScrapersPagination(t *testing.T) {
	h := startForScrapers(t)
	ctx := context.Background()
	ws := h.describe(h.createWorkspace("paged"))
	var ids []string
	for i := range 3 {
		out, err := h.amp.CreateScraper(ctx, &amp.CreateScraperInput{
			Alias:               aws.String(fmt.Sprintf("s%d", i)),
			ScrapeConfiguration: &types.ScrapeConfigurationMemberConfigurationBlob{Value: []byte("scrape_configs: []\n")},
			Source: &types.SourceMemberEksConfiguration{Value: types.EksConfiguration{
				ClusterArn: aws.String("arn:aws:eks:us-east-1:000000000000:cluster/c"), SubnetIds: []string{"subnet-1"},
			}},
			Destination: &types.DestinationMemberAmpConfiguration{Value: types.AmpConfiguration{WorkspaceArn: ws.Arn}},
		})
		require.NoError(t, err)
		ids = append(ids, aws.ToString(out.ScraperId))
	}
	var got []string
	p := amp.NewListScrapersPaginator(h.amp, &amp.ListScrapersInput{MaxResults: aws.Int32(2)})
	for p.HasMorePages() {
		page, err := p.NextPage(ctx)
		require.NoError(t, err)
		require.LessOrEqual(t, len(page.Scrapers), 2)
		for _, s := range page.Scrapers {
			got = append(got, aws.ToString(s.ScraperId))
		}
	}
	require.ElementsMatch(t, ids, got)

	h.stop()
	h2 := startForScrapersIn(t, h.dir)
	out, err := h2.amp.ListScrapers(ctx, &amp.ListScrapersInput{})
	require.NoError(t, err)
	require.Len(t, out.Scrapers, 3)
	err = amp.NewScraperActiveWaiter(h2.amp, scraperWaiters).Wait(ctx, &amp.DescribeScraperInput{ScraperId: &ids[0]}, 10*time.Second)
	require.NoError(t, err)
	var nf *types.ResourceNotFoundException
	_, err = h2.amp.DescribeScraper(ctx, &amp.DescribeScraperInput{ScraperId: aws.String("s-none")})
	require.True(t, errors.As(err, &nf))
}

// startForScrapersIn starts the service again on dir.
func startForScrapersIn(t *testing.T, dir string) *harness {
	t.Helper()
	svc, err := promspace.New(context.Background(), promspace.Options{DataDir: dir})
	require.NoError(t, err)
	srv := httptest.NewServer(svc)
	h := &harness{t: t, dir: dir, svc: svc, srv: srv}
	h.amp = amp.New(amp.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	})
	t.Cleanup(h.stop)
	return h
}

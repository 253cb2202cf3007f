package promspace_test

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/amp"
	"github.com/aws/aws-sdk-go-v2/service/amp/types"
	"github.com/golang/snappy"
	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	config_util "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage/remote"
)

// TestQueryLoggingConfiguration runs every query logging configuration
// operation with the amp client, and checks that queries over the
// threshold are logged with their expression, samples processed and
// duration.
func TestQueryLoggingConfiguration(t *testing.T) {
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
	dest := func(arn string, threshold int64) []types.LoggingDestination {
		return []types.LoggingDestination{{
			CloudWatchLogs: &types.CloudWatchLogDestination{LogGroupArn: aws.String(arn)},
			Filters:        &types.LoggingFilter{QspThreshold: aws.Int64(threshold)},
		}}
	}
	query := func(expr string) {
		t.Helper()
		resp, err := http.Get(h.srv.URL + "/workspaces/" + id + "/api/v1/query_range?query=" + expr + "&start=0&end=600&step=60")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != 200 {
			t.Fatalf("query %s: %d", expr, resp.StatusCode)
		}
	}

	var nf *types.ResourceNotFoundException
	if _, err := h.amp.DescribeQueryLoggingConfiguration(ctx, &amp.DescribeQueryLoggingConfigurationInput{WorkspaceId: &id}); !errors.As(err, &nf) {
		t.Fatalf("describe before create: %v", err)
	}
	var ve *types.ValidationException
	if _, err := h.amp.CreateQueryLoggingConfiguration(ctx, &amp.CreateQueryLoggingConfigurationInput{
		WorkspaceId: &id, Destinations: append(dest(logGroupA, 1), dest(logGroupB, 1)...)}); !errors.As(err, &ve) {
		t.Fatalf("two destinations: %v", err)
	}
	if _, err := h.amp.CreateQueryLoggingConfiguration(ctx, &amp.CreateQueryLoggingConfigurationInput{
		WorkspaceId: &id, Destinations: dest("arn:aws:logs:us-east-1:111122223333:log-group:x", 1)}); !errors.As(err, &ve) {
		t.Fatalf("a bad log group: %v", err)
	}
	out, err := h.amp.CreateQueryLoggingConfiguration(ctx, &amp.CreateQueryLoggingConfigurationInput{WorkspaceId: &id, Destinations: dest(logGroupA, 5)})
	if err != nil {
		t.Fatal(err)
	}
	if out.Status.StatusCode != types.QueryLoggingConfigurationStatusCodeCreating {
		t.Errorf("create answered %s", out.Status.StatusCode)
	}
	var conflict *types.ConflictException
	if _, err := h.amp.CreateQueryLoggingConfiguration(ctx, &amp.CreateQueryLoggingConfigurationInput{WorkspaceId: &id, Destinations: dest(logGroupA, 5)}); !errors.As(err, &conflict) {
		t.Fatalf("second create: %v", err)
	}
	desc, err := h.amp.DescribeQueryLoggingConfiguration(ctx, &amp.DescribeQueryLoggingConfigurationInput{WorkspaceId: &id})
	if err != nil {
		t.Fatal(err)
	}
	qc := desc.QueryLoggingConfiguration
	if qc.Status.StatusCode != types.QueryLoggingConfigurationStatusCodeActive || aws.ToString(qc.Workspace) != id || len(qc.Destinations) != 1 ||
		aws.ToString(qc.Destinations[0].CloudWatchLogs.LogGroupArn) != logGroupA || aws.ToInt64(qc.Destinations[0].Filters.QspThreshold) != 5 {
		t.Fatalf("described %+v", qc)
	}

	// Ten samples of one series: a range query over them processes more
	// samples than the threshold, one that selects nothing processes none.
	u, _ := url.Parse(h.srv.URL + "/workspaces/" + id + "/api/v1/remote_write")
	wc, err := remote.NewWriteClient("test", &remote.ClientConfig{URL: &config_util.URL{URL: u},
		Timeout: model.Duration(10 * time.Second), WriteProtoMsg: remoteapi.WriteV1MessageType})
	if err != nil {
		t.Fatal(err)
	}
	var samples []prompb.Sample
	for i := range 10 {
		samples = append(samples, prompb.Sample{Timestamp: int64(i) * 60_000, Value: float64(i)})
	}
	ts := series(0, 0, "__name__", "up", "job", "a")
	ts.Samples = samples
	raw, _ := (&prompb.WriteRequest{Timeseries: []prompb.TimeSeries{ts}}).Marshal()
	if _, err := wc.Store(ctx, snappy.Encode(nil, raw), 0); err != nil {
		t.Fatal(err)
	}
	query("up")
	query("absent_metric")
	recs := readRecords(t, dir, logGroupA)
	if len(recs) != 1 {
		t.Fatalf("%d records, want 1: %+v", len(recs), recs)
	}
	r := recs[0]
	if r.Component != "query" || r.WorkspaceID != id || r.Message["query"] != "up" || r.Message["queryType"] != "range" {
		t.Fatalf("record %+v", r)
	}
	if qsp, _ := r.Message["samplesProcessed"].(float64); qsp <= 5 {
		t.Errorf("samplesProcessed %v", r.Message["samplesProcessed"])
	}
	if _, ok := r.Message["durationMs"].(float64); !ok {
		t.Errorf("durationMs %v", r.Message["durationMs"])
	}

	// A higher threshold logs nothing more.
	up, err := h.amp.UpdateQueryLoggingConfiguration(ctx, &amp.UpdateQueryLoggingConfigurationInput{WorkspaceId: &id, Destinations: dest(logGroupA, 1_000_000)})
	if err != nil {
		t.Fatal(err)
	}
	if up.Status.StatusCode != types.QueryLoggingConfigurationStatusCodeUpdating {
		t.Errorf("update answered %s", up.Status.StatusCode)
	}
	query("up")
	if n := len(readRecords(t, dir, logGroupA)); n != 1 {
		t.Fatalf("%d records after raising the threshold", n)
	}
	if _, err := h.amp.DeleteQueryLoggingConfiguration(ctx, &amp.DeleteQueryLoggingConfigurationInput{WorkspaceId: &id}); err != nil {
		t.Fatal(err)
	}
	if _, err := h.amp.DescribeQueryLoggingConfiguration(ctx, &amp.DescribeQueryLoggingConfigurationInput{WorkspaceId: &id}); !errors.As(err, &nf) {
		t.Fatalf("describe after delete: %v", err)
	}
	if _, err := h.amp.DeleteQueryLoggingConfiguration(ctx, &amp.DeleteQueryLoggingConfigurationInput{WorkspaceId: &id}); !errors.As(err, &nf) {
		t.Fatalf("second delete: %v", err)
	}
}

package workspace

import (
	"context"
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/amp"
	"github.com/aws/aws-sdk-go-v2/service/amp/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
)

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

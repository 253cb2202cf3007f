package promspace_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/amp"
	"github.com/aws/aws-sdk-go-v2/service/amp/types"
	"github.com/golang/snappy"
	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/prompb"

	"github.com/promspace/promspace"
	"github.com/promspace/promspace/quota"
)

// TestLabelSetLimitThroughSDK: a label-set limit set with the AWS SDK's
// UpdateWorkspaceConfiguration, as AMP takes it, throttles the running
// workspace's series of that label set only: a write of more answers 400
// with AMP's text naming the first series refused and how many more were,
// every other series is stored, and /limits shows the label set at its
// limit.
func TestLabelSetLimitThroughSDK(t *testing.T) {
	h, _ := startWith(t, promspace.Options{})
	id := h.createWorkspace("labelsets")
	ctx := context.Background()
	if _, err := h.amp.UpdateWorkspaceConfiguration(ctx, &amp.UpdateWorkspaceConfigurationInput{
		WorkspaceId: aws.String(id),
		LimitsPerLabelSet: []types.LimitsPerLabelSet{{
			LabelSet: map[string]string{"job": "api"},
			Limits:   &types.LimitsPerLabelSetEntry{MaxSeries: aws.Int64(2)},
		}},
	}); err != nil {
		t.Fatal(err)
	}

	now := time.Now().UnixMilli()
	var wr prompb.WriteRequest
	for i := range 4 {
		for _, job := range []string{"api", "web"} {
			wr.Timeseries = append(wr.Timeseries, series(now, 1, "__name__", "up", "job", job, "i", fmt.Sprint(i)))
		}
	}
	raw, err := wr.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	_, err = h.writeClient(id, remoteapi.WriteV1MessageType).Store(ctx, snappy.Encode(nil, raw), 0)
	want := `per-labelset series limit of 2 exceeded (labelSet: {job="api"}) (series: {__name__="up", i="2", job="api"}, and 1 more series)`
	if err == nil || !strings.Contains(err.Error(), "400") || !strings.Contains(err.Error(), want) {
		t.Errorf("write of 4 job=api series: %v, want 400 %s", err, want)
	}

	v, _, _, err := h.queryAPI(id).Query(ctx, `count by (job) (up)`, time.UnixMilli(now))
	if err != nil {
		t.Fatal(err)
	}
	got := map[string]float64{}
	for _, s := range v.(model.Vector) {
		got[string(s.Metric["job"])] = float64(s.Value)
	}
	if got["api"] != 2 || got["web"] != 4 || len(got) != 2 {
		t.Errorf("stored series by job %v, want 2 of api and 4 of web", got)
	}

	var view quota.View
	if code := getJSON(t, nil, h.srv.URL+"/workspaces/"+id+"/limits", &view); code != 200 {
		t.Fatalf("/limits: %d", code)
	}
	if len(view.LabelSets) != 1 || view.LabelSets[0].LabelSet["job"] != "api" ||
		*view.LabelSets[0].Limit != 2 || *view.LabelSets[0].Usage != 2 {
		t.Errorf("labelSets %+v, want job=api at its limit of 2", view.LabelSets)
	}
}

package promspace_test

import (
	"context"
	"strings"
	"testing"

	"github.com/promspace/promspace"
	"github.com/promspace/promspace/dedupe"
	"github.com/promspace/promspace/quota"
	"github.com/promspace/promspace/workspace"
)

// TestHAClusterLimitOverride: a quota override of one workspace's HA
// cluster limit is the limit its HA tracker enforces, and a change of it
// applies to the running workspace on the next configuration update; the
// request refused is counted as discarded by Cortex's reason, and /limits
// shows the tracker's limit and the clusters it follows.
func TestHAClusterLimitOverride(t *testing.T) {
	o := &liveOverrides{l: quota.DefaultLimits()}
	o.l.MaxHAClusters = 2
	clk := haStart()
	n := startHANode(t, promspace.Options{Quota: quota.Options{Overrides: o.get}, Dedupe: dedupe.Options{Now: clk.Now}})
	r := newHAReplica(t, n, "client", false) // the series carry their labels
	send := func(cluster string) (int, error) {
		t.Helper()
		err := r.send(clk.Now(), 1, []string{"__name__", "up", "cluster", cluster, "__replica__", "r1"})
		return n.lastStatus("client"), err
	}
	for _, c := range []string{"c1", "c2"} {
		if code, err := send(c); code != 204 {
			t.Fatalf("cluster %s: %d %v", c, code, err)
		}
	}
	code, err := send("c3")
	if code != 400 || err == nil || !strings.Contains(err.Error(), "too many HA clusters (limit: 2)") {
		t.Errorf("3rd cluster with a limit of 2: %d %v", code, err)
	}
	if got, ok := metricValue(t, n.reg, "promspace_ingest_discarded_samples_total", n.ws); !ok || got != 1 {
		t.Errorf("discarded samples %v (%v), want the one of c3", got, ok)
	}

	o.set(func(l *quota.Limits) { l.MaxHAClusters = 3 })
	if _, err := n.svc.Registry().UpdateConfiguration(context.Background(), workspace.UpdateConfigurationInput{
		ID: n.ws, RetentionPeriodInDays: new(150),
	}); err != nil {
		t.Fatal(err)
	}
	if code, err := send("c3"); code != 204 {
		t.Errorf("3rd cluster with the limit raised to 3: %d %v", code, err)
	}
	if code, err := send("c4"); code != 400 || !strings.Contains(err.Error(), "too many HA clusters (limit: 3)") {
		t.Errorf("4th cluster with a limit of 3: %d %v", code, err)
	}

	var view quota.View
	if code := getJSON(t, nil, n.url+"/workspaces/"+n.ws+"/limits", &view); code != 200 {
		t.Fatalf("/limits: %d", code)
	}
	if l := view.Limits.HAClusters; l.Limit == nil || *l.Limit != 3 || l.Usage == nil || *l.Usage != 3 {
		t.Errorf("haClusters %+v, want limit 3 and usage 3", l)
	}
	if got := view.Usage.SamplesDiscarded[dedupe.ReasonTooManyClusters]; got != 2 {
		t.Errorf("samplesDiscarded %v, want 2 %s", view.Usage.SamplesDiscarded, dedupe.ReasonTooManyClusters)
	}
}

package dedupe_test

import (
	"context"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/promspace/promspace/dedupe"
	"github.com/promspace/promspace/ingest"
	"github.com/promspace/promspace/workspace"
)

func TestOptions(t *testing.T) {
	for _, c := range []struct {
		name    string
		opts    dedupe.Options
		wantErr bool
	}{
		{"zero", dedupe.Options{}, false},
		{"defaults", dedupe.DefaultOptions(), false},
		{"own labels", dedupe.Options{ClusterLabel: "ha_cluster", ReplicaLabel: "ha_replica"}, false},
		{"same labels", dedupe.Options{ClusterLabel: "x", ReplicaLabel: "x"}, true},
		{"replica label is the default cluster label", dedupe.Options{ReplicaLabel: "cluster"}, true},
		{"invalid label", dedupe.Options{ClusterLabel: "\xff"}, true},
		{"update not before failover", dedupe.Options{UpdateTimeout: 30 * time.Second}, true},
		{"short failover", dedupe.Options{FailoverTimeout: 10 * time.Second, UpdateTimeout: 5 * time.Second}, false},
		{"failover below the default update", dedupe.Options{FailoverTimeout: 10 * time.Second}, true},
	} {
		t.Run(c.name, func(t *testing.T) {
			ts, err := dedupe.New(c.opts)
			if (err != nil) != c.wantErr {
				t.Fatalf("New: %v, want error %v", err, c.wantErr)
			}
			if err == nil && ts.KV() == nil {
				t.Error("no KV")
			}
		})
	}
}

func TestComponent(t *testing.T) {
	ctx := context.Background()
	kv := dedupe.NewMemoryKV()
	ts, err := dedupe.New(dedupe.Options{KV: kv})
	if err != nil {
		t.Fatal(err)
	}
	if ts.KV() != kv {
		t.Error("KV() is not the KV given")
	}
	r, err := workspace.Open(ctx, workspace.Options{DataDir: t.TempDir(), Components: []workspace.Component{ts.Component()}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	w, err := r.Create(ctx, workspace.CreateInput{Alias: "ha"})
	if err != nil {
		t.Fatal(err)
	}
	if w, err = r.Get(ctx, w.ID()); err != nil {
		t.Fatal(err)
	}
	tr, ok := workspace.InstanceOf[*dedupe.Tracker](w, dedupe.ComponentName)
	if !ok {
		t.Fatal("no *dedupe.Tracker for an open workspace")
	}

	lset := labels.FromStrings("__name__", "up", "cluster", "c", "__replica__", "b")
	req := &ingest.Request{Series: []ingest.Series{{Labels: lset, Samples: []ingest.Sample{{Timestamp: 1, Value: 1}}}}}
	if err := tr.Process(ctx, ingest.Target{ID: w.ID()}, req); err != nil {
		t.Errorf("Process: %v", err)
	}
	if want := labels.FromStrings("__name__", "up", "cluster", "c"); len(req.Series) != 1 || !labels.Equal(req.Series[0].Labels, want) {
		t.Errorf("Process left %v, want %v", req.Series, want)
	}
	if es, _ := kv.List(ctx, w.ID()+"/"); len(es) != 1 || es[0].Key != w.ID()+"/c" || es[0].Leader.Replica != "b" {
		t.Errorf("KV holds %+v, want the election of b in the workspace's cluster c", es)
	}

	if _, err := r.UpdateConfiguration(ctx, workspace.UpdateConfigurationInput{ID: w.ID(), RetentionPeriodInDays: new(3)}); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if w.Instance(dedupe.ComponentName) != nil {
		t.Error("instance kept after close")
	}
}

func TestOverrides(t *testing.T) {
	ts, err := dedupe.New(dedupe.Options{
		MaxClusters: 7,
		Overrides: func(id string) (dedupe.WorkspaceOptions, bool) {
			switch id {
			case "own":
				return dedupe.WorkspaceOptions{ClusterLabel: "ha_cluster", ReplicaLabel: "ha_replica", FailoverTimeout: time.Minute}, true
			case "bad":
				return dedupe.WorkspaceOptions{UpdateTimeout: time.Hour}, true
			}
			return dedupe.WorkspaceOptions{MaxClusters: 99}, false
		},
	})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		id      string
		want    dedupe.WorkspaceOptions
		wantErr bool
	}{
		{"other", dedupe.WorkspaceOptions{ClusterLabel: "cluster", ReplicaLabel: "__replica__", FailoverTimeout: 30 * time.Second, UpdateTimeout: 15 * time.Second, MaxClusters: 7}, false},
		{"own", dedupe.WorkspaceOptions{ClusterLabel: "ha_cluster", ReplicaLabel: "ha_replica", FailoverTimeout: time.Minute, UpdateTimeout: 15 * time.Second, MaxClusters: 7}, false},
		{"bad", dedupe.WorkspaceOptions{}, true},
	} {
		tr, err := ts.Open(c.id)
		if (err != nil) != c.wantErr {
			t.Errorf("Open(%s): %v, want error %v", c.id, err, c.wantErr)
			continue
		}
		if err == nil && tr.Options() != c.want {
			t.Errorf("Open(%s) options %+v, want %+v", c.id, tr.Options(), c.want)
		}
	}

	// The labels of a workspace are its own: ha_replica is stripped, and
	// __replica__ is ordinary data.
	tr, _ := ts.Open("own")
	req := &ingest.Request{Series: []ingest.Series{
		series(1, "__name__", "up", "ha_cluster", "a", "ha_replica", "1", "__replica__", "x"),
	}}
	if err := tr.Process(context.Background(), ingest.Target{}, req); err != nil {
		t.Fatal(err)
	}
	if got, want := req.Series[0].Labels, labels.FromStrings("__name__", "up", "__replica__", "x", "ha_cluster", "a"); !labels.Equal(got, want) {
		t.Errorf("labels %v, want %v", got, want)
	}
}

// TestRequestLabels: the first series decides for the whole request; a
// series with one of the two labels only is ordinary data.
func TestRequestLabels(t *testing.T) {
	ha := func(c, r string) ingest.Series {
		return series(1, "__name__", "up", "cluster", c, "__replica__", r, "job", "j")
	}
	for _, c := range []struct {
		name   string
		series []ingest.Series
		status int
		want   []string
	}{
		{"leader", []ingest.Series{ha("c1", "r1"), ha("c1", "r1")}, 204,
			[]string{`{__name__="up", cluster="c1", job="j"}`, `{__name__="up", cluster="c1", job="j"}`}},
		{"non-leader", []ingest.Series{ha("c1", "r2")}, 202, nil},
		{"non-leader first, leader after", []ingest.Series{ha("c1", "r2"), ha("c1", "r1")}, 202, nil},
		{"leader first, other clusters and replicas after", []ingest.Series{ha("c1", "r1"), ha("c2", "r9"), series(1, "__name__", "x", "__replica__", "r2")}, 204,
			[]string{`{__name__="up", cluster="c1", job="j"}`, `{__name__="up", cluster="c2", job="j"}`, `{__name__="x"}`}},
		{"cluster only", []ingest.Series{series(1, "__name__", "up", "cluster", "c1"), ha("c1", "r2")}, 204,
			[]string{`{__name__="up", cluster="c1"}`, `{__name__="up", __replica__="r2", cluster="c1", job="j"}`}},
		{"replica only", []ingest.Series{series(1, "__name__", "up", "__replica__", "r2"), ha("c1", "r2")}, 204,
			[]string{`{__name__="up", __replica__="r2"}`, `{__name__="up", __replica__="r2", cluster="c1", job="j"}`}},
		{"neither", []ingest.Series{series(1, "__name__", "up")}, 204, []string{`{__name__="up"}`}},
		{"empty", nil, 204, nil},
	} {
		t.Run(c.name, func(t *testing.T) {
			n := newNode(t, "ws", dedupe.Options{Now: newClock().Now})
			if got := n.send(t, "c1", "r1"); got != 204 {
				t.Fatalf("electing r1: %d", got)
			}
			req := &ingest.Request{Series: c.series}
			err := n.Process(context.Background(), ingest.Target{}, req)
			if got := status(t, err); got != c.status {
				t.Fatalf("status %d (%v), want %d", got, err, c.status)
			}
			if c.status == 202 {
				if want := "replicas did not match, rejecting sample: replica=r2, elected=r1"; err.Error() != want {
					t.Errorf("error %q, want %q", err, want)
				}
				return
			}
			if got := labelsOf(req); !slices.Equal(got, c.want) {
				t.Errorf("series %q, want %q", got, c.want)
			}
			for _, s := range req.Series {
				if !sortedAndValid(s.Labels) {
					t.Errorf("labels %v not sorted and valid", s.Labels)
				}
			}
		})
	}
}

// sortedAndValid reports whether ls is as a stage must leave it.
func sortedAndValid(ls labels.Labels) bool {
	var names []string
	ls.Range(func(l labels.Label) { names = append(names, l.Name) })
	_, dup := ls.HasDuplicateLabelNames()
	return slices.IsSorted(names) && !dup && ls.Get("__name__") != ""
}

// TestSetMaxClusters: a limit set on the running tracker applies to the
// next new cluster, raised or lowered, 0 being none; unset, the options'
// limit is back; a limit of the workspace's own Overrides wins.
func TestSetMaxClusters(t *testing.T) {
	clk := newClock()
	n := newNode(t, "ws", dedupe.Options{Now: clk.Now, MaxClusters: 2})
	refused := func(c string, limit int) {
		t.Helper()
		req := &ingest.Request{Series: []ingest.Series{series(1, "__name__", "up", "cluster", c, "__replica__", "r1")}}
		err := n.Process(context.Background(), ingest.Target{}, req)
		if want := fmt.Sprintf("too many HA clusters (limit: %d)", limit); status(t, err) != 400 || err.Error() != want {
			t.Errorf("cluster %s: %v, want 400 %s", c, err, want)
		}
	}
	accepted := func(c string) {
		t.Helper()
		if got := n.send(t, c, "r1"); got != 204 {
			t.Errorf("cluster %s: %d, want 204", c, got)
		}
	}
	accepted("c1")
	accepted("c2")
	refused("c3", 2)

	n.SetMaxClusters(3, true)
	accepted("c3") // at once, although c3 was just refused
	refused("c4", 3)
	if got := n.Options().MaxClusters; got != 3 {
		t.Errorf("Options().MaxClusters %d, want 3", got)
	}
	n.SetMaxClusters(0, true)
	accepted("c4")
	if got := n.Options().MaxClusters; got != math.MaxInt {
		t.Errorf("Options().MaxClusters %d without a limit, want math.MaxInt", got)
	}
	n.SetMaxClusters(7, false)
	refused("c5", 2)
	accepted("c1") // followed already
	if got := n.Clusters(); got != 4 {
		t.Errorf("%d clusters followed, want 4", got)
	}

	own := newNode(t, "own", dedupe.Options{Now: clk.Now, Overrides: func(string) (dedupe.WorkspaceOptions, bool) {
		return dedupe.WorkspaceOptions{MaxClusters: 1}, true
	}})
	own.SetMaxClusters(10, true)
	if own.send(t, "c1", "r1") != 204 || own.send(t, "c2", "r1") != 400 {
		t.Error("the workspace's own MaxClusters 1 did not win over SetMaxClusters(10)")
	}
}

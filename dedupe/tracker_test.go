package dedupe_test

import (
	"context"
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

	// Not built yet: everything passes, as without a tracker.
	lset := labels.FromStrings("__name__", "up", "cluster", "c", "__replica__", "b")
	req := &ingest.Request{Series: []ingest.Series{{Labels: lset, Samples: []ingest.Sample{{Timestamp: 1, Value: 1}}}}}
	if err := tr.Process(ctx, ingest.Target{ID: w.ID()}, req); err != nil {
		t.Errorf("Process: %v", err)
	}
	if len(req.Series) != 1 || !labels.Equal(req.Series[0].Labels, lset) {
		t.Errorf("Process changed the request: %v", req.Series)
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

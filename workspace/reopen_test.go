package workspace

import (
	"context"
	"errors"
	"os"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
)

func TestReopenKeepsEverything(t *testing.T) {
	dir := t.TempDir()
	reg := prometheus.NewRegistry()
	opts := testOptions(t, dir)
	opts.Registerer = reg
	ctx := context.Background()

	r, err := Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	w, err := r.Create(ctx, CreateInput{Alias: "prod", ClientToken: "tok", Tags: map[string]string{"env": "prod"}})
	if err != nil {
		t.Fatal(err)
	}
	gone, err := r.Create(ctx, CreateInput{Alias: "gone"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Get(ctx, w.ID()); err != nil {
		t.Fatal(err)
	}
	if err := r.UpdateAlias(ctx, UpdateAliasInput{ID: w.ID(), Alias: "production"}); err != nil {
		t.Fatal(err)
	}
	if err := r.TagResource(ctx, w.ARN(), map[string]string{"team": "obs"}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.UpdateConfiguration(ctx, UpdateConfigurationInput{
		ID: w.ID(), RetentionPeriodInDays: new(7), OutOfOrderTimeWindowInSeconds: new(300),
		LimitsPerLabelSet: []LabelSetLimit{{LabelSet: labels.FromStrings("team", "a"), MaxSeries: 10}},
	}); err != nil {
		t.Fatal(err)
	}
	help := metadata.Metadata{Type: model.MetricTypeCounter, Help: "Requests.", Unit: "requests"}
	w.Metadata().Set("http_requests_total", help)
	if err := appendSample(t, w, labels.FromStrings("__name__", "http_requests_total", "code", "200"), 5000, 42); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(ctx, gone.ID()); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	// Same registerer: the first registry's metrics must be gone.
	r = openRegistry(t, opts)
	w2, err := r.Get(ctx, w.ID())
	if err != nil {
		t.Fatal(err)
	}
	if w2.Alias() != "production" || w2.ARN() != w.ARN() || !w2.CreatedAt().Equal(testNow) {
		t.Errorf("reopened workspace: alias %q arn %q createdAt %v", w2.Alias(), w2.ARN(), w2.CreatedAt())
	}
	if tags := w2.Tags(); tags["env"] != "prod" || tags["team"] != "obs" {
		t.Errorf("tags = %v", tags)
	}
	c := w2.Config()
	if c.Retention != 7*24*time.Hour || c.OutOfOrderTimeWindow != 5*time.Minute || len(c.LimitsPerLabelSet) != 1 ||
		c.LimitsPerLabelSet[0].MaxSeries != 10 || c.LimitsPerLabelSet[0].LabelSet.Get("team") != "a" {
		t.Errorf("config = %+v", c)
	}
	if got := gaugeValue(t, reg, "prometheus_tsdb_retention_limit_seconds", w.ID()); got != (7 * 24 * time.Hour).Seconds() {
		t.Errorf("reopened TSDB retention = %vs, want 7 days", got)
	}
	if got := w2.Metadata().List("http_requests_total", 0, 0); len(got["http_requests_total"]) != 1 || got["http_requests_total"][0] != help {
		t.Errorf("metadata = %v", got)
	}
	if got := querySamples(t, w2, "http_requests_total"); len(got) != 1 || got[5000] != 42 {
		t.Errorf("samples = %v, want {5000: 42}", got)
	}
	if _, err := r.Get(ctx, gone.ID()); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted workspace after reopen: %v", err)
	}
	// The client token still names the same workspace.
	again, err := r.Create(ctx, CreateInput{Alias: "prod", ClientToken: "tok", Tags: map[string]string{"env": "prod"}})
	if err != nil || again.ID() != w.ID() {
		t.Errorf("idempotent create after reopen: %v, %v", again, err)
	}
}

func TestReopenResumesInterruptedDeletion(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(t, dir)
	ctx := context.Background()
	r, err := Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	w, err := r.Create(ctx, CreateInput{})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Get(ctx, w.ID()); err != nil {
		t.Fatal(err)
	}
	// A deletion that was recorded but did not run.
	w.mtx.Lock()
	w.status = StatusDeleting
	w.mtx.Unlock()
	if err := r.save(ctx, w); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	r = openRegistry(t, opts)
	if _, err := r.Get(ctx, w.ID()); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get: %v, want ErrNotFound", err)
	}
	waitBackground(r)
	if _, err := os.Stat(w.Dir()); !os.IsNotExist(err) {
		t.Errorf("workspace directory still there: %v", err)
	}
}

package rules

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/promspace/promspace/workspace"
)

func TestComponent(t *testing.T) {
	ctx := context.Background()
	reg := prometheus.NewRegistry()
	ms := New(Options{Registerer: reg})
	r, err := workspace.Open(ctx, workspace.Options{DataDir: t.TempDir(), Components: []workspace.Component{ms.Component()}})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var ws []*workspace.Workspace
	for _, alias := range []string{"a", "b"} { // two managers register their metrics side by side
		w, err := r.Create(ctx, workspace.CreateInput{Alias: alias})
		if err != nil {
			t.Fatal(err)
		}
		if w, err = r.Get(ctx, w.ID()); err != nil {
			t.Fatal(err)
		}
		ws = append(ws, w)
	}
	m, ok := workspace.InstanceOf[*RuleManager](ws[0], ComponentName)
	if !ok {
		t.Fatal("no *RuleManager for an open workspace")
	}
	if len(m.RuleGroups()) != 0 || len(m.AlertingRules()) != 0 {
		t.Errorf("rules before any namespace: %v, %v", m.RuleGroups(), m.AlertingRules())
	}
	if _, err := reg.Gather(); err != nil {
		t.Errorf("gather: %v", err)
	}

	if _, err := r.UpdateConfiguration(ctx, workspace.UpdateConfigurationInput{ID: ws[0].ID(), RuleQueryOffsetInSeconds: new(90)}); err != nil {
		t.Fatal(err)
	}
	if got := m.ruleQueryOffset(); got != 90*time.Second {
		t.Errorf("rule query offset %v after UpdateConfiguration, want 1m30s", got)
	}

	if err := r.Delete(ctx, ws[0].ID()); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil { // waits for the deletion
		t.Fatal(err)
	}
	for _, w := range ws {
		if w.Instance(ComponentName) != nil {
			t.Errorf("workspace %s kept its manager after close", w.ID())
		}
	}
	select {
	case <-m.stopped:
	default:
		t.Error("the manager of a deleted workspace still runs")
	}
}

func TestNewDefaults(t *testing.T) {
	ms := New(Options{})
	if ms.opts.Engine == nil || ms.opts.EvaluationInterval != DefaultEvaluationInterval || ms.opts.Logger == nil {
		t.Errorf("defaults not applied: %+v", ms.opts)
	}
}

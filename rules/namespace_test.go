package rules

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	promrules "github.com/prometheus/prometheus/rules"

	"github.com/promspace/promspace/quota"
	"github.com/promspace/promspace/workspace"
)

// openWorkspace opens a registry under dir with the quota and rules
// components and returns its workspace aliased "w", created if need be.
func openWorkspace(t *testing.T, dir string, opts Options, limits quota.Limits) (*workspace.Registry, *workspace.Workspace, *RuleManager) {
	t.Helper()
	ctx := context.Background()
	opts.ManualEvaluation = true
	r, err := workspace.Open(ctx, workspace.Options{DataDir: dir, Components: []workspace.Component{
		quota.New(quota.Options{Limits: &limits}).Component(),
		New(opts).Component(),
	}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { r.Close() })
	out, err := r.List(ctx, workspace.ListInput{Alias: "w"})
	if err != nil {
		t.Fatal(err)
	}
	var w *workspace.Workspace
	if len(out.Workspaces) > 0 {
		w = out.Workspaces[0]
	} else if w, err = r.Create(ctx, workspace.CreateInput{Alias: "w"}); err != nil {
		t.Fatal(err)
	}
	if w, err = r.Get(ctx, w.ID()); err != nil {
		t.Fatal(err)
	}
	m, ok := workspace.InstanceOf[*RuleManager](w, ComponentName)
	if !ok {
		t.Fatal("no rules manager")
	}
	return r, w, m
}

const recordRule = "groups:\n- name: g\n  rules:\n  - record: one\n    expr: vector(1)\n"

func TestNamespacesSurviveRestart(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	r, w, m := openWorkspace(t, dir, Options{}, quota.DefaultLimits())
	if _, err := m.Create(ctx, CreateInput{Name: "kept", Data: []byte(recordRule), Tags: map[string]string{"a": "b"}}); err != nil {
		t.Fatal(err)
	}
	if _, err := m.Create(ctx, CreateInput{Name: "gone", Data: []byte(recordRule)}); err != nil {
		t.Fatal(err)
	}
	if err := m.Delete(ctx, "gone"); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(w.Dir(), "rules", "kept.yaml")); err != nil {
		t.Errorf("rules file: %v", err)
	}
	// A stored file that no longer validates must not stop the others.
	bad, _ := json.Marshal(Namespace{Name: "bad", Data: []byte("groups: [")})
	if err := w.Bucket().Upload(ctx, objectName("bad"), bytes.NewReader(bad)); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	_, _, m = openWorkspace(t, dir, Options{}, quota.DefaultLimits())
	if ns, err := m.Describe("bad"); err != nil || ns.Status != StatusUpdateFailed || !strings.Contains(ns.StatusReason, "invalid rules file") {
		t.Errorf("invalid stored namespace: %+v, %v", ns, err)
	}
	ns, err := m.Describe("kept")
	if err != nil || string(ns.Data) != recordRule || ns.Tags["a"] != "b" || ns.Status != StatusActive {
		t.Fatalf("after restart: %+v, %v", ns, err)
	}
	if _, err := m.Describe("gone"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted namespace after restart: %v", err)
	}
	if gs := m.RuleGroups(); len(gs) != 1 || gs[0].File() != "kept" || gs[0].Name() != "g" {
		t.Errorf("groups after restart: %v", gs)
	}
	if ns, err := m.Put(ctx, PutInput{Name: "bad", Data: []byte(recordRule)}); err != nil || ns.Status != StatusUpdating {
		t.Errorf("put over the invalid namespace: %+v, %v", ns, err)
	}
	if ns, _ := m.Describe("bad"); ns.Status != StatusActive || len(m.RuleGroups()) != 2 {
		t.Errorf("after the put: %s, %d groups", ns.Status, len(m.RuleGroups()))
	}
}

func TestNamespaceRefusals(t *testing.T) {
	ctx := context.Background()
	limits := quota.DefaultLimits()
	limits.MaxRules = 2
	_, _, m := openWorkspace(t, t.TempDir(), Options{}, limits)
	if _, err := m.Create(ctx, CreateInput{Name: "ns", Data: []byte(recordRule)}); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, data string
		want       error
		contains   string
	}{
		{"ns", "groups: [", (*ValidationError)(nil), "invalid rules file"},
		{"ns", "groups:\n- name: g\n  rules:\n  - record: r\n    expr: rate(x[5m]\n", (*ValidationError)(nil), "unclosed left parenthesis"},
		{"ns", "groups:\n- name: g\n  rules:\n  - record: r\n    expr: up\n    bogus: 1\n", (*ValidationError)(nil), "bogus"},
		{"ns", "", (*ValidationError)(nil), "data is required"},
		{"ns", recordRule + "  - record: two\n    expr: vector(2)\n  - record: three\n    expr: vector(3)\n", ErrTooManyRules, "over its limit of 2"},
		{"missing", recordRule, ErrNotFound, ""},
	} {
		_, err := m.Put(ctx, PutInput{Name: tc.name, Data: []byte(tc.data)})
		var ve *ValidationError
		ok := errors.Is(err, tc.want)
		if _, isVE := tc.want.(*ValidationError); isVE {
			ok = errors.As(err, &ve)
		}
		if !ok || !strings.Contains(errString(err), tc.contains) {
			t.Errorf("put %q: %v, want %v saying %q", tc.data, err, tc.want, tc.contains)
		}
	}
	if ns, _ := m.Describe("ns"); string(ns.Data) != recordRule {
		t.Errorf("refused puts changed the namespace: %q", ns.Data)
	}
	if gs := m.RuleGroups(); len(gs) != 1 || len(gs[0].Rules()) != 1 {
		t.Errorf("refused puts changed the groups: %v", gs)
	}
	for _, name := range []string{"", ".hidden", "a/b", strings.Repeat("n", MaxNameLength+1)} {
		if _, err := m.Create(ctx, CreateInput{Name: name, Data: []byte(recordRule)}); err == nil {
			t.Errorf("created namespace %q", name)
		}
	}
	if _, err := m.Create(ctx, CreateInput{Name: "ns", Data: []byte(recordRule)}); !errors.Is(err, ErrConflict) {
		t.Errorf("second create: %v, want ErrConflict", err)
	}
}

func errString(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

func TestMaxActiveAlerts(t *testing.T) {
	ctx := context.Background()
	limits := quota.DefaultLimits()
	limits.MaxActiveAlerts = 2
	var (
		mtx  sync.Mutex
		sent []*promrules.Alert
	)
	opts := Options{Notify: func(_ context.Context, _ *workspace.Workspace, _ string, alerts []*promrules.Alert) {
		mtx.Lock()
		defer mtx.Unlock()
		sent = append(sent, alerts...)
	}}
	_, _, m := openWorkspace(t, t.TempDir(), opts, limits)
	const three = `groups:
- name: g
  rules:
  - alert: Three
    expr: label_replace(vector(1), "k", "a", "", "") or label_replace(vector(1), "k", "b", "", "") or label_replace(vector(1), "k", "c", "", "")
`
	if _, err := m.Create(ctx, CreateInput{Name: "ns", Data: []byte(three)}); err != nil {
		t.Fatal(err)
	}
	m.EvalAt(ctx, time.Now())
	mtx.Lock()
	defer mtx.Unlock()
	if len(sent) != 2 {
		t.Errorf("sent %d alerts, want 2", len(sent))
	}
	if got := m.AlertsOverLimit(); got != 1 {
		t.Errorf("alerts over the limit = %v, want 1", got)
	}
	if got := len(m.AlertingRules()[0].ActiveAlerts()); got != 3 {
		t.Errorf("%d active alerts, want 3: the limit holds back sending, not evaluation", got)
	}
}

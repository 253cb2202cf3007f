package promspacetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	promrules "github.com/prometheus/prometheus/rules"

	"github.com/promspace/promspace/rules"
	"github.com/promspace/promspace/workspace"
)

// Alert is an alert of the workspace's alerting rules, as AssertFiring
// compares them: its labels (alertname included) and its annotations.
type Alert struct {
	Labels      map[string]string
	Annotations map[string]string
}

func (a Alert) String() string {
	return fmt.Sprintf("%s %s", formatMap(a.Labels), formatMap(a.Annotations))
}

func formatMap(m map[string]string) string {
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s=%q", k, m[k]))
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// RuleManager returns the workspace's rules manager, for what the helpers
// below do not offer. A workspace that has none fails the test.
func (s *Server) RuleManager(t testing.TB) *rules.RuleManager {
	t.Helper()
	w, err := s.Service.Registry().Get(context.Background(), s.WorkspaceID)
	if err != nil {
		t.Fatalf("promspacetest: workspace: %v", err)
	}
	m, ok := workspace.InstanceOf[*rules.RuleManager](w, rules.ComponentName)
	if !ok {
		t.Fatalf("promspacetest: workspace %s has no rules manager", s.WorkspaceID)
	}
	return m
}

// LoadRules loads a Prometheus rules file into the workspace as the rule
// groups namespace name, creating it or replacing its file, as AMP's
// CreateRuleGroupsNamespace and PutRuleGroupsNamespace do. A file that
// does not validate fails the test with rulefmt's message.
func (s *Server) LoadRules(t testing.TB, name string, yaml []byte) {
	t.Helper()
	m := s.RuleManager(t)
	ctx := context.Background()
	_, err := m.Put(ctx, rules.PutInput{Name: name, Data: yaml})
	if errors.Is(err, rules.ErrNotFound) {
		_, err = m.Create(ctx, rules.CreateInput{Name: name, Data: yaml})
	}
	if err != nil {
		t.Fatalf("promspacetest: load rules %s: %v", name, err)
	}
}

// LoadRulesFile loads the rules file at path as the namespace named after
// the file (its base name without extension).
func (s *Server) LoadRulesFile(t testing.TB, path string) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("promspacetest: %v", err)
	}
	s.LoadRules(t, strings.TrimSuffix(filepath.Base(path), filepath.Ext(path)), b)
}

// EvalRules evaluates every rule group of the workspace once at ts, as
// `promtool test rules` does: recording rules write their series at ts,
// alerting rules move their alerts on (pending, then firing once their
// `for` has passed since they became active). The server's groups have no
// schedule of their own: only EvalRules evaluates them (see
// rules.Options.ManualEvaluation).
func (s *Server) EvalRules(t testing.TB, ts time.Time) {
	t.Helper()
	s.RuleManager(t).EvalAt(context.Background(), ts)
}

// FiringAlerts returns the workspace's firing alerts, sorted by labels.
func (s *Server) FiringAlerts(t testing.TB) []Alert {
	t.Helper()
	var out []Alert
	for _, r := range s.RuleManager(t).AlertingRules() {
		for _, a := range r.ActiveAlerts() {
			if a.State == promrules.StateFiring {
				out = append(out, Alert{Labels: a.Labels.Map(), Annotations: a.Annotations.Map()})
			}
		}
	}
	slices.SortFunc(out, func(a, b Alert) int { return strings.Compare(a.String(), b.String()) })
	return out
}

// AssertFiring fails the test unless the firing alerts are exactly want,
// labels and annotations compared whole, in any order. Without want, it
// asserts that no alert fires.
func (s *Server) AssertFiring(t testing.TB, want ...Alert) {
	t.Helper()
	got := s.FiringAlerts(t)
	ws := slices.Clone(want)
	slices.SortFunc(ws, func(a, b Alert) int { return strings.Compare(a.String(), b.String()) })
	if slices.EqualFunc(got, ws, func(a, b Alert) bool {
		return maps.Equal(a.Labels, b.Labels) && maps.Equal(a.Annotations, b.Annotations)
	}) {
		return
	}
	t.Errorf("promspacetest: firing alerts:\n got: %s\nwant: %s", formatAlerts(got), formatAlerts(ws))
}

func formatAlerts(as []Alert) string {
	if len(as) == 0 {
		return "(none)"
	}
	var out string
	for _, a := range as {
		out += "\n  " + a.String()
	}
	return out
}

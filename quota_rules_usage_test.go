package promspace_test

import (
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/promspace/promspace"
	"github.com/promspace/promspace/quota"
	"github.com/promspace/promspace/rules"
	"github.com/promspace/promspace/workspace"
)

// TestLimitsShowRulesUsage: /limits puts the workspace's rules and its
// firing alerts next to MaxRules and MaxActiveAlerts, as the rules manager
// has them loaded and evaluated.
func TestLimitsShowRulesUsage(t *testing.T) {
	ctx := context.Background()
	svc, err := promspace.New(ctx, promspace.Options{
		DataDir: t.TempDir(),
		Rules:   rules.Options{ManualEvaluation: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	w, err := svc.EnsureWorkspace(ctx, "rules-usage")
	if err != nil {
		t.Fatal(err)
	}
	view := func() quota.View {
		t.Helper()
		rec := httptest.NewRecorder()
		svc.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/workspaces/"+w.ID()+"/limits", nil))
		if rec.Code != http.StatusOK {
			t.Fatalf("/limits: %d %s", rec.Code, rec.Body)
		}
		var v quota.View
		if err := json.Unmarshal(rec.Body.Bytes(), &v); err != nil {
			t.Fatal(err)
		}
		return v
	}
	check := func(when string, rules, alerts float64) {
		t.Helper()
		l := view().Limits
		if l.Rules.Usage == nil || *l.Rules.Usage != rules || *l.Rules.Limit != quota.DefaultMaxRules {
			t.Errorf("%s: rules %+v, want usage %v of %d", when, l.Rules, rules, quota.DefaultMaxRules)
		}
		if l.ActiveAlerts.Usage == nil || *l.ActiveAlerts.Usage != alerts || *l.ActiveAlerts.Limit != quota.DefaultMaxActiveAlerts {
			t.Errorf("%s: activeAlerts %+v, want usage %v of %d", when, l.ActiveAlerts, alerts, quota.DefaultMaxActiveAlerts)
		}
	}
	check("with no namespace", 0, 0)

	m, ok := workspace.InstanceOf[*rules.RuleManager](w, rules.ComponentName)
	if !ok {
		t.Fatal("no rules manager")
	}
	if _, err := m.Create(ctx, rules.CreateInput{Name: "usage", Data: []byte(`groups:
  - name: usage
    rules:
      - record: one:vector
        expr: vector(1)
      - alert: Always
        expr: label_replace(vector(1), "n", "$1", "", "") or label_replace(vector(2), "n", "two", "", "")
      - alert: Never
        expr: vector(1) == 2
`)}); err != nil {
		t.Fatal(err)
	}
	check("before an evaluation", 3, 0)
	m.EvalAt(ctx, time.Now())
	check("after an evaluation", 3, 2)
}

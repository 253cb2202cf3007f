package auth_test

import (
	"strings"
	"testing"

	"github.com/promspace/promspace/auth"
	"github.com/promspace/promspace/auth/iam"
)

func TestPresets(t *testing.T) {
	actions := []string{
		"aps:RemoteWrite", "aps:QueryMetrics", "aps:GetLabels", "aps:GetSeries", "aps:GetMetricMetadata",
		"aps:CreateWorkspace", "aps:DeleteWorkspace", "aps:ListRules", "aps:PutAlertManagerSilences", "s3:GetObject",
	}
	want := map[string][]string{
		auth.PresetRemoteWriteAccess: {"aps:RemoteWrite"},
		auth.PresetQueryAccess:       {"aps:QueryMetrics", "aps:GetLabels", "aps:GetSeries", "aps:GetMetricMetadata"},
		auth.PresetFullAccess:        actions[:len(actions)-1],
	}
	if got := strings.Join(auth.PresetNames(), ","); got != "AmazonPrometheusFullAccess,AmazonPrometheusQueryAccess,AmazonPrometheusRemoteWriteAccess" {
		t.Fatalf("PresetNames() = %s", got)
	}
	for name, allowed := range want {
		p, ok := auth.Preset(name)
		if !ok {
			t.Fatalf("no preset %s", name)
		}
		for _, a := range actions {
			wantAllowed := strings.Contains(strings.Join(allowed, ","), a)
			if got := p.Evaluate(a, wsA) == iam.Allow; got != wantAllowed {
				t.Errorf("%s: %s allowed = %v, want %v", name, a, got, wantAllowed)
			}
		}
		// Presets are copies: changing one does not change the next.
		p.Statements[0].Effect = iam.EffectDeny
		if q, _ := auth.Preset(name); q.Statements[0].Effect != iam.EffectAllow {
			t.Errorf("%s: preset shared between callers", name)
		}
	}
	if _, ok := auth.Preset("AdministratorAccess"); ok {
		t.Error("unknown preset found")
	}
}

func TestPolicyAuthorizerAccounts(t *testing.T) {
	a := auth.NewPolicyAuthorizer()
	full, _ := auth.Preset(auth.PresetFullAccess)
	alice := &auth.Principal{AccountID: "111122223333", Name: "alice"}
	a.Attach(auth.UserARN("111122223333", "alice"), full)
	for _, tc := range []struct {
		resource string
		want     bool
	}{
		{wsA, true},
		{"*", true},
		{"arn:aws:aps:us-east-1:444455556666:workspace/ws-a", false}, // identity policies grant nothing in other accounts
		{"arn:aws:aps:us-east-1::workspace/ws-a", true},
	} {
		if got, err := a.Authorize(t.Context(), alice, "aps:QueryMetrics", tc.resource); err != nil || got != tc.want {
			t.Errorf("Authorize(%s) = %v, %v; want %v", tc.resource, got, err, tc.want)
		}
	}
	bob := &auth.Principal{AccountID: "111122223333", Name: "bob"}
	if got, _ := a.Authorize(t.Context(), bob, "aps:QueryMetrics", wsA); got {
		t.Error("a principal with no policies attached is allowed")
	}
}

package auth_test

import (
	"testing"

	"github.com/promspace/promspace/auth"
)

func TestRoute(t *testing.T) {
	const region, acct = "eu-west-1", "111122223333"
	ws := "arn:aws:aps:eu-west-1:111122223333:workspace/ws-1"
	cases := []struct {
		method, path         string
		op, action, resource string
		dataPlane            bool
	}{
		{"POST", "/workspaces", "CreateWorkspace", "aps:CreateWorkspace", "*", false},
		{"GET", "/workspaces", "ListWorkspaces", "aps:ListWorkspaces", "arn:aws:aps:eu-west-1:111122223333:workspace/*", false},
		{"GET", "/workspaces/ws-1", "DescribeWorkspace", "aps:DescribeWorkspace", ws, false},
		// net/http serves HEAD with GET's handler, so it needs GET's permission.
		{"HEAD", "/workspaces/ws-1", "DescribeWorkspace", "aps:DescribeWorkspace", ws, false},
		{"PATCH", "/workspaces/ws-1/configuration", "UpdateWorkspaceConfiguration", "aps:UpdateWorkspaceConfiguration", ws, false},
		{"PUT", "/workspaces/ws-1/rulegroupsnamespaces/team.alerts", "PutRuleGroupsNamespace", "aps:PutRuleGroupsNamespace",
			"arn:aws:aps:eu-west-1:111122223333:rulegroupsnamespace/ws-1/team.alerts", false},
		{"POST", "/workspaces/ws-1/rulegroupsnamespaces", "CreateRuleGroupsNamespace", "aps:CreateRuleGroupsNamespace", ws, false},
		{"GET", "/workspaces/ws-1/alertmanager/definition", "DescribeAlertManagerDefinition", "aps:DescribeAlertManagerDefinition", ws, false},
		{"DELETE", "/workspaces/ws-1/logging/query", "DeleteQueryLoggingConfiguration", "aps:DeleteQueryLoggingConfiguration", ws, false},
		{"GET", "/workspaces/ws-1/anomalydetectors/ad-1", "DescribeAnomalyDetector", "aps:DescribeAnomalyDetector",
			"arn:aws:aps:eu-west-1:111122223333:anomalydetector/ws-1/ad-1", false},
		{"PUT", "/scrapers/s-1/logging-configuration", "UpdateScraperLoggingConfiguration", "aps:UpdateScraperLoggingConfiguration",
			"arn:aws:aps:eu-west-1:111122223333:scraper/s-1", false},
		{"GET", "/scraperconfiguration", "GetDefaultScraperConfiguration", "aps:GetDefaultScraperConfiguration", "*", false},
		{"POST", "/tags/arn%3Aaws%3Aaps%3Aus-east-1%3A444455556666%3Aworkspace%2Fws-9", "TagResource", "aps:TagResource",
			"arn:aws:aps:us-east-1:444455556666:workspace/ws-9", false},
		{"GET", "/tags/arn:aws:aps:us-east-1:444455556666:rulegroupsnamespace/ws-9/ns", "ListTagsForResource", "aps:ListTagsForResource",
			"arn:aws:aps:us-east-1:444455556666:rulegroupsnamespace/ws-9/ns", false},

		{"POST", "/workspaces/ws-1/api/v1/remote_write", "RemoteWrite", "aps:RemoteWrite", ws, true},
		{"GET", "/workspaces/ws-1/api/v1/query", "QueryMetrics", "aps:QueryMetrics", ws, true},
		// Segments are compared unescaped, as the router serving them does.
		{"GET", "/workspaces/ws-1/api/v1/quer%79", "QueryMetrics", "aps:QueryMetrics", ws, true},
		{"GET", "/workspaces/ws-1/%61pi/v1/query", "QueryMetrics", "aps:QueryMetrics", ws, true},
		{"POST", "/workspaces/ws-1/api/v1/query_range", "QueryMetrics", "aps:QueryMetrics", ws, true},
		{"GET", "/workspaces/ws-1/api/v1/query_exemplars", "QueryMetrics", "aps:QueryMetrics", ws, true},
		{"POST", "/workspaces/ws-1/api/v1/labels", "GetLabels", "aps:GetLabels", ws, true},
		{"GET", "/workspaces/ws-1/api/v1/label/job/values", "GetLabels", "aps:GetLabels", ws, true},
		{"GET", "/workspaces/ws-1/api/v1/label/a%2Fb/values", "GetLabels", "aps:GetLabels", ws, true},
		{"GET", "/workspaces/ws-1/api/v1/series", "GetSeries", "aps:GetSeries", ws, true},
		{"GET", "/workspaces/ws-1/api/v1/metadata", "GetMetricMetadata", "aps:GetMetricMetadata", ws, true},
		{"GET", "/workspaces/ws-1/api/v1/rules", "ListRules", "aps:ListRules", ws, true},
		{"GET", "/workspaces/ws-1/api/v1/alerts", "ListAlerts", "aps:ListAlerts", ws, true},
		{"POST", "/workspaces/ws-1/alertmanager/api/v2/alerts", "CreateAlertManagerAlerts", "aps:CreateAlertManagerAlerts", ws, true},
		{"GET", "/workspaces/ws-1/alertmanager/api/v2/alerts", "ListAlertManagerAlerts", "aps:ListAlertManagerAlerts", ws, true},
		{"GET", "/workspaces/ws-1/alertmanager/api/v2/alerts/groups", "ListAlertManagerAlertGroups", "aps:ListAlertManagerAlertGroups", ws, true},
		{"GET", "/workspaces/ws-1/alertmanager/api/v2/receivers", "ListAlertManagerReceivers", "aps:ListAlertManagerReceivers", ws, true},
		{"GET", "/workspaces/ws-1/alertmanager/api/v2/silences", "ListAlertManagerSilences", "aps:ListAlertManagerSilences", ws, true},
		{"POST", "/workspaces/ws-1/alertmanager/api/v2/silences", "PutAlertManagerSilences", "aps:PutAlertManagerSilences", ws, true},
		{"GET", "/workspaces/ws-1/alertmanager/api/v2/silence/abc", "GetAlertManagerSilence", "aps:GetAlertManagerSilence", ws, true},
		{"DELETE", "/workspaces/ws-1/alertmanager/api/v2/silence/abc", "DeleteAlertManagerSilence", "aps:DeleteAlertManagerSilence", ws, true},
		{"GET", "/workspaces/ws-1/alertmanager/api/v2/status", "GetAlertManagerStatus", "aps:GetAlertManagerStatus", ws, true},
	}
	for _, tc := range cases {
		op, ok := auth.Route(tc.method, tc.path)
		if !ok {
			t.Errorf("%s %s: no route", tc.method, tc.path)
			continue
		}
		if op.Name != tc.op || op.Action != tc.action || op.DataPlane != tc.dataPlane {
			t.Errorf("%s %s = %s %s data plane %v, want %s %s %v", tc.method, tc.path, op.Name, op.Action, op.DataPlane, tc.op, tc.action, tc.dataPlane)
		}
		if got := op.Resource(region, acct); got != tc.resource {
			t.Errorf("%s %s: resource %s, want %s", tc.method, tc.path, got, tc.resource)
		}
	}

	for _, u := range [][2]string{
		{"GET", "/"},
		{"GET", ""},
		{"GET", "/metrics"},
		{"GET", "/workspaces/"},
		{"GET", "/workspaces//alias"},
		{"HEAD", "/workspaces/ws-1/api/v1/remote_write"},
		{"PUT", "/workspaces/ws-1/api/v1/query"},
		{"GET", "/workspaces/ws-1/api/v1/remote_write"},
		{"DELETE", "/workspaces/ws-1/api/v1/series"},
		{"GET", "/workspaces/ws-1/api/v1/status/config"},
		{"GET", "/workspaces/ws-1/api/v1/query/"},
		{"GET", "/workspaces/ws-1/api/v1/label//values"},
		{"GET", "/workspaces/ws-1/api/v1/label/values"},
		{"GET", "/workspaces/ws-1/rulegroupsnamespaces/a/b"},
		{"GET", "/workspaces/ws%zz/api/v1/query"},
		{"GET", "/tags/"},
		{"GET", "/scrapers/s-1/extra"},
	} {
		if op, ok := auth.Route(u[0], u[1]); ok {
			t.Errorf("%s %s matched %s", u[0], u[1], op.Name)
		}
	}
}

func TestRouteTableCoversAMP(t *testing.T) {
	var control, data int
	ops := map[string]bool{}
	for _, r := range auth.Routes() {
		if r.Extension {
			if r.Action != "aps:DescribeWorkspace" || r.DataPlane {
				t.Errorf("extension %s %s: action %s, data plane %v", r.Method, r.Pattern, r.Action, r.DataPlane)
			}
			continue
		}
		if r.Action != "aps:"+r.Operation {
			t.Errorf("%s %s: action %s for operation %s", r.Method, r.Pattern, r.Action, r.Operation)
		}
		if r.DataPlane {
			data++
		} else {
			control++
		}
		ops[r.Operation] = true
	}
	if control != 44 {
		t.Errorf("%d control-plane routes, want 44", control)
	}
	for _, op := range []string{"RemoteWrite", "QueryMetrics", "GetLabels", "GetSeries", "GetMetricMetadata", "ListRules", "ListAlerts",
		"CreateAlertManagerAlerts", "ListAlertManagerAlerts", "ListAlertManagerAlertGroups", "ListAlertManagerReceivers",
		"ListAlertManagerSilences", "PutAlertManagerSilences", "GetAlertManagerSilence", "DeleteAlertManagerSilence", "GetAlertManagerStatus"} {
		if !ops[op] {
			t.Errorf("data-plane operation %s missing", op)
		}
	}
}

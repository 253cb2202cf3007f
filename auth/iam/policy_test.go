package iam_test

import (
	"encoding/json"
	"errors"
	"strings"
	"testing"

	"github.com/promspace/promspace/auth/iam"
)

const (
	wsA = "arn:aws:aps:us-east-1:111122223333:workspace/ws-a"
	wsB = "arn:aws:aps:us-east-1:111122223333:workspace/ws-b"
)

func mustPolicy(t testing.TB, doc string) *iam.Policy {
	t.Helper()
	p, err := iam.ParsePolicy([]byte(doc))
	if err != nil {
		t.Fatalf("ParsePolicy(%s): %v", doc, err)
	}
	return p
}

func TestPolicyEvaluate(t *testing.T) {
	type check struct {
		action, resource string
		want             iam.Decision
	}
	cases := []struct {
		name   string
		doc    string
		checks []check
	}{
		{
			name: "action wildcards are case-insensitive",
			doc:  `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"aps:Get*","Resource":"*"}}`,
			checks: []check{
				{"aps:GetLabels", wsA, iam.Allow},
				{"aps:getseries", wsA, iam.Allow},
				{"APS:GETMETRICMETADATA", wsA, iam.Allow},
				{"aps:QueryMetrics", wsA, iam.ImplicitDeny},
				{"s3:GetObject", wsA, iam.ImplicitDeny},
			},
		},
		{
			name: "question mark is one character",
			doc:  `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":["aps:Get?abels"],"Resource":["arn:aws:aps:us-east-1:111122223333:workspace/ws-?"]}]}`,
			checks: []check{
				{"aps:GetLabels", wsA, iam.Allow},
				{"aps:GetXLabels", wsA, iam.ImplicitDeny},
				{"aps:GetLabels", "arn:aws:aps:us-east-1:111122223333:workspace/ws-ab", iam.ImplicitDeny},
				{"aps:GetLabels", "arn:aws:aps:us-east-1:111122223333:workspace/ws-", iam.ImplicitDeny},
				{"aps:GetLabels", "arn:aws:aps:us-east-1:111122223333:workspace/ws-é", iam.Allow},
			},
		},
		{
			name: "resource wildcards are case-sensitive",
			doc:  `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"aps:*","Resource":"arn:aws:aps:*:111122223333:workspace/ws-a*"}}`,
			checks: []check{
				{"aps:QueryMetrics", wsA, iam.Allow},
				{"aps:QueryMetrics", "arn:aws:aps:eu-west-1:111122223333:workspace/ws-abc", iam.Allow},
				{"aps:QueryMetrics", "arn:aws:aps:us-east-1:111122223333:workspace/WS-A", iam.ImplicitDeny},
				{"aps:QueryMetrics", wsB, iam.ImplicitDeny},
				{"aps:QueryMetrics", "arn:aws:aps:us-east-1:111122223333:rulegroupsnamespace/ws-a/ns", iam.ImplicitDeny},
			},
		},
		{
			name: "NotAction",
			doc:  `{"Version":"2012-10-17","Statement":{"Effect":"Allow","NotAction":["aps:RemoteWrite","aps:Delete*"],"Resource":"*"}}`,
			checks: []check{
				{"aps:QueryMetrics", wsA, iam.Allow},
				{"aps:RemoteWrite", wsA, iam.ImplicitDeny},
				{"aps:DeleteWorkspace", wsA, iam.ImplicitDeny},
				{"aps:CreateWorkspace", "*", iam.Allow},
			},
		},
		{
			name: "NotResource",
			doc:  `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"aps:*","NotResource":"` + wsB + `"}}`,
			checks: []check{
				{"aps:QueryMetrics", wsA, iam.Allow},
				{"aps:QueryMetrics", wsB, iam.ImplicitDeny},
			},
		},
		{
			name: "explicit Deny wins",
			doc: `{"Version":"2012-10-17","Statement":[
				{"Effect":"Allow","Action":"aps:*","Resource":"*"},
				{"Sid":"ProtectB","Effect":"Deny","Action":["aps:Delete*","aps:RemoteWrite"],"Resource":"` + wsB + `"}]}`,
			checks: []check{
				{"aps:DeleteWorkspace", wsA, iam.Allow},
				{"aps:DeleteWorkspace", wsB, iam.ExplicitDeny},
				{"aps:remotewrite", wsB, iam.ExplicitDeny},
				{"aps:QueryMetrics", wsB, iam.Allow},
			},
		},
		{
			name: "Deny with NotAction",
			doc: `{"Version":"2012-10-17","Statement":[
				{"Effect":"Allow","Action":"*","Resource":"*"},
				{"Effect":"Deny","NotAction":"aps:QueryMetrics","Resource":"*"}]}`,
			checks: []check{
				{"aps:QueryMetrics", wsA, iam.Allow},
				{"aps:RemoteWrite", wsA, iam.ExplicitDeny},
			},
		},
		{
			name: "no matching statement is an implicit deny",
			doc:  `{"Version":"2008-10-17","Statement":{"Effect":"Allow","Action":"aps:RemoteWrite","Resource":"` + wsA + `"}}`,
			checks: []check{
				{"aps:RemoteWrite", wsA, iam.Allow},
				{"aps:RemoteWrite", wsB, iam.ImplicitDeny},
				{"aps:QueryMetrics", wsA, iam.ImplicitDeny},
				{"", "", iam.ImplicitDeny},
			},
		},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			p := mustPolicy(t, tc.doc)
			for _, c := range tc.checks {
				if got := p.Evaluate(c.action, c.resource); got != c.want {
					t.Errorf("Evaluate(%q, %q) = %v, want %v", c.action, c.resource, got, c.want)
				}
			}
			// A policy survives a JSON round trip unchanged in meaning.
			b, err := json.Marshal(p)
			if err != nil {
				t.Fatal(err)
			}
			q := mustPolicy(t, string(b))
			for _, c := range tc.checks {
				if got := q.Evaluate(c.action, c.resource); got != c.want {
					t.Errorf("after round trip %s: Evaluate(%q, %q) = %v, want %v", b, c.action, c.resource, got, c.want)
				}
			}
		})
	}
}

func TestEvaluateAcrossPolicies(t *testing.T) {
	allow := mustPolicy(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"aps:*","Resource":"*"}}`)
	deny := mustPolicy(t, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"aps:RemoteWrite","Resource":"*"}}`)
	for _, order := range [][]*iam.Policy{{allow, deny}, {deny, allow}} {
		if got := iam.Evaluate(order, "aps:RemoteWrite", wsA); got != iam.ExplicitDeny {
			t.Errorf("RemoteWrite = %v, want explicit deny", got)
		}
		if got := iam.Evaluate(order, "aps:QueryMetrics", wsA); got != iam.Allow {
			t.Errorf("QueryMetrics = %v, want allow", got)
		}
	}
	if got := iam.Evaluate(nil, "aps:QueryMetrics", wsA); got != iam.ImplicitDeny {
		t.Errorf("no policies = %v", got)
	}
}

func TestParsePolicyErrors(t *testing.T) {
	cases := []struct{ name, doc, want string }{
		{"not JSON", `{"Version":`, "unexpected end"},
		{"not an object", `[1,2]`, "cannot unmarshal"},
		{"null", `null`, "must be a JSON object"},
		{"missing Statement", `{"Version":"2012-10-17"}`, "missing Statement"},
		{"empty Statement", `{"Version":"2012-10-17","Statement":[]}`, "no statements"},
		{"Statement a string", `{"Statement":"Allow"}`, "Statement must be an object or an array"},
		{"bad version", `{"Version":"2020-01-01","Statement":{"Effect":"Allow","Action":"*","Resource":"*"}}`, `Version must be "2012-10-17" or "2008-10-17"`},
		{"lower-case effect", `{"Statement":{"Effect":"allow","Action":"*","Resource":"*"}}`, `Effect must be "Allow" or "Deny", got "allow"`},
		{"Action and NotAction", `{"Statement":{"Effect":"Allow","Action":"*","NotAction":"aps:X","Resource":"*"}}`, "exactly one of Action and NotAction"},
		{"no action", `{"Statement":{"Effect":"Allow","Resource":"*"}}`, "exactly one of Action and NotAction"},
		{"no resource", `{"Statement":{"Effect":"Allow","Action":"*"}}`, "exactly one of Resource and NotResource"},
		{"Condition", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Condition":{"StringEquals":{"aws:username":"x"}}}}`, "condition blocks are not supported"},
		{"Principal", `{"Statement":{"Effect":"Allow","Principal":"*","Action":"*","Resource":"*"}}`, "must not specify a principal"},
		{"unknown top-level element", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"},"Extra":1}`, `unsupported element "Extra"`},
		{"unknown statement element", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*","Actions":"x"}}`, "Actions: unsupported element"},
		{"resource not an ARN", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"workspace/ws-1"}}`, `must be in ARN format or "*"`},
		{"empty action list", `{"Statement":{"Effect":"Allow","Action":[],"Resource":"*"}}`, "must not be empty"},
		{"action not a string", `{"Statement":{"Effect":"Allow","Action":3,"Resource":"*"}}`, "must be a string or an array of strings"},
		{"action list of numbers", `{"Statement":{"Effect":"Allow","Action":[3],"Resource":"*"}}`, "must be a string or an array of strings"},
		{"action without service", `{"Statement":{"Effect":"Allow","Action":"QueryMetrics","Resource":"*"}}`, `must be "*" or "service:action"`},
		{"wildcard service", `{"Statement":{"Effect":"Allow","Action":"a*:QueryMetrics","Resource":"*"}}`, "invalid service prefix"},
		{"policy variable", `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"*","Resource":"arn:aws:aps:us-east-1:111122223333:workspace/${aws:username}"}}`, "policy variables are not supported"},
		{"statement not an object", `{"Statement":[1]}`, "statement 1: must be a JSON object"},
		{"trailing data", `{"Statement":{"Effect":"Allow","Action":"*","Resource":"*"}} {}`, "invalid character"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := iam.ParsePolicy([]byte(tc.doc))
			if err == nil {
				t.Fatalf("ParsePolicy accepted %s", tc.doc)
			}
			if !errors.Is(err, iam.ErrInvalidPolicy) {
				t.Errorf("error %v does not wrap ErrInvalidPolicy", err)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("error %q does not contain %q", err, tc.want)
			}
		})
	}
}

package iam

import (
	"errors"
	"strings"
	"testing"
)

const wsArn = "arn:aws:aps:us-east-1:111122223333:workspace/ws-a"

func TestParseResourcePolicyRefuses(t *testing.T) {
	for _, tc := range []struct{ doc, want string }{
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"aps:QueryMetrics","Resource":"*"}]}`, "must specify a Principal"},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","NotPrincipal":{"AWS":"*"},"Action":"aps:QueryMetrics","Resource":"*"}]}`, "NotPrincipal is not supported"},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"AWS":"bob"},"Action":"aps:QueryMetrics","Resource":"*"}]}`, `principal "bob"`},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":{"Group":"x"},"Action":"aps:QueryMetrics","Resource":"*"}]}`, `unknown principal type "Group"`},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"aps:QueryMetrics","Resource":"*",
			"Condition":{"IpAddress":{"aws:SourceIp":"10.0.0.0/8"}}}]}`, `operator "IpAddress" is not supported`},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"aps:QueryMetrics","Resource":"*",
			"Condition":{"StringEquals":{"aws:PrincipalOrgID":"o-1"}}}]}`, `condition key "aws:PrincipalOrgID" is not supported`},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"aps:QueryMetrics","Resource":"*",
			"Condition":{"ForAnyValue:StringEquals":{"aws:SourceAccount":"1"}}}]}`, "set operators are not supported"},
		{`{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Principal":"*","Action":"aps:QueryMetrics"}]}`, "Resource"},
		{`{"Version":"2012-10-17","Statement":[]}`, "no statements"},
	} {
		_, err := ParseResourcePolicy([]byte(tc.doc))
		if !errors.Is(err, ErrInvalidPolicy) || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: %v, want %q", tc.doc, err, tc.want)
		}
	}
}

func TestResourcePolicyEvaluate(t *testing.T) {
	p, err := ParseResourcePolicy([]byte(`{"Version":"2012-10-17","Statement":[
		{"Sid":"account","Effect":"Allow","Principal":{"AWS":["444455556666"]},"Action":["aps:QueryMetrics","aps:GetLabels"],"Resource":"` + wsArn + `"},
		{"Sid":"root","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::777788889999:root"},"Action":"aps:QueryMetrics","Resource":"` + wsArn + `"},
		{"Sid":"user","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/carol"},"Action":"aps:RemoteWrite","Resource":"*"},
		{"Sid":"role","Effect":"Allow","Principal":{"AWS":"arn:aws:iam::555555555555:role/reader"},"Action":"aps:QueryMetrics","Resource":"*"},
		{"Sid":"cond","Effect":"Allow","Principal":"*","Action":"aps:GetSeries","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalAccount":["121212121212"]}}},
		{"Sid":"src","Effect":"Allow","Principal":"*","Action":"aps:GetMetricMetadata","Resource":"*","Condition":{"StringLike":{"aws:SourceAccount":"4444*"}}},
		{"Sid":"deny","Effect":"Deny","Principal":{"AWS":"444455556666"},"Action":"aps:GetLabels","Resource":"*"},
		{"Sid":"service","Effect":"Allow","Principal":{"Service":"grafana.amazonaws.com"},"Action":"aps:*","Resource":"*"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		c        Caller
		action   string
		want     Decision
		direct   bool
		resource string
	}{
		{Caller{ARN: "arn:aws:iam::444455556666:user/bob", Account: "444455556666"}, "aps:QueryMetrics", Allow, false, ""},
		{Caller{ARN: "arn:aws:iam::444455556666:user/bob", Account: "444455556666"}, "aps:QueryMetrics", ImplicitDeny, false, "arn:aws:aps:us-east-1:111122223333:workspace/ws-b"},
		{Caller{ARN: "arn:aws:iam::444455556666:user/bob", Account: "444455556666"}, "aps:GetLabels", ExplicitDeny, false, ""},
		{Caller{ARN: "arn:aws:iam::444455556666:user/bob", Account: "444455556666"}, "aps:RemoteWrite", ImplicitDeny, false, ""},
		{Caller{ARN: "arn:aws:iam::777788889999:user/x", Account: "777788889999"}, "aps:QueryMetrics", Allow, false, ""},
		{Caller{ARN: "arn:aws:iam::111122223333:user/carol", Account: "111122223333"}, "aps:RemoteWrite", Allow, true, ""},
		{Caller{ARN: "arn:aws:iam::111122223333:user/dave", Account: "111122223333"}, "aps:RemoteWrite", ImplicitDeny, false, ""},
		{Caller{ARN: "arn:aws:sts::555555555555:assumed-role/reader/s1", Account: "555555555555"}, "aps:QueryMetrics", Allow, true, ""},
		{Caller{ARN: "arn:aws:iam::121212121212:user/e", Account: "121212121212"}, "aps:GetSeries", Allow, true, ""},
		{Caller{ARN: "arn:aws:iam::131313131313:user/e", Account: "131313131313"}, "aps:GetSeries", ImplicitDeny, false, ""},
		// A direct caller has no aws:SourceAccount: StringLike on it fails.
		{Caller{ARN: "arn:aws:iam::444455556666:user/bob", Account: "444455556666"}, "aps:GetMetricMetadata", ImplicitDeny, false, ""},
		{Caller{ARN: "arn:aws:iam::121212121212:user/e", Account: "121212121212", SourceAccount: "444411112222"}, "aps:GetMetricMetadata", Allow, true, ""},
	} {
		res := tc.resource
		if res == "" {
			res = wsArn
		}
		d, direct := p.Evaluate(tc.c, tc.action, res)
		if d != tc.want || direct != tc.direct {
			t.Errorf("%s %s on %s: %v direct=%v, want %v direct=%v", tc.c.ARN, tc.action, res, d, direct, tc.want, tc.direct)
		}
	}
}

func TestConditionAbsentKey(t *testing.T) {
	for op, want := range map[string]bool{
		"StringEquals": false, "StringNotEquals": true, "StringEqualsIfExists": true, "StringLike": false, "StringNotLike": true,
	} {
		c := Condition{Operator: op, Key: KeySourceAccount, Values: []string{"111122223333"}}
		if got := c.holds(Caller{Account: "111122223333"}); got != want {
			t.Errorf("%s on an absent key: %v, want %v", op, got, want)
		}
	}
}

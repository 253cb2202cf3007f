package iam

import (
	"encoding/json"
	"errors"
	"testing"
)

// FuzzParsePolicy: any input parses to a valid policy or to an error
// wrapping ErrInvalidPolicy, never a panic; a parsed policy evaluates, and
// survives a JSON round trip with the same decisions.
func FuzzParsePolicy(f *testing.F) {
	for _, s := range []string{
		// AWS's managed policies for AMP, as package auth's presets hold them.
		`{"Version":"2012-10-17","Statement":[{"Action":["aps:RemoteWrite"],"Effect":"Allow","Resource":"*"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Action":["aps:GetLabels","aps:GetMetricMetadata","aps:GetSeries","aps:QueryMetrics"],"Effect":"Allow","Resource":"*"}]}`,
		`{"Version":"2012-10-17","Statement":[{"Sid":"AllPrometheusActions","Effect":"Allow","Action":["aps:*"],"Resource":"*"}]}`,
		`{"Version":"2012-10-17","Statement":{"Effect":"Deny","NotAction":"aps:Get*","NotResource":"arn:aws:aps:*:*:workspace/ws-?"}}`,
		`{"Statement":[{"Effect":"Allow","Action":["*"],"Resource":["*"],"Condition":{}}]}`,
		`{"Statement":{"Effect":"Allow","Action":"aps:*","Resource":"arn:aws:aps:us-east-1:111122223333:workspace/${aws:username}"}}`,
		`[]`, `null`, `{"Statement":[null]}`, `{"Statement":{"Action":[1]}}`,
	} {
		f.Add([]byte(s))
	}
	probes := [][2]string{
		{"aps:QueryMetrics", "arn:aws:aps:us-east-1:111122223333:workspace/ws-1"},
		{"aps:GetLabels", "*"},
		{"s3:GetObject", "arn:aws:s3:::bucket/key"},
		{"aps:RemoteWrite", "arn:aws:aps:eu-west-1:111122223333:workspace/ws-a"},
	}
	f.Fuzz(func(t *testing.T, data []byte) {
		p, err := ParsePolicy(data)
		if err != nil {
			if !errors.Is(err, ErrInvalidPolicy) {
				t.Fatalf("error %v does not wrap ErrInvalidPolicy", err)
			}
			return
		}
		if err := p.Validate(); err != nil {
			t.Fatalf("parsed policy does not validate: %v", err)
		}
		b, err := json.Marshal(p)
		if err != nil {
			t.Fatal(err)
		}
		q, err := ParsePolicy(b)
		if err != nil {
			t.Fatalf("re-parsing %s: %v", b, err)
		}
		for _, pr := range probes {
			if a, b := p.Evaluate(pr[0], pr[1]), q.Evaluate(pr[0], pr[1]); a != b {
				t.Fatalf("decision changed over a round trip: %v != %v", a, b)
			}
		}
	})
}

func TestWildcardMatch(t *testing.T) {
	for _, tc := range []struct {
		pattern, s string
		fold, want bool
	}{
		{"*", "", false, true},
		{"", "", false, true},
		{"", "a", false, false},
		{"a*b*c", "aXbYc", false, true},
		{"a*b*c", "aXbY", false, false},
		{"*a*a*a*a*b", "aaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaaa", false, false},
		{"?", "é", false, true},
		{"??", "é", false, false},
		{"aps:get*", "APS:GetLabels", true, true},
		{"aps:get*", "APS:GetLabels", false, false},
		{"a?c", "abc", false, true},
		{"a**", "a", false, true},
	} {
		if got := wildcardMatch(tc.pattern, tc.s, tc.fold); got != tc.want {
			t.Errorf("wildcardMatch(%q, %q, %v) = %v", tc.pattern, tc.s, tc.fold, got)
		}
	}
}

package auth

import (
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// FuzzParseAuthorization: any Authorization header value parses to a
// well-formed signature input or to a clear error, never a panic, and a
// fuzzed header never authenticates.
func FuzzParseAuthorization(f *testing.F) {
	for _, s := range []string{
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/aps/aws4_request, SignedHeaders=content-type;host;x-amz-date, Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
		"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/aps/aws4_request,SignedHeaders=host,Signature=5d672d79c15b13162d9279b0855cfba6789a8edb4c82c400e06b5924a6f2b5d7",
		"AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=;;, Signature=zz",
		"AWS4-HMAC-SHA256 Signature=00, Signature=00",
		"AWS4-ECDSA-P256-SHA256 Credential=AKID/20150830/aps/aws4_request, SignedHeaders=host, Signature=00",
		"Bearer abc",
		"",
		"AWS4-HMAC-SHA256 ===,,,",
	} {
		f.Add(s)
	}
	store := StaticCredentials{"AKIDEXAMPLE": {AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "secret", AccountID: "111122223333"}}
	v, err := NewSigV4(SigV4Options{Credentials: store, Now: func() time.Time { return time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC) }})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, header string) {
		in, err := parseAuthorization(header)
		if err != nil {
			if !errors.Is(err, ErrMissingToken) && !errors.Is(err, ErrIncompleteSignature) {
				t.Fatalf("error %v is neither ErrMissingToken nor ErrIncompleteSignature", err)
			}
		} else {
			if len(in.signature) != 32 || in.accessKeyID == "" || in.date == "" || in.region == "" || in.service == "" || in.terminator == "" || len(in.headerNames) == 0 {
				t.Fatalf("accepted a malformed header %q: %+v", header, in)
			}
			for _, h := range in.headerNames {
				if h == "" {
					t.Fatalf("empty signed header name in %q", header)
				}
			}
		}
		r := httptest.NewRequest(http.MethodGet, "http://promspace.test/workspaces/ws-1/api/v1/query?query=up", nil)
		r.Header.Set("Authorization", header)
		r.Header.Set("X-Amz-Date", "20150830T123600Z")
		if p, err := v.Authenticate(r); err == nil || p != nil {
			t.Fatalf("fuzzed header %q authenticated as %+v", header, p)
		}
	})
}

// FuzzParsePolicy: any input parses to a valid policy or to an error
// wrapping ErrInvalidPolicy, never a panic; a parsed policy evaluates, and
// survives a JSON round trip with the same decisions.
func FuzzParsePolicy(f *testing.F) {
	for _, doc := range presetDocuments {
		f.Add([]byte(doc))
	}
	for _, s := range []string{
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

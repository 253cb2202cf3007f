package sigv4

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"
)

// FuzzParseAuthorization: any Authorization header value parses to a
// well-formed signature input or to a clear error, never a panic, and a
// fuzzed header never verifies.
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
	store := CredentialStoreFunc(func(_ context.Context, id string) (Credentials, error) {
		if id != "AKIDEXAMPLE" {
			return Credentials{}, ErrUnrecognizedClient
		}
		return Credentials{SecretAccessKey: "secret"}, nil
	})
	v, err := NewVerifier(Options{Region: "us-east-1", Service: "aps", Credentials: store, Now: func() time.Time { return time.Date(2015, 8, 30, 12, 36, 0, 0, time.UTC) }})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, header string) {
		in, err := parseAuthorization(header)
		if err != nil {
			if !errors.Is(err, ErrMissingSignature) && !errors.Is(err, ErrIncompleteSignature) {
				t.Fatalf("error %v is neither ErrMissingSignature nor ErrIncompleteSignature", err)
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
		if res, err := v.Verify(r.Context(), r); err == nil || res != (Result{}) {
			t.Fatalf("fuzzed header %q verified as %+v", header, res)
		}
	})
}

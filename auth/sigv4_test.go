package auth_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/promspace/promspace/auth"
)

// TestSigV4Refusals: the middleware answers each kind of failure of the
// SigV4 authenticator as AMP does, on both planes. Package sigv4's tests
// check which failure each malformed, tampered or expired request is.
func TestSigV4Refusals(t *testing.T) {
	now := signingTime.Add(30 * time.Second)
	tokenCred := auth.Credential{AccessKeyID: "ASIATOKEN", SecretAccessKey: "s3cr3t", SessionToken: "the-token", AccountID: testAccount, Name: "temp"}
	v := newVerifier(t, now, testCredential(), tokenCred)
	srv, seen := newServer(t, auth.MiddlewareOptions{Authenticator: v, Authorizer: fullAccess(t), Region: testRegion})
	small, err := auth.NewSigV4(auth.SigV4Options{Region: testRegion, Credentials: auth.StaticCredentials{testKey: testCredential()}, Now: clockAt(now), MaxBodySize: 1024})
	if err != nil {
		t.Fatal(err)
	}
	smallSrv, _ := newServer(t, auth.MiddlewareOptions{Authenticator: small, Authorizer: fullAccess(t), Region: testRegion})

	wrongSecret := testCredential()
	wrongSecret.SecretAccessKey = "not-the-secret"
	unknown := testCredential()
	unknown.AccessKeyID = "AKIDUNKNOWN"
	wrongToken := tokenCred
	wrongToken.SessionToken = "another-token"

	const (
		invalid      = "InvalidSignatureException"
		incomplete   = "IncompleteSignatureException"
		unrecognized = "UnrecognizedClientException"
		missing      = "MissingAuthenticationTokenException"
		mismatch     = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	)
	type tc struct {
		name    string
		srv     string
		method  string
		path    string
		body    []byte
		sign    func(*http.Request) error
		status  int
		errType string
		message string // exact, or a prefix when it ends in "..."
	}
	query := "/workspaces/ws-1/api/v1/query?query=up"
	write := "/workspaces/ws-1/api/v1/remote_write"
	describe := "/workspaces/ws-1"
	cases := []tc{
		{name: "no credentials", path: query, status: 403, errType: missing, message: "Missing Authentication Token"},
		{name: "no credentials, control plane", path: describe, status: 403, errType: missing, message: "Missing Authentication Token"},
		{name: "wrong secret", path: query, sign: sdkSign(wrongSecret, signOpts{}), status: 403, errType: invalid, message: mismatch},
		{name: "wrong secret, control plane", path: describe, sign: sdkSign(wrongSecret, signOpts{}), status: 403, errType: invalid, message: mismatch},
		{name: "expired", path: query, sign: sdkSign(testCredential(), signOpts{at: signingTime.Add(-6 * time.Minute)}), status: 403, errType: invalid,
			message: "Signature expired: 20260314T150326Z is now earlier than 20260314T150456Z (20260314T150956Z - 5 min.)"},
		{name: "another region", path: query, sign: sdkSign(testCredential(), signOpts{region: "eu-west-1"}), status: 403, errType: invalid,
			message: "Credential should be scoped to a valid region, not 'eu-west-1'."},
		{name: "another service", path: query, sign: sdkSign(testCredential(), signOpts{service: "execute-api"}), status: 403, errType: invalid,
			message: "Credential should be scoped to correct service: 'aps'."},
		{name: "unknown access key", path: query, sign: sdkSign(unknown, signOpts{}), status: 403, errType: unrecognized,
			message: "The security token included in the request is invalid."},
		{name: "session token wrong", path: query, sign: sdkSign(wrongToken, signOpts{}), status: 403, errType: unrecognized,
			message: "The security token included in the request is invalid."},
		{name: "streaming payload", method: "POST", path: write, body: []byte("x"), sign: func(r *http.Request) error {
			r.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
			return sdkSign(testCredential(), signOpts{})(r)
		}, status: 403, errType: incomplete, message: "X-Amz-Content-Sha256 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' is not supported..."},
		{name: "malformed authorization", path: query, sign: func(r *http.Request) error {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260314/us-east-1/aps/aws4_request, Signature=00")
			return nil
		}, status: 403, errType: incomplete, message: "Authorization header requires 'SignedHeaders' parameter."},
		{name: "presigned expired", path: query, sign: sdkPresign(testCredential(), signOpts{at: signingTime.Add(-2 * time.Minute)}, time.Minute), status: 403, errType: invalid,
			message: "Signature expired: 20260314T150726Z is now earlier than 20260314T150856Z (20260314T150956Z - 60 sec.)"},
		{name: "presigned wrong secret", path: query, sign: sdkPresign(wrongSecret, signOpts{}, time.Minute), status: 403, errType: invalid, message: mismatch},
		{name: "body too large", srv: smallSrv.URL, method: "POST", path: write, body: bytes.Repeat([]byte("x"), 2048),
			sign: sdkSign(testCredential(), signOpts{}), status: 413, errType: "PayloadTooLargeException", message: "Request body of 2048 bytes exceeds the limit of 1024 bytes."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			base := srv.URL
			if c.srv != "" {
				base = c.srv
			}
			method := c.method
			if method == "" {
				method = "GET"
			}
			r := newRequest(t, method, base+c.path, c.body)
			if c.sign != nil {
				if err := c.sign(r); err != nil {
					t.Fatal(err)
				}
			}
			before := seen.count()
			_, ref := send(t, srv.Client(), r)
			if ref.status != c.status || ref.errType != c.errType {
				t.Fatalf("got %d %s (%s), want %d %s", ref.status, ref.errType, ref.message, c.status, c.errType)
			}
			if p, ok := strings.CutSuffix(c.message, "..."); ok {
				if !strings.HasPrefix(ref.message, p) {
					t.Fatalf("message %q, want prefix %q", ref.message, p)
				}
			} else if ref.message != c.message {
				t.Fatalf("message %q, want %q", ref.message, c.message)
			}
			checkRefusalShape(t, r.URL.Path, ref)
			if seen.count() != before {
				t.Fatalf("a refused request reached the handler")
			}
		})
	}
}

// checkRefusalShape checks the body is AMP's for the plane of path.
func checkRefusalShape(t *testing.T, path string, ref refusal) {
	t.Helper()
	if strings.Contains(path, "/api/v1/") || strings.Contains(path, "/alertmanager/api/v2/") {
		if ref.body["status"] != "error" || ref.body["errorType"] != ref.errType || len(ref.body) != 3 {
			t.Fatalf("data-plane refusal %v is not Prometheus' error JSON", ref.body)
		}
		return
	}
	if len(ref.body) != 1 || ref.body["message"] == nil {
		t.Fatalf("control-plane refusal %v is not {\"message\":...}", ref.body)
	}
}

// TestSigV4BodyReadErrors: a body that has to be hashed but cannot be read
// whole is the client's fault: 400 when it ends early, 413 when a
// MaxBytesReader cuts it, never a 500.
func TestSigV4BodyReadErrors(t *testing.T) {
	v := newVerifier(t, signingTime)
	for _, tc := range []struct {
		name   string
		body   func(r *http.Request) io.ReadCloser
		status int
	}{
		{"short", func(*http.Request) io.ReadCloser { return io.NopCloser(strings.NewReader("ab")) }, http.StatusBadRequest},
		{"max bytes", func(*http.Request) io.ReadCloser {
			return http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(strings.NewReader("abcde")), 2)
		}, http.StatusRequestEntityTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRequest(t, http.MethodPost, "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write", []byte("abcde"))
			if err := sdkSign(testCredential(), signOpts{})(r); err != nil {
				t.Fatal(err)
			}
			r.Body = tc.body(r)
			_, err := v.Authenticate(r)
			srv := httptest.NewServer(auth.Middleware(http.NotFoundHandler(), auth.MiddlewareOptions{
				Authenticator: auth.AuthenticatorFunc(func(*http.Request) (*auth.Principal, error) { return nil, err }),
			}))
			defer srv.Close()
			resp, herr := http.Get(srv.URL + "/workspaces")
			if herr != nil {
				t.Fatal(herr)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.status {
				t.Errorf("%v: status %d, want %d", err, resp.StatusCode, tc.status)
			}
		})
	}
}

// failingStore stands for a credential backend that cannot answer.
type failingStore struct{}

func (failingStore) Lookup(context.Context, string) (auth.Credential, error) {
	return auth.Credential{}, context.DeadlineExceeded
}

// TestSigV4Errors: the authenticator reports package sigv4's failures as
// this package's error kinds, and a failing credential store as itself.
func TestSigV4Errors(t *testing.T) {
	sign := func(o signOpts) *http.Request {
		r := newRequest(t, "GET", "http://promspace.test/workspaces/ws-1/api/v1/labels", nil)
		if err := sdkSign(testCredential(), o)(r); err != nil {
			t.Fatal(err)
		}
		return r
	}
	v := newVerifier(t, signingTime)
	if _, err := v.Authenticate(sign(signOpts{at: signingTime.Add(-time.Hour)})); !errors.Is(err, auth.ErrSignatureExpired) || !errors.Is(err, auth.ErrInvalidSignature) {
		t.Errorf("expired: %v", err)
	}
	bearer := newRequest(t, "GET", "http://promspace.test/workspaces/ws-1", nil)
	bearer.Header.Set("Authorization", "Bearer tok")
	if _, err := v.Authenticate(bearer); !errors.Is(err, auth.ErrMissingToken) {
		t.Errorf("bearer token: %v", err)
	}

	failing, err := auth.NewSigV4(auth.SigV4Options{Region: testRegion, Credentials: failingStore{}, Now: clockAt(signingTime)})
	if err != nil {
		t.Fatal(err)
	}
	_, err = failing.Authenticate(sign(signOpts{}))
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("failing store: %v", err)
	}
	srv, seen := newServer(t, auth.MiddlewareOptions{Authenticator: failing, Authorizer: fullAccess(t)})
	r := newRequest(t, "GET", srv.URL+"/workspaces/ws-1", nil)
	if err := sdkSign(testCredential(), signOpts{})(r); err != nil {
		t.Fatal(err)
	}
	if _, ref := send(t, srv.Client(), r); ref.status != 500 || ref.errType != "InternalServerException" || seen.count() != 0 {
		t.Fatalf("failing store: %d %s", ref.status, ref.errType)
	}
}

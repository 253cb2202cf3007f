package auth_test

import (
	"bytes"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/promspace/promspace/auth"
)

// fullAccess returns a PolicyAuthorizer that gives alice AmazonPrometheusFullAccess.
func fullAccess(t testing.TB, creds ...auth.Credential) *auth.PolicyAuthorizer {
	t.Helper()
	a := auth.NewPolicyAuthorizer()
	full, _ := auth.Preset(auth.PresetFullAccess)
	if len(creds) == 0 {
		creds = []auth.Credential{testCredential()}
	}
	for _, c := range creds {
		a.Attach(c.Principal().ARN, full)
	}
	return a
}

func TestSigV4AcceptsAWSSDKRequests(t *testing.T) {
	withToken := testCredential()
	withToken.AccessKeyID, withToken.SessionToken, withToken.Name = "ASIATEMPORARY", "FwoGZXIvYXdzEXAMPLE//token+/=", "temp"
	v := newVerifier(t, signingTime.Add(30*time.Second), testCredential(), withToken)
	srv, seen := newServer(t, auth.MiddlewareOptions{Authenticator: v, Authorizer: fullAccess(t, testCredential(), withToken), Region: testRegion})
	rw := remoteWriteBody(t, 2000)

	cases := []struct {
		name, method, path string
		body               []byte
		header             map[string]string
		sign               func(*http.Request) error
		wantName           string
	}{
		{name: "header GET with query", method: "GET", path: "/workspaces/ws-1/api/v1/query_range?query=sum%28rate%28http_requests_total%7Bjob%3D%22node%22%7D%5B5m%5D%29%29&start=1&end=2&step=15s",
			sign: sdkSign(testCredential(), signOpts{})},
		{name: "header GET repeated and odd query keys", method: "GET", path: "/workspaces/ws-1/api/v1/series?match%5B%5D=up&match%5B%5D=a%20b&match%5B%5D=c%2Bd&z=&tilde=~x&star=*&utf8=%C3%A9t%C3%A9",
			sign: sdkSign(testCredential(), signOpts{})},
		{name: "header POST remote write, body hashed by the server", method: "POST", path: "/workspaces/ws-1/api/v1/remote_write", body: rw,
			header: map[string]string{"Content-Type": "application/x-protobuf", "Content-Encoding": "snappy", "X-Prometheus-Remote-Write-Version": "0.1.0"},
			sign:   sdkSign(testCredential(), signOpts{})},
		{name: "header POST with X-Amz-Content-Sha256", method: "POST", path: "/workspaces/ws-1/api/v1/remote_write", body: rw,
			sign: sdkSign(testCredential(), signOpts{contentSHA: true})},
		{name: "header POST with UNSIGNED-PAYLOAD", method: "POST", path: "/workspaces/ws-1/api/v1/query", body: []byte("query=up"),
			header: map[string]string{"Content-Type": "application/x-www-form-urlencoded"},
			sign:   sdkSign(testCredential(), signOpts{unsigned: true})},
		{name: "header with session token", method: "GET", path: "/workspaces/ws-1/api/v1/labels",
			sign: sdkSign(withToken, signOpts{}), wantName: "temp"},
		{name: "escaped path segments (tag ARN)", method: "GET", path: "/tags/arn%3Aaws%3Aaps%3Aus-east-1%3A111122223333%3Aworkspace%2Fws-1",
			sign: sdkSign(testCredential(), signOpts{})},
		{name: "label values with escaped name", method: "GET", path: "/workspaces/ws-1/api/v1/label/U__http_2e_method/values?match%5B%5D=up",
			sign: sdkSign(testCredential(), signOpts{})},
		{name: "presigned GET", method: "GET", path: "/workspaces/ws-1/api/v1/query?query=up",
			sign: sdkPresign(testCredential(), signOpts{}, 0)},
		{name: "presigned GET with X-Amz-Expires", method: "GET", path: "/workspaces/ws-1/api/v1/query?query=up",
			sign: sdkPresign(testCredential(), signOpts{}, 15*time.Minute)},
		{name: "presigned POST with body hash", method: "POST", path: "/workspaces/ws-1/api/v1/remote_write", body: rw,
			sign: sdkPresign(testCredential(), signOpts{}, time.Hour)},
		{name: "presigned UNSIGNED-PAYLOAD", method: "POST", path: "/workspaces/ws-1/api/v1/remote_write", body: rw,
			sign: sdkPresign(testCredential(), signOpts{unsigned: true}, time.Hour)},
		{name: "presigned with session token", method: "GET", path: "/workspaces/ws-1/api/v1/metadata",
			sign: sdkPresign(withToken, signOpts{}, time.Minute), wantName: "temp"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRequest(t, tc.method, srv.URL+tc.path, tc.body)
			for k, v := range tc.header {
				r.Header.Set(k, v)
			}
			if err := tc.sign(r); err != nil {
				t.Fatal(err)
			}
			resp, ref := send(t, srv.Client(), r)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("status %d %s: %s", resp.StatusCode, ref.errType, ref.message)
			}
			got := seen.last(t)
			want := tc.wantName
			if want == "" {
				want = "alice"
			}
			if got.principal == nil || got.principal.Name != want || got.principal.AccountID != testAccount || got.principal.Method != auth.MethodSigV4 {
				t.Fatalf("principal = %+v, want %s", got.principal, want)
			}
			if !bytes.Equal(got.body, tc.body) {
				t.Fatalf("handler read %d bytes, want the %d sent", len(got.body), len(tc.body))
			}
		})
	}
}

func TestSigV4Rejects(t *testing.T) {
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
	noToken := tokenCred
	noToken.SessionToken = ""

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
		after   func(*http.Request) // tampering after signing
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
		{name: "tampered body", method: "POST", path: write, body: []byte("signed body"), sign: sdkSign(testCredential(), signOpts{}),
			after: func(r *http.Request) { setBody(r, []byte("other body!")) }, status: 403, errType: invalid, message: mismatch},
		{name: "tampered body with declared hash", method: "POST", path: write, body: []byte("signed body"), sign: sdkSign(testCredential(), signOpts{contentSHA: true}),
			after: func(r *http.Request) { setBody(r, []byte("other body!")) }, status: 403, errType: invalid,
			message: "The provided 'x-amz-content-sha256' header does not match what was computed."},
		{name: "tampered signed header", method: "POST", path: write, body: []byte("x"), sign: func(r *http.Request) error {
			r.Header.Set("Content-Type", "application/x-protobuf")
			return sdkSign(testCredential(), signOpts{})(r)
		}, after: func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }, status: 403, errType: invalid, message: mismatch},
		{name: "tampered query", path: query, sign: sdkSign(testCredential(), signOpts{}),
			after: func(r *http.Request) { r.URL.RawQuery = "query=down" }, status: 403, errType: invalid, message: mismatch},
		{name: "tampered path", path: query, sign: sdkSign(testCredential(), signOpts{}),
			after: func(r *http.Request) { r.URL.Path = "/workspaces/ws-2/api/v1/query" }, status: 403, errType: invalid, message: mismatch},
		{name: "tampered method", method: "POST", path: query, sign: sdkSign(testCredential(), signOpts{}),
			after: func(r *http.Request) { r.Method = "GET" }, status: 403, errType: invalid, message: mismatch},
		{name: "expired", path: query, sign: sdkSign(testCredential(), signOpts{at: signingTime.Add(-6 * time.Minute)}), status: 403, errType: invalid,
			message: "Signature expired: 20260314T150326Z is now earlier than 20260314T150456Z (20260314T150956Z - 5 min.)"},
		{name: "not yet current", path: query, sign: sdkSign(testCredential(), signOpts{at: signingTime.Add(6 * time.Minute)}), status: 403, errType: invalid,
			message: "Signature not yet current: 20260314T151526Z is still later than 20260314T151456Z (20260314T150956Z + 5 min.)"},
		{name: "another region", path: query, sign: sdkSign(testCredential(), signOpts{region: "eu-west-1"}), status: 403, errType: invalid,
			message: "Credential should be scoped to a valid region, not 'eu-west-1'."},
		{name: "another service", path: query, sign: sdkSign(testCredential(), signOpts{service: "execute-api"}), status: 403, errType: invalid,
			message: "Credential should be scoped to correct service: 'aps'."},
		{name: "unknown access key", path: query, sign: sdkSign(unknown, signOpts{}), status: 403, errType: unrecognized,
			message: "The security token included in the request is invalid."},
		{name: "session token missing", path: query, sign: sdkSign(noToken, signOpts{}), status: 403, errType: unrecognized,
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
		{name: "signature v4a", path: query, sign: func(r *http.Request) error {
			r.Header.Set("Authorization", "AWS4-ECDSA-P256-SHA256 Credential=AKIDEXAMPLE/20260314/aps/aws4_request, SignedHeaders=host, Signature=00")
			return nil
		}, status: 403, errType: incomplete, message: "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'."},
		{name: "presigned expired", path: query, sign: sdkPresign(testCredential(), signOpts{at: signingTime.Add(-2 * time.Minute)}, time.Minute), status: 403, errType: invalid,
			message: "Signature expired: 20260314T150726Z is now earlier than 20260314T150856Z (20260314T150956Z - 60 sec.)"},
		{name: "presigned wrong secret", path: query, sign: sdkPresign(wrongSecret, signOpts{}, time.Minute), status: 403, errType: invalid, message: mismatch},
		{name: "presigned and header", path: query, sign: func(r *http.Request) error {
			if err := sdkPresign(testCredential(), signOpts{}, time.Minute)(r); err != nil {
				return err
			}
			return sdkSign(testCredential(), signOpts{})(r)
		}, status: 403, errType: incomplete, message: "Only one auth mechanism allowed..."},
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
			if c.after != nil {
				c.after(r)
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

func setBody(r *http.Request, b []byte) {
	r.Body = nopCloser{bytes.NewReader(b)}
	r.GetBody = nil
	r.ContentLength = int64(len(b))
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

func TestSigV4AuthenticatesClientSideRequests(t *testing.T) {
	// A request that never went over the wire has no RequestURI: the
	// verifier uses the URL's escaped path.
	v := newVerifier(t, signingTime.Add(10*time.Second))
	r := newRequest(t, "GET", "http://promspace.test/tags/arn%3Aaws%3Aaps%3Aus-east-1%3A111122223333%3Aworkspace%2Fws-1?a=b", nil)
	if err := sdkSign(testCredential(), signOpts{})(r); err != nil {
		t.Fatal(err)
	}
	p, err := v.Authenticate(r)
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != "alice" {
		t.Fatalf("principal %+v", p)
	}
	// The signing time travels in X-Amz-Date only.
	r.Header.Del("X-Amz-Date")
	r.Header.Set("Date", signingTime.Format(http.TimeFormat))
	if _, err := v.Authenticate(r); !errors.Is(err, auth.ErrIncompleteSignature) {
		t.Fatalf("without X-Amz-Date: %v", err)
	}
}

func TestSigV4ParsesQueryLikeTheSDK(t *testing.T) {
	// The SDK builds the canonical query from url.Values, so semicolons and
	// bad escapes are dropped on both sides and the request still verifies.
	v := newVerifier(t, signingTime)
	for _, raw := range []string{"a=1;b=2&c=3", "bad=%zz&good=1", "plus=a+b", "empty", "k=v=w"} {
		u := &url.URL{Scheme: "http", Host: "promspace.test", Path: "/workspaces/ws-1/api/v1/query", RawQuery: raw}
		r := newRequest(t, "GET", u.String(), nil)
		if err := sdkSign(testCredential(), signOpts{})(r); err != nil {
			t.Fatal(err)
		}
		if _, err := v.Authenticate(r); err != nil {
			t.Errorf("query %q: %v", raw, err)
		}
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

package sigv4_test

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

	"github.com/aws/aws-sdk-go-v2/aws"

	"github.com/promspace/promspace/auth/sigv4"
)

func TestVerifyAcceptsAWSSDKRequests(t *testing.T) {
	withToken := testCredential()
	withToken.AccessKeyID, withToken.SessionToken = "ASIATEMPORARY", "FwoGZXIvYXdzEXAMPLE//token+/="
	srv := newVerifyServer(t, newVerifier(t, signingTime.Add(30*time.Second), testCredential(), withToken))
	rw := remoteWriteBody(t, 2000)

	cases := []struct {
		name, method, path string
		body               []byte
		header             map[string]string
		sign               func(*http.Request) error
		wantKey            string
		wantPresigned      bool
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
			sign: sdkSign(withToken, signOpts{}), wantKey: "ASIATEMPORARY"},
		{name: "escaped path segments (tag ARN)", method: "GET", path: "/tags/arn%3Aaws%3Aaps%3Aus-east-1%3A111122223333%3Aworkspace%2Fws-1",
			sign: sdkSign(testCredential(), signOpts{})},
		{name: "label values with escaped name", method: "GET", path: "/workspaces/ws-1/api/v1/label/U__http_2e_method/values?match%5B%5D=up",
			sign: sdkSign(testCredential(), signOpts{})},
		{name: "presigned GET", method: "GET", path: "/workspaces/ws-1/api/v1/query?query=up",
			sign: sdkPresign(testCredential(), signOpts{}, 0), wantPresigned: true},
		{name: "presigned GET with X-Amz-Expires", method: "GET", path: "/workspaces/ws-1/api/v1/query?query=up",
			sign: sdkPresign(testCredential(), signOpts{}, 15*time.Minute), wantPresigned: true},
		{name: "presigned POST with body hash", method: "POST", path: "/workspaces/ws-1/api/v1/remote_write", body: rw,
			sign: sdkPresign(testCredential(), signOpts{}, time.Hour), wantPresigned: true},
		{name: "presigned UNSIGNED-PAYLOAD", method: "POST", path: "/workspaces/ws-1/api/v1/remote_write", body: rw,
			sign: sdkPresign(testCredential(), signOpts{unsigned: true}, time.Hour), wantPresigned: true},
		{name: "presigned with session token", method: "GET", path: "/workspaces/ws-1/api/v1/metadata",
			sign: sdkPresign(withToken, signOpts{}, time.Minute), wantKey: "ASIATEMPORARY", wantPresigned: true},
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
			got := srv.do(t, r)
			if got.err != nil {
				t.Fatalf("Verify: %v", got.err)
			}
			want := sigv4.Result{AccessKeyID: tc.wantKey, Scope: sigv4.Scope{Date: "20260314", Region: testRegion, Service: testService},
				SignedAt: signingTime, Presigned: tc.wantPresigned}
			if want.AccessKeyID == "" {
				want.AccessKeyID = testKey
			}
			if got.res != want {
				t.Fatalf("result = %+v, want %+v", got.res, want)
			}
			if !bytes.Equal(got.body, tc.body) {
				t.Fatalf("handler read %d bytes, want the %d sent", len(got.body), len(tc.body))
			}
		})
	}
}

func TestVerifyRejects(t *testing.T) {
	now := signingTime.Add(30 * time.Second)
	tokenCred := aws.Credentials{AccessKeyID: "ASIATOKEN", SecretAccessKey: "s3cr3t", SessionToken: "the-token"}
	srv := newVerifyServer(t, newVerifier(t, now, testCredential(), tokenCred))
	smallSrv := newVerifyServer(t, newVerifierWith(t, sigv4.Options{Credentials: staticStore(testCredential()), Now: clockAt(now), MaxBodySize: 1024}))

	wrongSecret := testCredential()
	wrongSecret.SecretAccessKey = "not-the-secret"
	unknown := testCredential()
	unknown.AccessKeyID = "AKIDUNKNOWN"
	wrongToken := tokenCred
	wrongToken.SessionToken = "another-token"
	noToken := tokenCred
	noToken.SessionToken = ""

	var (
		invalid      = sigv4.ErrInvalidSignature
		expired      = sigv4.ErrSignatureExpired
		incomplete   = sigv4.ErrIncompleteSignature
		unrecognized = sigv4.ErrUnrecognizedClient
		missing      = sigv4.ErrMissingSignature
		tooLarge     = sigv4.ErrBodyTooLarge
	)
	const mismatch = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	type tc struct {
		name    string
		srv     *verifyServer
		method  string
		path    string
		body    []byte
		sign    func(*http.Request) error
		after   func(*http.Request) // tampering after signing
		kind    error
		message string // exact, or a prefix when it ends in "..."
	}
	query := "/workspaces/ws-1/api/v1/query?query=up"
	write := "/workspaces/ws-1/api/v1/remote_write"
	describe := "/workspaces/ws-1"
	cases := []tc{
		{name: "no credentials", path: query, kind: missing, message: "Missing Authentication Token"},
		{name: "no credentials, control plane", path: describe, kind: missing, message: "Missing Authentication Token"},
		{name: "wrong secret", path: query, sign: sdkSign(wrongSecret, signOpts{}), kind: invalid, message: mismatch},
		{name: "wrong secret, control plane", path: describe, sign: sdkSign(wrongSecret, signOpts{}), kind: invalid, message: mismatch},
		{name: "tampered body", method: "POST", path: write, body: []byte("signed body"), sign: sdkSign(testCredential(), signOpts{}),
			after: func(r *http.Request) { setBody(r, []byte("other body!")) }, kind: invalid, message: mismatch},
		{name: "tampered body with declared hash", method: "POST", path: write, body: []byte("signed body"), sign: sdkSign(testCredential(), signOpts{contentSHA: true}),
			after: func(r *http.Request) { setBody(r, []byte("other body!")) }, kind: invalid,
			message: "The provided 'x-amz-content-sha256' header does not match what was computed."},
		{name: "tampered signed header", method: "POST", path: write, body: []byte("x"), sign: func(r *http.Request) error {
			r.Header.Set("Content-Type", "application/x-protobuf")
			return sdkSign(testCredential(), signOpts{})(r)
		}, after: func(r *http.Request) { r.Header.Set("Content-Type", "text/plain") }, kind: invalid, message: mismatch},
		{name: "tampered query", path: query, sign: sdkSign(testCredential(), signOpts{}),
			after: func(r *http.Request) { r.URL.RawQuery = "query=down" }, kind: invalid, message: mismatch},
		{name: "tampered path", path: query, sign: sdkSign(testCredential(), signOpts{}),
			after: func(r *http.Request) { r.URL.Path = "/workspaces/ws-2/api/v1/query" }, kind: invalid, message: mismatch},
		{name: "tampered method", method: "POST", path: query, sign: sdkSign(testCredential(), signOpts{}),
			after: func(r *http.Request) { r.Method = "GET" }, kind: invalid, message: mismatch},
		{name: "expired", path: query, sign: sdkSign(testCredential(), signOpts{at: signingTime.Add(-6 * time.Minute)}), kind: expired,
			message: "Signature expired: 20260314T150326Z is now earlier than 20260314T150456Z (20260314T150956Z - 5 min.)"},
		{name: "not yet current", path: query, sign: sdkSign(testCredential(), signOpts{at: signingTime.Add(6 * time.Minute)}), kind: expired,
			message: "Signature not yet current: 20260314T151526Z is still later than 20260314T151456Z (20260314T150956Z + 5 min.)"},
		{name: "another region", path: query, sign: sdkSign(testCredential(), signOpts{region: "eu-west-1"}), kind: invalid,
			message: "Credential should be scoped to a valid region, not 'eu-west-1'."},
		{name: "another service", path: query, sign: sdkSign(testCredential(), signOpts{service: "execute-api"}), kind: invalid,
			message: "Credential should be scoped to correct service: 'aps'."},
		{name: "unknown access key", path: query, sign: sdkSign(unknown, signOpts{}), kind: unrecognized,
			message: "The security token included in the request is invalid."},
		{name: "session token missing", path: query, sign: sdkSign(noToken, signOpts{}), kind: unrecognized,
			message: "The security token included in the request is invalid."},
		{name: "session token wrong", path: query, sign: sdkSign(wrongToken, signOpts{}), kind: unrecognized,
			message: "The security token included in the request is invalid."},
		{name: "streaming payload", method: "POST", path: write, body: []byte("x"), sign: func(r *http.Request) error {
			r.Header.Set("X-Amz-Content-Sha256", "STREAMING-AWS4-HMAC-SHA256-PAYLOAD")
			return sdkSign(testCredential(), signOpts{})(r)
		}, kind: incomplete, message: "X-Amz-Content-Sha256 'STREAMING-AWS4-HMAC-SHA256-PAYLOAD' is not supported..."},
		{name: "malformed authorization", path: query, sign: func(r *http.Request) error {
			r.Header.Set("Authorization", "AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20260314/us-east-1/aps/aws4_request, Signature=00")
			return nil
		}, kind: incomplete, message: "Authorization header requires 'SignedHeaders' parameter."},
		{name: "signature v4a", path: query, sign: func(r *http.Request) error {
			r.Header.Set("Authorization", "AWS4-ECDSA-P256-SHA256 Credential=AKIDEXAMPLE/20260314/aps/aws4_request, SignedHeaders=host, Signature=00")
			return nil
		}, kind: incomplete, message: "Unsupported AWS 'algorithm': 'AWS4-ECDSA-P256-SHA256'."},
		{name: "presigned expired", path: query, sign: sdkPresign(testCredential(), signOpts{at: signingTime.Add(-2 * time.Minute)}, time.Minute), kind: expired,
			message: "Signature expired: 20260314T150726Z is now earlier than 20260314T150856Z (20260314T150956Z - 60 sec.)"},
		{name: "presigned wrong secret", path: query, sign: sdkPresign(wrongSecret, signOpts{}, time.Minute), kind: invalid, message: mismatch},
		{name: "presigned and header", path: query, sign: func(r *http.Request) error {
			if err := sdkPresign(testCredential(), signOpts{}, time.Minute)(r); err != nil {
				return err
			}
			return sdkSign(testCredential(), signOpts{})(r)
		}, kind: incomplete, message: "Only one auth mechanism allowed..."},
		{name: "body too large", srv: smallSrv, method: "POST", path: write, body: bytes.Repeat([]byte("x"), 2048),
			sign: sdkSign(testCredential(), signOpts{}), kind: tooLarge, message: "Request body of 2048 bytes exceeds the limit of 1024 bytes."},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			s := srv
			if c.srv != nil {
				s = c.srv
			}
			method := c.method
			if method == "" {
				method = "GET"
			}
			r := newRequest(t, method, s.URL+c.path, c.body)
			if c.sign != nil {
				if err := c.sign(r); err != nil {
					t.Fatal(err)
				}
			}
			if c.after != nil {
				c.after(r)
			}
			got := s.do(t, r)
			var e *sigv4.Error
			if !errors.As(got.err, &e) || !errors.Is(got.err, c.kind) {
				t.Fatalf("got error %v, want a *sigv4.Error of kind %v", got.err, c.kind)
			}
			if p, ok := strings.CutSuffix(c.message, "..."); ok {
				if !strings.HasPrefix(e.Message, p) {
					t.Fatalf("message %q, want prefix %q", e.Message, p)
				}
			} else if e.Message != c.message {
				t.Fatalf("message %q, want %q", e.Message, c.message)
			}
			if got.res != (sigv4.Result{}) {
				t.Fatalf("a refused request verified as %+v", got.res)
			}
		})
	}
}

func TestVerifyClientSideRequests(t *testing.T) {
	// A request that never went over the wire has no RequestURI: the
	// verifier uses the URL's escaped path.
	v := newVerifier(t, signingTime.Add(10*time.Second))
	r := newRequest(t, "GET", "http://promspace.test/tags/arn%3Aaws%3Aaps%3Aus-east-1%3A111122223333%3Aworkspace%2Fws-1?a=b", nil)
	if err := sdkSign(testCredential(), signOpts{})(r); err != nil {
		t.Fatal(err)
	}
	res, err := v.Verify(t.Context(), r)
	if err != nil {
		t.Fatal(err)
	}
	if res.AccessKeyID != testKey {
		t.Fatalf("result %+v", res)
	}
	// The signing time travels in X-Amz-Date only.
	r.Header.Del("X-Amz-Date")
	r.Header.Set("Date", signingTime.Format(http.TimeFormat))
	if _, err := v.Verify(t.Context(), r); !errors.Is(err, sigv4.ErrIncompleteSignature) {
		t.Fatalf("without X-Amz-Date: %v", err)
	}
}

func TestVerifyParsesQueryLikeTheSDK(t *testing.T) {
	// The SDK builds the canonical query from url.Values, so semicolons and
	// bad escapes are dropped on both sides and the request still verifies.
	v := newVerifier(t, signingTime)
	for _, raw := range []string{"a=1;b=2&c=3", "bad=%zz&good=1", "plus=a+b", "empty", "k=v=w"} {
		u := &url.URL{Scheme: "http", Host: "promspace.test", Path: "/workspaces/ws-1/api/v1/query", RawQuery: raw}
		r := newRequest(t, "GET", u.String(), nil)
		if err := sdkSign(testCredential(), signOpts{})(r); err != nil {
			t.Fatal(err)
		}
		if _, err := v.Verify(t.Context(), r); err != nil {
			t.Errorf("query %q: %v", raw, err)
		}
	}
}

// TestVerifyBodyReadErrors: a body that has to be hashed but cannot be read
// whole is the client's fault: ErrUnreadableBody when it ends early,
// ErrBodyTooLarge when a MaxBytesReader cuts it, never a store failure.
func TestVerifyBodyReadErrors(t *testing.T) {
	v := newVerifier(t, signingTime)
	for _, tc := range []struct {
		name string
		body func(r *http.Request) io.ReadCloser
		kind error
	}{
		{"short", func(*http.Request) io.ReadCloser { return io.NopCloser(strings.NewReader("ab")) }, sigv4.ErrUnreadableBody},
		{"max bytes", func(*http.Request) io.ReadCloser {
			return http.MaxBytesReader(httptest.NewRecorder(), io.NopCloser(strings.NewReader("abcde")), 2)
		}, sigv4.ErrBodyTooLarge},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r := newRequest(t, http.MethodPost, "https://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write", []byte("abcde"))
			if err := sdkSign(testCredential(), signOpts{})(r); err != nil {
				t.Fatal(err)
			}
			r.Body = tc.body(r)
			if _, err := v.Verify(t.Context(), r); !errors.Is(err, tc.kind) {
				t.Errorf("error %v, want %v", err, tc.kind)
			}
		})
	}
}

func TestVerifyClockIsInjected(t *testing.T) {
	// The same signed request is accepted or expired depending only on the
	// verifier's clock.
	for _, tc := range []struct {
		now  time.Time
		want bool
	}{
		{signingTime.Add(-5 * time.Minute), true},
		{signingTime.Add(5 * time.Minute), true},
		{signingTime.Add(5*time.Minute + time.Second), false},
		{signingTime.Add(-5*time.Minute - time.Second), false},
	} {
		r := newRequest(t, "GET", "http://promspace.test/workspaces/ws-1/api/v1/labels", nil)
		if err := sdkSign(testCredential(), signOpts{})(r); err != nil {
			t.Fatal(err)
		}
		_, err := newVerifier(t, tc.now).Verify(t.Context(), r)
		if (err == nil) != tc.want {
			t.Errorf("now %s: err %v, want ok %v", tc.now, err, tc.want)
		}
	}
}

func TestNewVerifierRequiresScopeAndStore(t *testing.T) {
	store := staticStore(testCredential())
	for _, opts := range []sigv4.Options{
		{Service: "aps", Credentials: store},
		{Region: "us-east-1", Credentials: store},
		{Region: "us-east-1", Service: "aps"},
	} {
		if _, err := sigv4.NewVerifier(opts); err == nil {
			t.Errorf("NewVerifier(%+v) accepted incomplete options", opts)
		}
	}
}

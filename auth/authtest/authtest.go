// Package authtest holds the conformance tests that every auth.Authenticator
// and auth.Authorizer implementation passes, in the manner of testing/fstest:
// a host program that plugs its own implementation in runs them in its
// tests.
package authtest

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sort"
	"strings"
	"sync"
	"testing"

	"github.com/promspace/promspace/auth"
)

// Authenticator describes the implementation TestAuthenticator checks.
type Authenticator struct {
	// Sign adds valid credentials to a client request (headers or query
	// parameters) so that it authenticates as Want. When r has a body,
	// r.GetBody returns a fresh copy of it. Nil means the implementation
	// authenticates every request, credentials or not (anonymous access).
	Sign func(r *http.Request) error
	// Want is the principal a signed request authenticates as. AccountID,
	// AccessKeyID and Name are compared, and ARN and Method when set.
	Want auth.Principal
}

// result is what the test server reports about one request.
type result struct {
	OK         bool           `json:"ok"`
	Principal  auth.Principal `json:"principal"`
	Missing    bool           `json:"missing"` // the error wraps auth.ErrMissingToken
	Err        string         `json:"err"`
	BodySHA256 string         `json:"bodySHA256"`
	NilNil     bool           `json:"nilNil"`
}

// TestAuthenticator checks an Authenticator over real HTTP on loopback:
//   - a request without credentials is refused with an error wrapping
//     auth.ErrMissingToken (or, for anonymous access, authenticates as Want);
//   - signed GET and POST requests, with query parameters and a body,
//     authenticate as Want, and the handler can still read the body unchanged;
//   - changing any header or query parameter Sign set makes the request fail
//     to authenticate (each piece of the credentials is load-bearing);
//   - malformed Authorization headers are refused, never a panic, never a
//     principal with an error, nor (nil, nil);
//   - concurrent requests are authenticated independently.
func TestAuthenticator(t *testing.T, a auth.Authenticator, want Authenticator) {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var res result
		p, err := a.Authenticate(r)
		switch {
		case err != nil && p != nil:
			res.Err = fmt.Sprintf("Authenticate returned both a principal and the error %v", err)
		case err != nil:
			res.Err = err.Error()
			res.Missing = errors.Is(err, auth.ErrMissingToken)
		case p == nil:
			res.NilNil = true
		default:
			res.OK, res.Principal = true, *p
		}
		body, rerr := io.ReadAll(r.Body)
		if rerr != nil {
			res.Err += "; reading body after Authenticate: " + rerr.Error()
		}
		sum := sha256.Sum256(body)
		res.BodySHA256 = hex.EncodeToString(sum[:])
		_ = json.NewEncoder(w).Encode(res)
	}))
	t.Cleanup(srv.Close)

	do := func(t *testing.T, r *http.Request) result {
		t.Helper()
		resp, err := srv.Client().Do(r)
		if err != nil {
			t.Fatalf("request: %v", err)
		}
		defer resp.Body.Close()
		var res result
		if err := json.NewDecoder(resp.Body).Decode(&res); err != nil {
			t.Fatalf("decoding test server answer: %v", err)
		}
		if res.NilNil {
			t.Fatalf("Authenticate returned (nil, nil)")
		}
		return res
	}
	newReq := func(t *testing.T, method, path string, body []byte) *http.Request {
		t.Helper()
		var rd io.Reader
		if body != nil {
			rd = bytes.NewReader(body)
		}
		r, err := http.NewRequest(method, srv.URL+path, rd)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	sign := func(t *testing.T, r *http.Request) {
		t.Helper()
		if want.Sign == nil {
			return
		}
		if err := want.Sign(r); err != nil {
			t.Fatalf("Sign: %v", err)
		}
	}
	expectPrincipal := func(t *testing.T, res result) {
		t.Helper()
		if !res.OK {
			t.Fatalf("want principal %+v, got error %q", want.Want, res.Err)
		}
		got, w := res.Principal, want.Want
		if got.AccountID != w.AccountID || got.AccessKeyID != w.AccessKeyID || got.Name != w.Name ||
			(w.ARN != "" && got.ARN != w.ARN) || (w.Method != "" && got.Method != w.Method) {
			t.Fatalf("principal = %+v, want %+v", got, w)
		}
	}
	expectRefused := func(t *testing.T, res result) {
		t.Helper()
		if res.OK {
			t.Fatalf("request authenticated as %+v, want it refused", res.Principal)
		}
		if res.Err == "" {
			t.Fatalf("request refused without an error")
		}
	}

	t.Run("NoCredentials", func(t *testing.T) {
		res := do(t, newReq(t, http.MethodGet, "/workspaces/ws-1/api/v1/query?query=up", nil))
		if want.Sign == nil {
			expectPrincipal(t, res)
			return
		}
		expectRefused(t, res)
		if !res.Missing {
			t.Fatalf("error %q does not wrap auth.ErrMissingToken", res.Err)
		}
	})

	t.Run("SignedGET", func(t *testing.T) {
		r := newReq(t, http.MethodGet, "/workspaces/ws-1/api/v1/query_range?query=sum%28rate%28x%5B5m%5D%29%29&start=1&end=2&step=15s&a=2&a=1", nil)
		sign(t, r)
		expectPrincipal(t, do(t, r))
	})

	t.Run("SignedPOSTKeepsBody", func(t *testing.T) {
		body := make([]byte, 64<<10)
		_, _ = rand.Read(body)
		r := newReq(t, http.MethodPost, "/workspaces/ws-1/api/v1/remote_write", body)
		r.Header.Set("Content-Type", "application/x-protobuf")
		r.Header.Set("Content-Encoding", "snappy")
		sign(t, r)
		res := do(t, r)
		expectPrincipal(t, res)
		sum := sha256.Sum256(body)
		if res.BodySHA256 != hex.EncodeToString(sum[:]) {
			t.Fatalf("the handler read a different body after Authenticate")
		}
	})

	if want.Sign != nil {
		t.Run("TamperedCredentials", func(t *testing.T) {
			base := newReq(t, http.MethodGet, "/workspaces/ws-1/api/v1/labels", nil)
			beforeH, beforeQ := base.Header.Clone(), base.URL.Query()
			sign(t, base)
			headers, params := changed(beforeH, base.Header), changedQuery(beforeQ, base.URL.Query())
			if len(headers)+len(params) == 0 {
				t.Fatalf("Sign added no header and no query parameter")
			}
			for _, h := range headers {
				t.Run("header="+h, func(t *testing.T) {
					r := newReq(t, http.MethodGet, "/workspaces/ws-1/api/v1/labels", nil)
					sign(t, r)
					r.Header.Set(h, alter(r.Header.Get(h)))
					expectRefused(t, do(t, r))
				})
			}
			for _, k := range params {
				t.Run("query="+k, func(t *testing.T) {
					r := newReq(t, http.MethodGet, "/workspaces/ws-1/api/v1/labels", nil)
					sign(t, r)
					q := r.URL.Query()
					q.Set(k, alter(q.Get(k)))
					r.URL.RawQuery = q.Encode()
					expectRefused(t, do(t, r))
				})
			}
		})
	}

	t.Run("MalformedAuthorization", func(t *testing.T) {
		for _, v := range malformedAuthorization {
			r := newReq(t, http.MethodGet, "/workspaces/ws-1/api/v1/query?query=up", nil)
			r.Header.Set("Authorization", v)
			res := do(t, r)
			if want.Sign == nil {
				expectPrincipal(t, res)
				continue
			}
			if res.OK {
				t.Errorf("Authorization %q authenticated as %+v", shorten(v), res.Principal)
			}
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		var wg sync.WaitGroup
		errs := make(chan string, 16)
		for i := 0; i < 16; i++ {
			wg.Add(1)
			go func(i int) {
				defer wg.Done()
				body := []byte(strings.Repeat("x", i*100))
				r, err := http.NewRequest(http.MethodPost, fmt.Sprintf("%s/workspaces/ws-%d/api/v1/query", srv.URL, i), bytes.NewReader(body))
				if err != nil {
					errs <- err.Error()
					return
				}
				if want.Sign != nil {
					if err := want.Sign(r); err != nil {
						errs <- err.Error()
						return
					}
				}
				resp, err := srv.Client().Do(r)
				if err != nil {
					errs <- err.Error()
					return
				}
				defer resp.Body.Close()
				var res result
				if err := json.NewDecoder(resp.Body).Decode(&res); err != nil || !res.OK {
					errs <- fmt.Sprintf("request %d: %v %s", i, err, res.Err)
				}
			}(i)
		}
		wg.Wait()
		close(errs)
		for e := range errs {
			t.Error(e)
		}
	})
}

var malformedAuthorization = []string{
	"",
	"AWS4-HMAC-SHA256",
	"AWS4-HMAC-SHA256 ",
	"AWS4-HMAC-SHA256 Credential=",
	"AWS4-HMAC-SHA256 Credential=a/b/c/d/e, SignedHeaders=host, Signature=zz",
	"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/aps/aws4_request, SignedHeaders=host;x-amz-date, Signature=" + strings.Repeat("0", 64),
	"AWS4-HMAC-SHA256 Credential=AKIDEXAMPLE/20150830/us-east-1/aps/aws4_request,,,Signature=1,Signature=2",
	"AWS4-ECDSA-P256-SHA256 Credential=AKIDEXAMPLE/20150830/aps/aws4_request, SignedHeaders=host, Signature=00",
	"Bearer",
	"Bearer ",
	"Bearer not-a-known-token",
	"Basic dXNlcjpwYXNzd29yZA==",
	strings.Repeat("A", 8192),
	"AWS4-HMAC-SHA256 " + strings.Repeat("Credential=/,", 1000),
}

// changed lists the header names whose values differ between before and after.
func changed(before, after http.Header) []string {
	var out []string
	for k, v := range after {
		if strings.Join(before[k], "\x00") != strings.Join(v, "\x00") {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

func changedQuery(before, after url.Values) []string {
	var out []string
	for k, v := range after {
		if strings.Join(before[k], "\x00") != strings.Join(v, "\x00") {
			out = append(out, k)
		}
	}
	sort.Strings(out)
	return out
}

// alter changes the last character of s (or makes an empty s non-empty).
func alter(s string) string {
	if s == "" {
		return "x"
	}
	last := s[len(s)-1]
	repl := byte('a')
	if last == 'a' {
		repl = 'b'
	}
	return s[:len(s)-1] + string(repl)
}

func shorten(s string) string {
	if len(s) > 60 {
		return s[:60] + "..."
	}
	return s
}

// Expectation is one decision an Authorizer must make.
type Expectation struct {
	Principal *auth.Principal
	Action    string
	Resource  string
	Allowed   bool
}

// TestAuthorizer checks an Authorizer against the decisions it must make,
// and the properties every Authorizer has:
//   - each expectation holds, with no error;
//   - action names compare case-insensitively (aps:QueryMetrics = APS:querymetrics);
//   - a nil principal is never allowed;
//   - decisions are the same when made concurrently;
//   - empty or odd inputs do not panic.
func TestAuthorizer(t *testing.T, a auth.Authorizer, expectations []Expectation) {
	t.Helper()
	ctx := context.Background()
	name := func(e Expectation) string {
		who := "<nil>"
		if e.Principal != nil {
			who = e.Principal.Name
		}
		return who + "/" + e.Action + "/" + e.Resource
	}
	for _, e := range expectations {
		t.Run(name(e), func(t *testing.T) {
			for _, action := range []string{e.Action, strings.ToUpper(e.Action), strings.ToLower(e.Action)} {
				got, err := a.Authorize(ctx, e.Principal, action, e.Resource)
				if err != nil {
					t.Fatalf("Authorize(%q, %q): %v", action, e.Resource, err)
				}
				if got != e.Allowed {
					t.Fatalf("Authorize(%q, %q) = %v, want %v", action, e.Resource, got, e.Allowed)
				}
			}
			if ok, _ := a.Authorize(ctx, nil, e.Action, e.Resource); ok {
				t.Fatalf("a nil principal is allowed %s on %s", e.Action, e.Resource)
			}
		})
	}

	t.Run("OddInputs", func(t *testing.T) {
		p := &auth.Principal{AccountID: "111122223333", Name: "odd"}
		for _, in := range [][2]string{{"", ""}, {"aps:", "arn:"}, {"*", "*"}, {"aps:QueryMetrics", "arn:aws:aps:us-east-1::workspace/"}, {strings.Repeat("*?", 500), strings.Repeat("a", 5000)}} {
			_, _ = a.Authorize(ctx, p, in[0], in[1])
		}
	})

	t.Run("Concurrent", func(t *testing.T) {
		var wg sync.WaitGroup
		for g := 0; g < 8; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				for _, e := range expectations {
					got, err := a.Authorize(ctx, e.Principal, e.Action, e.Resource)
					if err != nil || got != e.Allowed {
						t.Errorf("concurrent Authorize(%s) = %v, %v; want %v", name(e), got, err, e.Allowed)
					}
				}
			}()
		}
		wg.Wait()
	})
}

package auth_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"

	"github.com/promspace/promspace/auth"
	"github.com/promspace/promspace/auth/iam"
)

// concretePath fills a route pattern's parameters.
func concretePath(pattern, workspace string) string {
	return strings.NewReplacer(
		"{workspaceId}", workspace,
		"{name}", "ns",
		"{anomalyDetectorId}", "ad-1",
		"{silenceId}", "0b5a2e1c",
		"{labelName...}", "job",
		"{scraperId}", "s-1",
	).Replace(pattern)
}

// TestIsolationMatrix: a principal allowed only on workspace A is refused
// every control-plane and data-plane route on workspace B, and allowed on A.
func TestIsolationMatrix(t *testing.T) {
	bob := auth.Credential{AccessKeyID: "AKIDBOB", SecretAccessKey: "bob-secret", AccountID: testAccount, Name: "bob"}
	az := auth.NewPolicyAuthorizer()
	az.Attach(bob.Principal().ARN, mustPolicy(t, `{"Version":"2012-10-17","Statement":[{"Effect":"Allow","Action":"aps:*","Resource":[
		"arn:aws:aps:us-east-1:111122223333:workspace/ws-a",
		"arn:aws:aps:us-east-1:111122223333:rulegroupsnamespace/ws-a/*",
		"arn:aws:aps:us-east-1:111122223333:anomalydetector/ws-a/*"]}]}`))
	// mallory, of another account, has full access in hers; workspace A's
	// resource policy shares everything with her account.
	mallory := auth.Credential{AccessKeyID: "AKIDMALLORY", SecretAccessKey: "mallory-secret", AccountID: "444455556666", Name: "mallory"}
	full, _ := auth.Preset(auth.PresetFullAccess)
	az.Attach(mallory.Principal().ARN, full)
	shared, err := iam.ParseResourcePolicy([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
		"Principal":{"AWS":"444455556666"},"Action":"aps:*","Resource":"*"}]}`))
	if err != nil {
		t.Fatal(err)
	}
	owners := map[string]string{"ws-a": testAccount, "ws-b": testAccount}
	srv, seen := newServer(t, auth.MiddlewareOptions{
		Authenticator: newVerifier(t, signingTime, bob, mallory),
		Authorizer:    az,
		Region:        testRegion,
		AccountOf: func(_ context.Context, id string) (string, bool) {
			a, ok := owners[id]
			return a, ok
		},
		ResourcePolicy: func(_ context.Context, id string) (*iam.ResourcePolicy, error) {
			if id == "ws-a" {
				return shared, nil
			}
			return nil, nil
		},
	})
	sign := sdkSign(bob, signOpts{})

	var routes int
	for _, r := range auth.Routes() {
		var pathA, pathB string
		switch {
		case strings.Contains(r.Pattern, "{workspaceId}"):
			pathA, pathB = concretePath(r.Pattern, "ws-a"), concretePath(r.Pattern, "ws-b")
		case strings.HasPrefix(r.Pattern, "/tags/"):
			pathA, pathB = "/tags/"+url.PathEscape(wsA), "/tags/"+url.PathEscape(wsB)
		default:
			continue // account-level routes: no workspace to isolate
		}
		routes++
		t.Run(r.Method+" "+r.Pattern, func(t *testing.T) {
			var body []byte
			if r.Method != "GET" && r.Method != "DELETE" {
				body = []byte(`{}`)
			}
			// Workspace B: refused with AMP's AccessDeniedException.
			req := newRequest(t, r.Method, srv.URL+pathB, body)
			if err := sign(req); err != nil {
				t.Fatal(err)
			}
			before := seen.count()
			_, ref := send(t, srv.Client(), req)
			if ref.status != http.StatusForbidden || ref.errType != "AccessDeniedException" {
				t.Fatalf("workspace B: %d %s %s", ref.status, ref.errType, ref.message)
			}
			op, _ := auth.Route(r.Method, pathB)
			want := "User: arn:aws:iam::111122223333:user/bob is not authorized to perform: " + r.Action + " on resource: " + op.Resource(testRegion, testAccount)
			if ref.message != want || !strings.Contains(ref.message, "ws-b") {
				t.Fatalf("message %q, want %q", ref.message, want)
			}
			checkRefusalShape(t, pathB, ref)
			if seen.count() != before {
				t.Fatal("a request on workspace B reached the handler")
			}

			// Workspace A: allowed, and the handler sees the operation.
			req = newRequest(t, r.Method, srv.URL+pathA, body)
			if err := sign(req); err != nil {
				t.Fatal(err)
			}
			resp, ref := send(t, srv.Client(), req)
			if resp.StatusCode != http.StatusOK {
				t.Fatalf("workspace A: %d %s %s", resp.StatusCode, ref.errType, ref.message)
			}
			if got := seen.last(t); got.op.Name != r.Operation || got.principal.Name != "bob" {
				t.Fatalf("handler saw %s as %+v", got.op.Name, got.principal)
			}

			// Cross-account column: mallory reaches workspace A's
			// Prometheus-compatible operations through its resource
			// policy; for every other operation A stays unknown to her
			// (authorized in her own account, for the handler to answer
			// 404) or, named by its ARN, refused.
			req = newRequest(t, r.Method, srv.URL+pathA, body)
			if err := sdkSign(mallory, signOpts{})(req); err != nil {
				t.Fatal(err)
			}
			before = seen.count()
			_, ref = send(t, srv.Client(), req)
			switch {
			case strings.HasPrefix(r.Pattern, "/tags/"):
				if ref.status != http.StatusForbidden || seen.count() != before {
					t.Fatalf("mallory on A's ARN: %d %s", ref.status, ref.message)
				}
			case r.DataPlane:
				if ref.status != http.StatusOK || seen.last(t).op.Account != testAccount {
					t.Fatalf("mallory on shared A: %d %s", ref.status, ref.message)
				}
			default:
				if ref.status != http.StatusOK || seen.last(t).op.Account != "444455556666" {
					t.Fatalf("mallory on A's control plane: %d %s, looked up in %s", ref.status, ref.message, seen.last(t).op.Account)
				}
			}
		})
	}
	// 30 control-plane routes on a workspace, the 3 tag routes, 29
	// data-plane routes and promspace's 2 extensions.
	if routes != 64 {
		t.Fatalf("%d workspace routes checked, want 64", routes)
	}

	// Account-level operations bob was not given are refused too.
	for _, path := range []string{"/workspaces", "/scrapers"} {
		req := newRequest(t, "GET", srv.URL+path, nil)
		if err := sign(req); err != nil {
			t.Fatal(err)
		}
		if _, ref := send(t, srv.Client(), req); ref.status != http.StatusForbidden || ref.errType != "AccessDeniedException" {
			t.Errorf("GET %s: %d %s", path, ref.status, ref.errType)
		}
	}
}

func TestMiddlewareAccountOf(t *testing.T) {
	alice := testCredential()
	owners := map[string]string{"ws-mine": testAccount, "ws-theirs": "444455556666"}
	srv, seen := newServer(t, auth.MiddlewareOptions{
		Authenticator: newVerifier(t, signingTime, alice),
		Authorizer:    fullAccess(t),
		AccountOf: func(_ context.Context, id string) (string, bool) {
			a, ok := owners[id]
			return a, ok
		},
	})
	get := func(path string) refusal {
		req := newRequest(t, "GET", srv.URL+path, nil)
		if err := sdkSign(alice, signOpts{})(req); err != nil {
			t.Fatal(err)
		}
		_, ref := send(t, srv.Client(), req)
		return ref
	}
	if ref := get("/workspaces/ws-mine/api/v1/query?query=up"); ref.status != 200 {
		t.Fatalf("own workspace: %d %s", ref.status, ref.message)
	}
	// Another account's workspace that its resource policy does not share:
	// as unknown as a missing one, authorized in the caller's account, and
	// looked up there by the handler, which answers 404.
	before := seen.count()
	if ref := get("/workspaces/ws-theirs/api/v1/query?query=up"); ref.status != 200 || seen.count() != before+1 {
		t.Fatalf("other account: %d %s", ref.status, ref.message)
	}
	if got := seen.last(t).op.Account; got != testAccount {
		t.Fatalf("other account's workspace looked up in %s", got)
	}
	// A workspace that does not exist is authorized in the caller's account and
	// reaches the handler, which answers 404.
	before = seen.count()
	if ref := get("/workspaces/ws-none"); ref.status != 200 || seen.count() != before+1 {
		t.Fatalf("missing workspace: %d %s", ref.status, ref.message)
	}
}

func TestMiddlewareDenialDoesNotRevealExistence(t *testing.T) {
	dave := auth.Credential{AccessKeyID: "AKIDDAVE", SecretAccessKey: "x", AccountID: testAccount, Name: "dave"}
	az := auth.NewPolicyAuthorizer()
	rw, _ := auth.Preset(auth.PresetRemoteWriteAccess)
	az.Attach(dave.Principal().ARN, rw)
	srv, _ := newServer(t, auth.MiddlewareOptions{
		Authenticator: newVerifier(t, signingTime, dave),
		Authorizer:    az,
		AccountOf: func(_ context.Context, id string) (string, bool) {
			return testAccount, id == "ws-exists"
		},
	})
	msg := func(ws string) string {
		req := newRequest(t, "GET", srv.URL+"/workspaces/"+ws, nil)
		if err := sdkSign(dave, signOpts{})(req); err != nil {
			t.Fatal(err)
		}
		_, ref := send(t, srv.Client(), req)
		if ref.status != 403 {
			t.Fatalf("%s: %d", ws, ref.status)
		}
		return strings.ReplaceAll(ref.message, ws, "ID")
	}
	if a, b := msg("ws-exists"), msg("ws-nope"); a != b {
		t.Fatalf("denials differ:\n%s\n%s", a, b)
	}
}

func TestAllowedFiltersListWorkspaces(t *testing.T) {
	carol := auth.Credential{AccessKeyID: "AKIDCAROL", SecretAccessKey: "c", AccountID: testAccount, Name: "carol"}
	az := auth.NewPolicyAuthorizer()
	az.Attach(carol.Principal().ARN, mustPolicy(t, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"aps:ListWorkspaces","Resource":"*"},
		{"Effect":"Allow","Action":"aps:DescribeWorkspace","Resource":["`+wsA+`","arn:aws:aps:us-east-1:111122223333:workspace/ws-c"]}]}`))
	// The control plane's ListWorkspaces, filtering as promspace's does.
	list := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var visible []string
		for _, id := range []string{"ws-a", "ws-b", "ws-c"} {
			if auth.Allowed(r.Context(), "aps:DescribeWorkspace", "arn:aws:aps:us-east-1:111122223333:workspace/"+id) {
				visible = append(visible, id)
			}
		}
		_ = json.NewEncoder(w).Encode(visible)
	})
	srv := httptest.NewServer(auth.Middleware(list, auth.MiddlewareOptions{Authenticator: newVerifier(t, signingTime, carol), Authorizer: az}))
	defer srv.Close()
	req := newRequest(t, "GET", srv.URL+"/workspaces", nil)
	if err := sdkSign(carol, signOpts{})(req); err != nil {
		t.Fatal(err)
	}
	resp, err := srv.Client().Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var got []string
	if err := json.NewDecoder(resp.Body).Decode(&got); err != nil {
		t.Fatal(err)
	}
	if strings.Join(got, ",") != "ws-a,ws-c" {
		t.Fatalf("visible workspaces %v, want ws-a,ws-c", got)
	}
	if auth.Allowed(context.Background(), "aps:DescribeWorkspace", wsA) {
		t.Fatal("Allowed is true on a context that did not pass through the middleware")
	}
}

func TestMiddlewareUnknownRoutes(t *testing.T) {
	for _, pass := range []bool{false, true} {
		srv, seen := newServer(t, auth.MiddlewareOptions{PassUnknownRoutes: pass})
		req := newRequest(t, "GET", srv.URL+"/workspaces/ws-1/api/v1/status/config", nil)
		_, ref := send(t, srv.Client(), req)
		if pass {
			if ref.status != 200 || seen.count() != 1 || seen.last(t).principal.Name != auth.AnonymousName {
				t.Fatalf("pass: %d", ref.status)
			}
			continue
		}
		if ref.status != 404 || ref.errType != "UnknownOperationException" || seen.count() != 0 {
			t.Fatalf("refuse: %d %s", ref.status, ref.errType)
		}
		if ref.message != "no operation matches GET /workspaces/ws-1/api/v1/status/config" {
			t.Fatalf("message %q", ref.message)
		}
		checkRefusalShape(t, "/workspaces/ws-1/api/v1/status/config", ref)
	}
}

func TestMiddlewareDefaultsToAnonymous(t *testing.T) {
	srv, seen := newServer(t, auth.MiddlewareOptions{})
	resp, _ := send(t, srv.Client(), newRequest(t, "POST", srv.URL+"/workspaces", []byte(`{"alias":"x"}`)))
	if resp.StatusCode != 200 {
		t.Fatalf("status %d", resp.StatusCode)
	}
	p := seen.last(t).principal
	if p.Name != auth.AnonymousName || p.AccountID != auth.DefaultAccountID || p.Method != auth.MethodAnonymous {
		t.Fatalf("principal %+v", p)
	}
}

func TestMiddlewareBearerTokens(t *testing.T) {
	b, err := auth.NewBearerTokens(map[string]auth.Principal{
		"reader-token": {AccountID: testAccount, Name: "grafana"},
	})
	if err != nil {
		t.Fatal(err)
	}
	az := auth.NewPolicyAuthorizer()
	q, _ := auth.Preset(auth.PresetQueryAccess)
	az.Attach(auth.UserARN(testAccount, "grafana"), q)
	reg := prometheus.NewRegistry()
	srv, _ := newServer(t, auth.MiddlewareOptions{Authenticator: b, Authorizer: az, Registerer: reg})

	do := func(method, path, token string) refusal {
		req := newRequest(t, method, srv.URL+path, nil)
		if token != "" {
			req.Header.Set("Authorization", token)
		}
		_, ref := send(t, srv.Client(), req)
		return ref
	}
	if ref := do("GET", "/workspaces/ws-1/api/v1/query?query=up", "Bearer reader-token"); ref.status != 200 {
		t.Fatalf("query: %d %s", ref.status, ref.message)
	}
	if ref := do("GET", "/workspaces/ws-1/api/v1/labels", "bearer   reader-token"); ref.status != 200 {
		t.Fatalf("lower-case scheme: %d %s", ref.status, ref.message)
	}
	ref := do("POST", "/workspaces/ws-1/api/v1/remote_write", "Bearer reader-token")
	if ref.status != 403 || ref.errType != "AccessDeniedException" ||
		ref.message != "User: arn:aws:iam::111122223333:user/grafana is not authorized to perform: aps:RemoteWrite on resource: arn:aws:aps:us-east-1:111122223333:workspace/ws-1" {
		t.Fatalf("remote write: %d %s %s", ref.status, ref.errType, ref.message)
	}
	if ref := do("GET", "/workspaces/ws-1/api/v1/query", "Bearer wrong"); ref.status != 403 || ref.errType != "UnrecognizedClientException" {
		t.Fatalf("wrong token: %d %s", ref.status, ref.errType)
	}
	if ref := do("GET", "/workspaces/ws-1", ""); ref.status != 403 || ref.errType != "MissingAuthenticationTokenException" || ref.message != "Missing Authentication Token" {
		t.Fatalf("no token: %d %s %s", ref.status, ref.errType, ref.message)
	}
	const want = `
# HELP promspace_auth_requests_total Requests seen by the auth middleware, by result: allowed, or the AWS error type of the refusal.
# TYPE promspace_auth_requests_total counter
promspace_auth_requests_total{result="AccessDeniedException"} 1
promspace_auth_requests_total{result="MissingAuthenticationTokenException"} 1
promspace_auth_requests_total{result="UnrecognizedClientException"} 1
promspace_auth_requests_total{result="allowed"} 2
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "promspace_auth_requests_total"); err != nil {
		t.Fatal(err)
	}
	// A second middleware on the same registry shares the counter.
	_ = auth.Middleware(http.NotFoundHandler(), auth.MiddlewareOptions{Registerer: reg})
}

// failingAuthorizer stands for a backend that cannot answer.
type failingAuthorizer struct{}

func (failingAuthorizer) Authorize(context.Context, *auth.Principal, string, string) (bool, error) {
	return false, context.DeadlineExceeded
}

func TestMiddlewareAuthorizerFailure(t *testing.T) {
	srv, seen := newServer(t, auth.MiddlewareOptions{Authorizer: failingAuthorizer{}})
	_, ref := send(t, srv.Client(), newRequest(t, "GET", srv.URL+"/workspaces/ws-1", nil))
	if ref.status != 500 || ref.errType != "InternalServerException" || seen.count() != 0 {
		t.Fatalf("%d %s", ref.status, ref.errType)
	}
}

// TestMiddlewareRefusalBytes pins the refusal bodies and headers of both
// planes byte for byte: AMP's REST-JSON error and Prometheus' error JSON.
func TestMiddlewareRefusalBytes(t *testing.T) {
	srv, _ := newServer(t, auth.MiddlewareOptions{Authenticator: auth.Chain()})
	for _, tc := range []struct{ path, body string }{
		{"/workspaces/ws-1", `{"message":"Missing Authentication Token"}`},
		{"/workspaces/ws-1/api/v1/query", `{"status":"error","errorType":"MissingAuthenticationTokenException","error":"Missing Authentication Token"}`},
	} {
		resp, err := srv.Client().Get(srv.URL + tc.path)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != 403 || string(b) != tc.body {
			t.Errorf("%s: %d %s, want 403 %s", tc.path, resp.StatusCode, b, tc.body)
		}
		if ct, et := resp.Header.Get("Content-Type"), resp.Header.Get("x-amzn-ErrorType"); ct != "application/json" || et != "MissingAuthenticationTokenException" {
			t.Errorf("%s: Content-Type %q, x-amzn-ErrorType %q", tc.path, ct, et)
		}
	}
}

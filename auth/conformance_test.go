package auth_test

import (
	"context"
	"errors"
	"net/http"
	"testing"
	"time"

	"github.com/promspace/promspace/auth"
	"github.com/promspace/promspace/auth/authtest"
	"github.com/promspace/promspace/auth/iam"
)

func TestAuthenticatorConformance(t *testing.T) {
	alice := testCredential()
	temp := auth.Credential{AccessKeyID: "ASIATEMP", SecretAccessKey: "temp-secret", SessionToken: "session/token+=", AccountID: testAccount, Name: "temp"}
	now := signingTime.Add(time.Minute)
	verifier := newVerifier(t, now, alice, temp)
	bearer, err := auth.NewBearerTokens(map[string]auth.Principal{"tok-123": {AccountID: testAccount, Name: "grafana"}})
	if err != nil {
		t.Fatal(err)
	}
	bearerSign := func(r *http.Request) error { r.Header.Set("Authorization", "Bearer tok-123"); return nil }
	built, _ := buildConfig(t, exampleConfig, now)

	t.Run("SigV4/header", func(t *testing.T) {
		authtest.TestAuthenticator(t, verifier, authtest.Authenticator{Sign: sdkSign(alice, signOpts{}), Want: *alice.Principal()})
	})
	t.Run("SigV4/header+payload hash", func(t *testing.T) {
		authtest.TestAuthenticator(t, verifier, authtest.Authenticator{Sign: sdkSign(alice, signOpts{contentSHA: true}), Want: *alice.Principal()})
	})
	t.Run("SigV4/session token", func(t *testing.T) {
		authtest.TestAuthenticator(t, verifier, authtest.Authenticator{Sign: sdkSign(temp, signOpts{}), Want: *temp.Principal()})
	})
	t.Run("SigV4/presigned", func(t *testing.T) {
		authtest.TestAuthenticator(t, verifier, authtest.Authenticator{Sign: sdkPresign(alice, signOpts{}, 10*time.Minute), Want: *alice.Principal()})
	})
	t.Run("SigV4/presigned session token", func(t *testing.T) {
		authtest.TestAuthenticator(t, verifier, authtest.Authenticator{Sign: sdkPresign(temp, signOpts{}, 0), Want: *temp.Principal()})
	})
	t.Run("BearerTokens", func(t *testing.T) {
		authtest.TestAuthenticator(t, bearer, authtest.Authenticator{Sign: bearerSign,
			Want: auth.Principal{AccountID: testAccount, Name: "grafana", ARN: "arn:aws:iam::111122223333:user/grafana", Method: auth.MethodBearer}})
	})
	t.Run("Chain/SigV4", func(t *testing.T) {
		authtest.TestAuthenticator(t, auth.Chain(bearer, verifier), authtest.Authenticator{Sign: sdkSign(alice, signOpts{}), Want: *alice.Principal()})
	})
	t.Run("Chain/Bearer", func(t *testing.T) {
		authtest.TestAuthenticator(t, auth.Chain(verifier, bearer), authtest.Authenticator{Sign: bearerSign, Want: auth.Principal{AccountID: testAccount, Name: "grafana"}})
	})
	t.Run("Config", func(t *testing.T) {
		key := auth.Credential{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG", SessionToken: "optional", AccountID: testAccount, Name: "optional"}
		authtest.TestAuthenticator(t, built, authtest.Authenticator{Sign: sdkSign(key, signOpts{}), Want: *key.Principal()})
	})
	t.Run("Anonymous", func(t *testing.T) {
		authtest.TestAuthenticator(t, auth.Anonymous{AccountID: testAccount}, authtest.Authenticator{
			Want: auth.Principal{AccountID: testAccount, Name: auth.AnonymousName, ARN: auth.AnonymousName, Method: auth.MethodAnonymous}})
	})
}

func TestAuthorizerConformance(t *testing.T) {
	a := auth.NewPolicyAuthorizer()
	alice := &auth.Principal{AccountID: testAccount, Name: "alice", ARN: auth.UserARN(testAccount, "alice")}
	bob := &auth.Principal{AccountID: testAccount, Name: "bob"} // ARN derived from account and name
	eve := &auth.Principal{AccountID: "444455556666", Name: "eve"}
	full, _ := auth.Preset(auth.PresetFullAccess)
	a.Attach(alice.ARN, full)
	a.Attach(auth.UserARN(testAccount, "bob"), mustPolicy(t, `{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Action":"aps:*","Resource":"`+wsA+`"},
		{"Effect":"Deny","Action":"aps:DeleteWorkspace","Resource":"*"}]}`))
	a.Attach(auth.UserARN("444455556666", "eve"), full)

	authtest.TestAuthorizer(t, a, []authtest.Expectation{
		{Principal: alice, Action: "aps:DeleteWorkspace", Resource: wsB, Allowed: true},
		{Principal: alice, Action: "aps:RemoteWrite", Resource: wsA, Allowed: true},
		{Principal: alice, Action: "s3:GetObject", Resource: "*", Allowed: false},
		{Principal: bob, Action: "aps:QueryMetrics", Resource: wsA, Allowed: true},
		{Principal: bob, Action: "aps:QueryMetrics", Resource: wsB, Allowed: false},
		{Principal: bob, Action: "aps:DeleteWorkspace", Resource: wsA, Allowed: false},
		{Principal: eve, Action: "aps:QueryMetrics", Resource: wsA, Allowed: false},
		{Principal: eve, Action: "aps:QueryMetrics", Resource: "arn:aws:aps:us-east-1:444455556666:workspace/ws-e", Allowed: true},
		{Principal: &auth.Principal{AccountID: testAccount, Name: "nobody"}, Action: "aps:QueryMetrics", Resource: wsA, Allowed: false},
	})

	t.Run("AllowAll", func(t *testing.T) {
		anon, _ := auth.Anonymous{}.Authenticate(nil)
		authtest.TestAuthorizer(t, auth.AllowAll{}, []authtest.Expectation{
			{Principal: anon, Action: "aps:DeleteWorkspace", Resource: wsA, Allowed: true},
			{Principal: anon, Action: "aps:CreateWorkspace", Resource: "*", Allowed: true},
		})
	})
}

// TestResourcePolicyConformance: a workspace's resource policy evaluated
// with the caller's identity policies, as IAM does: within one account
// either may allow (an account principal delegating to the identity
// policies), across accounts both must, an explicit Deny in either wins,
// only the Prometheus-compatible operations are shared, and another
// account's workspace that is not shared is as unknown as a missing one.
func TestResourcePolicyConformance(t *testing.T) {
	const other = "444455556666"
	cred := func(name, account string) auth.Credential {
		return auth.Credential{AccessKeyID: "AKID" + name, SecretAccessKey: name + "-secret", AccountID: account, Name: name}
	}
	alice, dave, frank, erin := cred("alice", testAccount), cred("dave", testAccount), cred("frank", testAccount), cred("erin", testAccount)
	bob, carol := cred("bob", other), cred("carol", other)
	az := auth.NewPolicyAuthorizer()
	query, _ := auth.Preset(auth.PresetQueryAccess)
	az.Attach(alice.Principal().ARN, query)
	az.Attach(erin.Principal().ARN, mustPolicy(t, `{"Version":"2012-10-17","Statement":{"Effect":"Deny","Action":"aps:QueryMetrics","Resource":"*"}}`))
	az.Attach(bob.Principal().ARN, query, mustPolicy(t, `{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"aps:DescribeWorkspace","Resource":"*"}}`))
	policy, err := iam.ParseResourcePolicy([]byte(`{"Version":"2012-10-17","Statement":[
		{"Effect":"Allow","Principal":{"AWS":["` + other + `"]},"Action":["aps:QueryMetrics","aps:DescribeWorkspace","aps:GetSeries"],"Resource":"` + wsA + `"},
		{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/dave"},"Action":"aps:QueryMetrics","Resource":"*"},
		{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:root"},"Action":"aps:GetLabels","Resource":"*"},
		{"Effect":"Allow","Principal":{"AWS":"arn:aws:iam::111122223333:user/erin"},"Action":"aps:QueryMetrics","Resource":"*"},
		{"Effect":"Deny","Principal":{"AWS":"` + other + `"},"Action":"aps:GetSeries","Resource":"*"},
		{"Effect":"Allow","Principal":"*","Action":"aps:RemoteWrite","Resource":"*","Condition":{"StringEquals":{"aws:PrincipalAccount":"` + other + `"}}}]}`))
	if err != nil {
		t.Fatal(err)
	}
	srv, seen := newServer(t, auth.MiddlewareOptions{
		Authenticator: newVerifier(t, signingTime, alice, dave, frank, erin, bob, carol),
		Authorizer:    az,
		Region:        testRegion,
		AccountOf: func(_ context.Context, id string) (string, bool) {
			return testAccount, id == "ws-a" || id == "ws-b" || id == "ws-broken"
		},
		ResourcePolicy: func(_ context.Context, id string) (*iam.ResourcePolicy, error) {
			switch id {
			case "ws-a":
				return policy, nil
			case "ws-broken":
				return nil, errors.New("bucket unavailable")
			}
			return nil, nil
		},
	})
	for _, tc := range []struct {
		name         string
		cred         auth.Credential
		method, path string
		status       int
		account      string // the account the handler looks the workspace up in
	}{
		{"identity policy alone", alice, "GET", "/workspaces/ws-a/api/v1/query", 200, testAccount},
		{"resource policy alone, naming the user", dave, "GET", "/workspaces/ws-a/api/v1/query", 200, testAccount},
		{"neither policy", dave, "GET", "/workspaces/ws-b/api/v1/query", 403, ""},
		{"the account as principal needs the identity policy", frank, "GET", "/workspaces/ws-a/api/v1/labels", 403, ""},
		{"explicit deny in the identity policy wins", erin, "GET", "/workspaces/ws-a/api/v1/query", 403, ""},
		{"across accounts, both allow", bob, "GET", "/workspaces/ws-a/api/v1/query", 200, testAccount},
		{"across accounts, the resource policy alone", carol, "GET", "/workspaces/ws-a/api/v1/query", 403, ""},
		{"across accounts, the identity policy alone", bob, "GET", "/workspaces/ws-b/api/v1/query", 200, other},
		{"across accounts, explicit deny in the resource policy", bob, "GET", "/workspaces/ws-a/api/v1/series", 200, other},
		{"across accounts, a condition on aws:PrincipalAccount, no identity allow", bob, "POST", "/workspaces/ws-a/api/v1/remote_write", 403, ""},
		{"control-plane actions are not shared", bob, "GET", "/workspaces/ws-a", 200, other},
		{"a policy that cannot be read", alice, "GET", "/workspaces/ws-broken/api/v1/query", 500, ""},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var body []byte
			if tc.method == "POST" {
				body = []byte("x")
			}
			req := newRequest(t, tc.method, srv.URL+tc.path, body)
			if err := sdkSign(tc.cred, signOpts{})(req); err != nil {
				t.Fatal(err)
			}
			before := seen.count()
			_, ref := send(t, srv.Client(), req)
			if ref.status != tc.status {
				t.Fatalf("%d %s %s, want %d", ref.status, ref.errType, ref.message, tc.status)
			}
			if tc.status != 200 {
				if seen.count() != before {
					t.Fatal("a refused request reached the handler")
				}
				return
			}
			if got := seen.last(t).op.Account; got != tc.account {
				t.Fatalf("handler looks the workspace up in %s, want %s", got, tc.account)
			}
		})
	}
	// The refusal of a shared workspace names the owner's ARN.
	req := newRequest(t, "GET", srv.URL+"/workspaces/ws-a/api/v1/query", nil)
	if err := sdkSign(carol, signOpts{})(req); err != nil {
		t.Fatal(err)
	}
	if _, ref := send(t, srv.Client(), req); ref.message != "User: arn:aws:iam::444455556666:user/carol is not authorized to perform: aps:QueryMetrics on resource: "+wsA {
		t.Errorf("refusal %q", ref.message)
	}
}

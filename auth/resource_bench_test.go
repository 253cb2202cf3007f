package auth_test

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/promspace/promspace/auth"
	"github.com/promspace/promspace/auth/iam"
)

// BenchmarkAuthorizeResourcePolicy: the middleware's cost of a request on
// a workspace (authentication aside), with no resource policies, with a
// policy on the workspace for a caller of its account, and for a caller of
// another account it shares the workspace with.
func BenchmarkAuthorizeResourcePolicy(b *testing.B) {
	const other = "444455556666"
	az := auth.NewPolicyAuthorizer()
	query, _ := auth.Preset(auth.PresetQueryAccess)
	alice := &auth.Principal{AccountID: testAccount, Name: "alice", ARN: auth.UserARN(testAccount, "alice")}
	bob := &auth.Principal{AccountID: other, Name: "bob", ARN: auth.UserARN(other, "bob")}
	az.Attach(alice.ARN, query)
	az.Attach(bob.ARN, query)
	policy, err := iam.ParseResourcePolicy([]byte(`{"Version":"2012-10-17","Statement":[{"Effect":"Allow",
		"Principal":{"AWS":"` + other + `"},"Action":["aps:QueryMetrics"],"Resource":"` + wsA + `"}]}`))
	if err != nil {
		b.Fatal(err)
	}
	owner := func(context.Context, string) (string, bool) { return testAccount, true }
	for _, bc := range []struct {
		name   string
		p      *auth.Principal
		policy auth.ResourcePolicyFunc
	}{
		{"no resource policies", alice, nil},
		{"same account", alice, func(context.Context, string) (*iam.ResourcePolicy, error) { return policy, nil }},
		{"shared across accounts", bob, func(context.Context, string) (*iam.ResourcePolicy, error) { return policy, nil }},
	} {
		b.Run(bc.name, func(b *testing.B) {
			ok := 0
			h := auth.Middleware(http.HandlerFunc(func(http.ResponseWriter, *http.Request) { ok++ }), auth.MiddlewareOptions{
				Authenticator:  auth.AuthenticatorFunc(func(*http.Request) (*auth.Principal, error) { return bc.p, nil }),
				Authorizer:     az,
				Region:         testRegion,
				AccountOf:      owner,
				ResourcePolicy: bc.policy,
			})
			r := httptest.NewRequest("GET", "/workspaces/ws-a/api/v1/query?query=up", nil)
			w := httptest.NewRecorder()
			b.ReportAllocs()
			for b.Loop() {
				h.ServeHTTP(w, r)
			}
			if ok != b.N {
				b.Fatalf("%d of %d requests allowed", ok, b.N)
			}
		})
	}
}

package auth_test

import (
	"net/http"
	"testing"
	"time"

	"github.com/promspace/promspace/auth"
	"github.com/promspace/promspace/auth/authtest"
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

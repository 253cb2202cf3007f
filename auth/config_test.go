package auth_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/promspace/promspace/auth"
	"github.com/promspace/promspace/auth/iam"
)

// The section exactly as the server configuration documents it.
const exampleConfig = `
region: us-east-1
credentials:
  - access_key_id: AKIDEXAMPLE
    secret_access_key: wJalrXUtnFEMI/K7MDENG
    session_token: optional
    account_id: "111122223333"
    name: optional
    policy: AmazonPrometheusFullAccess      # a preset's name, or an IAM policy document inline as YAML or JSON
bearer_tokens:
  - token: local-dev-token
    account_id: "111122223333"
    policy: AmazonPrometheusQueryAccess
`

func buildConfig(t *testing.T, doc string, now time.Time) (auth.Authenticator, auth.Authorizer) {
	t.Helper()
	c, err := auth.ParseConfig([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	c.Now = clockAt(now)
	a, z, err := c.Build()
	if err != nil {
		t.Fatal(err)
	}
	return a, z
}

func TestConfigExample(t *testing.T) {
	c, err := auth.ParseConfig([]byte(exampleConfig))
	if err != nil {
		t.Fatal(err)
	}
	c.Now = clockAt(signingTime)
	opts, err := c.MiddlewareOptions()
	if err != nil {
		t.Fatal(err)
	}
	if opts.Region != "us-east-1" {
		t.Fatalf("region %q", opts.Region)
	}
	srv, seen := newServer(t, opts)
	key := auth.Credential{AccessKeyID: "AKIDEXAMPLE", SecretAccessKey: "wJalrXUtnFEMI/K7MDENG", SessionToken: "optional", AccountID: testAccount}

	status := func(method, path, bearer string, c *auth.Credential) int {
		req := newRequest(t, method, srv.URL+path, nil)
		if bearer != "" {
			req.Header.Set("Authorization", "Bearer "+bearer)
		}
		if c != nil {
			if err := sdkSign(*c, signOpts{})(req); err != nil {
				t.Fatal(err)
			}
		}
		resp, _ := send(t, srv.Client(), req)
		return resp.StatusCode
	}
	if got := status("DELETE", "/workspaces/ws-1", "", &key); got != 200 {
		t.Fatalf("SigV4 full access: %d", got)
	}
	if p := seen.last(t).principal; p.Name != "optional" || p.ARN != "arn:aws:iam::111122223333:user/optional" || p.AccessKeyID != "AKIDEXAMPLE" {
		t.Fatalf("principal %+v", p)
	}
	noToken := key
	noToken.SessionToken = ""
	if got := status("GET", "/workspaces/ws-1", "", &noToken); got != 403 {
		t.Fatalf("without the session token: %d", got)
	}
	if got := status("GET", "/workspaces/ws-1/api/v1/query?query=up", "local-dev-token", nil); got != 200 {
		t.Fatalf("bearer query: %d", got)
	}
	if p := seen.last(t).principal; p.Name != "bearer-token-1" || p.Method != auth.MethodBearer {
		t.Fatalf("bearer principal %+v", p)
	}
	if got := status("POST", "/workspaces/ws-1/api/v1/remote_write", "local-dev-token", nil); got != 403 {
		t.Fatalf("bearer remote write: %d", got)
	}
	if got := status("GET", "/workspaces/ws-1", "", nil); got != 403 {
		t.Fatalf("anonymous: %d", got)
	}
}

func TestConfigPolicyForms(t *testing.T) {
	doc := `
region: eu-central-1
bearer_tokens:
  - token: yaml-doc
    account_id: "111122223333"
    name: writer
    policy:
      Version: 2012-10-17
      Statement:
        - Effect: Allow
          Action: aps:RemoteWrite
          Resource: arn:aws:aps:eu-central-1:111122223333:workspace/ws-a
  - token: json-doc
    account_id: "111122223333"
    name: reader
    policy: '{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":["aps:QueryMetrics"],"Resource":"*"}}'
  - token: list
    account_id: "111122223333"
    name: both
    policy:
      - AmazonPrometheusRemoteWriteAccess
      - Version: "2012-10-17"
        Statement:
          Effect: Deny
          Action: aps:*
          Resource: arn:aws:aps:eu-central-1:111122223333:workspace/ws-b
`
	a, z := buildConfig(t, doc, signingTime)
	ws := func(id string) string { return "arn:aws:aps:eu-central-1:111122223333:workspace/" + id }
	for _, tc := range []struct {
		token, action, resource string
		want                    bool
	}{
		{"yaml-doc", "aps:RemoteWrite", ws("ws-a"), true},
		{"yaml-doc", "aps:RemoteWrite", ws("ws-b"), false},
		{"yaml-doc", "aps:QueryMetrics", ws("ws-a"), false},
		{"json-doc", "aps:QueryMetrics", ws("ws-b"), true},
		{"json-doc", "aps:RemoteWrite", ws("ws-b"), false},
		{"list", "aps:RemoteWrite", ws("ws-a"), true},
		{"list", "aps:RemoteWrite", ws("ws-b"), false},
	} {
		req, _ := http.NewRequest("GET", "http://promspace.test/", nil)
		req.Header.Set("Authorization", "Bearer "+tc.token)
		p, err := a.Authenticate(req)
		if err != nil {
			t.Fatal(err)
		}
		if got, err := z.Authorize(t.Context(), p, tc.action, tc.resource); err != nil || got != tc.want {
			t.Errorf("%s %s on %s = %v, %v; want %v", tc.token, tc.action, tc.resource, got, err, tc.want)
		}
	}
}

func TestConfigNothingConfiguredIsAnonymous(t *testing.T) {
	for _, doc := range []string{"", "region: us-west-2\n"} {
		c, err := auth.ParseConfig([]byte(doc))
		if err != nil {
			t.Fatal(err)
		}
		a, z, err := c.Build()
		if err != nil {
			t.Fatal(err)
		}
		req, _ := http.NewRequest("GET", "http://promspace.test/", nil)
		p, err := a.Authenticate(req)
		if err != nil || p.Method != auth.MethodAnonymous {
			t.Fatalf("%q: %+v %v", doc, p, err)
		}
		if ok, _ := z.Authorize(t.Context(), p, "aps:DeleteWorkspace", "*"); !ok {
			t.Fatalf("%q: anonymous denied", doc)
		}
	}
}

func TestConfigErrors(t *testing.T) {
	cred := func(extra string) string {
		return "credentials:\n  - access_key_id: AKID\n    secret_access_key: s3cr3t-value\n    account_id: \"111122223333\"\n    policy: AmazonPrometheusFullAccess\n" + extra
	}
	cases := []struct{ name, doc, want string }{
		{"unknown field", "regoin: us-east-1\n", "field regoin not found"},
		{"bad region", "region: US East\n", `region "US East" is not a valid region name`},
		{"missing key id", "credentials:\n  - secret_access_key: x\n    account_id: \"111122223333\"\n    policy: AmazonPrometheusFullAccess\n", "credentials[0]: access_key_id is required"},
		{"missing secret", "credentials:\n  - access_key_id: AKID\n    account_id: \"111122223333\"\n    policy: AmazonPrometheusFullAccess\n", "credentials[0] (AKID): secret_access_key is required"},
		{"duplicate key", cred("  - access_key_id: AKID\n    secret_access_key: y\n    account_id: \"111122223333\"\n    policy: AmazonPrometheusFullAccess\n"), "credentials[1] (AKID): access key id already used by credentials[0]"},
		{"short account", "credentials:\n  - access_key_id: AKID\n    secret_access_key: x\n    account_id: \"1234\"\n    policy: AmazonPrometheusFullAccess\n", `account_id must be 12 digits (quote it in YAML), got "1234"`},
		{"bad name", "credentials:\n  - access_key_id: AKID\n    secret_access_key: x\n    account_id: \"111122223333\"\n    name: a b\n    policy: AmazonPrometheusFullAccess\n", `name "a b" is not a valid IAM user name`},
		{"missing policy", "credentials:\n  - access_key_id: AKID\n    secret_access_key: x\n    account_id: \"111122223333\"\n", "policy is required: one of AmazonPrometheusFullAccess"},
		{"unknown preset", "bearer_tokens:\n  - token: t\n    account_id: \"111122223333\"\n    policy: AmazonPrometheusEverything\n", `line 4: unknown policy preset "AmazonPrometheusEverything"`},
		{"policy with condition", "bearer_tokens:\n  - token: t\n    account_id: \"111122223333\"\n    policy:\n      Statement:\n        Effect: Allow\n        Action: '*'\n        Resource: '*'\n        Condition: {Bool: {aws:SecureTransport: 'true'}}\n", "line 5: invalid policy: statement 1: Condition: condition blocks are not supported"},
		{"bad JSON policy", "bearer_tokens:\n  - token: t\n    account_id: \"111122223333\"\n    policy: '{\"Statement\": 1'\n", "line 4: invalid policy"},
		{"duplicate token", "bearer_tokens:\n  - token: t\n    account_id: \"111122223333\"\n    policy: AmazonPrometheusQueryAccess\n  - token: t\n    account_id: \"111122223333\"\n    policy: AmazonPrometheusQueryAccess\n", "bearer_tokens[1]: token already used by bearer_tokens[0]"},
		{"token with space", "bearer_tokens:\n  - token: a b\n    account_id: \"111122223333\"\n    policy: AmazonPrometheusQueryAccess\n", "bearer_tokens[0]: token must be non-empty and contain no whitespace"},
		{"key with slash", "credentials:\n  - access_key_id: AK/ID\n    secret_access_key: x\n    account_id: \"111122223333\"\n    policy: AmazonPrometheusFullAccess\n", "must not contain '/'"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			_, err := auth.ParseConfig([]byte(tc.doc))
			if err == nil {
				t.Fatalf("accepted:\n%s", tc.doc)
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %q does not contain %q", err, tc.want)
			}
			for _, secret := range []string{"s3cr3t-value", "wJalr"} {
				if strings.Contains(err.Error(), secret) {
					t.Fatalf("error %q reveals a secret", err)
				}
			}
		})
	}
}

func TestConfigEmbedsInServerConfig(t *testing.T) {
	// The server's configuration holds the section under a key of its own.
	var server struct {
		Listen string      `yaml:"listen"`
		Auth   auth.Config `yaml:"auth"`
	}
	doc := "listen: 127.0.0.1:9090\nauth:\n" + indent(exampleConfig, "  ")
	if err := yaml.Unmarshal([]byte(doc), &server); err != nil {
		t.Fatal(err)
	}
	if _, _, err := server.Auth.Build(); err != nil {
		t.Fatal(err)
	}
	if len(server.Auth.Credentials) != 1 || len(server.Auth.Credentials[0].Policy.Policies) != 1 {
		t.Fatalf("parsed %+v", server.Auth)
	}
	// And it marshals back to YAML that parses to the same meaning.
	out, err := yaml.Marshal(server.Auth)
	if err != nil {
		t.Fatal(err)
	}
	again, err := auth.ParseConfig(out)
	if err != nil {
		t.Fatalf("re-parsing\n%s: %v", out, err)
	}
	if got := again.Credentials[0].Policy.Policies[0].Evaluate("aps:DeleteWorkspace", wsA); got != iam.Allow {
		t.Fatalf("round trip lost the policy:\n%s", out)
	}
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.Trim(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n") + "\n"
}

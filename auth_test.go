package promspace_test

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os/exec"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/amp"
	"github.com/aws/aws-sdk-go-v2/service/amp/types"
	"github.com/aws/smithy-go"
	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	config_util "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage/remote"
	"github.com/prometheus/sigv4"

	"github.com/promspace/promspace"
	"github.com/promspace/promspace/auth"
	"github.com/promspace/promspace/auth/iam"
)

const (
	account      = "111122223333"
	otherAccount = "444455556666"
	region       = "us-east-1"
)

// The identities of the access-control tests, in the server's config shape.
const accessConfig = `
region: us-east-1
credentials:
  - access_key_id: AKIDADMIN
    secret_access_key: admin-secret
    account_id: "111122223333"
    name: admin
    policy: AmazonPrometheusFullAccess
  - access_key_id: AKIDWRITER
    secret_access_key: writer-secret
    account_id: "111122223333"
    name: writer
    policy: AmazonPrometheusRemoteWriteAccess
  - access_key_id: AKIDALICE
    secret_access_key: alice-secret
    account_id: "111122223333"
    name: alice
    policy:
      Version: "2012-10-17"
      Statement:
        - Effect: Allow
          Action: aps:ListWorkspaces
          Resource: "*"
  - access_key_id: AKIDMALLORY
    secret_access_key: mallory-secret
    account_id: "444455556666"
    name: mallory
    policy: AmazonPrometheusFullAccess
bearer_tokens:
  - token: grafana-token
    account_id: "111122223333"
    name: grafana
    policy: AmazonPrometheusQueryAccess
`

type secured struct {
	srv   *httptest.Server
	authz *auth.PolicyAuthorizer
	a, b  string // workspace ids
}

func startSecured(t *testing.T) *secured {
	t.Helper()
	conf, err := auth.ParseConfig([]byte(accessConfig))
	if err != nil {
		t.Fatal(err)
	}
	authn, authz, err := conf.Build()
	if err != nil {
		t.Fatal(err)
	}
	svc, err := promspace.New(context.Background(), promspace.Options{
		DataDir: t.TempDir(), AccountID: account, Region: region,
		Authenticator: authn, Authorizer: authz,
	})
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(svc)
	t.Cleanup(func() {
		srv.Close()
		svc.Close()
	})
	s := &secured{srv: srv, authz: authz.(*auth.PolicyAuthorizer)}
	admin := s.amp("AKIDADMIN", "admin-secret")
	for _, id := range []*string{&s.a, &s.b} {
		out, err := admin.CreateWorkspace(context.Background(), &amp.CreateWorkspaceInput{})
		if err != nil {
			t.Fatal(err)
		}
		*id = aws.ToString(out.WorkspaceId)
	}
	// alice may do everything on workspace A, and nothing on B.
	policy, err := iam.ParsePolicy([]byte(`{"Version":"2012-10-17","Statement":{"Effect":"Allow","Action":"aps:*","Resource":"` + s.arn(s.a) + `"}}`))
	if err != nil {
		t.Fatal(err)
	}
	s.authz.Attach(auth.UserARN(account, "alice"), policy)
	return s
}

func (s *secured) arn(id string) string {
	return "arn:aws:aps:" + region + ":" + account + ":workspace/" + id
}

func (s *secured) amp(key, secret string) *amp.Client {
	return amp.New(amp.Options{
		Region:       region,
		BaseEndpoint: aws.String(s.srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider(key, secret, ""),
	})
}

// query returns a client_golang API client for workspace id whose requests
// go through rt.
func (s *secured) query(t *testing.T, id string, rt http.RoundTripper) v1.API {
	t.Helper()
	c, err := api.NewClient(api.Config{Address: s.srv.URL + "/workspaces/" + id, RoundTripper: rt})
	if err != nil {
		t.Fatal(err)
	}
	return v1.NewAPI(c)
}

func sigv4Transport(t *testing.T, key, secret string) http.RoundTripper {
	t.Helper()
	rt, err := sigv4.NewSigV4RoundTripper(&sigv4.SigV4Config{
		Region: region, AccessKey: key, SecretKey: config_util.Secret(secret),
	}, http.DefaultTransport)
	if err != nil {
		t.Fatal(err)
	}
	return rt
}

func bearerTransport(token string) http.RoundTripper {
	return config_util.NewAuthorizationCredentialsRoundTripper("Bearer", config_util.NewInlineSecret(token), http.DefaultTransport)
}

// remoteWrite sends one sample to workspace id with Prometheus' remote-write
// client signing with key and secret, as a Prometheus configured with a
// sigv4 block does.
func (s *secured) remoteWrite(t *testing.T, id, key, secret string) error {
	t.Helper()
	u, _ := url.Parse(s.srv.URL + "/workspaces/" + id + "/api/v1/remote_write")
	c, err := remote.NewWriteClient("test", &remote.ClientConfig{
		URL:           &config_util.URL{URL: u},
		Timeout:       model.Duration(10 * time.Second),
		WriteProtoMsg: remoteapi.WriteV1MessageType,
		SigV4Config:   &sigv4.SigV4Config{Region: region, AccessKey: key, SecretKey: config_util.Secret(secret)},
	})
	if err != nil {
		t.Fatal(err)
	}
	raw, _ := (&prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		series(time.Now().UnixMilli(), 1, "__name__", "signed_write", "job", "test"),
	}}).Marshal()
	_, err = c.Store(context.Background(), snappy.Encode(nil, raw), 0)
	return err
}

func errorCode(err error) string {
	var ae smithy.APIError
	if errors.As(err, &ae) {
		return ae.ErrorCode()
	}
	return ""
}

func TestAccessSignedClients(t *testing.T) {
	s := startSecured(t)
	ctx := context.Background()

	// A Prometheus with a sigv4 block writes; the query preset reads over
	// a bearer token.
	if err := s.remoteWrite(t, s.a, "AKIDWRITER", "writer-secret"); err != nil {
		t.Fatalf("signed remote write: %v", err)
	}
	grafana := s.query(t, s.a, bearerTransport("grafana-token"))
	v, _, _, err := grafana.Query(ctx, `signed_write`, time.Now())
	if err != nil {
		t.Fatalf("bearer query: %v", err)
	}
	if vec := v.(model.Vector); len(vec) != 1 {
		t.Errorf("signed_write = %v", vec)
	}
	if _, err := grafana.Buildinfo(ctx); err != nil {
		t.Errorf("buildinfo with the query preset: %v", err)
	}
	// The admin reads with a SigV4-signed client_golang client.
	if _, _, _, err := s.query(t, s.a, sigv4Transport(t, "AKIDADMIN", "admin-secret")).Query(ctx, `signed_write`, time.Now()); err != nil {
		t.Errorf("sigv4 query: %v", err)
	}

	// Each refused for the action its preset lacks.
	if err := s.remoteWrite(t, s.a, "AKIDADMIN", "wrong-secret"); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("remote write with a wrong secret: %v", err)
	}
	if _, _, _, err := s.query(t, s.a, sigv4Transport(t, "AKIDWRITER", "writer-secret")).Query(ctx, `up`, time.Now()); err == nil || !strings.Contains(err.Error(), "403") {
		t.Errorf("query with the remote-write preset: %v", err)
	}
	req, _ := http.NewRequest(http.MethodPost, s.srv.URL+"/workspaces/"+s.a+"/api/v1/remote_write", nil)
	req.Header.Set("Authorization", "Bearer grafana-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("remote write with the query preset: %d", resp.StatusCode)
	}

	// The SDK's amp client: wrong secret and no signature at all.
	if _, err := s.amp("AKIDADMIN", "wrong").ListWorkspaces(ctx, &amp.ListWorkspacesInput{}); errorCode(err) != "InvalidSignatureException" {
		t.Errorf("list with a wrong secret: %v", err)
	}
	if _, err := s.amp("AKIDNOBODY", "x").ListWorkspaces(ctx, &amp.ListWorkspacesInput{}); errorCode(err) != "UnrecognizedClientException" {
		t.Errorf("list with an unknown key: %v", err)
	}
	resp, err = http.Get(s.srv.URL + "/workspaces")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden || resp.Header.Get("x-amzn-ErrorType") != "MissingAuthenticationTokenException" {
		t.Errorf("unsigned list: %d %s", resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"))
	}
}

// TestAccessIsolation: a principal allowed only on workspace A is refused
// every operation on B, and sees only A.
func TestAccessIsolation(t *testing.T) {
	s := startSecured(t)
	ctx := context.Background()
	alice := s.amp("AKIDALICE", "alice-secret")

	out, err := alice.ListWorkspaces(ctx, &amp.ListWorkspacesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Workspaces) != 1 || aws.ToString(out.Workspaces[0].WorkspaceId) != s.a {
		t.Errorf("alice lists %v, want only %s", out.Workspaces, s.a)
	}

	var denied *types.AccessDeniedException
	calls := map[string]func(id string) error{
		"DescribeWorkspace": func(id string) error {
			_, err := alice.DescribeWorkspace(ctx, &amp.DescribeWorkspaceInput{WorkspaceId: &id})
			return err
		},
		"UpdateWorkspaceAlias": func(id string) error {
			_, err := alice.UpdateWorkspaceAlias(ctx, &amp.UpdateWorkspaceAliasInput{WorkspaceId: &id, Alias: aws.String("x")})
			return err
		},
		"DescribeWorkspaceConfiguration": func(id string) error {
			_, err := alice.DescribeWorkspaceConfiguration(ctx, &amp.DescribeWorkspaceConfigurationInput{WorkspaceId: &id})
			return err
		},
		"TagResource": func(id string) error {
			_, err := alice.TagResource(ctx, &amp.TagResourceInput{ResourceArn: aws.String(s.arn(id)), Tags: map[string]string{"k": "v"}})
			return err
		},
		"ListTagsForResource": func(id string) error {
			_, err := alice.ListTagsForResource(ctx, &amp.ListTagsForResourceInput{ResourceArn: aws.String(s.arn(id))})
			return err
		},
	}
	for name, call := range calls {
		if err := call(s.a); err != nil {
			t.Errorf("%s on A: %v", name, err)
		}
		if err := call(s.b); !errors.As(err, &denied) {
			t.Errorf("%s on B: %v, want AccessDeniedException", name, err)
		}
	}
	if _, err := alice.DeleteWorkspace(ctx, &amp.DeleteWorkspaceInput{WorkspaceId: &s.b}); !errors.As(err, &denied) {
		t.Errorf("DeleteWorkspace on B: %v", err)
	}

	rt := sigv4Transport(t, "AKIDALICE", "alice-secret")
	if err := s.remoteWrite(t, s.a, "AKIDALICE", "alice-secret"); err != nil {
		t.Errorf("remote write on A: %v", err)
	}
	if err := s.remoteWrite(t, s.b, "AKIDALICE", "alice-secret"); err == nil {
		t.Error("remote write on B accepted")
	}
	for _, path := range []string{"/api/v1/query?query=up", "/api/v1/query_range?query=up&start=0&end=60&step=15",
		"/api/v1/series?match[]=up", "/api/v1/labels", "/api/v1/label/job/values", "/api/v1/metadata"} {
		for id, want := range map[string]int{s.a: http.StatusOK, s.b: http.StatusForbidden} {
			req, _ := http.NewRequest(http.MethodGet, s.srv.URL+"/workspaces/"+id+path, nil)
			resp, err := rt.RoundTrip(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != want {
				t.Errorf("GET %s on %s: %d, want %d", path, id, resp.StatusCode, want)
			}
		}
	}
}

// TestAccessOtherAccount: a workspace id is looked up in the caller's own
// account, so another account's workspace is as unknown as a missing one.
func TestAccessOtherAccount(t *testing.T) {
	s := startSecured(t)
	ctx := context.Background()
	mallory := s.amp("AKIDMALLORY", "mallory-secret")

	var nf *types.ResourceNotFoundException
	if _, err := mallory.DescribeWorkspace(ctx, &amp.DescribeWorkspaceInput{WorkspaceId: &s.a}); !errors.As(err, &nf) {
		t.Errorf("describe another account's workspace: %v", err)
	}
	if _, err := mallory.DescribeWorkspace(ctx, &amp.DescribeWorkspaceInput{WorkspaceId: aws.String("ws-00000000-0000-0000-0000-000000000000")}); !errors.As(err, &nf) {
		t.Errorf("describe a missing workspace: %v", err)
	}
	out, err := mallory.ListWorkspaces(ctx, &amp.ListWorkspacesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Workspaces) != 0 {
		t.Errorf("mallory lists %v", out.Workspaces)
	}
	_, _, _, err = s.query(t, s.a, sigv4Transport(t, "AKIDMALLORY", "mallory-secret")).Query(ctx, "up", time.Now())
	if err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("query another account's workspace: %v", err)
	}
	// Her own workspaces live in her account.
	created, err := mallory.CreateWorkspace(ctx, &amp.CreateWorkspaceInput{})
	if err != nil {
		t.Fatal(err)
	}
	if arn := aws.ToString(created.Arn); !strings.Contains(arn, ":"+otherAccount+":workspace/") {
		t.Errorf("mallory's workspace ARN %s", arn)
	}
}

// TestAccessCurl signs with curl's --aws-sigv4, as scripts do.
func TestAccessCurl(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed")
	}
	s := startSecured(t)
	for _, tc := range []struct {
		secret, want string
	}{
		{"admin-secret", `"status":"success"`},
		{"wrong-secret", "InvalidSignatureException"},
	} {
		out, err := exec.Command(curl, "-s", "-i", "--aws-sigv4", "aws:amz:"+region+":aps", "--user", "AKIDADMIN:"+tc.secret,
			// Encoded by hand: curl 7.88, Debian 12's, signs the query string as
			// written, where AWS (and promspace) encode it canonically.
			s.srv.URL+"/workspaces/"+s.a+"/api/v1/query?query=vector%281%29").CombinedOutput()
		if err != nil {
			t.Fatalf("curl: %v\n%s", err, out)
		}
		if !strings.Contains(string(out), tc.want) {
			t.Errorf("curl with %s: want %s in\n%s", tc.secret, tc.want, out)
		}
	}
}

func TestAccessUnknownOperation(t *testing.T) {
	s := startSecured(t)
	rt := sigv4Transport(t, "AKIDADMIN", "admin-secret")
	client := &http.Client{Transport: rt}
	for _, path := range []string{"/workspaces/" + s.a + "/api/v1/status/tsdb", "/otlp/v1/metrics"} {
		resp, err := client.Get(s.srv.URL + path)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound || resp.Header.Get("x-amzn-ErrorType") != "UnknownOperationException" {
			t.Errorf("GET %s: %d %s, want 404 UnknownOperationException", path, resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"))
		}
	}
	// Unsigned, it is refused before anything is said of the path.
	resp, err := http.Get(s.srv.URL + "/otlp/v1/metrics")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusForbidden {
		t.Errorf("unsigned GET of an unknown path: %d, want 403", resp.StatusCode)
	}
}

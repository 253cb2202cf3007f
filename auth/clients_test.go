package auth_test

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	config_util "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/storage/remote"
	"github.com/prometheus/sigv4"

	"github.com/promspace/promspace/auth"
)

// Prometheus' sigv4 round tripper and its remote-write client sign with the
// wall clock, so the verifier's clock here is the wall clock shifted by
// offset.
func wallClockServer(t *testing.T, offset time.Duration) (string, *seen) {
	t.Helper()
	store, err := auth.NewStaticCredentials(testCredential())
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewSigV4(auth.SigV4Options{Region: testRegion, Credentials: store, Now: func() time.Time { return time.Now().Add(offset) }})
	if err != nil {
		t.Fatal(err)
	}
	srv, s := newServer(t, auth.MiddlewareOptions{Authenticator: v, Authorizer: fullAccess(t), Region: testRegion})
	return srv.URL, s
}

func TestPrometheusRemoteWriteClientWithSigV4(t *testing.T) {
	base, seen := wallClockServer(t, 0)
	body := remoteWriteBody(t, 2000)

	store := func(cfg sigv4.SigV4Config) error {
		u, err := url.Parse(base + "/workspaces/ws-1/api/v1/remote_write")
		if err != nil {
			t.Fatal(err)
		}
		c, err := remote.NewWriteClient("promspace", &remote.ClientConfig{
			URL:              &config_util.URL{URL: u},
			Timeout:          model.Duration(10 * time.Second),
			HTTPClientConfig: config_util.DefaultHTTPClientConfig,
			SigV4Config:      &cfg,
		})
		if err != nil {
			t.Fatal(err)
		}
		_, err = c.Store(context.Background(), body, 0)
		return err
	}

	good := sigv4.SigV4Config{Region: testRegion, AccessKey: testKey, SecretKey: config_util.Secret(testSecret)}
	if err := store(good); err != nil {
		t.Fatalf("remote write: %v", err)
	}
	got := seen.last(t)
	if got.principal == nil || got.principal.Name != "alice" || !bytes.Equal(got.body, body) || got.op.Name != "RemoteWrite" {
		t.Fatalf("handler saw %+v, op %s, %d bytes", got.principal, got.op.Name, len(got.body))
	}

	for name, tc := range map[string]struct {
		cfg  sigv4.SigV4Config
		want string
	}{
		"wrong secret":    {sigv4.SigV4Config{Region: testRegion, AccessKey: testKey, SecretKey: "wrong"}, "InvalidSignatureException"},
		"another region":  {sigv4.SigV4Config{Region: "eu-west-1", AccessKey: testKey, SecretKey: config_util.Secret(testSecret)}, "InvalidSignatureException"},
		"another service": {sigv4.SigV4Config{Region: testRegion, AccessKey: testKey, SecretKey: config_util.Secret(testSecret), ServiceName: "execute-api"}, "InvalidSignatureException"},
		"unknown key":     {sigv4.SigV4Config{Region: testRegion, AccessKey: "AKIDUNKNOWN", SecretKey: config_util.Secret(testSecret)}, "UnrecognizedClientException"},
	} {
		t.Run(name, func(t *testing.T) {
			err := store(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), "403") || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("remote write error %v, want a 403 with %s", err, tc.want)
			}
		})
	}
}

func TestPrometheusSigV4RoundTripper(t *testing.T) {
	base, seen := wallClockServer(t, 0)
	expiredBase, _ := wallClockServer(t, 10*time.Minute) // the server's clock is 10 minutes ahead

	rt := func(cfg sigv4.SigV4Config) http.RoundTripper {
		r, err := sigv4.NewSigV4RoundTripper(&cfg, http.DefaultTransport)
		if err != nil {
			t.Fatal(err)
		}
		return r
	}
	good := sigv4.SigV4Config{Region: testRegion, AccessKey: testKey, SecretKey: config_util.Secret(testSecret)}

	get := func(t *testing.T, tr http.RoundTripper, u string) (*http.Response, refusal) {
		t.Helper()
		return send(t, &http.Client{Transport: tr}, newRequest(t, "GET", u, nil))
	}
	resp, ref := get(t, rt(good), base+"/workspaces/ws-1/api/v1/query?query=sum(up)&time=1700000000")
	if resp.StatusCode != 200 {
		t.Fatalf("status %d %s %s", resp.StatusCode, ref.errType, ref.message)
	}
	if got := seen.last(t); got.op.Name != "QueryMetrics" || got.principal.Name != "alice" {
		t.Fatalf("handler saw %+v", got)
	}
	resp, ref = send(t, &http.Client{Transport: rt(good)}, newRequest(t, "POST", base+"/workspaces/ws-1/api/v1/series", []byte("match[]=up")))
	if resp.StatusCode != 200 {
		t.Fatalf("POST status %d %s %s", resp.StatusCode, ref.errType, ref.message)
	}

	bad := good
	bad.SecretKey = "wrong"
	if _, ref := get(t, rt(bad), base+"/workspaces/ws-1/api/v1/labels"); ref.status != 403 || ref.errType != "InvalidSignatureException" {
		t.Fatalf("wrong secret: %d %s", ref.status, ref.errType)
	}
	_, ref = get(t, rt(good), expiredBase+"/workspaces/ws-1/api/v1/labels")
	if ref.status != 403 || ref.errType != "InvalidSignatureException" || !strings.HasPrefix(ref.message, "Signature expired: ") {
		t.Fatalf("expired: %d %s %s", ref.status, ref.errType, ref.message)
	}
}

// TestCurlAWSSigV4 signs with curl's --aws-sigv4, when curl is installed.
func TestCurlAWSSigV4(t *testing.T) {
	curl, err := exec.LookPath("curl")
	if err != nil {
		t.Skip("curl not installed")
	}
	if out, err := exec.Command(curl, "--help", "all").Output(); err != nil || !bytes.Contains(out, []byte("--aws-sigv4")) {
		t.Skip("curl has no --aws-sigv4")
	}
	base, seen := wallClockServer(t, 0)
	dir := t.TempDir()
	body := remoteWriteBody(t, 2000)
	bodyFile := filepath.Join(dir, "body")
	if err := os.WriteFile(bodyFile, body, 0o600); err != nil {
		t.Fatal(err)
	}

	run := func(t *testing.T, sigv4Param, user string, args ...string) (status, errType string) {
		t.Helper()
		all := append([]string{"-sS", "-o", "/dev/null", "-w", "%{http_code} %header{x-amzn-errortype}",
			"--aws-sigv4", sigv4Param, "--user", user}, args...)
		out, err := exec.Command(curl, all...).CombinedOutput()
		if err != nil {
			t.Fatalf("curl %v: %v: %s", all, err, out)
		}
		status, errType, _ = strings.Cut(strings.TrimSpace(string(out)), " ")
		return status, errType
	}
	const param = "aws:amz:us-east-1:aps"
	user := testKey + ":" + testSecret

	t.Run("GET query", func(t *testing.T) {
		if status, typ := run(t, param, user, base+"/workspaces/ws-1/api/v1/query?query=up&time=1700000000"); status != "200" {
			t.Fatalf("status %s %s", status, typ)
		}
		if got := seen.last(t); got.op.Name != "QueryMetrics" || got.principal.Name != "alice" {
			t.Fatalf("handler saw %+v", got)
		}
	})
	t.Run("POST remote write", func(t *testing.T) {
		status, typ := run(t, param, user, "-H", "Content-Type: application/x-protobuf", "-H", "Content-Encoding: snappy",
			"--data-binary", "@"+bodyFile, base+"/workspaces/ws-1/api/v1/remote_write")
		if status != "200" {
			t.Fatalf("status %s %s", status, typ)
		}
		if got := seen.last(t); !bytes.Equal(got.body, body) {
			t.Fatalf("handler read %d bytes, want %d", len(got.body), len(body))
		}
	})
	for name, tc := range map[string]struct{ param, user, want string }{
		"wrong secret":    {param, testKey + ":wrong", "InvalidSignatureException"},
		"another region":  {"aws:amz:eu-west-1:aps", user, "InvalidSignatureException"},
		"another service": {"aws:amz:us-east-1:execute-api", user, "InvalidSignatureException"},
		"unknown key":     {param, "AKIDUNKNOWN:" + testSecret, "UnrecognizedClientException"},
	} {
		t.Run(name, func(t *testing.T) {
			if status, typ := run(t, tc.param, tc.user, base+"/workspaces/ws-1/api/v1/labels"); status != "403" || typ != tc.want {
				t.Fatalf("got %s %s, want 403 %s", status, typ, tc.want)
			}
		})
	}
}

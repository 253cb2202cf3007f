package main

import (
	"context"
	"encoding/json"
	"errors"
	"flag"
	"io"
	"io/fs"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/amp"
	"github.com/promspace/promspace/internal/logbuf"
)

// serve runs the server on a free loopback port until the returned stop is
// called; stop returns run's error.
func serve(t *testing.T, dataDir string, args ...string) (base string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, append([]string{"-listen", "127.0.0.1:0", "-data-dir", dataDir}, args...), io.Discard, started)
	}()
	select {
	case addr := <-started:
		base = "http://" + addr
	case err := <-done:
		cancel()
		t.Fatalf("server exited: %v", err)
	case <-time.After(30 * time.Second):
		cancel()
		t.Fatal("server did not start")
	}
	return base, func() error {
		cancel()
		return <-done
	}
}

func get(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

func defaultWorkspaces(t *testing.T, base string) []string {
	t.Helper()
	code, body := get(t, base+"/workspaces?alias=default")
	if code != http.StatusOK {
		t.Fatalf("list workspaces: %d %s", code, body)
	}
	var out struct {
		Workspaces []struct {
			WorkspaceID string `json:"workspaceId"`
		} `json:"workspaces"`
	}
	if err := json.Unmarshal([]byte(body), &out); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, w := range out.Workspaces {
		ids = append(ids, w.WorkspaceID)
	}
	return ids
}

func TestServer(t *testing.T) {
	dir := t.TempDir()
	base, stop := serve(t, dir)

	for _, path := range []string{"/-/ready", "/-/healthy"} {
		if code, _ := get(t, base+path); code != http.StatusOK {
			t.Errorf("GET %s: %d", path, code)
		}
	}
	if code, body := get(t, base+"/metrics"); code != http.StatusOK || !strings.Contains(body, "go_goroutines") {
		t.Errorf("GET /metrics: %d", code)
	}
	ids := defaultWorkspaces(t, base)
	if len(ids) != 1 {
		t.Fatalf("default workspaces: %v", ids)
	}
	if code, body := get(t, base+"/workspaces/"+ids[0]+"/api/v1/query?query=vector(1)"); code != http.StatusOK || !strings.Contains(body, `"success"`) {
		t.Errorf("query: %d %s", code, body)
	}
	if err := stop(); err != nil {
		t.Fatalf("shutdown: %v", err)
	}

	// A second start on the same directory reuses the default workspace.
	base, stop = serve(t, dir)
	defer stop()
	if again := defaultWorkspaces(t, base); len(again) != 1 || again[0] != ids[0] {
		t.Errorf("after restart default workspaces = %v, want [%s]", again, ids[0])
	}
}

func TestRemoteWriteBlock(t *testing.T) {
	b := remoteWriteBlock("http://127.0.0.1:9009/workspaces/ws-1", "us-east-1", "")
	if !strings.Contains(b, "remote_write:\n  - url: http://127.0.0.1:9009/workspaces/ws-1/api/v1/remote_write\n") {
		t.Errorf("block:\n%s", b)
	}
	b = remoteWriteBlock("http://127.0.0.1:9009/workspaces/ws-1", "us-east-1", "AKIDEXAMPLE")
	if !strings.Contains(b, "/api/v1/remote_write\n    sigv4:\n      region: us-east-1\n      access_key: AKIDEXAMPLE\n") {
		t.Errorf("block:\n%s", b)
	}
}

// The config shape the README documents.
const exampleConfig = `
region: us-east-1
credentials:
  - access_key_id: AKIDEXAMPLE
    secret_access_key: wJalrXUtnFEMI/K7MDENG
    account_id: "111122223333"
    policy: AmazonPrometheusFullAccess      # a preset's name, or an IAM policy document written inline as YAML or JSON
bearer_tokens:
  - token: local-dev-token
    account_id: "111122223333"
    policy: AmazonPrometheusQueryAccess
`

func TestServerWithConfig(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "promspace.yml")
	if err := os.WriteFile(conf, []byte(exampleConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	base, stop := serve(t, t.TempDir(), "-config", conf)
	defer stop()
	ctx := context.Background()

	if code, _ := get(t, base+"/workspaces"); code != http.StatusForbidden {
		t.Errorf("unsigned list: %d, want 403", code)
	}
	if code, _ := get(t, base+"/-/ready"); code != http.StatusOK {
		t.Errorf("ready: %d", code)
	}

	client := amp.New(amp.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(base),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "wJalrXUtnFEMI/K7MDENG", ""),
	})
	out, err := client.ListWorkspaces(ctx, &amp.ListWorkspacesInput{Alias: aws.String("default")})
	if err != nil {
		t.Fatal(err)
	}
	if len(out.Workspaces) != 1 {
		t.Fatalf("default workspaces: %v", out.Workspaces)
	}
	ws := out.Workspaces[0]
	if arn := aws.ToString(ws.Arn); !strings.HasPrefix(arn, "arn:aws:aps:us-east-1:111122223333:workspace/ws-") {
		t.Errorf("default workspace ARN %s: want the config's account", arn)
	}

	query := base + "/workspaces/" + aws.ToString(ws.WorkspaceId) + "/api/v1/query?query=vector(1)"
	req, _ := http.NewRequest(http.MethodGet, query, nil)
	req.Header.Set("Authorization", "Bearer local-dev-token")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("query with the bearer token: %d", resp.StatusCode)
	}
	if code, _ := get(t, query); code != http.StatusForbidden {
		t.Errorf("unsigned query: %d, want 403", code)
	}
}

func TestServerBadConfig(t *testing.T) {
	conf := filepath.Join(t.TempDir(), "bad.yml")
	os.WriteFile(conf, []byte("credentials:\n  - access_key_id: AKID\n    policy: NoSuchPreset\n"), 0o600)
	err := run(context.Background(), []string{"-listen", "127.0.0.1:0", "-data-dir", t.TempDir(), "-config", conf},
		io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "bad.yml") {
		t.Errorf("run with a bad config: %v", err)
	}
}

func TestServerHelp(t *testing.T) {
	var out strings.Builder
	err := run(context.Background(), []string{"-h"}, &out, nil)
	if !errors.Is(err, flag.ErrHelp) {
		t.Fatalf("run -h: %v, want flag.ErrHelp (exit 0)", err)
	}
	for _, want := range []string{"Usage of promspace", "-log.level", "-log.format", "-listen"} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("usage does not hold %q:\n%s", want, out.String())
		}
	}
}

func TestServerPortTakenLeavesDataAlone(t *testing.T) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	dir := filepath.Join(t.TempDir(), "data")
	err = run(context.Background(), []string{"-listen", ln.Addr().String(), "-data-dir", dir}, io.Discard, nil)
	if err == nil || !strings.Contains(err.Error(), "address already in use") {
		t.Fatalf("run on a taken port: %v", err)
	}
	if _, err := os.Stat(dir); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("data directory after a failed bind: %v, want none", err)
	}
}

func TestServerLogsRefusalsAtDebug(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	var logs logbuf.Buffer
	started := make(chan string, 1)
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0", "-data-dir", t.TempDir(), "-log.level", "debug", "-log.format", "json"}, &logs, started)
	}()
	base := "http://" + <-started
	ids := defaultWorkspaces(t, base)
	if code, _ := get(t, base+"/workspaces/"+ids[0]+"/api/v1/query?query=sum("); code != http.StatusBadRequest {
		t.Errorf("query that does not parse: %d, want 400", code)
	}
	cancel()
	if err := <-done; err != nil {
		t.Fatal(err)
	}
	out := logs.String()
	if !strings.Contains(out, `"msg":"Request refused"`) || !strings.Contains(out, `"status":400`) {
		t.Errorf("no debug line for the refused request:\n%s", out)
	}
	// The summary to paste comes after every log line of the start-up.
	summary := strings.Index(out, "# Paste into prometheus.yml")
	if summary < 0 {
		t.Fatalf("no start-up summary:\n%s", out)
	}
	for _, line := range strings.Split(out[:summary], "\n") {
		if strings.Contains(line, `"component":"tsdb"`) && !strings.Contains(line, `"level":"DEBUG"`) {
			t.Errorf("TSDB line above debug level at start-up: %s", line)
		}
	}
	if !strings.Contains(out, "Stopped serving") || !strings.Contains(out, "Every workspace closed cleanly") {
		t.Errorf("shutdown not logged:\n%s", out)
	}
}

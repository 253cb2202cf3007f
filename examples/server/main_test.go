package main

import (
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http"
	"strings"
	"testing"
	"time"
)

// serve runs the server on a free loopback port until the returned stop is
// called; stop returns run's error.
func serve(t *testing.T, dataDir string) (base string, stop func() error) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	started := make(chan string, 1)
	done := make(chan error, 1)
	logger := slog.New(slog.NewTextHandler(io.Discard, nil))
	go func() {
		done <- run(ctx, []string{"-listen", "127.0.0.1:0", "-data-dir", dataDir}, logger, started)
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
	b := remoteWriteBlock("http://127.0.0.1:9009/workspaces/ws-1")
	if !strings.Contains(b, "remote_write:\n  - url: http://127.0.0.1:9009/workspaces/ws-1/api/v1/remote_write\n") {
		t.Errorf("block:\n%s", b)
	}
}

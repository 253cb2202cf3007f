package promspace_test

import (
	"bytes"
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/amp"
	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"

	"github.com/promspace/promspace"
)

func TestEnsureWorkspaceReusesAlias(t *testing.T) {
	h := start(t, t.TempDir())
	ctx := context.Background()
	a, err := h.svc.EnsureWorkspace(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	b, err := h.svc.EnsureWorkspace(ctx, "default")
	if err != nil {
		t.Fatal(err)
	}
	if a.ID() != b.ID() {
		t.Errorf("EnsureWorkspace made two workspaces: %s, %s", a.ID(), b.ID())
	}
	out, err := h.amp.ListWorkspaces(ctx, &amp.ListWorkspacesInput{})
	if err != nil {
		t.Fatal(err)
	}
	if n := len(out.Workspaces); n != 1 {
		t.Errorf("%d workspaces, want 1", n)
	}
}

// TestDeleteDuringWrites: writes racing a DeleteWorkspace are answered 204
// or 404, never a 500 from a TSDB closed under them.
func TestDeleteDuringWrites(t *testing.T) {
	h := start(t, t.TempDir())
	id := h.createWorkspace("busy")
	raw, err := (&prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		series(time.Now().UnixMilli(), 1, "__name__", "busy", "job", "x"),
	}}).Marshal()
	if err != nil {
		t.Fatal(err)
	}
	body := snappy.Encode(nil, raw)
	url := h.srv.URL + "/workspaces/" + id + "/api/v1/remote_write"

	// Each writer goes on until it sees the workspace gone, or gives up.
	const writers, maxWrites = 4, 5000
	codes := make(chan int, writers*maxWrites)
	started := make(chan struct{}, writers)
	done := make(chan struct{})
	for range writers {
		go func() {
			defer func() { done <- struct{}{} }()
			for i := range maxWrites {
				resp, err := http.Post(url, "application/x-protobuf", bytes.NewReader(body))
				if err != nil {
					t.Error(err)
					return
				}
				resp.Body.Close()
				codes <- resp.StatusCode
				if i == 0 {
					started <- struct{}{}
				}
				if resp.StatusCode == http.StatusNotFound {
					return
				}
			}
		}()
	}
	for range writers {
		<-started
	}
	if _, err := h.amp.DeleteWorkspace(context.Background(), &amp.DeleteWorkspaceInput{WorkspaceId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	for range writers {
		<-done
	}
	close(codes)
	seen := map[int]int{}
	for c := range codes {
		seen[c]++
	}
	for c, n := range seen {
		if c != http.StatusNoContent && c != http.StatusNotFound {
			t.Errorf("%d writes answered %d", n, c)
		}
	}
	if seen[http.StatusNotFound] != writers {
		t.Errorf("not every writer saw the workspace gone: %v", seen)
	}
}

// A default workspace whose TSDB cannot open is reported once, for what it
// is: neither "creation" of a workspace that exists nor "not found".
func TestEnsureWorkspaceSaysWhyItCannotOpen(t *testing.T) {
	dir := t.TempDir()
	svc, err := promspace.New(context.Background(), promspace.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	ws, err := svc.EnsureWorkspace(context.Background(), "default")
	if err != nil {
		t.Fatal(err)
	}
	if err := svc.Close(); err != nil {
		t.Fatal(err)
	}
	// A file where the TSDB's WAL directory should be.
	if err := os.RemoveAll(filepath.Join(ws.Dir(), "wal")); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(ws.Dir(), "wal"), []byte("not a directory"), 0o666); err != nil {
		t.Fatal(err)
	}
	svc, err = promspace.New(context.Background(), promspace.Options{DataDir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer svc.Close()
	_, err = svc.EnsureWorkspace(context.Background(), "default")
	if err == nil {
		t.Fatal("EnsureWorkspace of a workspace that cannot open succeeded")
	}
	msg := err.Error()
	if !strings.Contains(msg, ws.ID()+` (alias "default") cannot be opened: open TSDB: `) ||
		strings.Contains(msg, "not found") || strings.Contains(msg, "creation") {
		t.Errorf("error %q", msg)
	}
}

package promspace_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/service/amp"
	"github.com/aws/aws-sdk-go-v2/service/amp/types"
)

// TestDataPlaneUnknownWorkspace checks that a workspace that does not exist,
// or no longer does, answers 404 on the data plane, and that its data is
// gone after delete.
func TestDataPlaneUnknownWorkspace(t *testing.T) {
	h := start(t, t.TempDir())
	id := h.createWorkspace("doomed")
	ctx := context.Background()
	if _, err := h.amp.DeleteWorkspace(ctx, &amp.DeleteWorkspaceInput{WorkspaceId: aws.String(id)}); err != nil {
		t.Fatal(err)
	}
	w := amp.NewWorkspaceDeletedWaiter(h.amp, func(o *amp.WorkspaceDeletedWaiterOptions) {
		o.MinDelay, o.MaxDelay = 10*time.Millisecond, 50*time.Millisecond
	})
	if err := w.Wait(ctx, &amp.DescribeWorkspaceInput{WorkspaceId: aws.String(id)}, 10*time.Second); err != nil {
		t.Fatal(err)
	}
	var nf *types.ResourceNotFoundException
	if _, err := h.amp.DescribeWorkspace(ctx, &amp.DescribeWorkspaceInput{WorkspaceId: aws.String(id)}); !errors.As(err, &nf) {
		t.Errorf("describe deleted: %v", err)
	}

	for _, ws := range []string{id, "ws-00000000-0000-0000-0000-000000000000"} {
		resp, err := http.Get(h.srv.URL + "/workspaces/" + ws + "/api/v1/query?query=up")
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("query on %s: %d, want 404", ws, resp.StatusCode)
		}
		resp, err = http.Post(h.srv.URL+"/workspaces/"+ws+"/api/v1/remote_write", "application/x-protobuf", nil)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != http.StatusNotFound {
			t.Errorf("remote write on %s: %d, want 404", ws, resp.StatusCode)
		}
	}
}

// Paths that are no AMP operation get what Prometheus answers without
// access control, and AMP's UnknownOperationException with it.
func TestUnknownPaths(t *testing.T) {
	h := start(t, t.TempDir())
	id := h.createWorkspace("paths")
	ws := "/workspaces/" + id
	for _, tc := range []struct {
		method, path string
		want         int
	}{
		{"GET", ws + "/api/v1/remote_write", http.StatusMethodNotAllowed},
		{"PUT", ws + "/api/v1/remote_write", http.StatusMethodNotAllowed},
		{"PUT", "/foo/bar", http.StatusNotFound},
		{"GET", ws + "/api/v1/status/tsdb", http.StatusNotFound},
		{"GET", ws + "/api/v1/targets", http.StatusNotFound},
		{"POST", ws + "/api/v1/read", http.StatusNotFound},
		{"POST", "/otlp/v1/metrics", http.StatusNotFound},
		{"GET", "/api/v1/read", http.StatusNotFound},
		{"DELETE", ws + "/api/v1/query", http.StatusMethodNotAllowed},
	} {
		req, _ := http.NewRequest(tc.method, h.srv.URL+tc.path, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.want || strings.Contains(string(body), "AccessDenied") {
			t.Errorf("%s %s: %d %s, want %d", tc.method, tc.path, resp.StatusCode, body, tc.want)
		}
	}
	if resp, err := http.Get(h.srv.URL + ws + "/api/v1/remote_write"); err == nil {
		if got := resp.Header.Get("Allow"); got != "POST" {
			t.Errorf("Allow = %q, want POST", got)
		}
		resp.Body.Close()
	}
}

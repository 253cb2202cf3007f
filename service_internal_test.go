package promspace

import (
	"context"
	"net/http"
	"net/http/httptest"
	"testing"
)

// TestDeletedWorkspaceIsForgotten: the query API a workspace's first query
// built goes when the workspace is deleted, with its TSDB, whether or not
// anyone queries it again.
func TestDeletedWorkspaceIsForgotten(t *testing.T) {
	ctx := context.Background()
	s, err := New(ctx, Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	ws, err := s.EnsureWorkspace(ctx, "doomed")
	if err != nil {
		t.Fatal(err)
	}
	rec := httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/workspaces/"+ws.ID()+"/api/v1/query?query=vector(1)", nil))
	if rec.Code != http.StatusOK {
		t.Fatalf("query: %d %s", rec.Code, rec.Body)
	}
	if ws.Instance(queryComponent) == nil {
		t.Fatal("no query API for an open workspace")
	}

	if err := s.Registry().Delete(ctx, ws.ID()); err != nil {
		t.Fatal(err)
	}
	rec = httptest.NewRecorder()
	s.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, "/workspaces/"+ws.ID()+"/api/v1/query?query=vector(1)", nil))
	if rec.Code != http.StatusNotFound {
		t.Errorf("query after delete: %d", rec.Code)
	}
	// Close waits for the deletion running in the background.
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if ws.Instance(queryComponent) != nil {
		t.Error("the query API of a deleted workspace is still there")
	}
}

package workspace

import (
	"bytes"
	"context"
	"io"
	"testing"
)

// TestWorkspaceBucket: a workspace's objects live under its prefix, do not
// disturb the records when the registry reopens, and go with the workspace.
func TestWorkspaceBucket(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	opts := testOptions(t, dir)
	r := openRegistry(t, opts)
	doomed := createActive(t, r, CreateInput{Alias: "doomed"})
	kept := createActive(t, r, CreateInput{Alias: "kept"})
	for _, w := range []*Workspace{doomed, kept} {
		for _, name := range []string{"01ABC/meta.json", "01ABC/chunks/000001", "rules/ns.yaml"} {
			if err := w.Bucket().Upload(ctx, name, bytes.NewReader([]byte(w.ID()+"/"+name))); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r = openRegistry(t, opts)
	if n := len(r.Unreadable()); n != 0 {
		t.Fatalf("%d unreadable records after reopening beside workspace objects", n)
	}
	kept, err := r.Get(ctx, kept.ID())
	if err != nil {
		t.Fatal(err)
	}
	rc, err := kept.Bucket().Get(ctx, "rules/ns.yaml")
	if err != nil {
		t.Fatal(err)
	}
	b, _ := io.ReadAll(rc)
	rc.Close()
	if string(b) != kept.ID()+"/rules/ns.yaml" {
		t.Errorf("object holds %q", b)
	}
	if ok, _ := r.opts.Bucket.Exists(ctx, "workspaces/"+kept.ID()+"/01ABC/meta.json"); !ok {
		t.Error("a workspace's object is not under workspaces/<id>/")
	}

	if err := r.Delete(ctx, doomed.ID()); err != nil {
		t.Fatal(err)
	}
	waitBackground(r)
	var left []string
	r.opts.Bucket.Iter(ctx, "workspaces/"+doomed.ID()+"/", func(name string) error {
		left = append(left, name)
		return nil
	})
	if len(left) != 0 {
		t.Errorf("objects of a deleted workspace left: %v", left)
	}
	if ok, _ := kept.Bucket().Exists(ctx, "01ABC/chunks/000001"); !ok {
		t.Error("deleting one workspace removed another's objects")
	}
}

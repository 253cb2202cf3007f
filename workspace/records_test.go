package workspace

import (
	"context"
	"errors"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"testing/iotest"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/thanos-io/objstore/providers/filesystem"
)

func TestOpenReportsUnrecoverableRecords(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(t, dir)
	ctx := context.Background()
	r := openRegistry(t, opts)
	w := createActive(t, r, CreateInput{Alias: "fine"})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	bkt, err := filesystem.NewBucket(filepath.Join(dir, "bucket"))
	if err != nil {
		t.Fatal(err)
	}
	broken := map[string]string{
		recordName("ws-truncated"): `{"workspaceId":"ws-truncated","arn":"arn:aws:aps:us-`,
		recordName("ws-misnamed"):  `{"workspaceId":"ws-other"}`,
	}
	for name, body := range broken {
		if err := bkt.Upload(ctx, name, strings.NewReader(body)); err != nil {
			t.Fatal(err)
		}
	}

	r = openRegistry(t, opts)
	if got, err := r.Get(ctx, w.ID()); err != nil || got.Alias() != "fine" {
		t.Fatalf("Get of the readable workspace: %v, %v", got, err)
	}
	for _, id := range []string{"ws-truncated", "ws-misnamed", "ws-other"} {
		if _, err := r.Describe(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Describe(%s): %v, want ErrNotFound", id, err)
		}
	}
	for name := range broken {
		if ok, err := bkt.Exists(ctx, name); err != nil || !ok {
			t.Errorf("%s left the bucket: %v, %v", name, ok, err)
		}
	}
	got := r.Unreadable()
	slices.Sort(got)
	if want := []string{"ws-misnamed", "ws-truncated"}; !slices.Equal(got, want) {
		t.Errorf("Unreadable() = %v, want %v", got, want)
	}
}

// A record that a crash left empty or torn, or that the bucket lost, comes
// back from the copy in the workspace's directory, data and all.
func TestOpenRecoversRecordsFromTheirCopies(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(t, dir)
	ctx := context.Background()
	r := openRegistry(t, opts)
	torn := createActive(t, r, CreateInput{Alias: "torn", Tags: map[string]string{"k": "v"}})
	lost := createActive(t, r, CreateInput{Alias: "lost", ClientToken: "token-1"})
	for _, w := range []*Workspace{torn, lost} {
		if err := appendSample(t, w, labels.FromStrings("__name__", "x"), 1000, 7); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.UpdateAlias(ctx, UpdateAliasInput{ID: torn.ID(), Alias: "torn2"}); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	root := filepath.Join(dir, "bucket")
	if err := os.WriteFile(filepath.Join(root, recordName(torn.ID())), nil, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, recordName(lost.ID()))); err != nil {
		t.Fatal(err)
	}

	r = openRegistry(t, opts)
	if u := r.Unreadable(); len(u) != 0 {
		t.Errorf("Unreadable() = %v, want none", u)
	}
	for _, c := range []struct {
		w     *Workspace
		alias string
	}{{torn, "torn2"}, {lost, "lost"}} {
		w, err := r.Get(ctx, c.w.ID())
		if err != nil {
			t.Fatalf("Get(%s): %v", c.alias, err)
		}
		if w.Alias() != c.alias || w.ARN() != c.w.ARN() {
			t.Errorf("recovered %s: alias %q, arn %q", c.alias, w.Alias(), w.ARN())
		}
		if got := querySamples(t, w, "x"); got[1000] != 7 {
			t.Errorf("samples of %s = %v", c.alias, got)
		}
	}
	if got, _ := r.Get(ctx, torn.ID()); !maps.Equal(got.Tags(), map[string]string{"k": "v"}) {
		t.Errorf("tags of the recovered workspace = %v", got.Tags())
	}
	// The client token came back with the record: a retry is idempotent.
	again, err := r.Create(ctx, CreateInput{Alias: "lost", ClientToken: "token-1"})
	if err != nil || again.ID() != lost.ID() {
		t.Errorf("Create retried with the token: %v, %v; want %s", again, err, lost.ID())
	}
	// The bucket has both records again.
	for _, w := range []*Workspace{torn, lost} {
		if _, err := r.store.get(ctx, recordName(w.ID())); err != nil {
			t.Errorf("record of %s in the bucket: %v", w.ID(), err)
		}
	}
}

func TestFilesystemBucketUploadIsAtomic(t *testing.T) {
	root := t.TempDir()
	bkt, err := NewFilesystemBucket(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := bkt.Upload(ctx, "a/b.json", strings.NewReader("first")); err != nil {
		t.Fatal(err)
	}
	// A reader that fails halfway leaves the previous object whole.
	failing := io.MultiReader(strings.NewReader("sec"), iotest.ErrReader(errUploadFailed))
	if err := bkt.Upload(ctx, "a/b.json", failing); !errors.Is(err, errUploadFailed) {
		t.Fatalf("Upload from a failing reader: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "a", "b.json")); err != nil || string(b) != "first" {
		t.Fatalf("object after a failed upload: %q, %v", b, err)
	}
	var names []string
	if err := bkt.Iter(ctx, "a/", func(n string) error { names = append(names, n); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, []string{"a/b.json"}) {
		t.Errorf("objects after a failed upload: %v", names)
	}
	// A temporary file left by a crash is removed when the bucket opens.
	stale := filepath.Join(root, "a", ".b.json.123"+tmpSuffix)
	if err := os.WriteFile(stale, []byte("se"), 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := NewFilesystemBucket(root); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale temporary file: %v", err)
	}
	if err := bkt.Upload(ctx, "c"+tmpSuffix, strings.NewReader("x")); err == nil {
		t.Error("Upload of a name ending in the temporary suffix succeeded")
	}
}

func TestOpenSurvivesUnopenableWorkspace(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(t, dir)
	ctx := context.Background()
	r := openRegistry(t, opts)
	good := createActive(t, r, CreateInput{Alias: "good"})
	bad := createActive(t, r, CreateInput{Alias: "bad"})
	if err := appendSample(t, good, labels.FromStrings("__name__", "x"), 1000, 1); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	// A file where the TSDB directory should be.
	if err := os.RemoveAll(bad.Dir()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad.Dir(), []byte("not a directory"), 0o666); err != nil {
		t.Fatal(err)
	}

	r = openRegistry(t, opts)
	g, err := r.Get(ctx, good.ID())
	if err != nil {
		t.Fatal(err)
	}
	if got := querySamples(t, g, "x"); got[1000] != 1 {
		t.Errorf("samples of the good workspace = %v", got)
	}
	b, err := r.Describe(ctx, bad.ID())
	if err != nil {
		t.Fatal(err)
	}
	if b.Status() != StatusCreationFailed {
		t.Errorf("status of the unopenable workspace = %s, want CREATION_FAILED", b.Status())
	}
	if _, err := r.Get(ctx, bad.ID()); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of the unopenable workspace: %v, want ErrNotFound", err)
	}
	if _, ok := b.Acquire(); ok {
		t.Error("Acquire of the unopenable workspace succeeded")
	}
	if err := r.Delete(ctx, bad.ID()); err != nil {
		t.Fatal(err)
	}
	waitBackground(r)
	if _, err := r.Describe(ctx, bad.ID()); !errors.Is(err, ErrNotFound) {
		t.Errorf("Describe after deletion: %v, want ErrNotFound", err)
	}
	if _, err := os.Stat(bad.Dir()); !os.IsNotExist(err) {
		t.Errorf("data of the deleted workspace still there: %v", err)
	}
}

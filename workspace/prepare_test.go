package workspace

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
)

// preparer is a component whose Prepare records what it saw and writes a
// file into the TSDB directory, or fails.
type preparer struct {
	Component
	fail bool

	mtx  sync.Mutex
	seen []string // "<dir> db=<open>"
}

func (p *preparer) Prepare(_ context.Context, w *Workspace, dir string) error {
	p.mtx.Lock()
	defer p.mtx.Unlock()
	state := "closed"
	if w.DB() != nil {
		state = "open"
	}
	p.seen = append(p.seen, dir+" db="+state)
	if p.fail {
		return errors.New("refused by the test")
	}
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return err
	}
	return os.WriteFile(filepath.Join(dir, "prepared"), []byte("ok"), 0o666)
}

func TestPreparerRunsBeforeTheTSDBOpens(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	p := &preparer{Component: NewComponent("prepare", func(context.Context, *Workspace) (Instance, error) {
		return closeHook(func() {}), nil
	})}
	opts := testOptions(t, dir)
	opts.Components = []Component{p}
	r, err := Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	w := createActive(t, r, CreateInput{Alias: "prepared"})
	if _, err := os.Stat(filepath.Join(w.Dir(), "prepared")); err != nil {
		t.Errorf("the file Prepare wrote is missing: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	openRegistry(t, opts)
	want := w.Dir() + " db=closed"
	p.mtx.Lock()
	defer p.mtx.Unlock()
	if len(p.seen) != 2 || p.seen[0] != want || p.seen[1] != want {
		t.Errorf("Prepare saw %q, want twice %q (at creation and on reopening)", p.seen, want)
	}
}

func TestPreparerErrorFailsTheOpening(t *testing.T) {
	ctx := context.Background()
	p := &preparer{Component: NewComponent("prepare", func(context.Context, *Workspace) (Instance, error) {
		t.Error("Open called after Prepare failed")
		return closeHook(func() {}), nil
	}), fail: true}
	opts := testOptions(t, t.TempDir())
	opts.Components = []Component{p}
	r := openRegistry(t, opts)
	w, err := r.Create(ctx, CreateInput{Alias: "refused"})
	if err != nil {
		t.Fatal(err)
	}
	waitBackground(r)
	if got := w.Status(); got != StatusCreationFailed {
		t.Errorf("status %s after Prepare failed, want %s", got, StatusCreationFailed)
	}
}

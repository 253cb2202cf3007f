package rules

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/promspace/promspace/internal/logbuf"
	"github.com/promspace/promspace/quota"
)

func TestCorruptNamespaceObjects(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	r, w, m := openWorkspace(t, dir, Options{}, quota.DefaultLimits())
	if _, err := m.Create(ctx, CreateInput{Name: "kept", Data: []byte(recordRule)}); err != nil {
		t.Fatal(err)
	}
	for name, body := range map[string]string{
		"trunc":    `{"name": "trunc", "data": "Z3Jv`,
		"mismatch": `{"name": "other", "data": ""}`,
	} {
		if err := w.Bucket().Upload(ctx, objectName(name), strings.NewReader(body)); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	var logs logbuf.Buffer
	r, w, m = openWorkspace(t, dir, Options{Logger: logs.Logger()}, quota.DefaultLimits())
	if gs := m.RuleGroups(); len(gs) != 1 || gs[0].File() != "kept" {
		t.Errorf("groups beside corrupt objects: %v", gs)
	}
	for _, name := range []string{"trunc", "mismatch"} {
		full := "workspaces/" + w.ID() + "/rulegroupsnamespaces/" + name + ".json"
		ns, err := m.Describe(name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		if ns.Status != StatusUpdateFailed || !strings.Contains(ns.StatusReason, full) ||
			!strings.HasSuffix(ns.ARN, ":rulegroupsnamespace/"+w.ID()+"/"+name) || ns.CreatedAt.IsZero() {
			t.Errorf("%s: %+v", name, ns)
		}
		if !strings.Contains(logs.String(), full) {
			t.Errorf("%s is not named in the logs:\n%s", full, logs.String())
		}
	}
	if ns, err := m.Put(ctx, PutInput{Name: "trunc", Data: []byte(recordRule)}); err != nil || ns.Status != StatusUpdating {
		t.Fatalf("put over the corrupt namespace: %+v, %v", ns, err)
	}
	if err := m.Delete(ctx, "mismatch"); err != nil {
		t.Fatal(err)
	}
	if gs := m.RuleGroups(); len(gs) != 2 {
		t.Errorf("groups after the put: %v", gs)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	_, _, m = openWorkspace(t, dir, Options{}, quota.DefaultLimits())
	if ns, err := m.Describe("trunc"); err != nil || ns.Status != StatusActive {
		t.Errorf("replaced namespace after reopening: %+v, %v", ns, err)
	}
	if _, err := m.Describe("mismatch"); !errors.Is(err, ErrNotFound) {
		t.Errorf("deleted corrupt namespace after reopening: %v", err)
	}
}

package workspace

import (
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"
)

func TestResourcePolicyLifecycle(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	r := openRegistry(t, testOptions(t, dir))
	w, err := r.Create(ctx, CreateInput{})
	if err != nil {
		t.Fatal(err)
	}
	id := w.ID()
	if _, err := r.Get(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, err := r.DescribeResourcePolicy(ctx, "", id); !errors.Is(err, ErrPolicyNotFound) {
		t.Fatalf("describe before put: %v", err)
	}
	if p, err := r.ResourcePolicyOf(ctx, id); p != nil || err != nil {
		t.Fatalf("policy of a workspace without one: %v, %v", p, err)
	}
	if err := r.DeleteResourcePolicy(ctx, "", id, ""); !errors.Is(err, ErrPolicyNotFound) {
		t.Fatalf("delete before put: %v", err)
	}
	if _, _, err := r.PutResourcePolicy(ctx, "", id, PutResourcePolicyInput{Document: "{}", RevisionID: "rev"}); !errors.Is(err, ErrConflict) {
		t.Fatalf("put with a revision when there is none: %v", err)
	}
	p1, status, err := r.PutResourcePolicy(ctx, "", id, PutResourcePolicyInput{Document: "doc1", RevisionID: NoPolicyRevision, ClientToken: "t1"})
	if err != nil || status != PolicyCreating {
		t.Fatalf("first put: %v %s", err, status)
	}
	again, _, err := r.PutResourcePolicy(ctx, "", id, PutResourcePolicyInput{Document: "doc1", RevisionID: NoPolicyRevision, ClientToken: "t1"})
	if err != nil || again.RevisionID != p1.RevisionID {
		t.Fatalf("retry with the same client token: %v, %v", again, err)
	}
	if _, _, err := r.PutResourcePolicy(ctx, "", id, PutResourcePolicyInput{Document: "doc2", RevisionID: NoPolicyRevision}); !errors.Is(err, ErrConflict) {
		t.Fatalf("NO_POLICY over a policy: %v", err)
	}
	p2, status, err := r.PutResourcePolicy(ctx, "", id, PutResourcePolicyInput{Document: "doc2"})
	if err != nil || status != PolicyUpdating || p2.RevisionID == p1.RevisionID || !p2.CreatedAt.Equal(p1.CreatedAt) {
		t.Fatalf("put without a revision: %+v %s %v", p2, status, err)
	}
	if _, err := r.DescribeResourcePolicy(ctx, "444455556666", id); !errors.Is(err, ErrNotFound) {
		t.Fatalf("describe from another account: %v", err)
	}
	if err := r.DeleteResourcePolicy(ctx, "", id, p1.RevisionID); !errors.Is(err, ErrConflict) {
		t.Fatalf("delete at an old revision: %v", err)
	}
	if owner, ok := r.AccountOf(id); !ok || owner != r.AccountID() {
		t.Fatalf("AccountOf: %s %v", owner, ok)
	}
	if _, ok := r.AccountOf("ws-none"); ok {
		t.Fatal("AccountOf a missing workspace")
	}

	// Stored: a registry reopened on the same directory reads it back.
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	r = openRegistry(t, testOptions(t, dir))
	got, err := r.ResourcePolicyOf(ctx, id)
	if err != nil || got == nil || got.Document != "doc2" || got.RevisionID != p2.RevisionID {
		t.Fatalf("after reopening: %+v, %v", got, err)
	}
	if err := r.DeleteResourcePolicy(ctx, "", id, p2.RevisionID); err != nil {
		t.Fatal(err)
	}
	if _, err := r.DescribeResourcePolicy(ctx, "", id); !errors.Is(err, ErrPolicyNotFound) {
		t.Fatalf("describe after delete: %v", err)
	}

	// A workspace being deleted takes no policy, and its policy goes with it.
	if _, _, err := r.PutResourcePolicy(ctx, "", id, PutResourcePolicyInput{Document: "doc3"}); err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	if _, _, err := r.PutResourcePolicy(ctx, "", id, PutResourcePolicyInput{Document: "doc4"}); err == nil {
		t.Fatal("put on a workspace being deleted")
	}
	waitBackground(r)
	if p, err := r.ResourcePolicyOf(ctx, id); p != nil || err != nil {
		t.Fatalf("policy of a deleted workspace: %v, %v", p, err)
	}
	var left []string
	if err := r.opts.Bucket.Iter(ctx, objectPrefix(id), func(name string) error {
		left = append(left, name)
		return nil
	}); err != nil || len(left) != 0 {
		t.Fatalf("objects left of a deleted workspace: %v, %v", left, err)
	}
}

func TestCorruptResourcePolicy(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	opts := testOptions(t, dir)
	var logs strings.Builder
	opts.Logger = slog.New(slog.NewTextHandler(&logs, nil))
	r := openRegistry(t, opts)
	w, err := r.Create(ctx, CreateInput{})
	if err != nil {
		t.Fatal(err)
	}
	id := w.ID()
	if w, err = r.Get(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := w.Bucket().Upload(ctx, policyObject, strings.NewReader(`{"policyDocument": "{\"Ver`)); err != nil {
		t.Fatal(err)
	}
	// Access control reads no policy: the owner's own access only.
	if p, err := r.ResourcePolicyOf(ctx, id); p != nil || err != nil {
		t.Fatalf("corrupt policy: %v, %v", p, err)
	}
	if full := "workspaces/" + id + "/" + policyObject; !strings.Contains(logs.String(), full) {
		t.Errorf("%s is not named in the logs:\n%s", full, logs.String())
	}
	if _, err := r.DescribeResourcePolicy(ctx, "", id); !errors.Is(err, ErrPolicyNotFound) {
		t.Errorf("describe a corrupt policy: %v", err)
	}
	if _, _, err := r.PutResourcePolicy(ctx, "", id, PutResourcePolicyInput{Document: "doc", RevisionID: NoPolicyRevision}); err != nil {
		t.Fatalf("put over a corrupt policy: %v", err)
	}
	if p, err := r.DescribeResourcePolicy(ctx, "", id); err != nil || p.Document != "doc" {
		t.Errorf("after the put: %v, %v", p, err)
	}
}

package workspace

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/google/uuid"
)

// PolicyStatus is a resource policy's status, as AMP names it. A change is
// stored before it is answered, so CREATING, UPDATING and DELETING are
// only what Put and Delete answer.
type PolicyStatus string

// Resource policy statuses.
const (
	PolicyCreating PolicyStatus = "CREATING"
	PolicyActive   PolicyStatus = "ACTIVE"
	PolicyUpdating PolicyStatus = "UPDATING"
	PolicyDeleting PolicyStatus = "DELETING"
)

// NoPolicyRevision is the revision id a PutResourcePolicy gives to say it
// creates the workspace's first policy, as AMP's NO_POLICY.
const NoPolicyRevision = "NO_POLICY"

// ErrPolicyNotFound is returned for a workspace that has no resource
// policy.
var ErrPolicyNotFound = errors.New("resource policy not found")

// policyObject holds the workspace's resource policy in its bucket.
const policyObject = "resource-policy.json"

// ResourcePolicy is a workspace's resource-based policy. The document is
// kept as it was given; its language is package auth/iam's, which the
// caller validates.
type ResourcePolicy struct {
	Document    string    `json:"policyDocument"`
	RevisionID  string    `json:"revisionId"`
	ClientToken string    `json:"clientToken,omitempty"`
	CreatedAt   time.Time `json:"createdAt"`
	ModifiedAt  time.Time `json:"modifiedAt"`
}

// policyState is a workspace's resource policy as last read or written:
// read from the bucket at its first use, then kept. mtx serializes loads
// and changes; once loaded, access control reads policy without it. A
// stored *ResourcePolicy is never modified.
type policyState struct {
	mtx    sync.Mutex
	loaded atomic.Bool
	policy atomic.Pointer[ResourcePolicy]
}

func (ps *policyState) set(p *ResourcePolicy) {
	ps.policy.Store(p)
	ps.loaded.Store(true)
}

// currentPolicy returns w's policy, reading it from the bucket the first
// time. An object that does not decode is logged by name and taken as no
// policy: the workspace's own account keeps its access, no other account
// gets any, and a put replaces the object. Called with w.policy.mtx held.
func (w *Workspace) currentPolicy(ctx context.Context, logger *slog.Logger) (*ResourcePolicy, error) {
	ps := &w.policy
	if ps.loaded.Load() {
		return ps.policy.Load(), nil
	}
	r, err := w.bucket.Get(ctx, policyObject)
	if w.bucket.IsObjNotFoundErr(err) {
		ps.set(nil)
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("read resource policy of workspace %s: %w", w.id, err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, fmt.Errorf("read resource policy of workspace %s: %w", w.id, err)
	}
	var p ResourcePolicy
	if err := json.Unmarshal(b, &p); err != nil {
		logger.Error("The stored resource policy cannot be read: the workspace has none until one is put",
			"workspace", w.id, "object", w.ObjectName(policyObject), "err", err)
		ps.set(nil)
		return nil, nil
	}
	ps.set(&p)
	return &p, nil
}

// policyWorkspace returns the workspace id of account whose policy may
// change: it must be ACTIVE, as in AMP.
func (r *Registry) policyWorkspace(account, id string) (*Workspace, error) {
	w, err := r.owned(account, id)
	if err != nil {
		return nil, err
	}
	if s := w.Status(); s != StatusActive && s != StatusUpdating {
		return nil, fmt.Errorf("workspace %s is %s: %w", id, s, ErrConflict)
	}
	return w, nil
}

// PutResourcePolicyInput is a PutResourcePolicy request.
type PutResourcePolicyInput struct {
	Document string
	// RevisionID, if set, must be the current policy's revision, or
	// NoPolicyRevision when there is none; else the put is ErrConflict.
	RevisionID  string
	ClientToken string
}

// PutResourcePolicy stores the resource policy of workspace id of account
// (empty means Options.AccountID), creating or replacing it, and returns
// it with its new revision and the status it is answered with: CREATING
// or UPDATING. A retry with the same client token and document answers
// the stored policy again.
func (r *Registry) PutResourcePolicy(ctx context.Context, account, id string, in PutResourcePolicyInput) (*ResourcePolicy, PolicyStatus, error) {
	w, err := r.policyWorkspace(account, id)
	if err != nil {
		return nil, "", err
	}
	w.policy.mtx.Lock()
	defer w.policy.mtx.Unlock()
	old, err := w.currentPolicy(ctx, r.logger)
	if err != nil {
		return nil, "", err
	}
	if old != nil && in.ClientToken != "" && in.ClientToken == old.ClientToken && in.Document == old.Document {
		p := *old
		return &p, PolicyUpdating, nil
	}
	switch {
	case in.RevisionID == "":
	case old == nil && in.RevisionID != NoPolicyRevision:
		return nil, "", fmt.Errorf("workspace %s has no resource policy, revision %s given: %w", id, in.RevisionID, ErrConflict)
	case old != nil && in.RevisionID != old.RevisionID:
		return nil, "", fmt.Errorf("the resource policy of workspace %s is at revision %s, not %s: %w", id, old.RevisionID, in.RevisionID, ErrConflict)
	}
	now := r.opts.Now().UTC()
	p := &ResourcePolicy{Document: in.Document, RevisionID: uuid.NewString(), ClientToken: in.ClientToken, CreatedAt: now, ModifiedAt: now}
	status := PolicyCreating
	if old != nil {
		p.CreatedAt, status = old.CreatedAt, PolicyUpdating
	}
	b, err := json.Marshal(p)
	if err != nil {
		return nil, "", err
	}
	if err := w.bucket.Upload(context.WithoutCancel(ctx), policyObject, bytes.NewReader(b)); err != nil {
		return nil, "", fmt.Errorf("store resource policy of workspace %s: %w", id, err)
	}
	w.policy.set(p)
	out := *p
	return &out, status, nil
}

// DescribeResourcePolicy returns the resource policy of workspace id of
// account, ErrPolicyNotFound if it has none.
func (r *Registry) DescribeResourcePolicy(ctx context.Context, account, id string) (*ResourcePolicy, error) {
	w, err := r.owned(account, id)
	if err != nil {
		return nil, err
	}
	w.policy.mtx.Lock()
	defer w.policy.mtx.Unlock()
	p, err := w.currentPolicy(ctx, r.logger)
	if err != nil {
		return nil, err
	}
	if p == nil {
		return nil, fmt.Errorf("workspace %s: %w", id, ErrPolicyNotFound)
	}
	out := *p
	return &out, nil
}

// DeleteResourcePolicy deletes the resource policy of workspace id of
// account. revisionID, if set, must be its revision, else ErrConflict.
func (r *Registry) DeleteResourcePolicy(ctx context.Context, account, id, revisionID string) error {
	w, err := r.policyWorkspace(account, id)
	if err != nil {
		return err
	}
	w.policy.mtx.Lock()
	defer w.policy.mtx.Unlock()
	old, err := w.currentPolicy(ctx, r.logger)
	if err != nil {
		return err
	}
	if old == nil {
		return fmt.Errorf("workspace %s: %w", id, ErrPolicyNotFound)
	}
	if revisionID != "" && revisionID != old.RevisionID {
		return fmt.Errorf("the resource policy of workspace %s is at revision %s, not %s: %w", id, old.RevisionID, revisionID, ErrConflict)
	}
	if err := w.bucket.Delete(context.WithoutCancel(ctx), policyObject); err != nil && !w.bucket.IsObjNotFoundErr(err) {
		return fmt.Errorf("delete resource policy of workspace %s: %w", id, err)
	}
	w.policy.set(nil)
	return nil
}

// ResourcePolicyOf returns the resource policy of workspace id, in any
// account, nil if it has none or there is no such workspace: what access
// control evaluates, on every request, without a lock once the policy is
// loaded. The caller must not modify it.
func (r *Registry) ResourcePolicyOf(ctx context.Context, id string) (*ResourcePolicy, error) {
	w, err := r.lookup(id)
	if err != nil {
		if errors.Is(err, ErrNotFound) {
			return nil, nil
		}
		return nil, err
	}
	if w.policy.loaded.Load() {
		return w.policy.policy.Load(), nil
	}
	w.policy.mtx.Lock()
	defer w.policy.mtx.Unlock()
	return w.currentPolicy(ctx, r.logger)
}

// AccountOf returns the account that owns workspace id, false if there is
// no such workspace.
func (r *Registry) AccountOf(id string) (string, bool) {
	w, err := r.lookup(id)
	if err != nil {
		return "", false
	}
	return w.account, true
}

package workspace

import (
	"cmp"
	"context"
	"errors"
	"fmt"
)

// lookup returns the workspace id, whatever its status.
func (r *Registry) lookup(id string) (*Workspace, error) {
	r.mtx.RLock()
	defer r.mtx.RUnlock()
	if r.closed {
		return nil, ErrClosed
	}
	w, ok := r.workspaces[id]
	if !ok {
		return nil, notFound(id)
	}
	return w, nil
}

// owned returns the workspace id, whatever its status, if account (empty
// means Options.AccountID) owns it. Every caller that acts for an account
// finds workspaces through it: another account's workspace is as unknown
// as one that does not exist, as in AMP.
func (r *Registry) owned(account, id string) (*Workspace, error) {
	w, err := r.lookup(id)
	if err != nil {
		return nil, err
	}
	if w.account != cmp.Or(account, r.opts.AccountID) {
		return nil, notFound(id)
	}
	return w, nil
}

// Resolve returns the workspace that idOrAlias names in account (empty
// means Options.AccountID), held open for the data plane until release is
// called. idOrAlias is a workspace id, or else an alias, which names the
// oldest workspace with that alias. It waits while the workspace is being
// created, and returns an error wrapping ErrNotFound for a workspace that
// does not exist in the account, failed to be created, is being deleted or
// was deleted.
func (r *Registry) Resolve(ctx context.Context, account, idOrAlias string) (w *Workspace, release func(), err error) {
	w, err = r.owned(account, idOrAlias)
	if errors.Is(err, ErrNotFound) && !validWorkspaceID(idOrAlias) {
		if byAlias, aerr := r.byAlias(account, idOrAlias); aerr == nil {
			w, err = byAlias, nil
		}
	}
	if err != nil {
		return nil, nil, err
	}
	if err := w.waitReady(ctx); err != nil {
		return nil, nil, err
	}
	if err := w.usable(); err != nil {
		return nil, nil, err
	}
	release, ok := w.Acquire()
	if !ok {
		return nil, nil, notFound(w.id)
	}
	return w, release, nil
}

// byAlias returns the oldest workspace of account with the given alias that
// is not being deleted.
func (r *Registry) byAlias(account, alias string) (*Workspace, error) {
	account = cmp.Or(account, r.opts.AccountID)
	r.mtx.RLock()
	defer r.mtx.RUnlock()
	if r.closed {
		return nil, ErrClosed
	}
	var found *Workspace
	for _, w := range r.workspaces {
		if w.account != account || w.Alias() != alias || w.Status() == StatusDeleting {
			continue
		}
		if found == nil || cursorOf(w).compare(cursorOf(found)) < 0 {
			found = w
		}
	}
	if found == nil {
		return nil, fmt.Errorf("no workspace has the alias %q: %w", alias, ErrNotFound)
	}
	return found, nil
}

// Get returns the workspace id for the data plane, in any account: it waits
// while the workspace is being created, and returns an error wrapping
// ErrNotFound for a workspace that does not exist, failed to be created, is
// being deleted or was deleted.
//
// A caller that uses the workspace's TSDB directly (DB) must hold the
// workspace with Acquire meanwhile; its storage methods (AppenderV2,
// Querier, ...) hold it themselves. Resolve does both, for one account.
func (r *Registry) Get(ctx context.Context, id string) (*Workspace, error) {
	w, err := r.lookup(id)
	if err != nil {
		return nil, err
	}
	if err := w.waitReady(ctx); err != nil {
		return nil, err
	}
	if err := w.usable(); err != nil {
		return nil, err
	}
	return w, nil
}

// OpenError returns why the workspace's TSDB could not be opened, nil while
// it is being opened or once it is open.
func (w *Workspace) OpenError() error {
	w.mtx.RLock()
	defer w.mtx.RUnlock()
	return w.openErr
}

// Describe returns the workspace id in any status, as DescribeWorkspace
// does: a workspace being created or deleted is returned with that status.
func (r *Registry) Describe(_ context.Context, id string) (*Workspace, error) {
	return r.lookup(id)
}

// unavailable says why w, which is ready, cannot be acquired.
func (r *Registry) unavailable(w *Workspace) error {
	if w.Status() == StatusDeleting {
		return fmt.Errorf("workspace %s is being deleted: %w", w.id, ErrConflict)
	}
	r.mtx.RLock()
	closed := r.closed
	r.mtx.RUnlock()
	if closed {
		return ErrClosed
	}
	if err := w.usable(); err != nil {
		return err
	}
	return notFound(w.id)
}

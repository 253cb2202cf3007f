package workspace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"sync"

	"github.com/thanos-io/objstore"
)

// Registry holds the workspaces of every account, their records in the
// bucket and their TSDBs on local disk.
type Registry struct {
	opts      Options
	logger    *slog.Logger
	store     recordStore
	ownBucket bool
	collector *registryCollector

	mtx        sync.RWMutex
	closed     bool
	workspaces map[string]*Workspace
	// tokens maps account and CreateWorkspace client token to a workspace id.
	tokens map[string]string
	// unreadable lists the records that could not be read or recovered.
	unreadable []string
	// bg tracks TSDB openings and deletions, which Close waits for.
	bg sync.WaitGroup
	// stopFlush stops the periodic metadata flush, which closes flushDone
	// once stopped; both are nil without one.
	stopFlush chan struct{}
	flushDone chan struct{}
}

// Region is the region in the registry's ARNs.
func (r *Registry) Region() string { return r.opts.Region }

// AccountID is the account of workspaces created for no account in
// particular.
func (r *Registry) AccountID() string { return r.opts.AccountID }

// Open opens the registry stored in opts.Bucket and opts.DataDir, with every
// workspace's TSDB. Workspaces whose deletion was interrupted are deleted.
// A record that cannot be decoded is recovered from the copy in the
// workspace's directory, or else reported and left alone (see Unreadable),
// and a workspace whose TSDB cannot be opened is CREATION_FAILED: neither
// keeps the others from opening.
func Open(ctx context.Context, opts Options) (*Registry, error) {
	if err := opts.applyDefaults(); err != nil {
		return nil, fmt.Errorf("workspace options: %w", err)
	}
	if err := os.MkdirAll(opts.workspacesDir(), 0o777); err != nil {
		return nil, err
	}
	r := &Registry{
		opts:       opts,
		logger:     opts.Logger,
		workspaces: map[string]*Workspace{},
		tokens:     map[string]string{},
	}
	if opts.Bucket == nil {
		bkt, err := NewFilesystemBucket(filepath.Join(opts.DataDir, "bucket"))
		if err != nil {
			return nil, fmt.Errorf("open filesystem bucket: %w", err)
		}
		r.opts.Bucket, r.ownBucket = bkt, true
	}
	r.store = recordStore{bkt: r.opts.Bucket, dir: r.dir, logger: r.logger}

	recs, undecodable, err := r.store.all(ctx)
	if err == nil {
		recs, err = r.recoverRecords(ctx, recs, undecodable)
	}
	if err != nil {
		r.closeBucket()
		return nil, err
	}
	var deleting []*Workspace
	for _, rec := range recs {
		w := r.newWorkspace(rec)
		r.workspaces[w.id] = w
		if w.clientToken != "" {
			r.tokens[tokenKey(w.account, w.clientToken)] = w.id
		}
		if w.status == StatusDeleting {
			deleting = append(deleting, w)
			continue
		}
		if err := r.openTSDB(w); err != nil {
			// Not saved: the next Open tries again, and Delete removes it.
			r.logger.Error("Opening workspace failed", "workspace", w.id, "dir", w.dir, "err", err)
			w.openErr = err
			w.status = StatusCreationFailed
			close(w.opened)
			close(w.ready)
			continue
		}
		if w.status != StatusActive {
			w.status = StatusActive
			if err := r.save(ctx, w); err != nil {
				r.closeWorkspaces()
				r.closeBucket()
				return nil, err
			}
		}
		close(w.opened)
		close(w.ready)
	}
	for _, w := range deleting {
		close(w.opened)
		close(w.ready)
		r.bg.Add(1)
		go r.remove(w)
	}
	if opts.Registerer != nil {
		r.collector = newRegistryCollector(r)
		if err := opts.Registerer.Register(r.collector); err != nil {
			r.Close()
			return nil, err
		}
	}
	r.startMetadataFlush()
	r.logger.Info("Workspace registry opened", "workspaces", len(recs), "unreadable", len(r.unreadable), "data_dir", opts.DataDir)
	return r, nil
}

// newWorkspace returns the workspace of rec, with its directory and its
// part of the bucket.
func (r *Registry) newWorkspace(rec record) *Workspace {
	w := newWorkspace(rec, r.dir(rec.ID))
	w.bucket = objstore.NewPrefixedBucket(r.opts.Bucket, objectPrefix(rec.ID))
	return w
}

func (r *Registry) dir(id string) string { return filepath.Join(r.opts.workspacesDir(), id) }

func tokenKey(account, token string) string { return account + "/" + token }

// save writes w's current state to the bucket. If that fails, undo, if not
// nil, runs before any other write of w's record can start, so that no
// other write stores the state that failed.
//
// ctx only carries values: a client that goes away must not cut a write
// short, which could leave the bucket behind the state the write made.
func (r *Registry) save(ctx context.Context, w *Workspace, undo ...func()) error {
	w.saveMtx.Lock()
	defer w.saveMtx.Unlock()
	if w.removed {
		return nil
	}
	err := r.store.put(context.WithoutCancel(ctx), w.record(w.snapshot()))
	if err != nil {
		for _, f := range undo {
			f()
		}
	}
	return err
}

// commit stores w's record with a change made to its state, and only then
// makes the change live: a change that cannot be saved is not made, and
// commit returns the error. change sees a copy of the current state and
// returns what to set, or an error to change nothing. A workspace being
// deleted cannot change.
func (r *Registry) commit(ctx context.Context, w *Workspace, change func(st state) (set func(*state), err error)) error {
	w.saveMtx.Lock()
	defer w.saveMtx.Unlock()
	st := w.snapshot()
	if st.status == StatusDeleting || w.removed {
		return fmt.Errorf("workspace %s is being deleted: %w", w.id, ErrConflict)
	}
	set, err := change(st) // st is already a copy: change may alter it
	if err != nil {
		return err
	}
	set(&st)
	if err := r.store.put(context.WithoutCancel(ctx), w.record(st)); err != nil {
		return err
	}
	w.mtx.Lock()
	set(&w.state)
	w.mtx.Unlock()
	return nil
}

// Close waits for pending creations and deletions and for requests holding
// a workspace (see Workspace.Acquire), then closes every TSDB, saving each
// workspace's metric metadata.
func (r *Registry) Close() error {
	r.mtx.Lock()
	if r.closed {
		r.mtx.Unlock()
		return nil
	}
	r.closed = true
	ws := slices.Collect(maps.Values(r.workspaces))
	r.mtx.Unlock()

	// New requests are turned away at once; those in flight are waited for
	// when each TSDB closes. No lock is held while waiting for them.
	for _, w := range ws {
		w.holds.refuse()
	}
	if r.stopFlush != nil {
		close(r.stopFlush)
		<-r.flushDone
	}
	r.bg.Wait()
	if r.collector != nil {
		r.opts.Registerer.Unregister(r.collector)
	}
	err := r.closeWorkspaces()
	return errors.Join(err, r.closeBucket())
}

func (r *Registry) closeWorkspaces() error {
	r.mtx.RLock()
	ws := slices.Collect(maps.Values(r.workspaces))
	r.mtx.RUnlock()
	var errs []error
	for _, w := range ws {
		errs = append(errs, r.closeTSDB(w, true))
	}
	return errors.Join(errs...)
}

func (r *Registry) closeBucket() error {
	if r.ownBucket {
		return r.opts.Bucket.Close()
	}
	return nil
}

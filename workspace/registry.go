package workspace

import (
	"cmp"
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/google/uuid"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/tsdb"
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
		w := newWorkspace(rec, r.dir(rec.ID))
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

// startMetadataFlush starts writing changed metric metadata to disk every
// Options.MetadataFlushInterval; Close stops it.
func (r *Registry) startMetadataFlush() {
	ticks, stop := r.opts.metadataFlushTicks, func() {}
	if ticks == nil {
		if r.opts.MetadataFlushInterval <= 0 {
			return
		}
		t := time.NewTicker(r.opts.MetadataFlushInterval)
		ticks, stop = t.C, t.Stop
	}
	r.stopFlush, r.flushDone = make(chan struct{}), make(chan struct{})
	go func() {
		defer close(r.flushDone)
		defer stop()
		for {
			select {
			case <-r.stopFlush:
				return
			case <-ticks:
				if err := r.flushMetadata(context.Background()); err != nil {
					r.logger.Warn("Flushing metric metadata failed", "err", err)
				}
			}
		}
	}()
}

// FlushMetadata writes the metric metadata of every workspace that changed
// since it was last written to the workspace's directory, where the
// workspace finds it when opened again. The Registry does so every
// Options.MetadataFlushInterval and on Close.
func (r *Registry) FlushMetadata(ctx context.Context) error {
	r.mtx.RLock()
	closed := r.closed
	r.mtx.RUnlock()
	if closed {
		return ErrClosed
	}
	return r.flushMetadata(ctx)
}

func (r *Registry) flushMetadata(ctx context.Context) error {
	r.mtx.RLock()
	ws := slices.Collect(maps.Values(r.workspaces))
	r.mtx.RUnlock()
	var errs []error
	for _, w := range ws {
		if err := ctx.Err(); err != nil {
			return errors.Join(append(errs, err)...)
		}
		// Held so that the directory is neither removed nor the store
		// saved by a closing TSDB meanwhile.
		release, ok := w.Acquire()
		if !ok {
			continue
		}
		err := w.metadata.save(w.dir)
		release()
		if err != nil {
			errs = append(errs, fmt.Errorf("save metadata of %s: %w", w.id, err))
		}
	}
	return errors.Join(errs...)
}

func (r *Registry) dir(id string) string { return filepath.Join(r.opts.workspacesDir(), id) }

func tokenKey(account, token string) string { return account + "/" + token }

// openTSDB opens w's TSDB with w's configuration and loads its metadata.
func (r *Registry) openTSDB(w *Workspace) error {
	opts := r.opts.tsdbOptions(w.Config())
	var reg prometheus.Registerer
	if r.opts.Registerer != nil {
		w.metrics = newClosingRegisterer(prometheus.WrapRegistererWith(prometheus.Labels{"workspace": w.id}, r.opts.Registerer))
		reg = w.metrics
	}
	db, err := tsdb.Open(w.dir, cmp.Or(r.opts.TSDBLogger, r.logger).With("workspace", w.id), reg, opts, nil)
	if err != nil {
		if w.metrics != nil {
			w.metrics.unregisterAll()
		}
		return fmt.Errorf("open TSDB: %w", err)
	}
	if w.metrics != nil {
		w.metrics.MustRegister(
			prometheus.NewGaugeFunc(prometheus.GaugeOpts{
				Name: "promspace_workspace_metadata_families",
				Help: "Metric families the workspace holds metadata for.",
			}, func() float64 { return float64(w.metadata.Len()) }),
			prometheus.NewCounterFunc(prometheus.CounterOpts{
				Name: "promspace_workspace_metadata_dropped_total",
				Help: "Metadata updates dropped because the workspace holds metadata for the maximum number of metric families.",
			}, func() float64 { return float64(w.metadata.Dropped()) }),
		)
	}
	if err := w.metadata.load(w.dir); err != nil {
		r.logger.Warn("Dropping unreadable metric metadata", "workspace", w.id, "err", err)
	}
	w.tsdbOpts = opts
	w.db.Store(db)
	if err := r.openComponents(context.Background(), w); err != nil {
		w.db.Store(nil)
		if cerr := db.Close(); cerr != nil {
			r.logger.Warn("Closing the TSDB of a workspace that failed to open", "workspace", w.id, "err", cerr)
		}
		if w.metrics != nil {
			w.metrics.unregisterAll()
		}
		return err
	}
	return nil
}

// closeTSDB waits until no request holds w (see Acquire), then saves w's
// metadata and closes its TSDB for good. It must not be called with any lock
// of the Registry held.
func (r *Registry) closeTSDB(w *Workspace, saveMetadata bool) error {
	if !w.holds.drain() {
		return nil
	}
	defer w.holds.done()
	db := w.db.Load()
	if db == nil {
		return nil
	}
	var errs []error
	if err := w.closeComponents(); err != nil {
		errs = append(errs, fmt.Errorf("close components of %s: %w", w.id, err))
	}
	if saveMetadata {
		if err := w.metadata.save(w.dir); err != nil {
			errs = append(errs, fmt.Errorf("save metadata of %s: %w", w.id, err))
		}
	}
	if err := db.Close(); err != nil {
		errs = append(errs, fmt.Errorf("close TSDB of %s: %w", w.id, err))
	}
	if w.metrics != nil {
		w.metrics.unregisterAll()
	}
	return errors.Join(errs...)
}

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

// CreateInput is the input of Create.
type CreateInput struct {
	// Alias names the workspace; it need not be unique. Spaces around it are
	// trimmed.
	Alias string
	// ClientToken makes the call idempotent: a retry with the same token and
	// input returns the same workspace.
	ClientToken string
	Tags        map[string]string
	KmsKeyArn   string
	// Account owns the workspace; empty means Options.AccountID.
	Account string
}

// Create creates a workspace. It is returned in status CREATING; its TSDB
// opens in the background, after which the workspace is ACTIVE.
func (r *Registry) Create(ctx context.Context, in CreateInput) (*Workspace, error) {
	w, _, err := r.create(ctx, in)
	return w, err
}

// create also returns the status the workspace had when create returned.
func (r *Registry) create(ctx context.Context, in CreateInput) (*Workspace, Status, error) {
	account := cmp.Or(in.Account, r.opts.AccountID)
	req := createRequest{Alias: strings.TrimSpace(in.Alias), KmsKeyArn: in.KmsKeyArn, Tags: maps.Clone(in.Tags)}
	var fe fieldErrors
	if !accountIDRE.MatchString(account) {
		fe.add("account", "%q is not an account id: want 12 digits", account)
	}
	validateAlias(&fe, req.Alias)
	validateClientToken(&fe, in.ClientToken)
	validateTags(&fe, req.Tags)
	validateKmsKeyArn(&fe, req.KmsKeyArn)
	if err := fe.err(); err != nil {
		return nil, "", err
	}

	r.mtx.Lock()
	if r.closed {
		r.mtx.Unlock()
		return nil, "", ErrClosed
	}
	if in.ClientToken != "" {
		if id, ok := r.tokens[tokenKey(account, in.ClientToken)]; ok {
			w := r.workspaces[id]
			r.mtx.Unlock()
			if !w.createReq.equal(req) {
				return nil, "", fmt.Errorf("client token %q was used to create workspace %s with other parameters: %w", in.ClientToken, id, ErrConflict)
			}
			return w, w.Status(), nil
		}
	}
	n := 0
	for _, w := range r.workspaces {
		if w.account == account && w.Status() != StatusDeleting {
			n++
		}
	}
	if n >= r.opts.MaxWorkspaces {
		r.mtx.Unlock()
		return nil, "", fmt.Errorf("account %s has %d workspaces, the maximum: %w", account, n, ErrQuotaExceeded)
	}
	id := "ws-" + uuid.NewString()
	w := newWorkspace(record{
		ID:            id,
		ARN:           fmt.Sprintf("arn:aws:aps:%s:%s:workspace/%s", r.opts.Region, account, id),
		Account:       account,
		Alias:         req.Alias,
		KmsKeyArn:     req.KmsKeyArn,
		Tags:          req.Tags,
		Status:        StatusCreating,
		CreatedAt:     r.opts.Now(),
		ClientToken:   in.ClientToken,
		CreateRequest: req,
		Configuration: newConfigRecord(ConfigurationDescription{
			Configuration: Configuration{Retention: r.opts.Retention, OutOfOrderTimeWindow: r.opts.OutOfOrderTimeWindow},
			Status:        ConfigurationActive,
		}),
	}, r.dir(id))
	r.workspaces[id] = w
	if in.ClientToken != "" {
		r.tokens[tokenKey(account, in.ClientToken)] = id
	}
	r.bg.Add(1)
	r.mtx.Unlock()

	if err := r.save(ctx, w); err != nil {
		r.mtx.Lock()
		delete(r.workspaces, id)
		if in.ClientToken != "" {
			delete(r.tokens, tokenKey(account, in.ClientToken))
		}
		r.mtx.Unlock()
		w.openErr = err
		close(w.opened)
		close(w.ready)
		r.bg.Done()
		return nil, "", err
	}
	go r.activate(w)
	r.logger.Info("Workspace created", "workspace", id, "account", account)
	return w, StatusCreating, nil
}

func (req createRequest) equal(o createRequest) bool {
	return req.Alias == o.Alias && req.KmsKeyArn == o.KmsKeyArn && maps.Equal(req.Tags, o.Tags)
}

// activate opens a new workspace's TSDB and makes it ACTIVE.
func (r *Registry) activate(w *Workspace) {
	defer r.bg.Done()
	err := r.openTSDB(w)
	w.mtx.Lock()
	w.openErr = err
	// A deletion in progress keeps its status; should it fail, undoDelete
	// sets the one that opening leads to.
	if w.status == StatusCreating {
		w.status = StatusActive
		if err != nil {
			w.status = StatusCreationFailed
		}
	}
	close(w.opened)
	w.mtx.Unlock()
	if err != nil {
		r.logger.Error("Workspace creation failed", "workspace", w.id, "err", err)
	}
	// Saved before ready is closed: a deletion waits for ready, and must
	// not be followed by this write.
	if err := r.save(context.Background(), w); err != nil {
		r.logger.Error("Saving workspace failed", "workspace", w.id, "err", err)
	}
	close(w.ready)
}

// ListInput is the input of List.
type ListInput struct {
	// Account restricts the list to one account; empty means
	// Options.AccountID.
	Account string
	// Alias keeps only workspaces whose alias starts with it.
	Alias string
	// MaxResults is the page size, 1 to 1000; zero means 100.
	MaxResults int
	// NextToken continues a previous List.
	NextToken string
	// Filter, if set, keeps only the workspaces it returns true for.
	Filter func(*Workspace) bool
}

// ListOutput is a page of workspaces, oldest first.
type ListOutput struct {
	Workspaces []*Workspace
	// NextToken is set when there are more workspaces.
	NextToken string
}

// List returns a page of an account's workspaces, oldest first.
func (r *Registry) List(_ context.Context, in ListInput) (*ListOutput, error) {
	var fe fieldErrors
	maxResults := cmp.Or(in.MaxResults, DefaultMaxResults)
	if maxResults < 1 || maxResults > MaxMaxResults {
		fe.add("maxResults", "must be between 1 and %d", MaxMaxResults)
	}
	var after *pageCursor
	if in.NextToken != "" {
		c, err := decodePageCursor(in.NextToken)
		if err != nil {
			fe.add("nextToken", "is not a token returned by ListWorkspaces")
		}
		after = &c
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	account := cmp.Or(in.Account, r.opts.AccountID)
	alias := strings.TrimSpace(in.Alias)

	r.mtx.RLock()
	if r.closed {
		r.mtx.RUnlock()
		return nil, ErrClosed
	}
	ws := make([]*Workspace, 0, len(r.workspaces))
	for _, w := range r.workspaces {
		if w.account == account && strings.HasPrefix(w.Alias(), alias) {
			ws = append(ws, w)
		}
	}
	r.mtx.RUnlock()

	slices.SortFunc(ws, func(a, b *Workspace) int { return cursorOf(a).compare(cursorOf(b)) })
	out := &ListOutput{}
	for _, w := range ws {
		if after != nil && cursorOf(w).compare(*after) <= 0 {
			continue
		}
		if in.Filter != nil && !in.Filter(w) {
			continue
		}
		if len(out.Workspaces) == maxResults {
			out.NextToken = cursorOf(out.Workspaces[len(out.Workspaces)-1]).encode()
			break
		}
		out.Workspaces = append(out.Workspaces, w)
	}
	return out, nil
}

// pageCursor is the position of a workspace in List's order.
type pageCursor struct {
	createdAt int64
	id        string
}

func cursorOf(w *Workspace) pageCursor {
	return pageCursor{createdAt: w.createdAt.UnixNano(), id: w.id}
}

func (c pageCursor) compare(o pageCursor) int {
	return cmp.Or(cmp.Compare(c.createdAt, o.createdAt), strings.Compare(c.id, o.id))
}

func (c pageCursor) encode() string {
	return base64.RawURLEncoding.EncodeToString([]byte(strconv.FormatInt(c.createdAt, 10) + "/" + c.id))
}

func decodePageCursor(s string) (pageCursor, error) {
	b, err := base64.RawURLEncoding.DecodeString(s)
	if err != nil {
		return pageCursor{}, err
	}
	ts, id, ok := strings.Cut(string(b), "/")
	if !ok {
		return pageCursor{}, errors.New("malformed token")
	}
	n, err := strconv.ParseInt(ts, 10, 64)
	if err != nil {
		return pageCursor{}, err
	}
	return pageCursor{createdAt: n, id: id}, nil
}

// UpdateAliasInput is the input of UpdateAlias.
type UpdateAliasInput struct {
	ID string
	// Alias is the new alias; empty removes it.
	Alias       string
	ClientToken string
}

// UpdateAlias changes a workspace's alias.
func (r *Registry) UpdateAlias(ctx context.Context, in UpdateAliasInput) error {
	alias := strings.TrimSpace(in.Alias)
	var fe fieldErrors
	validateAlias(&fe, alias)
	validateClientToken(&fe, in.ClientToken)
	if err := fe.err(); err != nil {
		return err
	}
	w, err := r.lookup(in.ID)
	if err != nil {
		return err
	}
	return r.commit(ctx, w, func(state) (func(*state), error) {
		return func(s *state) { s.alias = alias }, nil
	})
}

// Delete marks a workspace DELETING, then closes its TSDB, removes its
// directory and its record in the background; Close waits for that. Deleting
// a workspace that is being deleted is a no-op.
func (r *Registry) Delete(ctx context.Context, id string) error {
	r.mtx.Lock()
	if r.closed {
		r.mtx.Unlock()
		return ErrClosed
	}
	w, ok := r.workspaces[id]
	if !ok {
		r.mtx.Unlock()
		return notFound(id)
	}
	w.mtx.Lock()
	prev := w.status
	w.status = StatusDeleting
	w.mtx.Unlock()
	if prev == StatusDeleting {
		r.mtx.Unlock()
		return nil
	}
	r.bg.Add(1)
	r.mtx.Unlock()

	if err := r.save(ctx, w, func() { w.undoDelete(prev) }); err != nil {
		r.bg.Done()
		return err
	}
	go r.remove(w)
	return nil
}

// undoDelete puts back the status w had before a deletion that could not be
// saved. A workspace that was CREATING may have finished opening since:
// it gets the status that opening led to.
func (w *Workspace) undoDelete(prev Status) {
	w.mtx.Lock()
	defer w.mtx.Unlock()
	if prev == StatusCreating {
		select {
		case <-w.opened:
			prev = StatusActive
			if w.openErr != nil {
				prev = StatusCreationFailed
			}
		default:
		}
	}
	w.status = prev
}

// remove deletes a DELETING workspace for good.
func (r *Registry) remove(w *Workspace) {
	defer r.bg.Done()
	<-w.ready
	log := r.logger.With("workspace", w.id)
	if err := r.closeTSDB(w, false); err != nil {
		log.Warn("Closing deleted workspace", "err", err)
	}
	if err := os.RemoveAll(w.dir); err != nil {
		log.Error("Removing workspace data failed; the deletion resumes on the next open", "err", err)
		return
	}
	w.saveMtx.Lock()
	err := r.store.delete(context.Background(), w.id)
	if err == nil {
		w.removed = true
	}
	w.saveMtx.Unlock()
	if err != nil {
		log.Error("Removing workspace record failed; the deletion resumes on the next open", "err", err)
		return
	}
	r.mtx.Lock()
	delete(r.workspaces, w.id)
	if w.clientToken != "" && r.tokens[tokenKey(w.account, w.clientToken)] == w.id {
		delete(r.tokens, tokenKey(w.account, w.clientToken))
	}
	r.mtx.Unlock()
	log.Info("Workspace deleted")
}

// WorkspaceByARN returns the workspace an ARN names, in any status.
func (r *Registry) WorkspaceByARN(_ context.Context, arn string) (*Workspace, error) {
	_, id, err := parseWorkspaceARN(arn)
	if err != nil {
		if apsARN.MatchString(arn) {
			// Another kind of AMP resource: none exists here.
			return nil, notFound(arn)
		}
		return nil, err
	}
	w, err := r.lookup(id)
	if err != nil {
		return nil, err
	}
	if w.arn != arn {
		return nil, notFound(arn)
	}
	return w, nil
}

// TagResource adds tags to the workspace arn names, replacing the values of
// keys it already has.
func (r *Registry) TagResource(ctx context.Context, arn string, tags map[string]string) error {
	var fe fieldErrors
	validateTags(&fe, tags)
	if err := fe.err(); err != nil {
		return err
	}
	w, err := r.WorkspaceByARN(ctx, arn)
	if err != nil {
		return err
	}
	return r.commit(ctx, w, func(st state) (func(*state), error) {
		merged := st.tags
		if merged == nil {
			merged = map[string]string{}
		}
		maps.Copy(merged, tags)
		if len(merged) > maxTags {
			fe.add("tags", "a workspace has at most %d tags", maxTags)
			return nil, fe.err()
		}
		return func(s *state) { s.tags = merged }, nil
	})
}

// UntagResource removes tags from the workspace arn names.
func (r *Registry) UntagResource(ctx context.Context, arn string, keys []string) error {
	var fe fieldErrors
	if len(keys) == 0 {
		fe.add("tagKeys", "must hold at least one key")
	}
	for _, k := range keys {
		validateTagKey(&fe, "tagKeys", k)
	}
	if err := fe.err(); err != nil {
		return err
	}
	w, err := r.WorkspaceByARN(ctx, arn)
	if err != nil {
		return err
	}
	return r.commit(ctx, w, func(st state) (func(*state), error) {
		tags := st.tags
		for _, k := range keys {
			delete(tags, k)
		}
		return func(s *state) { s.tags = tags }, nil
	})
}

// ListTags returns the tags of the workspace arn names.
func (r *Registry) ListTags(ctx context.Context, arn string) (map[string]string, error) {
	w, err := r.WorkspaceByARN(ctx, arn)
	if err != nil {
		return nil, err
	}
	return w.Tags(), nil
}

// DescribeConfiguration returns a workspace's configuration and its status.
func (r *Registry) DescribeConfiguration(_ context.Context, id string) (ConfigurationDescription, error) {
	w, err := r.lookup(id)
	if err != nil {
		return ConfigurationDescription{}, err
	}
	return w.configDescription(), nil
}

// UpdateConfiguration validates in and applies it to the workspace and its
// live TSDB. It returns the status AMP answers, UPDATING; the configuration
// is ACTIVE again once the change is applied. A change that cannot be saved
// is undone, in the TSDB too.
func (r *Registry) UpdateConfiguration(ctx context.Context, in UpdateConfigurationInput) (ConfigurationStatus, error) {
	// Validate before anything else, so bad input is a ValidationException
	// whatever the workspace.
	if _, err := in.apply(Configuration{}); err != nil {
		return "", err
	}
	w, err := r.lookup(in.ID)
	if err != nil {
		return "", err
	}
	if err := w.waitReady(ctx); err != nil {
		return "", err
	}
	w.configMtx.Lock()
	defer w.configMtx.Unlock()
	prev := w.configDescription()
	c, err := in.apply(prev.Configuration)
	if err != nil {
		return "", err
	}
	// The TSDB must stay open until the change is applied, saved, or undone.
	release, ok := w.Acquire()
	if !ok {
		return "", r.unavailable(w)
	}
	defer release()

	w.mtx.Lock()
	w.config.Status, w.config.StatusReason = ConfigurationUpdating, ""
	w.mtx.Unlock()
	next := ConfigurationDescription{Configuration: c, Status: ConfigurationActive}
	applyErr := w.applyConfig(c)
	if applyErr != nil {
		// ApplyConfig may have changed some settings before it failed.
		r.reapplyConfig(w, prev.Configuration)
		next = ConfigurationDescription{Configuration: prev.Configuration, Status: ConfigurationUpdateFailed, StatusReason: applyErr.Error()}
	}
	err = r.commit(ctx, w, func(state) (func(*state), error) {
		return func(s *state) { s.config = next }, nil
	})
	if err != nil {
		if applyErr == nil {
			r.reapplyConfig(w, prev.Configuration)
		}
		w.mtx.Lock()
		w.config = prev
		w.mtx.Unlock()
		return "", err
	}
	if applyErr != nil {
		return "", fmt.Errorf("apply configuration of %s: %w", w.id, applyErr)
	}
	return ConfigurationUpdating, nil
}

// applyConfig applies c to w's TSDB and then to its components; the caller
// holds w.
func (w *Workspace) applyConfig(c Configuration) error {
	if err := c.applyTo(w.DB(), w.tsdbOpts); err != nil {
		return err
	}
	return w.applyComponents(c)
}

// reapplyConfig puts c back into w's TSDB and components, which the caller
// holds.
func (r *Registry) reapplyConfig(w *Workspace, c Configuration) {
	if err := w.applyConfig(c); err != nil {
		r.logger.Error("Restoring the configuration of the workspace failed", "workspace", w.id, "err", err)
	}
}

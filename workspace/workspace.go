package workspace

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/prometheus/tsdb"
	"github.com/thanos-io/objstore"
)

// Status is a workspace status, as AMP names it.
type Status string

// Workspace statuses.
const (
	StatusCreating       Status = "CREATING"
	StatusActive         Status = "ACTIVE"
	StatusUpdating       Status = "UPDATING"
	StatusDeleting       Status = "DELETING"
	StatusCreationFailed Status = "CREATION_FAILED"
)

// Workspace is one AMP workspace: its settings, its TSDB and its metric
// metadata. The accessors are safe for concurrent use.
type Workspace struct {
	id        string
	arn       string
	account   string
	kmsKeyArn string
	createdAt time.Time
	dir       string
	// clientToken and createReq make CreateWorkspace idempotent.
	clientToken string
	createReq   createRequest

	metadata *MetadataStore
	bucket   objstore.Bucket
	db       atomic.Pointer[tsdb.DB]
	// commitMtx orders the commits of Appendable's appenders, so that the
	// WAL and WBL have them in the order they reach memory (see append.go).
	commitMtx sync.Mutex
	// refScopes is the series lifecycle callback of the open TSDB, stored
	// before db.
	refScopes atomic.Pointer[refScopes]
	// tsdbOpts are the options db was opened with; metrics is the
	// workspace's view of the registry's registerer (nil without one).
	tsdbOpts *tsdb.Options
	metrics  *closingRegisterer

	// holds counts the holders of db (see Acquire), so that db is never
	// closed under a request.
	holds holds

	// opened is closed, with mtx held, once opening the TSDB ended and the
	// status says how; openErr is its error. ready is closed after that,
	// once the resulting status is saved.
	opened  chan struct{}
	ready   chan struct{}
	openErr error

	// saveMtx orders the writes of the record, so that the last write holds
	// the latest state; removed is set once the record is deleted for good.
	saveMtx sync.Mutex
	removed bool
	// configMtx serializes configuration updates.
	configMtx sync.Mutex
	// policy is the resource policy (registry_policy.go).
	policy policyState

	// instMtx guards components and instances: instances[i] is the open
	// instance of components[i], the Registry's, and grows as they open.
	instMtx    sync.RWMutex
	components []Component
	instances  []Instance

	// mtx guards state.
	mtx sync.RWMutex
	state
}

// state is what changes in a workspace after its creation.
type state struct {
	alias  string
	tags   map[string]string
	status Status
	config ConfigurationDescription
}

func (s state) clone() state {
	s.tags = maps.Clone(s.tags)
	s.config.Configuration = s.config.Configuration.clone()
	return s
}

func newWorkspace(rec record, dir string) *Workspace {
	return &Workspace{
		id:          rec.ID,
		arn:         rec.ARN,
		account:     rec.Account,
		kmsKeyArn:   rec.KmsKeyArn,
		createdAt:   rec.CreatedAt,
		dir:         dir,
		clientToken: rec.ClientToken,
		createReq:   rec.CreateRequest,
		metadata:    NewMetadataStore(MaxMetadataFamilies),
		opened:      make(chan struct{}),
		ready:       make(chan struct{}),
		state: state{
			alias:  rec.Alias,
			tags:   maps.Clone(rec.Tags),
			status: rec.Status,
			config: rec.Configuration.description(),
		},
	}
}

// ID returns the workspace id, ws-<uuid>.
func (w *Workspace) ID() string { return w.id }

// ARN returns arn:aws:aps:<region>:<account>:workspace/<id>.
func (w *Workspace) ARN() string { return w.arn }

// Account returns the account that owns the workspace.
func (w *Workspace) Account() string { return w.account }

// KmsKeyArn returns the customer managed key the workspace was created with.
func (w *Workspace) KmsKeyArn() string { return w.kmsKeyArn }

// CreatedAt returns when the workspace was created.
func (w *Workspace) CreatedAt() time.Time { return w.createdAt }

// Alias returns the workspace alias, empty if none.
func (w *Workspace) Alias() string {
	w.mtx.RLock()
	defer w.mtx.RUnlock()
	return w.alias
}

// Tags returns a copy of the workspace tags.
func (w *Workspace) Tags() map[string]string {
	w.mtx.RLock()
	defer w.mtx.RUnlock()
	return maps.Clone(w.tags)
}

// Status returns the current workspace status.
func (w *Workspace) Status() Status {
	w.mtx.RLock()
	defer w.mtx.RUnlock()
	return w.status
}

// Config returns the current workspace configuration.
func (w *Workspace) Config() Configuration {
	w.mtx.RLock()
	defer w.mtx.RUnlock()
	return w.config.Configuration.clone()
}

func (w *Workspace) configDescription() ConfigurationDescription {
	w.mtx.RLock()
	defer w.mtx.RUnlock()
	d := w.config
	d.Configuration = d.Configuration.clone()
	return d
}

// DB returns the workspace's TSDB, nil while the workspace is being
// created. It is an escape hatch for what the storage methods do not offer
// (compaction, snapshots, head statistics): the TSDB stays open only while
// the caller holds the workspace with Acquire, and appenders taken from it
// directly are not ordered with the workspace's own (see AppenderV2).
func (w *Workspace) DB() *tsdb.DB { return w.db.Load() }

// Acquire holds the workspace's TSDB and its component instances open
// until release is called: a deletion or Registry.Close waits for every
// holder before closing them. ok is false, and release a no-op, when the
// workspace cannot serve requests (it is being created, deleted or closed,
// or its creation failed); the data plane then answers as for an unknown
// workspace. Holds nest: the appenders and queriers of the workspace hold it
// too. Callers must call release once done and must not wait for
// Registry.Close or a deletion meanwhile.
func (w *Workspace) Acquire() (release func(), ok bool) {
	if !w.holds.acquire(func() bool { return w.db.Load() != nil && w.usable() == nil }) {
		return func() {}, false
	}
	var once sync.Once
	return func() { once.Do(w.holds.release) }, true
}

// Bucket returns the workspace's part of the registry's bucket: the
// objects under workspaces/<id>/, beside the workspace's record. Components
// keep there what must outlive the local disk (blocks, rule namespaces,
// alert manager state); deleting the workspace deletes them.
func (w *Workspace) Bucket() objstore.Bucket { return w.bucket }

// ObjectName returns the full name, in the registry's bucket, of the object
// name of the workspace's Bucket: how logs name it.
func (w *Workspace) ObjectName(name string) string { return objectPrefix(w.id) + name }

// Metadata returns the workspace's metric metadata.
func (w *Workspace) Metadata() *MetadataStore { return w.metadata }

// Dir returns the directory of the workspace's TSDB.
func (w *Workspace) Dir() string { return w.dir }

// waitReady waits until opening the workspace's TSDB ended.
func (w *Workspace) waitReady(ctx context.Context) error {
	// A ready workspace is ready whatever ctx says.
	select {
	case <-w.ready:
		return nil
	default:
	}
	select {
	case <-w.ready:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// usable tells whether the data plane may use the workspace, once ready.
func (w *Workspace) usable() error {
	switch s := w.Status(); s {
	case StatusActive, StatusUpdating:
		return nil
	case StatusCreationFailed:
		return fmt.Errorf("%s: creation failed: %v: %w", w.id, w.openErr, ErrNotFound)
	default:
		return fmt.Errorf("%s is %s: %w", w.id, s, ErrNotFound)
	}
}

// snapshot returns a copy of w's changing state.
func (w *Workspace) snapshot() state {
	w.mtx.RLock()
	defer w.mtx.RUnlock()
	return w.state.clone()
}

// record returns w as stored, with state st.
func (w *Workspace) record(st state) record {
	return record{
		ID:            w.id,
		ARN:           w.arn,
		Account:       w.account,
		Alias:         st.alias,
		KmsKeyArn:     w.kmsKeyArn,
		Tags:          maps.Clone(st.tags),
		Status:        st.status,
		CreatedAt:     w.createdAt,
		ClientToken:   w.clientToken,
		CreateRequest: w.createReq,
		Configuration: newConfigRecord(st.config),
	}
}

package workspace

import (
	"context"
	"fmt"
	"maps"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/prometheus/tsdb"
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
	db       atomic.Pointer[tsdb.DB]
	// tsdbOpts are the options db was opened with; metrics is the
	// workspace's view of the registry's registerer (nil without one).
	tsdbOpts *tsdb.Options
	metrics  *closingRegisterer

	// ready is closed once opening the TSDB ended; openErr is its error.
	ready   chan struct{}
	openErr error

	// saveMtx orders the writes of the record, so that the last write holds
	// the latest state; removed is set once the record is deleted for good.
	saveMtx sync.Mutex
	removed bool
	// configMtx serializes configuration updates.
	configMtx sync.Mutex

	mtx    sync.RWMutex
	alias  string
	tags   map[string]string
	status Status
	config ConfigurationDescription
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
		ready:       make(chan struct{}),
		alias:       rec.Alias,
		tags:        maps.Clone(rec.Tags),
		status:      rec.Status,
		config:      rec.Configuration.description(),
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
// created. Registry.Get returns only workspaces whose TSDB is open.
func (w *Workspace) DB() *tsdb.DB { return w.db.Load() }

// Metadata returns the workspace's metric metadata.
func (w *Workspace) Metadata() *MetadataStore { return w.metadata }

// Dir returns the directory of the workspace's TSDB.
func (w *Workspace) Dir() string { return w.dir }

// waitReady waits until opening the workspace's TSDB ended.
func (w *Workspace) waitReady(ctx context.Context) error {
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

func (w *Workspace) record() record {
	w.mtx.RLock()
	defer w.mtx.RUnlock()
	return record{
		ID:            w.id,
		ARN:           w.arn,
		Account:       w.account,
		Alias:         w.alias,
		KmsKeyArn:     w.kmsKeyArn,
		Tags:          maps.Clone(w.tags),
		Status:        w.status,
		CreatedAt:     w.createdAt,
		ClientToken:   w.clientToken,
		CreateRequest: w.createReq,
		Configuration: newConfigRecord(w.config),
	}
}

package logging

import (
	"context"
	"log/slog"
	"net/http"
	"path/filepath"
	"sync"
	"time"

	"github.com/promspace/promspace/workspace"
)

// ComponentName is the name of the Component of Loggers, for
// workspace.InstanceOf.
const ComponentName = "logging"

// Components of vended records, as AMP names them in the "component"
// field.
const (
	ComponentRuler        = "ruler"
	ComponentAlertManager = "alertmanager"
	ComponentQuery        = "query"
)

// Options configure Loggers.
type Options struct {
	// Dir holds one JSON-lines file per log group (see FileName).
	// Required; the Service sets <DataDir>/logs.
	Dir string
	// Logger receives every vended record too, with the workspace and the
	// log group; discarded when nil.
	Logger *slog.Logger
	// Now is the clock of records and timestamps; time.Now when nil.
	Now func() time.Time
}

// Loggers holds what the logging instances of all workspaces share: the
// log groups' files. Its Component gives each workspace an *Instance.
type Loggers struct {
	opts  Options
	files *files
}

// New returns Loggers writing under opts.Dir.
func New(opts Options) *Loggers {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Loggers{opts: opts, files: &files{dir: filepath.Clean(opts.Dir), open: map[string]*logFile{}}}
}

// Component returns the workspace component whose instance for each
// workspace is its *Instance. It must come before the components that
// vend records through it (rules, the alert manager), which look it up
// when they open. Opening reads the workspace's configurations from its
// bucket; a bucket that cannot be read fails the opening, a configuration
// whose object cannot be taken is UPDATE_FAILED (see Instance).
func (ls *Loggers) Component() workspace.Component {
	return workspace.NewComponent(ComponentName, func(ctx context.Context, w *workspace.Workspace) (workspace.Instance, error) {
		return ls.open(ctx, w)
	})
}

// Instance is one workspace's logging: its logging configuration and
// query logging configuration, stored in the workspace's bucket, and the
// log groups' files they write to while they are active.
//
// Handler gives the workspace's other components a slog.Handler whose
// error records are vended to the logging configuration's log group;
// ObserveQuery logs the queries over the query logging configuration's
// threshold. ServeHTTP serves AMP's logging configuration operations.
//
// A stored configuration that cannot be taken when the workspace opens
// (its object does not decode, or holds no valid log group or threshold)
// is logged at error with the object's name and kept UPDATE_FAILED, its
// statusReason saying why, vending nothing: Update replaces it, Delete
// removes it, Create answers ConflictException as for any configuration.
type Instance struct {
	ls     *Loggers
	w      *workspace.Workspace
	store  store
	logger *slog.Logger

	muxOnce sync.Once
	mux     *http.ServeMux

	// mtx serializes changes; the sinks are read under it by writers.
	mtx      sync.RWMutex
	config   *Configuration
	sink     *logFile // nil unless config is active
	query    *QueryConfiguration
	querySnk *logFile // nil unless query is active
}

var _ workspace.Instance = (*Instance)(nil)

func (ls *Loggers) open(ctx context.Context, w *workspace.Workspace) (*Instance, error) {
	in := &Instance{ls: ls, w: w, store: store{w.Bucket()}, logger: ls.opts.Logger.With("workspace", w.ID())}
	if err := in.readConfigs(ctx); err != nil {
		return nil, err
	}
	return in, nil
}

// ApplyConfig implements workspace.Instance: logging has no part of the
// workspace configuration.
func (in *Instance) ApplyConfig(workspace.Configuration) error { return nil }

// Close closes the log groups' files of the workspace. The configurations
// stay in the bucket.
func (in *Instance) Close() error {
	in.mtx.Lock()
	defer in.mtx.Unlock()
	err := in.sink.release()
	if qerr := in.querySnk.release(); err == nil {
		err = qerr
	}
	in.sink, in.querySnk = nil, nil
	return err
}

// activate opens the file of config's log group in place of the previous
// one; a file that cannot be opened leaves the configuration failed, with
// the reason. Called with mtx held (or before the instance is shared).
func (in *Instance) activate() {
	_ = in.sink.release()
	in.sink = nil
	lf, err := in.ls.files.acquire(in.config.LogGroupARN)
	if err != nil {
		in.config.Status, in.config.StatusReason = failed(in.config.CreatedAt, in.config.ModifiedAt), err.Error()
		in.logger.Error("Opening the log group of the logging configuration failed", "logGroup", in.config.LogGroupARN, "err", err)
		return
	}
	in.sink = lf
	in.config.Status, in.config.StatusReason = StatusActive, ""
}

func (in *Instance) activateQuery() {
	_ = in.querySnk.release()
	in.querySnk = nil
	lf, err := in.ls.files.acquire(in.query.LogGroupARN)
	if err != nil {
		in.query.Status, in.query.StatusReason = failed(in.query.CreatedAt, in.query.ModifiedAt), err.Error()
		in.logger.Error("Opening the log group of the query logging configuration failed", "logGroup", in.query.LogGroupARN, "err", err)
		return
	}
	in.querySnk = lf
	in.query.Status, in.query.StatusReason = StatusActive, ""
}

// failed is the status of a configuration whose file could not be
// opened: CREATION_FAILED until it is first updated.
func failed(created, modified time.Time) Status {
	if modified.Equal(created) {
		return StatusCreationFailed
	}
	return StatusUpdateFailed
}

// vend writes rec to sink and to the service's logger.
func (in *Instance) vend(sink *logFile, component string, level slog.Level, msg map[string]any, arn string) {
	rec := Record{Timestamp: in.ls.opts.Now().UTC(), LogGroupARN: arn, WorkspaceID: in.w.ID(), Message: msg, Component: component}
	in.logger.Log(context.Background(), level, "Vended log record", "logGroup", LogGroupName(arn), "component", component, "message", msg)
	if err := sink.write(rec); err != nil {
		in.logger.Warn("Writing a vended log record failed", "logGroup", LogGroupName(arn), "err", err)
	}
}

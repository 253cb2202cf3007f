package quota

import (
	"context"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/promspace/promspace/ingest"
	"github.com/promspace/promspace/workspace"
)

// ComponentName is the name of the Component of Quotas, for
// workspace.InstanceOf.
const ComponentName = "quota"

// Options configure Quotas. Zero values mean the default.
type Options struct {
	// Limits are the limits of a workspace that Overrides gives none.
	// Nil means DefaultLimits().
	Limits *Limits
	// Overrides, if set, returns the limits of the workspace id in place
	// of Limits, as AMP raises a quota for one workspace, and false to
	// keep Limits. It is called when the workspace opens. The
	// configuration's quotas (see Limits) replace those it returns.
	Overrides func(workspaceID string) (Limits, bool)

	// Logger defaults to discarding.
	Logger *slog.Logger
	// Registerer will receive the usage and rejection metrics; nil
	// registers nowhere. Unused until metering is built.
	Registerer prometheus.Registerer
	// Now will be the clock of the ingestion token bucket and of active
	// series; default time.Now. Unused until they are built.
	Now func() time.Time
}

// DefaultOptions returns AMP's defaults.
func DefaultOptions() Options {
	l := DefaultLimits()
	return Options{
		Limits: &l,
		Logger: slog.New(slog.DiscardHandler),
		Now:    time.Now,
	}
}

// Quotas holds what the quotas of all workspaces share: their options. Its
// Component gives each workspace its Quota.
type Quotas struct {
	opts Options
}

// New returns Quotas with the given options.
func New(opts Options) *Quotas {
	d := DefaultOptions()
	if opts.Limits == nil {
		opts.Limits = d.Limits
	} else {
		l := opts.Limits.clone()
		opts.Limits = &l
	}
	if opts.Logger == nil {
		opts.Logger = d.Logger
	}
	if opts.Now == nil {
		opts.Now = d.Now
	}
	return &Quotas{opts: opts}
}

// Component returns the workspace component whose instance for each
// workspace is its *Quota.
func (qs *Quotas) Component() workspace.Component {
	return workspace.NewComponent(ComponentName, func(_ context.Context, w *workspace.Workspace) (workspace.Instance, error) {
		return qs.open(w.ID()), nil
	})
}

func (qs *Quotas) open(id string) *Quota {
	base := qs.opts.Limits.clone()
	if qs.opts.Overrides != nil {
		if l, ok := qs.opts.Overrides(id); ok {
			base = l.clone()
		}
	}
	return &Quota{id: id, base: base, limits: base.clone()}
}

// Quota is one workspace's quotas: its Limits and, later, its usage
// (active series, the ingestion token bucket, samples ingested, storage
// bytes, query samples processed). It is the workspace's instance of the
// Quotas component and the ingest Stage that will enforce the ingest
// limits.
type Quota struct {
	id string
	// base is the limits from Options, before the configuration's.
	base Limits

	mtx    sync.RWMutex
	limits Limits
}

var (
	_ workspace.Instance = (*Quota)(nil)
	_ ingest.Stage       = (*Quota)(nil)
)

// Limits returns the workspace's current limits.
func (q *Quota) Limits() Limits {
	q.mtx.RLock()
	defer q.mtx.RUnlock()
	return q.limits.clone()
}

// Process implements ingest.Stage. Not enforced yet: every request passes
// unchanged.
func (q *Quota) Process(context.Context, ingest.Target, *ingest.Request) error {
	return nil
}

// ApplyConfig takes the quotas the workspace's configuration holds
// (limitsPerLabelSet, the out-of-order window, retention) into Limits.
func (q *Quota) ApplyConfig(c workspace.Configuration) error {
	l := q.base.withConfig(c)
	q.mtx.Lock()
	q.limits = l
	q.mtx.Unlock()
	return nil
}

// Close releases nothing yet: a Quota holds no goroutine or metric.
func (q *Quota) Close() error { return nil }

package dedupe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"

	"github.com/promspace/promspace/ingest"
	"github.com/promspace/promspace/workspace"
)

// ComponentName is the name of the Component of Trackers, for
// workspace.InstanceOf.
const ComponentName = "dedupe"

// Defaults of Options: AMP's, which are Cortex's.
const (
	DefaultClusterLabel = "cluster"
	DefaultReplicaLabel = "__replica__"
	// DefaultFailoverTimeout is how long a cluster's leader may send no
	// sample before another replica is elected.
	DefaultFailoverTimeout = 30 * time.Second
	// DefaultUpdateTimeout is how often, at most, the leader's last-seen
	// time is written to the KV.
	DefaultUpdateTimeout = 15 * time.Second
	// DefaultMaxClusters is how many HA clusters a workspace may have
	// (quota.DefaultMaxHAClusters).
	DefaultMaxClusters = 500
)

// Options configure Trackers. Zero values mean the default.
type Options struct {
	// KV holds the elections of every workspace's clusters. Nil means a
	// NewMemoryKV of the Trackers' own. A KV given is not closed.
	KV KV
	// ClusterLabel and ReplicaLabel name the labels of HA series: series
	// with the same ClusterLabel value and different ReplicaLabel values
	// are copies of each other. Default "cluster" and "__replica__". The
	// replica label is removed before samples are stored, the cluster
	// label kept.
	ClusterLabel string
	ReplicaLabel string
	// FailoverTimeout is how long the leader of a cluster may send no
	// sample before a request from another replica makes that one the
	// leader. Default 30s.
	FailoverTimeout time.Duration
	// UpdateTimeout is the least time between two writes of a leader's
	// last-seen time to the KV; it must be less than FailoverTimeout.
	// Default 15s.
	UpdateTimeout time.Duration
	// MaxClusters is how many clusters a workspace may have; a request
	// that would add one more answers 400 "too many HA clusters (limit:
	// N)". Default 500.
	MaxClusters int

	// Logger defaults to discarding.
	Logger *slog.Logger
	// Registerer will receive the elections and deduplicated-samples
	// metrics; nil registers nowhere. Unused until the tracker is built.
	Registerer prometheus.Registerer
	// Now is the clock of last-seen times and failover; default time.Now.
	Now func() time.Time
}

// DefaultOptions returns AMP's defaults, with KV left nil (a memory KV).
func DefaultOptions() Options {
	return Options{
		ClusterLabel:    DefaultClusterLabel,
		ReplicaLabel:    DefaultReplicaLabel,
		FailoverTimeout: DefaultFailoverTimeout,
		UpdateTimeout:   DefaultUpdateTimeout,
		MaxClusters:     DefaultMaxClusters,
		Logger:          slog.New(slog.DiscardHandler),
		Now:             time.Now,
	}
}

func (o *Options) applyDefaults() error {
	d := DefaultOptions()
	if o.KV == nil {
		o.KV = NewMemoryKV()
	}
	if o.ClusterLabel == "" {
		o.ClusterLabel = d.ClusterLabel
	}
	if o.ReplicaLabel == "" {
		o.ReplicaLabel = d.ReplicaLabel
	}
	if o.FailoverTimeout <= 0 {
		o.FailoverTimeout = d.FailoverTimeout
	}
	if o.UpdateTimeout <= 0 {
		o.UpdateTimeout = d.UpdateTimeout
	}
	if o.MaxClusters <= 0 {
		o.MaxClusters = d.MaxClusters
	}
	if o.Logger == nil {
		o.Logger = d.Logger
	}
	if o.Now == nil {
		o.Now = d.Now
	}
	var errs []error
	for _, name := range []string{o.ClusterLabel, o.ReplicaLabel} {
		if !model.UTF8Validation.IsValidLabelName(name) {
			errs = append(errs, fmt.Errorf("invalid label name %q", name))
		}
	}
	if o.ClusterLabel == o.ReplicaLabel {
		errs = append(errs, fmt.Errorf("cluster and replica label are both %q", o.ClusterLabel))
	}
	if o.UpdateTimeout >= o.FailoverTimeout {
		errs = append(errs, fmt.Errorf("update timeout %v is not less than failover timeout %v", o.UpdateTimeout, o.FailoverTimeout))
	}
	return errors.Join(errs...)
}

// Trackers holds what the trackers of all workspaces share: the KV and the
// options. Its Component gives each workspace its Tracker.
type Trackers struct {
	opts Options
}

// New returns Trackers with the given options, or an error if they are
// invalid.
func New(opts Options) (*Trackers, error) {
	if err := opts.applyDefaults(); err != nil {
		return nil, fmt.Errorf("dedupe options: %w", err)
	}
	return &Trackers{opts: opts}, nil
}

// KV returns the KV the trackers elect leaders in.
func (ts *Trackers) KV() KV { return ts.opts.KV }

// Component returns the workspace component whose instance for each
// workspace is its *Tracker.
func (ts *Trackers) Component() workspace.Component {
	return workspace.NewComponent(ComponentName, func(_ context.Context, w *workspace.Workspace) (workspace.Instance, error) {
		return &Tracker{id: w.ID(), ts: ts}, nil
	})
}

// Tracker is one workspace's HA tracker, the ingest Stage that will elect
// a leader replica per cluster in the KV, drop the requests of the other
// replicas with 202 and remove the replica label from the leader's series.
// Not enforced yet: every request passes unchanged, replica label
// included.
type Tracker struct {
	id string
	ts *Trackers
}

var (
	_ workspace.Instance = (*Tracker)(nil)
	_ ingest.Stage       = (*Tracker)(nil)
)

// Process implements ingest.Stage. Not enforced yet: every request passes
// unchanged.
func (t *Tracker) Process(context.Context, ingest.Target, *ingest.Request) error {
	return nil
}

// ApplyConfig does nothing: no part of a workspace's configuration
// concerns dedupe.
func (t *Tracker) ApplyConfig(workspace.Configuration) error { return nil }

// Close releases nothing yet: a Tracker holds no goroutine, cache or
// metric. It leaves the workspace's elections in the KV, since the
// workspace may open again on this or another node.
func (t *Tracker) Close() error { return nil }

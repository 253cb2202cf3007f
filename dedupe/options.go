package dedupe

import (
	"cmp"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
)

// Defaults of Options: AMP's, which are Cortex's.
const (
	DefaultClusterLabel = "cluster"
	DefaultReplicaLabel = "__replica__"
	// DefaultStrippedCacheSize is Options.StrippedCacheSize's default.
	DefaultStrippedCacheSize = 1 << 17
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

// maxJitter bounds the jitter added to UpdateTimeout, as Cortex's
// ha_tracker_update_timeout_jitter_max: writes of the clusters' leaders,
// which start together when a node starts, spread out.
const maxJitter = 5 * time.Second

// forgetAfter is how long a cluster's leader must have sent nothing before
// the cluster is deleted from the KV, no longer counts against MaxClusters
// and leaves the status page, as Cortex deletes replicas not heard from in
// 30 minutes. A cluster that comes back is elected anew.
const forgetAfter = 30 * time.Minute

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
	// Each write adds a random jitter of up to a third of it (at most
	// 5s, and less than half the time between it and FailoverTimeout).
	// Default 15s.
	UpdateTimeout time.Duration
	// MaxClusters is how many clusters a workspace may have; a request
	// that would add one more answers 400 "too many HA clusters (limit:
	// N)". Default 500.
	MaxClusters int
	// StrippedCacheSize is about how many series each workspace keeps the
	// labels of without the replica label, by the identity of the labels
	// ingest's labels cache hands the stage: a fixed table of twice as
	// many entries, rounded up to a power of 2, of 32 bytes each, made on
	// the first strip and dropped when the workspace closes, plus the
	// labels its entries keep. It serves only a tracker that is not the
	// first stage of its requests: as the first, the tracker has decoding
	// leave the replica label out (ingest.LabelStripper) and strips
	// nothing itself. Default DefaultStrippedCacheSize; negative means no
	// cache: the replica label is cut out of every series anew.
	StrippedCacheSize int
	// Overrides, if set, returns the options of the workspace id, as a
	// host program sets the label names, timeouts or cluster limit of one
	// workspace, and false to keep the fields above. Zero fields of what
	// it returns keep the fields above. It is called when the workspace
	// opens; options it makes invalid fail the opening. A MaxClusters it
	// returns wins over Tracker.SetMaxClusters.
	Overrides func(workspaceID string) (WorkspaceOptions, bool)

	// Logger defaults to discarding.
	Logger *slog.Logger
	// Registerer receives the elections and deduplicated-samples metrics;
	// nil registers nowhere.
	Registerer prometheus.Registerer
	// Now is the clock of last-seen times and failover; default time.Now.
	Now func() time.Time
}

// WorkspaceOptions are the options that may differ between workspaces (see
// Options for each).
type WorkspaceOptions struct {
	ClusterLabel    string
	ReplicaLabel    string
	FailoverTimeout time.Duration
	UpdateTimeout   time.Duration
	MaxClusters     int
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
	if o.Logger == nil {
		o.Logger = d.Logger
	}
	if o.Now == nil {
		o.Now = d.Now
	}
	if o.StrippedCacheSize == 0 {
		o.StrippedCacheSize = DefaultStrippedCacheSize
	}
	w := o.workspace().or(d.workspace())
	if err := w.validate(); err != nil {
		return err
	}
	o.ClusterLabel, o.ReplicaLabel = w.ClusterLabel, w.ReplicaLabel
	o.FailoverTimeout, o.UpdateTimeout, o.MaxClusters = w.FailoverTimeout, w.UpdateTimeout, w.MaxClusters
	return nil
}

// workspace returns the per-workspace fields of o.
func (o *Options) workspace() WorkspaceOptions {
	return WorkspaceOptions{
		ClusterLabel:    o.ClusterLabel,
		ReplicaLabel:    o.ReplicaLabel,
		FailoverTimeout: o.FailoverTimeout,
		UpdateTimeout:   o.UpdateTimeout,
		MaxClusters:     o.MaxClusters,
	}
}

// forWorkspace returns the options of the workspace id, and whether
// Overrides gave it a MaxClusters of its own.
func (o *Options) forWorkspace(id string) (w WorkspaceOptions, ownMax bool, err error) {
	w = o.workspace()
	if o.Overrides == nil {
		return w, false, nil
	}
	ov, ok := o.Overrides(id)
	if !ok {
		return w, false, nil
	}
	ownMax = ov.MaxClusters > 0
	ov = ov.or(w)
	if err := ov.validate(); err != nil {
		return WorkspaceOptions{}, false, fmt.Errorf("dedupe options of workspace %s: %w", id, err)
	}
	return ov, ownMax, nil
}

// or returns w with its zero and negative fields taken from d.
func (w WorkspaceOptions) or(d WorkspaceOptions) WorkspaceOptions {
	pos := func(v, d time.Duration) time.Duration { return cmp.Or(max(v, 0), d) }
	return WorkspaceOptions{
		ClusterLabel:    cmp.Or(w.ClusterLabel, d.ClusterLabel),
		ReplicaLabel:    cmp.Or(w.ReplicaLabel, d.ReplicaLabel),
		FailoverTimeout: pos(w.FailoverTimeout, d.FailoverTimeout),
		UpdateTimeout:   pos(w.UpdateTimeout, d.UpdateTimeout),
		MaxClusters:     cmp.Or(max(w.MaxClusters, 0), d.MaxClusters),
	}
}

func (w WorkspaceOptions) validate() error {
	var errs []error
	for _, name := range []string{w.ClusterLabel, w.ReplicaLabel} {
		if !model.UTF8Validation.IsValidLabelName(name) {
			errs = append(errs, fmt.Errorf("invalid label name %q", name))
		}
	}
	if w.ClusterLabel == w.ReplicaLabel {
		errs = append(errs, fmt.Errorf("cluster and replica label are both %q", w.ClusterLabel))
	}
	if w.UpdateTimeout >= w.FailoverTimeout {
		errs = append(errs, fmt.Errorf("update timeout %v is not less than failover timeout %v", w.UpdateTimeout, w.FailoverTimeout))
	}
	return errors.Join(errs...)
}

// jitterMax is the bound of the jitter added to UpdateTimeout: small
// enough that a leader writing at UpdateTimeout plus jitter is always
// written well before FailoverTimeout.
func (w WorkspaceOptions) jitterMax() time.Duration {
	return min(maxJitter, w.UpdateTimeout/3, (w.FailoverTimeout-w.UpdateTimeout)/2)
}

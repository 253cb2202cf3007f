package dedupe

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"sync"
	"sync/atomic"
	"time"

	"github.com/promspace/promspace/ingest"
	"github.com/promspace/promspace/workspace"
)

// ComponentName is the name of the Component of Trackers, for
// workspace.InstanceOf.
const ComponentName = "dedupe"

// ReasonTooManyClusters labels the discarded-samples metric for a request
// of a cluster over MaxClusters, as Cortex does.
const ReasonTooManyClusters = "too_many_ha_clusters"

// Trackers holds what the trackers of all workspaces share: the KV, the
// options and the metrics. Its Component gives each workspace its Tracker.
type Trackers struct {
	opts    Options
	metrics *metrics
}

// New returns Trackers with the given options, or an error if they are
// invalid.
func New(opts Options) (*Trackers, error) {
	if err := opts.applyDefaults(); err != nil {
		return nil, fmt.Errorf("dedupe options: %w", err)
	}
	return &Trackers{opts: opts, metrics: newMetrics(opts.Registerer)}, nil
}

// KV returns the KV the trackers elect leaders in.
func (ts *Trackers) KV() KV { return ts.opts.KV }

// Component returns the workspace component whose instance for each
// workspace is its *Tracker.
func (ts *Trackers) Component() workspace.Component {
	return workspace.NewComponent(ComponentName, func(_ context.Context, w *workspace.Workspace) (workspace.Instance, error) {
		return ts.Open(w.ID())
	})
}

// Open returns a tracker of the workspace id, as Component opens it, for a
// host program that runs the stage in a pipeline of its own. Close it when
// the workspace closes.
func (ts *Trackers) Open(id string) (*Tracker, error) {
	o, ownMax, err := ts.opts.forWorkspace(id)
	if err != nil {
		return nil, err
	}
	t := &Tracker{
		id:       id,
		prefix:   id + "/",
		opts:     o,
		ownMax:   ownMax,
		kv:       ts.opts.KV,
		now:      ts.opts.Now,
		logger:   ts.opts.Logger.With("workspace", id),
		metrics:  ts.metrics,
		strip:    newStripper(o.ReplicaLabel, ts.opts.StrippedCacheSize),
		clusters: map[string]*cluster{},
	}
	t.maxClusters.Store(int64(o.MaxClusters))
	return t, nil
}

// Tracker is one workspace's HA tracker: the ingest Stage that elects a
// leader replica per cluster in the KV, answers the requests of the other
// replicas 202 without storing them, and removes the replica label from
// the leader's series. Its ServeHTTP shows the workspace's elections.
//
// The cluster and replica labels of a request's first series decide for
// the whole request, as in Cortex: a request whose first series lacks
// either label is not HA data and passes unchanged, replica label
// included; of a leader's request every series loses the replica label,
// whatever its cluster. A remote write 2.0 request is decided the same
// way, since Prometheus adds its external labels to every series.
//
// Elections are made on the time a request arrives (Options.Now), not on
// its samples' timestamps. The leader is taken from the KV once and then
// from memory until its last-seen time is due to be written, at most every
// UpdateTimeout plus jitter; another replica is refused from memory until
// the leader has been silent for FailoverTimeout, and then the KV decides,
// by compare-and-swap, so that nodes sharing it elect one replica. A node
// that serves the leader and another that serves the other replica may
// therefore fail over up to UpdateTimeout plus jitter early, never late.
type Tracker struct {
	id     string
	prefix string // of the workspace's keys in the KV
	opts   WorkspaceOptions
	// ownMax is whether Options.Overrides gave the workspace its
	// MaxClusters; maxClusters is the limit in force, written under
	// admitMtx.
	ownMax      bool
	maxClusters atomic.Int64
	kv          KV
	now         func() time.Time
	logger      *slog.Logger
	metrics     *metrics
	strip       *stripper

	mtx      sync.Mutex
	clusters map[string]*cluster
	// admitMtx orders admissions of new clusters, each of which counts
	// the workspace's clusters in the KV.
	admitMtx sync.Mutex
	// refusedAt is when a new cluster was last refused for the limit: for
	// UpdateTimeout after, clusters not among the listed ones of that
	// count are refused without counting again. Guarded by admitMtx.
	refusedAt time.Time
	listed    map[string]bool
}

var (
	_ workspace.Instance   = (*Tracker)(nil)
	_ ingest.Stage         = (*Tracker)(nil)
	_ ingest.LabelStripper = (*Tracker)(nil)
	_ http.Handler         = (*Tracker)(nil)
)

// Options returns the workspace's options, with the cluster limit in
// force (math.MaxInt for none).
func (t *Tracker) Options() WorkspaceOptions {
	o := t.opts
	o.MaxClusters = t.maxClustersNow()
	return o
}

func (t *Tracker) maxClustersNow() int { return int(t.maxClusters.Load()) }

// SetMaxClusters makes n the workspace's cluster limit, 0 meaning none,
// in place of Options.MaxClusters; with ok false it restores
// Options.MaxClusters. The workspace's Quota calls it when an override of
// its limits gives the workspace an HA cluster limit (quota.Options.
// Overrides), so that the override applies here too. A MaxClusters that
// Options.Overrides gives the workspace wins: then SetMaxClusters does
// nothing. The limit applies to the next request of a cluster not
// followed yet; clusters already followed are kept.
func (t *Tracker) SetMaxClusters(n int, ok bool) {
	if t.ownMax {
		return
	}
	switch {
	case !ok:
		n = t.opts.MaxClusters
	case n <= 0:
		n = math.MaxInt
	}
	t.admitMtx.Lock()
	defer t.admitMtx.Unlock()
	t.maxClusters.Store(int64(n))
	t.refusedAt, t.listed = time.Time{}, nil // counted against the old limit
}

// Clusters returns how many HA clusters of the workspace this node
// follows, as the promspace_ha_tracker_clusters gauge shows: those it
// admitted, less those it forgot after 30 minutes without a request.
func (t *Tracker) Clusters() int {
	t.mtx.Lock()
	defer t.mtx.Unlock()
	return len(t.clusters)
}

// Process implements ingest.Stage: see Tracker.
func (t *Tracker) Process(ctx context.Context, _ ingest.Target, req *ingest.Request) error {
	if len(req.Series) == 0 {
		return nil
	}
	name, replica, ok := t.haLabels(req, &req.Series[0])
	if !ok {
		// Not HA data: stored as received, replica label included.
		req.RestoreStripped()
		return nil
	}
	now := t.now()
	c, err := t.admit(ctx, name, now)
	if err != nil {
		return err
	}
	elected, err := t.elect(ctx, c, replica, now)
	if err != nil {
		return fmt.Errorf("ha tracker: cluster %q: %w", name, err)
	}
	if elected != replica {
		t.metrics.deduplicated.WithLabelValues(t.id, name).Add(float64(req.SampleCount() + req.HistogramCount()))
		return &ingest.StatusError{
			Status: http.StatusAccepted,
			Err:    fmt.Errorf("replicas did not match, rejecting sample: replica=%s, elected=%s", replica, elected),
		}
	}
	if req.StrippedLabel() != t.opts.ReplicaLabel {
		t.strip.stripAll(req.Series)
	} // else decoding left the replica label out already
	return nil
}

// StrippedLabel implements ingest.LabelStripper: as the first stage of its
// workspace's requests, the tracker has decoding leave the replica label
// out of the series' labels.
func (t *Tracker) StrippedLabel() string { return t.opts.ReplicaLabel }

// haLabels returns the cluster and replica of s, a series of req, and
// whether it has both.
func (t *Tracker) haLabels(req *ingest.Request, s *ingest.Series) (cluster, replica string, ok bool) {
	cluster = s.Labels.Get(t.opts.ClusterLabel)
	if req.StrippedLabel() == t.opts.ReplicaLabel {
		replica = s.StrippedValue()
	} else {
		replica = s.Labels.Get(t.opts.ReplicaLabel)
	}
	return cluster, replica, cluster != "" && replica != ""
}

// errTooManyClusters is the 400 of a new cluster over the limit.
func (t *Tracker) errTooManyClusters() error {
	return &ingest.StatusError{
		Status: http.StatusBadRequest,
		Err:    fmt.Errorf("too many HA clusters (limit: %d)", t.maxClustersNow()),
		Reason: ReasonTooManyClusters,
	}
}

// ApplyConfig does nothing: no part of a workspace's configuration
// concerns dedupe.
func (t *Tracker) ApplyConfig(workspace.Configuration) error { return nil }

// Close removes the workspace's metrics and drops its cache of stripped
// labels. It leaves the workspace's elections in the KV, since the
// workspace may open again on this or another node.
func (t *Tracker) Close() error {
	t.mtx.Lock()
	t.clusters = map[string]*cluster{}
	t.mtx.Unlock()
	t.strip.reset()
	t.metrics.forget(t.id)
	return nil
}

// errKVBusy is the error of an election whose compare-and-swap lost to
// other nodes more often than maxRounds.
var errKVBusy = errors.New("the cluster's KV entry kept changing")

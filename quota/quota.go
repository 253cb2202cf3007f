package quota

import (
	"context"
	"log/slog"
	"math"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/promspace/promspace/dedupe"
	"github.com/promspace/promspace/ingest"
	"github.com/promspace/promspace/workspace"
)

// ComponentName is the name of the Component of Quotas, for
// workspace.InstanceOf.
const ComponentName = "quota"

// ActiveSeriesWindow is how long a series stays active after its last
// sample, as AMP counts active series.
const ActiveSeriesWindow = 2 * time.Hour

// PurgeInterval is how often, on the Quota's clock, the series idle for
// ActiveSeriesWindow are forgotten: the active-series counts include
// series idle for at most ActiveSeriesWindow + PurgeInterval.
const PurgeInterval = time.Minute

// Options configure Quotas. Zero values mean the default.
type Options struct {
	// Limits are the limits of a workspace that Overrides gives none.
	// Nil means DefaultLimits().
	Limits *Limits
	// Overrides, if set, returns the limits of workspace w in place of
	// Limits, as AMP raises a quota for one workspace, and false to keep
	// Limits. It may tell workspaces apart by id, alias or tags. It is
	// called when the workspace opens and on every change of its
	// configuration, whose quotas (see Limits) replace those it returns;
	// the limits it returns apply at once. w is nil for a Quota that no
	// workspace opened.
	Overrides func(w *workspace.Workspace) (Limits, bool)

	// Logger defaults to discarding.
	Logger *slog.Logger
	// Registerer will receive the usage metrics; nil registers nowhere.
	// The ingest limits register nothing: their rejections are ingest's
	// discarded-samples metric, by reason.
	Registerer prometheus.Registerer
	// Now is the clock of the ingestion token bucket and of active
	// series; default time.Now.
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
// workspace is its *Quota. Opening it counts the series of the workspace's
// TSDB with a sample in the last ActiveSeriesWindow, so that the active
// series survive a restart.
func (qs *Quotas) Component() workspace.Component {
	return workspace.NewComponent(ComponentName, func(ctx context.Context, w *workspace.Workspace) (workspace.Instance, error) {
		return qs.open(ctx, w)
	})
}

func (qs *Quotas) open(ctx context.Context, w *workspace.Workspace) (*Quota, error) {
	q := qs.newQuota(w.ID())
	q.w = w
	q.ha, _ = workspace.InstanceOf[*dedupe.Tracker](w, dedupe.ComponentName)
	if err := q.restore(ctx, w); err != nil {
		return nil, err
	}
	return q, nil
}

// newQuota returns the Quota of workspace id, with no storage, the limits
// of Options and an empty configuration.
func (qs *Quotas) newQuota(id string) *Quota {
	q := &Quota{id: id, qs: qs, now: qs.opts.Now, active: newActiveSeries()}
	q.nextPurge.Store(q.now().Add(PurgeInterval).UnixMilli())
	// Options.Overrides waits for ApplyConfig, which follows at once.
	q.setLimits(qs.opts.Limits.withConfig(workspace.Configuration{}))
	return q
}

// limitsOf returns the limits Options give workspace w, before its
// configuration's, and whether Options.Overrides gave them.
func (qs *Quotas) limitsOf(w *workspace.Workspace) (Limits, bool) {
	if qs.opts.Overrides != nil {
		if l, ok := qs.opts.Overrides(w); ok {
			return l.clone(), true
		}
	}
	return qs.opts.Limits.clone(), false
}

// Quota is one workspace's quotas: its Limits, the state of its ingest
// limits (active series, the ingestion token bucket) and, later, its usage
// metering. It is the workspace's instance of the Quotas component and the
// ingest Stage that enforces the ingest limits (see Process).
type Quota struct {
	id string
	qs *Quotas
	w  *workspace.Workspace // nil for a Quota of no workspace (tests)
	// ha is the workspace's HA tracker, opened before the Quota; nil
	// without one.
	ha  *dedupe.Tracker
	now func() time.Time

	mtx    sync.RWMutex
	limits Limits

	cfg     atomic.Pointer[ingestConfig]
	active  *activeSeries
	bucket  tokenBucket
	scratch sync.Pool // *ingestScratch

	// nextPurge is when, in milliseconds of the clock, idle series are
	// next purged; purgeMtx is held by the purge running, purging is
	// true meanwhile, and purges holds the purges run in the background.
	nextPurge atomic.Int64
	purgeMtx  sync.Mutex
	purging   atomic.Bool
	purges    sync.WaitGroup

	// controlPlane reports the rules and firing alerts for the View.
	controlPlane atomic.Pointer[ControlPlaneUsage]
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

// setLimits makes l the workspace's limits, from the next request on.
// Lowering a series limit forgets no series: it only refuses new ones.
func (q *Quota) setLimits(l Limits) {
	q.mtx.Lock()
	defer q.mtx.Unlock()
	q.limits = l.clone()
	old := q.cfg.Load()
	cfg := newIngestConfig(&q.limits, old)
	q.active.setLabelSets(cfg.labelSets)
	q.bucket.setLimits(q.now(), l.IngestionRate, l.IngestionBurst)
	q.cfg.Store(cfg)
	if md := q.metadata(); md != nil {
		n := l.MaxMetadataFamilies
		if n <= 0 {
			n = math.MaxInt // no limit; the store's 0 is its default
		}
		md.SetMaxFamilies(n)
	}
}

// metadata returns the workspace's metadata store, nil without a
// workspace.
func (q *Quota) metadata() *workspace.MetadataStore {
	if q.w == nil {
		return nil
	}
	return q.w.Metadata()
}

// ApplyConfig takes the quotas the workspace's configuration holds
// (limitsPerLabelSet, the out-of-order window, retention) into Limits,
// over those of Options.Overrides (asked again) or Options.Limits, and
// applies them to the running workspace. The HA cluster limit of an
// override goes to the workspace's HA tracker (dedupe.Tracker.
// SetMaxClusters); without one, the tracker keeps its options' limit.
func (q *Quota) ApplyConfig(c workspace.Configuration) error {
	l, overridden := q.qs.limitsOf(q.w)
	q.setLimits(l.withConfig(c))
	if q.ha != nil {
		q.ha.SetMaxClusters(l.MaxHAClusters, overridden)
	}
	return nil
}

// Close waits for a purge of idle series running in the background.
func (q *Quota) Close() error {
	q.purges.Wait()
	return nil
}

// purgeIfDue forgets the series idle for ActiveSeriesWindow if the last
// purge is PurgeInterval old. With wait, the purge runs before it returns,
// and so does one already running; otherwise it runs in the background.
func (q *Quota) purgeIfDue(now time.Time, wait bool) {
	ms := now.UnixMilli()
	next := q.nextPurge.Load()
	if ms >= next && q.nextPurge.CompareAndSwap(next, ms+PurgeInterval.Milliseconds()) && q.purgeMtx.TryLock() {
		q.purging.Store(true)
		run := func() {
			defer q.purgeMtx.Unlock()
			defer q.purging.Store(false)
			q.active.purge(ms - ActiveSeriesWindow.Milliseconds())
		}
		if wait {
			run()
			return
		}
		q.purges.Go(run)
	}
	if wait {
		q.awaitPurge()
	}
}

// awaitPurge waits for the purge running, if any.
func (q *Quota) awaitPurge() {
	q.purgeMtx.Lock()
	q.purgeMtx.Unlock() //nolint:staticcheck // an empty critical section: a wait
}

package shipper

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/promspace/promspace/workspace"
)

// ComponentName is the shipper's workspace component name.
const ComponentName = "shipper"

// Shipper ships the blocks of every workspace it is opened for.
type Shipper struct {
	opts    Options
	metrics *metrics
}

// New returns a Shipper; its Component is registered with the workspace
// Registry.
func New(opts Options) *Shipper {
	opts.applyDefaults()
	return &Shipper{opts: opts, metrics: newMetrics(opts.Registerer)}
}

// Component returns the shipper as a workspace component, which is also a
// workspace.Preparer: it restores the bucket's blocks before the TSDB opens.
func (s *Shipper) Component() workspace.Component { return component{s} }

type component struct{ s *Shipper }

func (component) Name() string { return ComponentName }

func (c component) Prepare(ctx context.Context, w *workspace.Workspace, dir string) error {
	if c.s.opts.Disabled {
		return nil
	}
	return c.s.restore(ctx, w, dir)
}

func (c component) Open(_ context.Context, w *workspace.Workspace) (workspace.Instance, error) {
	s := c.s
	in := &Instance{
		s:      s,
		w:      w,
		logger: s.opts.Logger.With("workspace", w.ID()),
		stop:   make(chan struct{}),
		done:   make(chan struct{}),
	}
	if s.opts.Disabled {
		close(in.done)
		return in, nil
	}
	shipped, err := readMarker(w.Dir())
	if err != nil {
		in.logger.Warn("Shipped-blocks marker unreadable: every block is uploaded again", "err", err)
	}
	in.shipped = shipped
	ticks, stopTicks := s.opts.NewTicker(s.opts.Interval)
	go in.loop(ticks, stopTicks)
	return in, nil
}

// Instance is the shipper of one workspace.
type Instance struct {
	s      *Shipper
	w      *workspace.Workspace
	logger *slog.Logger

	retention atomic.Int64 // a time.Duration, set by ApplyConfig
	stop      chan struct{}
	done      chan struct{}

	// syncMtx serializes syncs and guards shipped, the blocks in the
	// bucket as the marker lists them, and metaShipped, the metric metadata
	// last uploaded.
	syncMtx     sync.Mutex
	shipped     map[string]bool
	metaShipped []byte
}

// ApplyConfig takes the workspace's retention, which applies to the bucket
// too.
func (in *Instance) ApplyConfig(c workspace.Configuration) error {
	in.retention.Store(int64(c.Retention))
	return nil
}

func (in *Instance) retentionPeriod() time.Duration { return time.Duration(in.retention.Load()) }

func (in *Instance) loop(ticks <-chan time.Time, stopTicks func()) {
	defer close(in.done)
	defer stopTicks()
	for {
		select {
		case <-in.stop:
			return
		case <-ticks:
			err := in.Sync(context.Background())
			if err != nil {
				in.logger.Warn("Shipping blocks failed; they are tried again at the next sync", "err", err)
			}
			if in.s.opts.synced != nil {
				in.s.opts.synced(in.w.ID(), err)
			}
		}
	}
}

// Close stops the periodic sync and ships once more, unless the workspace
// is being deleted: the TSDB is still open.
func (in *Instance) Close() error {
	defer in.s.metrics.forget(in.w.ID())
	if in.s.opts.Disabled {
		return nil
	}
	close(in.stop)
	<-in.done
	if in.w.Status() == workspace.StatusDeleting {
		return nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), in.s.opts.CloseTimeout)
	defer cancel()
	return in.Sync(ctx)
}

type metrics struct {
	uploaded, uploadFailures, deleted, restored, skipped *prometheus.CounterVec
	lastSync                                             *prometheus.GaugeVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	counter := func(name, help string) *prometheus.CounterVec {
		return prometheus.NewCounterVec(prometheus.CounterOpts{Name: "promspace_shipper_" + name, Help: help}, []string{"workspace"})
	}
	m := &metrics{
		uploaded:       counter("uploaded_blocks_total", "Blocks uploaded to the bucket."),
		uploadFailures: counter("upload_failures_total", "Object uploads that failed, retries included."),
		deleted:        counter("deleted_blocks_total", "Blocks deleted from the bucket, past retention or compacted into another."),
		restored:       counter("restored_blocks_total", "Blocks downloaded from the bucket into the TSDB directory."),
		skipped:        counter("skipped_blocks_total", "Blocks of the bucket skipped on restore because an object is corrupt or missing."),
		lastSync: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Name: "promspace_shipper_last_successful_sync_timestamp_seconds",
			Help: "When the workspace's blocks were last all shipped.",
		}, []string{"workspace"}),
	}
	if reg != nil {
		m.uploaded = register(reg, m.uploaded)
		m.uploadFailures = register(reg, m.uploadFailures)
		m.deleted = register(reg, m.deleted)
		m.restored = register(reg, m.restored)
		m.skipped = register(reg, m.skipped)
		m.lastSync = register(reg, m.lastSync)
	}
	return m
}

// register registers c, or returns the collector already registered in its
// place, so that two Shippers may share a registerer.
func register[C prometheus.Collector](reg prometheus.Registerer, c C) C {
	if err := reg.Register(c); err != nil {
		var are prometheus.AlreadyRegisteredError
		if errors.As(err, &are) {
			if existing, ok := are.ExistingCollector.(C); ok {
				return existing
			}
		}
		panic(err)
	}
	return c
}

// forget removes the series of the workspace id.
func (m *metrics) forget(id string) {
	for _, v := range []*prometheus.CounterVec{m.uploaded, m.uploadFailures, m.deleted, m.restored, m.skipped} {
		v.DeleteLabelValues(id)
	}
	m.lastSync.DeleteLabelValues(id)
}

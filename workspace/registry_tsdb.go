package workspace

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/util/compression"
)

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

// openTSDB runs the components' Prepare, opens w's TSDB with w's configuration
// and loads its metadata.
func (r *Registry) openTSDB(w *Workspace) error {
	if err := r.prepareComponents(context.Background(), w); err != nil {
		return err
	}
	opts := r.opts.tsdbOptions(w.Config())
	scopes := newRefScopes()
	opts.SeriesLifecycleCallback = scopes
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
	if err := settleOutOfOrderHead(context.Background(), db, w.dir); err != nil {
		if cerr := db.Close(); cerr != nil {
			r.logger.Warn("Closing the TSDB of a workspace that failed to open", "workspace", w.id, "err", cerr)
		}
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
	w.refScopes.Store(scopes)
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

// DefaultTSDBOptions returns the options the Prometheus server opens its
// TSDB with, where they differ from tsdb.DefaultOptions: the WAL is
// snappy-compressed (--storage.tsdb.wal-compression, true by default, and
// --storage.tsdb.wal-compression-type snappy), which roughly halves the
// bytes written per sample. Every other option the server leaves at its
// default (block durations, head chunks, samples per chunk, stripe size,
// isolation, overlapping compaction) is tsdb.DefaultOptions' too. A
// workspace's TSDB departs from the server's only where AMP does: the
// out-of-order window (60 s, the server's is 0) and exemplar storage (on).
func DefaultTSDBOptions() *tsdb.Options {
	opts := tsdb.DefaultOptions()
	opts.WALCompression = compression.Snappy
	return opts
}

// tsdbOptions returns the TSDB options of a workspace with configuration c.
func (o *Options) tsdbOptions(c Configuration) *tsdb.Options {
	var opts *tsdb.Options
	if o.TSDBOptions != nil {
		opts = o.TSDBOptions()
	} else {
		opts = DefaultTSDBOptions()
		opts.WALCompression = cmp.Or(o.WALCompression, opts.WALCompression)
		// As Prometheus does: blocks grow up to a tenth of the retention,
		// at most 31 days.
		maxBlock := 31 * 24 * time.Hour
		if r := c.Retention / 10; r < maxBlock {
			maxBlock = r
		}
		if ms := maxBlock.Milliseconds(); ms > opts.MinBlockDuration {
			opts.MaxBlockDuration = ms
		}
	}
	opts.RetentionDuration = c.Retention.Milliseconds()
	opts.OutOfOrderTimeWindow = c.OutOfOrderTimeWindow.Milliseconds()
	// Native histograms need no switch in this TSDB version: the head
	// always accepts them. Exemplars do.
	opts.EnableExemplarStorage = true
	opts.MaxExemplars = o.MaxExemplars
	return opts
}

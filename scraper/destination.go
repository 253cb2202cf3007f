package scraper

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"

	"github.com/promspace/promspace/workspace"
)

// destination is the storage.AppendableV2 a scraper's scrape manager writes
// to. Each appender resolves the destination workspace through the registry
// and holds it only until the appender is committed or rolled back, so that
// a scraper never keeps a workspace from being deleted. While the workspace
// cannot be resolved (it was deleted, or is still being created) every
// scrape's samples are refused and the next scrape tries again.
type destination struct {
	m      *Manager
	logger *slog.Logger

	target atomic.Pointer[destinationTarget]
	// failing is set while appends fail, so that the failure is logged
	// once, and when it ends.
	failing atomic.Bool
}

// destinationTarget is the workspace a scraper writes to and the external
// labels of its configuration.
type destinationTarget struct {
	account, workspaceID string
	externalLabels       labels.Labels
}

func newDestination(m *Manager, logger *slog.Logger, account, workspaceID string) *destination {
	d := &destination{m: m, logger: logger}
	d.target.Store(&destinationTarget{account: account, workspaceID: workspaceID})
	return d
}

func (d *destination) setWorkspace(account, workspaceID string) {
	t := *d.target.Load()
	t.account, t.workspaceID = account, workspaceID
	d.target.Store(&t)
}

func (d *destination) setExternalLabels(ls labels.Labels) {
	t := *d.target.Load()
	t.externalLabels = ls
	d.target.Store(&t)
}

// AppenderV2 returns an appender into the destination workspace, through
// its ingest pipeline when Options.Appendable gives one.
func (d *destination) AppenderV2(ctx context.Context) storage.AppenderV2 {
	t := d.target.Load()
	w, release, err := d.m.opts.Registry.Resolve(ctx, t.account, t.workspaceID)
	if err != nil {
		d.failed(fmt.Errorf("destination workspace %s: %w", t.workspaceID, err))
		return failedAppender{err: err}
	}
	var app storage.AppendableV2 = w
	if a, ok := d.m.opts.Appendable(w); ok {
		app = a
	}
	return &heldAppender{
		AppenderV2: app.AppenderV2(ctx),
		d:          d,
		release:    sync.OnceFunc(release),
		external:   t.externalLabels,
	}
}

// failed logs the first of a run of failures.
func (d *destination) failed(err error) {
	if !d.failing.Swap(true) {
		d.logger.Warn("Scraped samples cannot be written; retrying at every scrape", "err", err)
	}
}

func (d *destination) succeeded() {
	if d.failing.Swap(false) {
		d.logger.Info("Scraped samples are written again")
	}
}

// heldAppender appends to a resolved workspace, adding the configuration's
// external labels to each series that lacks them (as Prometheus' remote
// write does), and releases the workspace when done.
type heldAppender struct {
	storage.AppenderV2
	d        *destination
	release  func()
	external labels.Labels
	b        labels.Builder
}

func (a *heldAppender) withExternal(ls labels.Labels) labels.Labels {
	if a.external.IsEmpty() {
		return ls
	}
	a.b.Reset(ls)
	a.external.Range(func(l labels.Label) {
		if !ls.Has(l.Name) {
			a.b.Set(l.Name, l.Value)
		}
	})
	return a.b.Labels()
}

func (a *heldAppender) Append(ref storage.SeriesRef, ls labels.Labels, st, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, opts storage.AppendV2Options) (storage.SeriesRef, error) {
	return a.AppenderV2.Append(ref, a.withExternal(ls), st, t, v, h, fh, opts)
}

func (a *heldAppender) Commit() error {
	defer a.release()
	err := a.AppenderV2.Commit()
	if err != nil {
		a.d.failed(err)
	} else {
		a.d.succeeded()
	}
	return err
}

func (a *heldAppender) Rollback() error {
	defer a.release()
	return a.AppenderV2.Rollback()
}

// failedAppender refuses everything: its workspace could not be resolved.
type failedAppender struct{ err error }

func (a failedAppender) Append(storage.SeriesRef, labels.Labels, int64, int64, float64, *histogram.Histogram, *histogram.FloatHistogram, storage.AppendV2Options) (storage.SeriesRef, error) {
	return 0, a.err
}
func (a failedAppender) Commit() error   { return a.err }
func (a failedAppender) Rollback() error { return nil }

var _ storage.AppendableV2 = (*destination)(nil)

// workspaceAppendable is the default Options.Appendable: none, so that
// samples are appended to the workspace itself.
func workspaceAppendable(*workspace.Workspace) (storage.AppendableV2, bool) { return nil, false }

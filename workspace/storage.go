package workspace

import (
	"context"
	"fmt"
	"sync"

	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
)

// A Workspace is the storage that the data plane, Prometheus' engine and
// its rules manager take as it is. Each appender and querier holds the
// workspace open (see Acquire) until Commit, Rollback or Close, so that a
// deletion or Registry.Close waits for it instead of closing the TSDB under
// it. Once the workspace is being deleted or closed, new ones fail with an
// error wrapping ErrNotFound, but for those opened while a request still
// holds the workspace (Acquire, Registry.Resolve): the request's own, as
// the query API and the ingest endpoint open while serving it, which must
// not fail halfway through it.
var (
	_ storage.AppendableV2            = (*Workspace)(nil)
	_ storage.SampleAndChunkQueryable = (*Workspace)(nil)
	_ storage.ExemplarQueryable       = (*Workspace)(nil)
)

// errClosing is the error of the storage methods of a workspace that cannot
// be used.
func (w *Workspace) errClosing() error {
	return fmt.Errorf("workspace %s is not open: %w", w.id, ErrNotFound)
}

// hold holds w for one of its appenders or queriers: as Acquire does, or
// else while a request holds w (see holds).
func (w *Workspace) hold() (release func(), ok bool) {
	if !w.holds.acquireInner(func() bool { return w.db.Load() != nil && w.usable() == nil }) {
		return nil, false
	}
	var once sync.Once
	return func() { once.Do(w.holds.releaseInner) }, true
}

// AppenderV2 implements storage.AppendableV2. Its appenders' commits are
// ordered by a lock of the workspace, so that a crash loses no committed
// sample (see orderedAppendable). The appender implements
// storage.ExemplarAppenderV2 too.
func (w *Workspace) AppenderV2(ctx context.Context) storage.AppenderV2 {
	release, ok := w.hold()
	if !ok {
		return failedAppender{w.errClosing()}
	}
	app := orderedAppendable{db: w.DB(), mtx: &w.commitMtx, scopes: w.refScopes.Load()}.AppenderV2(ctx).(*orderedAppender)
	return &heldAppender{orderedAppender: app, release: release}
}

// heldAppender releases its workspace once committed or rolled back.
type heldAppender struct {
	*orderedAppender
	release func()
}

func (a *heldAppender) Commit() error {
	defer a.release()
	return a.orderedAppender.Commit()
}

func (a *heldAppender) Rollback() error {
	defer a.release()
	return a.orderedAppender.Rollback()
}

// failedAppender is the appender of a workspace that is not open.
type failedAppender struct{ err error }

func (a failedAppender) Append(storage.SeriesRef, labels.Labels, int64, int64, float64, *histogram.Histogram, *histogram.FloatHistogram, storage.AOptions) (storage.SeriesRef, error) {
	return 0, a.err
}
func (a failedAppender) Commit() error   { return a.err }
func (a failedAppender) Rollback() error { return nil }

// Querier implements storage.Queryable over the workspace's TSDB.
func (w *Workspace) Querier(mint, maxt int64) (storage.Querier, error) {
	release, ok := w.hold()
	if !ok {
		return nil, w.errClosing()
	}
	q, err := w.DB().Querier(mint, maxt)
	if err != nil {
		release()
		return nil, err
	}
	return heldQuerier{Querier: q, release: release}, nil
}

type heldQuerier struct {
	storage.Querier
	release func()
}

func (q heldQuerier) Close() error {
	defer q.release()
	return q.Querier.Close()
}

// ChunkQuerier implements storage.ChunkQueryable over the workspace's TSDB.
func (w *Workspace) ChunkQuerier(mint, maxt int64) (storage.ChunkQuerier, error) {
	release, ok := w.hold()
	if !ok {
		return nil, w.errClosing()
	}
	q, err := w.DB().ChunkQuerier(mint, maxt)
	if err != nil {
		release()
		return nil, err
	}
	return heldChunkQuerier{ChunkQuerier: q, release: release}, nil
}

type heldChunkQuerier struct {
	storage.ChunkQuerier
	release func()
}

func (q heldChunkQuerier) Close() error {
	defer q.release()
	return q.ChunkQuerier.Close()
}

// ExemplarQuerier implements storage.ExemplarQueryable over the
// workspace's exemplar storage. Prometheus' exemplar queriers are not
// closed, so the workspace is held for each Select instead.
func (w *Workspace) ExemplarQuerier(ctx context.Context) (storage.ExemplarQuerier, error) {
	release, ok := w.hold()
	if !ok {
		return nil, w.errClosing()
	}
	defer release()
	return exemplarQuerier{w: w, ctx: ctx}, nil
}

type exemplarQuerier struct {
	w   *Workspace
	ctx context.Context
}

func (q exemplarQuerier) Select(start, end int64, matchers ...[]*labels.Matcher) ([]exemplar.QueryResult, error) {
	release, ok := q.w.hold()
	if !ok {
		return nil, q.w.errClosing()
	}
	defer release()
	eq, err := q.w.DB().ExemplarQuerier(q.ctx)
	if err != nil {
		return nil, err
	}
	return eq.Select(start, end, matchers...)
}

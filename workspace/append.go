package workspace

import (
	"context"
	"math"
	"sync"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
)

// orderedAppendable hands out appenders of db that keep the WAL and the WBL
// in the order in which their commits reach memory, which tsdb does not do
// on its own when appenders commit concurrently. tsdb's Commit writes the
// appender's samples to the WAL first and only then applies them to the
// head, series by series under each series' lock, deciding there whether a
// sample is in order or goes to the out-of-order head chunk and the WBL;
// nothing ties the two steps together across appenders. After a crash the
// head is rebuilt from the WAL in WAL order, in-order samples only, then
// from the WBL. Three ways lose committed samples:
//
//   - Commits A and B write the WAL in the order A, B but apply their
//     samples in the order B, A. If A has a series' sample at t=200 and B the
//     same series' at t=100, both were in order when applied (100, then 200),
//     so neither is in the WBL; replay meets 200 first, then drops 100 as
//     out of order.
//   - Out-of-order samples go to the WBL after the whole commit was
//     applied. When B cuts a series' out-of-order head chunk (m-mapping the
//     old one), and A then inserts a sample into the new chunk but writes the
//     WBL before B writes its m-map marker, replay inserts A's sample and then
//     clears the head chunk at B's marker, as if the sample were m-mapped.
//   - A series created by appender A is logged (its Series record) only
//     when A commits; appender B can append to it meanwhile and commit first,
//     and replay drops B's samples as samples of an unknown series.
//
// Holding mtx for the whole Commit makes the WAL order and the WBL order
// the commit order, which closes the first two. For the third, Append makes
// sure, before appending a sample of an unknown series, that the series is
// created and logged under mtx (see ensureSeries), so that any commit that
// can see the series is written after its Series record; or the appender
// holds mtx from before it creates its series until its Commit has logged
// them (see CreateSeries), which any other commit waits for.
//
// Only appenders that share mtx are ordered with respect to each other, and
// only samples of the same series need to be, so one mutex per workspace
// (per TSDB) suffices; a lock shared across workspaces would only add
// contention. Appends themselves still run concurrently; the WAL already
// serializes its writes, so the lock adds the in-memory part of Commit to
// the serialized section.
type orderedAppendable struct {
	db  *tsdb.DB
	mtx *sync.Mutex
	// scopes, when set, is the series lifecycle callback db was opened
	// with, and the appenders give out its scope (SeriesRefScope).
	scopes *refScopes
}

// OrderedAppendable returns db with the appenders a Workspace appends
// through (see Workspace.AppenderV2), ordered by a lock of
// its own, for a TSDB that is no workspace's.
func OrderedAppendable(db *tsdb.DB) storage.AppendableV2 {
	return orderedAppendable{db: db, mtx: new(sync.Mutex)}
}

// AppenderV2 implements storage.AppendableV2. The appender implements
// storage.ExemplarAppenderV2 too.
func (a orderedAppendable) AppenderV2(ctx context.Context) storage.AppenderV2 {
	app := a.db.AppenderV2(ctx)
	gr, _ := app.(storage.GetRef)
	return &orderedAppender{
		// tsdb's appenders take exemplars, and ingest uses them when the
		// appender does.
		ExemplarAppenderV2: app.(storage.ExemplarAppenderV2),
		getRef:             gr,
		db:                 a.db,
		mtx:                a.mtx,
		scopes:             a.scopes,
		ctx:                ctx,
	}
}

// orderedAppender is an appender of orderedAppendable. It forwards
// AppendExemplars to the TSDB's appender as it is.
type orderedAppender struct {
	storage.ExemplarAppenderV2
	getRef storage.GetRef
	db     *tsdb.DB
	mtx    *sync.Mutex
	scopes *refScopes
	ctx    context.Context
	// locked is whether the appender holds mtx, from CreateSeries until
	// Commit or Rollback.
	locked bool
}

// SeriesRefScope returns a number that stays the same for as long as every
// series reference the workspace's appenders gave out still names its
// series: until the head drops series. A caller may keep the references it
// got, with this number, and append by them while it is unchanged, without
// looking the series up. No two scopes of the process, of any workspace,
// share a number. It is 0, references not to be kept, for a TSDB that is
// no workspace's (OrderedAppendable). A reference kept across a change is
// not wrong for its own series either: appended by, it creates the series
// anew if the head dropped it.
func (a *orderedAppender) SeriesRefScope() uint32 {
	if a.scopes == nil {
		return 0
	}
	return a.scopes.scope()
}

// Append appends to the TSDB's appender, once the series is logged when ref
// is 0.
func (a *orderedAppender) Append(ref storage.SeriesRef, ls labels.Labels, st, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, opts storage.AOptions) (storage.SeriesRef, error) {
	if ref == 0 && !a.locked {
		ref = a.ensureSeries(ls, t)
	}
	return a.ExemplarAppenderV2.Append(ref, ls, st, t, v, h, fh, opts)
}

// ensureSeries returns the reference of the series ls, creating it first if
// it does not exist, and then logging its Series record at once: it is
// created, with mtx held, by an appender of its own that is rolled back,
// which writes the Series records of the series it created and nothing else.
// Any appender that finds the series afterwards commits, under mtx, after
// that record. It returns 0 when the TSDB refuses the series (for example
// for invalid labels), leaving the error to the caller's Append. (Should
// head garbage collection remove the series before the caller's Append
// marks it, that Append creates it anew unlogged, as tsdb alone would: a
// narrow window at head truncation, for a series with no sample yet.)
func (a *orderedAppender) ensureSeries(ls labels.Labels, t int64) storage.SeriesRef {
	if a.getRef == nil {
		return 0
	}
	ls = ls.WithoutEmpty()
	hash := ls.Hash()
	if ref, _ := a.getRef.GetRef(ls, hash); ref != 0 {
		// Either logged already or created under mtx by an appender that
		// logs it before releasing mtx, hence before our Commit.
		return ref
	}
	a.mtx.Lock()
	defer a.mtx.Unlock()
	if ref, _ := a.getRef.GetRef(ls, hash); ref != 0 {
		return ref
	}
	// The sample only carries the series and is rolled back. On a head
	// that holds samples already, a new series accepts one at the greatest
	// timestamp, which no bound or metric of the head takes note of; the
	// first appender of an empty head sets the head's time range from its
	// first sample instead, so that must be the caller's.
	ts := int64(math.MaxInt64)
	if a.db.Head().MaxTime() == math.MinInt64 {
		ts = t
	}
	app := a.db.AppenderV2(a.ctx)
	_, err := app.Append(0, ls, 0, ts, 0, nil, nil, storage.AOptions{})
	if rerr := app.Rollback(); err != nil || rerr != nil {
		return 0
	}
	ref, _ := a.getRef.GetRef(ls, hash)
	return ref
}

// CreateSeries sets refs[i] to the reference of the series lsets[i] where
// it exists, and 0 where it does not. When some do not, the appender takes
// mtx and holds it until Commit or Rollback. The caller's Appends with ref
// 0 then create those series in this appender, as tsdb's own appender
// does, without ensureSeries, and its Commit logs their Series records, in
// one WAL record before its samples, with mtx still held: any other
// appender that finds one of the series meanwhile commits after that.
// Meanwhile the workspace's other appenders wait for mtx to create a
// series or to commit. A request of known series, as in the steady state,
// finds them all and takes no lock. The caller must Commit or Rollback
// the appender.
func (a *orderedAppender) CreateSeries(lsets []labels.Labels, refs []storage.SeriesRef) {
	if a.getRef == nil {
		clear(refs)
		return
	}
	if !a.findExisting(lsets, refs) || a.locked {
		return
	}
	a.mtx.Lock()
	a.locked = true
}

// findExisting sets refs[i] to the reference of lsets[i] where the series
// exists, 0 elsewhere, and reports whether some do not exist. It looks the
// first probeSeries up, and the rest only if one of those exists: a
// request whose first series are all new is likely all new (a new
// target's, or new series of a churning one), and its series are then
// left to the creating appender, which finds those that exist as it
// would create them, without a lookup each beforehand.
func (a *orderedAppender) findExisting(lsets []labels.Labels, refs []storage.SeriesRef) (missing bool) {
	found := false
	for i, ls := range lsets {
		if i == probeSeries && !found {
			clear(refs[i:])
			return true
		}
		ls = ls.WithoutEmpty()
		refs[i], _ = a.getRef.GetRef(ls, ls.Hash())
		missing = missing || refs[i] == 0
		found = found || refs[i] != 0
	}
	return missing
}

// probeSeries is how many series of a request findExisting looks up to
// tell whether to look up the rest.
const probeSeries = 8

// Commit commits the TSDB's appender with mtx held, so that no other
// appender of the workspace writes the WAL or the WBL, or applies samples to
// the head, in between.
func (a *orderedAppender) Commit() error {
	a.lock()
	defer a.unlock()
	return a.ExemplarAppenderV2.Commit()
}

// Rollback rolls the TSDB's appender back, which logs the Series records of
// the series it created, with mtx held if CreateSeries took it.
func (a *orderedAppender) Rollback() error {
	if a.locked {
		defer a.unlock()
	}
	return a.ExemplarAppenderV2.Rollback()
}

// lock takes mtx unless the appender holds it.
func (a *orderedAppender) lock() {
	if !a.locked {
		a.mtx.Lock()
		a.locked = true
	}
}

// unlock releases mtx.
func (a *orderedAppender) unlock() {
	a.locked = false
	a.mtx.Unlock()
}

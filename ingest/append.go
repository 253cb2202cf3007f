package ingest

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"slices"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/model/timestamp"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
)

// maxAheadTime is how far in the future a sample may be, as in Prometheus'
// receiver.
const maxAheadTime = 10 * time.Minute

var errTooFarInFuture = fmt.Errorf("%w: timestamp is too far in the future", storage.ErrOutOfBounds)

// append writes req to t in one transaction. Samples the TSDB rejects for
// their content are listed in res and the rest is committed; any other
// storage error rolls everything back and is returned.
func (h *Handler) append(ctx context.Context, t Target, req *Request, res *response) error {
	if len(req.Series) == 0 {
		// Prometheus sends 1.0 metadata in requests of its own.
		if t.Metadata != nil {
			setMetadata(t.Metadata, req)
		}
		return nil
	}
	app := t.Appendable.AppenderV2(ctx)
	a := appender{
		app:  app,
		res:  res,
		v2:   req.Version == V2,
		maxT: timestamp.FromTime(h.opts.Now().Add(maxAheadTime)),
	}
	a.exApp, _ = app.(storage.ExemplarAppenderV2)

	var families v1Families
	if len(req.Metadata) > 0 {
		families = make(v1Families, len(req.Metadata))
		for _, m := range req.Metadata {
			families[m.MetricFamily] = m.Metadata
		}
	}
	refs, scope := seriesRefs(app, req)
	for i := range req.Series {
		s := &req.Series[i]
		md := s.Metadata
		if families != nil {
			md, _ = families.lookup(s.Labels.Get(model.MetricNameLabel))
		}
		var ref storage.SeriesRef
		if refs != nil {
			ref = refs[i]
		}
		r, err := a.series(s, md, ref)
		if err != nil {
			if rerr := app.Rollback(); rerr != nil {
				h.logger.Error("Rollback after storage error failed", "workspace", t.ID, "err", rerr)
			}
			return err
		}
		if ref == 0 && s.cached != nil {
			// A series the appender created, or found, in Append.
			s.cached.keepRef(scope, s.Labels, r)
		}
	}
	if err := app.Commit(); err != nil {
		return fmt.Errorf("commit: %w", err)
	}
	h.metrics.observeWritten(t.ID, res.samples, res.histograms)
	if t.Metadata != nil {
		setMetadata(t.Metadata, req)
	}
	return nil
}

// setMetadata hands the request's metadata to the workspace's store, once
// per metric family in a row.
func setMetadata(sink MetadataSink, req *Request) {
	families := requestMetadata(req)
	if b, ok := sink.(MetadataBatchSink); ok {
		b.SetAll(families)
		return
	}
	for f, m := range families {
		sink.Set(f, m)
	}
}

// requestMetadata yields the metadata of req by metric family: its 1.0
// entries, then its series', skipping series of the family just before.
func requestMetadata(req *Request) iter.Seq2[string, metadata.Metadata] {
	return func(yield func(string, metadata.Metadata) bool) {
		for _, m := range req.Metadata {
			if !yield(m.MetricFamily, m.Metadata) {
				return
			}
		}
		var last string
		for i := range req.Series {
			s := &req.Series[i]
			if s.Metadata.IsEmpty() {
				continue
			}
			f := familyName(s.Labels.Get(model.MetricNameLabel), s.Metadata.Type, len(s.Histograms) > 0)
			if f == last {
				continue
			}
			if !yield(f, s.Metadata) {
				return
			}
			last = f
		}
	}
}

// appender appends the series of one request.
type appender struct {
	app   storage.AppenderV2
	exApp storage.ExemplarAppenderV2
	res   *response
	v2    bool
	maxT  int64
}

// seriesCreator is an appender that finds, and creates where they do not
// exist, the series of a request at once, as a workspace's appender does:
// one WAL record for all the new series of the request (see
// workspace.OrderedAppendable).
type seriesCreator interface {
	CreateSeries(lsets []labels.Labels, refs []storage.SeriesRef)
}

// refScoper is an appender whose series references may be kept from one
// request to the next: SeriesRefScope returns a number that stays the same
// for as long as every reference it gave still names the series it was
// given for (a workspace's TSDB changes it whenever its head drops series),
// and that no other appendable's scope shares. 0 means references are not
// to be kept.
type refScoper interface {
	SeriesRefScope() uint32
}

// seriesRefs returns the references of req's series when app finds them
// at once (0 for a series the TSDB refuses, or with no sample), or nil,
// and app's scope (0 when references are not to be kept). Series whose
// labels cache entry holds a reference in the scope take it and are not
// looked up; those found are kept in their entries.
func seriesRefs(app storage.AppenderV2, req *Request) (refs []storage.SeriesRef, scope uint32) {
	c, ok := app.(seriesCreator)
	if !ok {
		return nil, 0
	}
	if sc, ok := app.(refScoper); ok {
		scope = sc.SeriesRefScope()
	}
	req.refs = slices.Grow(req.refs[:0], len(req.Series))[:len(req.Series)]
	clear(req.refs)
	// Series of exemplars alone are not created, as the TSDB would not.
	req.lsets, req.idx = req.lsets[:0], req.idx[:0]
	for i := range req.Series {
		s := &req.Series[i]
		if len(s.Samples) == 0 && len(s.Histograms) == 0 {
			continue
		}
		if scope != 0 && s.cached != nil {
			if ref := s.cached.ref(scope, s.Labels); ref != 0 {
				req.refs[i] = ref
				continue
			}
		}
		req.lsets = append(req.lsets, s.Labels)
		req.idx = append(req.idx, i)
	}
	if len(req.lsets) == 0 {
		return req.refs, scope
	}
	found := slices.Grow(req.found[:0], len(req.lsets))[:len(req.lsets)]
	c.CreateSeries(req.lsets, found)
	for k, i := range req.idx {
		req.refs[i] = found[k]
		if s := &req.Series[i]; s.cached != nil {
			s.cached.keepRef(scope, s.Labels, found[k])
		}
	}
	req.found = found
	return req.refs, scope
}

// series appends one series: floats, then histograms, then exemplars,
// the first by ref when it is not 0. It returns the series' reference as
// the appender last gave it (ref when it gave none).
func (a *appender) series(s *Series, md metadata.Metadata, ref storage.SeriesRef) (storage.SeriesRef, error) {
	var (
		opts = storage.AOptions{Metadata: md}
		exs  = a.exemplars(s)
		// Exemplars go inline with the series' last sample when the
		// appender cannot take them separately.
		inline = a.exApp == nil && len(exs) > 0
		last   = len(s.Samples) + len(s.Histograms) - 1
	)
	for i, smp := range s.Samples {
		if smp.Timestamp > a.maxT {
			a.reject(s.Labels, smp.Timestamp, errTooFarInFuture)
			continue
		}
		if inline && i == last {
			opts.Exemplars = exs
		}
		r, err := a.app.Append(ref, s.Labels, smp.StartTimestamp, smp.Timestamp, smp.Value, nil, nil, opts)
		if err := a.appended(s.Labels, smp.Timestamp, len(opts.Exemplars), err, &a.res.samples); err != nil {
			return ref, err
		}
		if r != 0 {
			ref = r
		}
	}
	for i, hs := range s.Histograms {
		if hs.Timestamp > a.maxT {
			a.reject(s.Labels, hs.Timestamp, errTooFarInFuture)
			continue
		}
		if err := reduceResolution(hs); err != nil {
			a.reject(s.Labels, hs.Timestamp, err)
			continue
		}
		if inline && len(s.Samples)+i == last {
			opts.Exemplars = exs
		}
		r, err := a.app.Append(ref, s.Labels, hs.StartTimestamp, hs.Timestamp, 0, hs.H, hs.FH, opts)
		if err := a.appended(s.Labels, hs.Timestamp, len(opts.Exemplars), err, &a.res.histograms); err != nil {
			return ref, err
		}
		if r != 0 {
			ref = r
		}
	}
	if len(exs) > 0 && !inline {
		// As in Prometheus, exemplars the TSDB refuses outright (for
		// example for a series that does not exist) never fail the request.
		if _, err := a.exApp.AppendExemplars(ref, s.Labels, exs); err == nil {
			a.res.exemplars += len(exs)
		} else if failed, ok := a.partial(s.Labels, err); ok {
			a.res.exemplars += max(0, len(exs)-failed)
		}
	}
	return ref, nil
}

// appended accounts for the result of one Append of a sample (counted in
// written) with exemplars inline. It returns err when it is a storage
// failure.
func (a *appender) appended(ls labels.Labels, ts int64, exemplars int, err error, written *int) error {
	failed := 0
	if err != nil {
		var ok bool
		if failed, ok = a.partial(ls, err); !ok {
			if !a.reject(ls, ts, err) {
				return err
			}
			return nil
		}
	}
	*written++
	a.res.exemplars += max(0, exemplars-failed)
	return nil
}

// exemplars returns the series' exemplars that are not too far in the
// future, sorted by timestamp as the appender requires.
func (a *appender) exemplars(s *Series) []exemplar.Exemplar {
	if len(s.Exemplars) == 0 {
		return nil
	}
	exs := s.Exemplars
	for _, e := range exs {
		if e.Ts > a.maxT {
			exs = slices.DeleteFunc(slices.Clone(exs), func(e exemplar.Exemplar) bool { return e.Ts > a.maxT })
			break
		}
	}
	slices.SortFunc(exs, exemplar.Compare)
	return exs
}

// partial reports whether err says the sample was written but some
// exemplars were not, and how many were not. Out-of-order exemplars are
// listed for 2.0, as in Prometheus.
func (a *appender) partial(ls labels.Labels, err error) (int, bool) {
	var pErr *storage.AppendPartialError
	if !errors.As(err, &pErr) {
		return 0, false
	}
	for _, e := range pErr.ExemplarErrors {
		if a.v2 && errors.Is(e.Err, storage.ErrOutOfOrderExemplar) {
			msg := ""
			if a.res.listing() {
				msg = fmt.Sprintf("%v for series %s", e.Err, labelsString(ls))
			}
			a.res.addError(ReasonInvalidExemplar, 0, msg)
		}
	}
	return len(pErr.ExemplarErrors), true
}

// reject lists a sample the TSDB refused for its content and reports
// whether err is such a refusal; other errors are storage failures.
func (a *appender) reject(ls labels.Labels, ts int64, err error) bool {
	reason, ok := contentErrorReason(err)
	if !ok {
		return false
	}
	msg := ""
	if a.res.listing() {
		msg = fmt.Sprintf("%v for series %s at timestamp %d", err, labelsString(ls), ts)
	}
	a.res.addError(reason, 1, msg)
	return true
}

// contentErrorReason maps errors caused by the sample itself to a discard
// reason. Such errors answer 400, others 500.
func contentErrorReason(err error) (string, bool) {
	var herr histogram.Error
	switch {
	case errors.Is(err, storage.ErrOutOfOrderSample):
		return ReasonOutOfOrder, true
	case errors.Is(err, storage.ErrTooOldSample):
		return ReasonTooOld, true
	case errors.Is(err, storage.ErrOutOfBounds):
		return ReasonOutOfBounds, true
	case errors.Is(err, storage.ErrDuplicateSampleForTimestamp):
		return ReasonDuplicateTimestamp, true
	case errors.As(err, &herr), errors.Is(err, storage.ErrNativeHistogramsDisabled), errors.Is(err, errReduceResolution):
		return ReasonInvalidHistogram, true
	case errors.Is(err, tsdb.ErrInvalidSample):
		return ReasonInvalidLabel, true
	}
	return "", false
}

var errReduceResolution = errors.New("invalid histogram")

// reduceResolution brings histograms of the reserved schemas above 8 down
// to 8, as Prometheus' receiver does.
func reduceResolution(hs Histogram) error {
	var err error
	switch {
	case hs.H != nil && histogram.IsExponentialSchemaReserved(hs.H.Schema) && hs.H.Schema > histogram.ExponentialSchemaMax:
		err = hs.H.ReduceResolution(histogram.ExponentialSchemaMax)
	case hs.FH != nil && histogram.IsExponentialSchemaReserved(hs.FH.Schema) && hs.FH.Schema > histogram.ExponentialSchemaMax:
		err = hs.FH.ReduceResolution(histogram.ExponentialSchemaMax)
	}
	if err != nil {
		return fmt.Errorf("%w: %w", errReduceResolution, err)
	}
	return nil
}

// labelsString formats ls for an error message, cut at maxSeriesStringLen.
func labelsString(ls labels.Labels) string {
	s := ls.String()
	if len(s) > maxSeriesStringLen {
		s = s[:maxSeriesStringLen] + "...}"
	}
	return s
}

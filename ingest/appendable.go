package ingest

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
)

// ErrRejected wraps the error of a transaction whose samples a pipeline
// stage rejected as a whole (an HA replica that is not the leader, a rate
// limit): nothing of it was written. The error's text is the stage's.
var ErrRejected = errors.New("rejected by the write pipeline")

// AppenderV2 returns an appender that collects what is appended and, on
// Commit, runs it through the same pipeline as a remote-write request to
// the endpoint (the Handler's and the Target's stages) and appends what is
// left to the Target's storage in one transaction. It makes the Endpoint a
// storage.AppendableV2, for writers inside the program such as Prometheus'
// scrape manager.
//
// Append only records: it returns a reference derived from the labels,
// stable across transactions, which the caller may pass back (and which is
// not a TSDB reference). Commit returns nil when everything, or part of it,
// was written; the samples a stage or the TSDB refused for their content are
// counted in the Handler's discarded-samples metric, as for a remote-write
// request answered 400. It returns an error wrapping ErrRejected when a
// stage refused the whole transaction, and the storage's error when the
// storage failed, in which case nothing was written.
func (e *Endpoint) AppenderV2(ctx context.Context) storage.AppenderV2 {
	req := e.h.requests.Get().(*Request)
	req.Version = V2
	return &endpointAppender{e: e, ctx: ctx, req: req}
}

// endpointAppender is the Endpoint's storage.AppenderV2.
type endpointAppender struct {
	e   *Endpoint
	ctx context.Context
	req *Request // nil once committed or rolled back
}

var errAppenderDone = errors.New("appender already committed or rolled back")

func (a *endpointAppender) Append(_ storage.SeriesRef, ls labels.Labels, st, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, opts storage.AppendV2Options) (storage.SeriesRef, error) {
	if a.req == nil {
		return 0, errAppenderDone
	}
	s := Series{Labels: ls, Metadata: opts.Metadata}
	if h != nil || fh != nil {
		s.Histograms = []Histogram{{StartTimestamp: st, Timestamp: t, H: h, FH: fh}}
	} else {
		s.Samples = []Sample{{StartTimestamp: st, Timestamp: t, Value: v}}
	}
	if len(opts.Exemplars) > 0 {
		// The caller may reuse the slice once Append returns.
		s.Exemplars = slices.Clone(opts.Exemplars)
	}
	a.req.Series = append(a.req.Series, s)
	return seriesRef(ls), nil
}

// AppendExemplars adds exemplars to the series appended last with the same
// labels in this transaction.
func (a *endpointAppender) AppendExemplars(_ storage.SeriesRef, ls labels.Labels, exs []exemplar.Exemplar) (storage.SeriesRef, error) {
	if a.req == nil {
		return 0, errAppenderDone
	}
	for i := len(a.req.Series) - 1; i >= 0; i-- {
		if s := &a.req.Series[i]; labels.Equal(s.Labels, ls) {
			s.Exemplars = append(s.Exemplars, exs...)
			return seriesRef(ls), nil
		}
	}
	return 0, storage.ErrNotFound
}

// seriesRef is a non-zero reference that depends only on the labels.
func seriesRef(ls labels.Labels) storage.SeriesRef {
	return storage.SeriesRef(max(ls.Hash(), 1))
}

func (a *endpointAppender) Commit() error {
	req := a.req
	if req == nil {
		return errAppenderDone
	}
	a.req = nil
	defer a.e.h.release(req)

	h, t := a.e.h, a.e.t
	start := time.Now()
	res := response{max: h.opts.MaxResponseErrors, version: V2}
	err := h.commit(a.ctx, t, req, &res)
	h.countDiscarded(t.ID, &res)
	h.metrics.observeRequest(t.ID, V2, res.status, time.Since(start).Seconds())
	if res.errCount > 0 {
		h.logger.Debug("Appended samples rejected", "workspace", t.ID, "errors", res.errCount, "err", res.errs)
	}
	return err
}

// commit runs req through the pipeline and appends it, setting res.status
// as a remote-write request would have it.
func (h *Handler) commit(ctx context.Context, t Target, req *Request, res *response) error {
	if t.Appendable == nil {
		res.fail(http.StatusInternalServerError, "no storage for workspace")
		return errors.New("no storage for workspace " + t.ID)
	}
	h.metrics.observeReceived(t.ID, req)
	if !h.runPipeline(ctx, t, req, res) {
		return fmt.Errorf("%w: %s", ErrRejected, res.message)
	}
	if err := h.append(ctx, t, req, res); err != nil {
		res.fail(http.StatusInternalServerError, err.Error())
		return err
	}
	res.status = http.StatusNoContent
	if res.errCount > 0 {
		res.status = http.StatusBadRequest
	}
	return nil
}

func (a *endpointAppender) Rollback() error {
	if a.req == nil {
		return errAppenderDone
	}
	a.e.h.release(a.req)
	a.req = nil
	return nil
}

// release returns req to the pool.
func (h *Handler) release(req *Request) {
	req.reset()
	h.requests.Put(req)
}

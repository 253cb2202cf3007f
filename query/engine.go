package query

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
)

var (
	// ErrQueryTimeout is AMP's answer to a query that ran longer than
	// Options.Timeout (or the request's timeout parameter). Its text is the
	// whole error message of the response.
	ErrQueryTimeout = errors.New("query timed out - consider simplifying your query")
	// ErrSamplesProcessedErrorThreshold is returned for a query that processed
	// more samples than its max_samples_processed_error_threshold.
	ErrSamplesProcessedErrorThreshold = errors.New("query processed more samples than max_samples_processed_error_threshold")
	// ErrSamplesProcessedWarningThreshold is the warning of a query that
	// processed more samples than its max_samples_processed_warning_threshold.
	ErrSamplesProcessedWarningThreshold = errors.New("query processed more samples than max_samples_processed_warning_threshold")
)

// thresholds are AMP's per-request limits on query samples processed; zero
// means none. They travel in the request context from the handler to the
// engine, through Prometheus' endpoint code.
type thresholds struct {
	warning, error int64
}

type thresholdsKey struct{}

func withThresholds(ctx context.Context, t thresholds) context.Context {
	return context.WithValue(ctx, thresholdsKey{}, t)
}

func thresholdsFrom(ctx context.Context) thresholds {
	t, _ := ctx.Value(thresholdsKey{}).(thresholds)
	return t
}

type startKey struct{}

// withStart records when the request of a query arrived: its timeout counts
// from then, so that it covers parsing.
func withStart(ctx context.Context, t time.Time) context.Context {
	return context.WithValue(ctx, startKey{}, t)
}

func startFrom(ctx context.Context) (time.Time, bool) {
	t, ok := ctx.Value(startKey{}).(time.Time)
	return t, ok
}

// meteredEngine is the QueryEngine of one workspace: the shared engine, with
// the samples each query processed checked against the request's thresholds
// and reported for metering, the chunks and bytes it reads limited, its
// timeout counted from the request's arrival, and limits and timeouts told in
// AMP's words.
type meteredEngine struct {
	api *API
	src Source
}

// limits returns the limits of the request in ctx: those read as it arrived.
func (e *meteredEngine) limits(ctx context.Context) Limits {
	if l, ok := limitsFrom(ctx); ok {
		return l
	}
	return e.api.limitsOf(e.src)
}

func (e *meteredEngine) NewInstantQuery(ctx context.Context, q storage.Queryable, opts promql.QueryOpts, qs string, ts time.Time) (promql.Query, error) {
	l := e.limits(ctx)
	qry, err := e.api.engines.get(l).NewInstantQuery(ctx, e.limited(q, l, ts, ts), opts, qs, ts)
	if err != nil {
		return nil, err
	}
	return e.metered(ctx, qry, l), nil
}

func (e *meteredEngine) NewRangeQuery(ctx context.Context, q storage.Queryable, opts promql.QueryOpts, qs string, start, end time.Time, interval time.Duration) (promql.Query, error) {
	l := e.limits(ctx)
	qry, err := e.api.engines.get(l).NewRangeQuery(ctx, e.limited(q, l, start, end), opts, qs, start, end, interval)
	if err != nil {
		return nil, err
	}
	return e.metered(ctx, qry, l), nil
}

// limited returns the storage of a query over [start, end] with its chunk
// and byte limits.
func (e *meteredEngine) limited(q storage.Queryable, lim Limits, start, end time.Time) storage.Queryable {
	cq, ok := q.(storage.ChunkQueryable)
	if !ok {
		return q
	}
	l := newChunkLimiter(lim, start, end)
	if l == nil {
		return q
	}
	return limitedQueryable{cq: cq, l: l}
}

// metered wraps a query the engine built. Building it parsed the expression,
// which cannot be interrupted: a query whose timeout ran out meanwhile is not
// executed, and fails as a timeout.
func (e *meteredEngine) metered(ctx context.Context, qry promql.Query, l Limits) *meteredQuery {
	mq := &meteredQuery{Query: qry, engine: e}
	if start, ok := startFrom(ctx); ok && l.Timeout > 0 {
		mq.deadline = start.Add(l.Timeout)
		if !e.api.now().Before(mq.deadline) {
			mq.err = promql.ErrQueryTimeout("query parsing")
		}
	}
	if errors.Is(ctx.Err(), context.DeadlineExceeded) {
		mq.err = promql.ErrQueryTimeout("query parsing")
	}
	return mq
}

type meteredQuery struct {
	promql.Query
	engine *meteredEngine
	// deadline, if set, is when the query's timeout ends, counted from the
	// request's arrival.
	deadline time.Time
	// err, if set, fails the query without executing it.
	err error
}

func (q *meteredQuery) Exec(ctx context.Context) *promql.Result {
	api := q.engine.api
	begin := time.Now() // the engine's real time, whatever api.now says
	var res *promql.Result
	if q.err != nil {
		res = &promql.Result{Err: q.err}
	} else {
		if !q.deadline.IsZero() {
			// The engine's own timeout starts now; this one started with
			// the request, and the earlier deadline wins.
			var cancel context.CancelFunc
			ctx, cancel = context.WithTimeout(ctx, q.deadline.Sub(api.now()))
			defer cancel()
		}
		res = q.Query.Exec(ctx)
	}
	var samples int64
	if s := q.Query.Stats(); s != nil && s.Samples != nil {
		samples = s.Samples.TotalSamples
	}
	t := thresholdsFrom(ctx)

	if le, ok := asLimitError(res.Err); ok {
		api.metrics.limitHits.WithLabelValues(le.limit).Inc()
		res.Err = le
	}
	if res.Err != nil && isTimeout(res.Err) {
		api.metrics.limitHits.WithLabelValues(limitTimeout).Inc()
		res.Err = ErrQueryTimeout
	}
	if res.Err == nil {
		if err := checkResultSize(res.Value, api.opts.MaxResultSamples); err != nil {
			api.metrics.limitHits.WithLabelValues(limitResultSamples).Inc()
			res.Err = err
		}
	}
	if res.Err == nil && t.error > 0 && samples > t.error {
		api.metrics.limitHits.WithLabelValues(limitSamplesProcessed).Inc()
		res.Err = fmt.Errorf("%w (samples processed: %d, threshold: %d)", ErrSamplesProcessedErrorThreshold, samples, t.error)
		return res
	}
	if res.Err == nil && t.warning > 0 && samples > t.warning {
		res.Warnings.Add(fmt.Errorf("%w (samples processed: %d, threshold: %d)", ErrSamplesProcessedWarningThreshold, samples, t.warning))
	}

	api.metrics.samplesProcessed.Add(float64(samples))
	if api.opts.OnQuery != nil {
		api.opts.OnQuery(q.engine.src.ID, samples)
	}
	if q.engine.src.OnQuery != nil {
		q.engine.src.OnQuery(samples)
	}
	if q.engine.src.OnQueryRecord != nil {
		q.engine.src.OnQueryRecord(q.record(samples, time.Since(begin), res.Err))
	}
	return res
}

// isTimeout reports whether err means the query ran out of time, whether the
// engine noticed it or the storage did.
func isTimeout(err error) bool {
	if _, ok := errors.AsType[promql.ErrQueryTimeout](err); ok {
		return true
	}
	if se, ok := errors.AsType[promql.ErrStorage](err); ok {
		err = se.Err // ErrStorage does not unwrap
	}
	return errors.Is(err, context.DeadlineExceeded)
}

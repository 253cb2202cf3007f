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

// meteredEngine is the QueryEngine of one workspace: the shared engine, with
// the samples each query processed checked against the request's thresholds
// and reported for metering, and timeouts told in AMP's words.
type meteredEngine struct {
	api         *API
	workspaceID string
}

func (e *meteredEngine) NewInstantQuery(ctx context.Context, q storage.Queryable, opts promql.QueryOpts, qs string, ts time.Time) (promql.Query, error) {
	qry, err := e.api.engine.NewInstantQuery(ctx, q, opts, qs, ts)
	if err != nil {
		return nil, err
	}
	return &meteredQuery{Query: qry, engine: e}, nil
}

func (e *meteredEngine) NewRangeQuery(ctx context.Context, q storage.Queryable, opts promql.QueryOpts, qs string, start, end time.Time, interval time.Duration) (promql.Query, error) {
	qry, err := e.api.engine.NewRangeQuery(ctx, q, opts, qs, start, end, interval)
	if err != nil {
		return nil, err
	}
	return &meteredQuery{Query: qry, engine: e}, nil
}

type meteredQuery struct {
	promql.Query
	engine *meteredEngine
}

func (q *meteredQuery) Exec(ctx context.Context) *promql.Result {
	res := q.Query.Exec(ctx)
	var samples int64
	if s := q.Query.Stats(); s != nil && s.Samples != nil {
		samples = s.Samples.TotalSamples
	}
	api := q.engine.api
	t := thresholdsFrom(ctx)

	if res.Err != nil && isTimeout(res.Err) {
		api.metrics.limitHits.WithLabelValues(limitTimeout).Inc()
		res.Err = ErrQueryTimeout
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
		api.opts.OnQuery(q.engine.workspaceID, samples)
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

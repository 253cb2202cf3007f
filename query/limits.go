package query

import (
	"context"
	"math"
	"sync"
	"time"

	"github.com/prometheus/prometheus/promql"
)

// Limits are the query limits of one workspace, AMP's per-workspace query
// quotas. A zero or negative field means no limit (unlike Options, where
// zero means the default). A Source without a Limits function gets the
// limits of the API's Options.
type Limits struct {
	// MaxSamples is the most samples a query may hold in memory at once:
	// 422 "query processing would load too many samples into memory in
	// query execution".
	MaxSamples int
	// MaxChunksPerQuery is the most chunks a query may read from storage:
	// 422 "the query hit the max number of chunks limit".
	MaxChunksPerQuery int
	// MaxBytesPerQuery is the most bytes of chunks a query may read for
	// each started 24 hours of its range: 422 "the query hit the aggregated
	// data size limit".
	MaxBytesPerQuery int64
	// MaxQueryLength is the longest time range of a query: end - start of
	// a range query, the time its selectors, ranges and subqueries span,
	// and end - start of series, labels and label values requests that
	// give a start. Longer ones answer 400 "the query time range exceeds
	// the limit".
	MaxQueryLength time.Duration
	// Timeout is the longest a query may run, counted from the request's
	// arrival: 422 "query timed out - consider simplifying your query".
	Timeout time.Duration
}

// limits returns the Limits that o, with its defaults applied, sets.
func (o Options) limits() Limits {
	return Limits{
		MaxSamples:        max(o.MaxSamples, 0),
		MaxChunksPerQuery: max(o.MaxChunksPerQuery, 0),
		MaxBytesPerQuery:  max(o.MaxBytesPerQuery, 0),
		MaxQueryLength:    max(o.MaxQueryLength, 0),
		Timeout:           max(o.Timeout, 0),
	}
}

type limitsKey struct{}

// withQueryLimits records the limits of a request's workspace, read once when the
// request arrives, for every check and the engine to apply the same values.
func withQueryLimits(ctx context.Context, l Limits) context.Context {
	return context.WithValue(ctx, limitsKey{}, l)
}

func limitsFrom(ctx context.Context) (Limits, bool) {
	l, ok := ctx.Value(limitsKey{}).(Limits)
	return l, ok
}

// noTimeout is the engine timeout of a workspace without one: a century,
// which any deadline computed from it survives without overflowing.
const noTimeout = 100 * 365 * 24 * time.Hour

// engineKey is what makes two PromQL engines differ: the engine holds the
// samples limit and the timeout, which Prometheus does not let a query set.
type engineKey struct {
	maxSamples int
	timeout    time.Duration
}

func engineKeyOf(l Limits) engineKey {
	k := engineKey{maxSamples: l.MaxSamples, timeout: l.Timeout}
	if k.maxSamples <= 0 {
		k.maxSamples = math.MaxInt
	}
	if k.timeout <= 0 {
		k.timeout = noTimeout
	}
	return k
}

// engines holds the PromQL engines of workspaces whose samples limit or
// timeout differ from Options': one per distinct pair, made when a query
// first needs it and kept, so that a limit changed for a running workspace
// applies to its next query. They share the default engine's options but
// not its metrics (Prometheus' engine metrics cannot be registered twice),
// so prometheus_engine_* count only the queries of the default engine.
type engines struct {
	def     engineKey
	engine  *promql.Engine // the default, with Options' limits
	newFunc func(engineKey) *promql.Engine

	mtx    sync.Mutex
	others map[engineKey]*promql.Engine
}

// get returns the engine that applies l's samples limit and timeout.
func (e *engines) get(l Limits) *promql.Engine {
	k := engineKeyOf(l)
	if k == e.def {
		return e.engine
	}
	e.mtx.Lock()
	defer e.mtx.Unlock()
	ng, ok := e.others[k]
	if !ok {
		ng = e.newFunc(k)
		if e.others == nil {
			e.others = map[engineKey]*promql.Engine{}
		}
		e.others[k] = ng
	}
	return ng
}

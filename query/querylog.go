package query

import (
	"time"

	"github.com/prometheus/prometheus/promql/parser"
)

// Record is what Source.OnQueryRecord is told of a charged query: what
// AMP's query logging writes of it.
type Record struct {
	// Expr is the PromQL expression as the engine parsed it.
	Expr string
	// Start and End are the evaluation times, equal for an instant query;
	// Step is zero for an instant query.
	Start, End time.Time
	Step       time.Duration
	// SamplesProcessed is the query samples processed (QSP) it is charged.
	SamplesProcessed int64
	// Duration is how long the engine took, from the query's execution to
	// its result.
	Duration time.Duration
	// Err is the query's error, if it failed.
	Err error
}

// record describes the query for Source.OnQueryRecord.
func (q *meteredQuery) record(samples int64, took time.Duration, err error) Record {
	r := Record{Expr: q.Query.String(), SamplesProcessed: samples, Duration: took, Err: err}
	if s, ok := q.Query.Statement().(*parser.EvalStmt); ok {
		r.Start, r.End, r.Step = s.Start, s.End, s.Interval
		r.Expr = s.Expr.String()
	}
	return r
}

package query

import (
	"cmp"
	"errors"
	"fmt"
	"math"
	"net/http"
	"slices"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
	v1 "github.com/prometheus/prometheus/web/api/v1"
)

// errQueryTooLong formats Cortex's (AMP's) answer to a query whose time range
// is longer than the workspace's MaxQueryLength.
func errQueryTooLong(length, limit time.Duration) error {
	return fmt.Errorf("the query time range exceeds the limit (query length: %s, limit: %s)", model.Duration(length), model.Duration(limit))
}

// checkTimeRange rejects a range query longer than limit, in Cortex's words.
// Times that do not parse are left for Prometheus to reject.
func checkTimeRange(r *http.Request, limit time.Duration) error {
	if limit <= 0 {
		return nil
	}
	start, err := parseTime(r.FormValue("start"))
	if err != nil {
		return nil
	}
	end, err := parseTime(r.FormValue("end"))
	if err != nil {
		return nil
	}
	if length := end.Sub(start); length > limit {
		return errQueryTooLong(length, limit)
	}
	return nil
}

// checkSelectedRange rejects a query whose selectors span more time than
// limit, as Cortex's query frontend does for instant and range queries: an
// instant query of rate(x[40d]) or max_over_time(x[40d:1h]) reads 40 days.
// The selectors are measured at the instant query's time or the range
// query's end (as Cortex measures, but at an instant that an @ modifier can
// share). An expression or time that does not parse is left for Prometheus
// to reject.
func checkSelectedRange(p parser.Parser, r *http.Request, rangeQuery bool, now time.Time, lookback, limit time.Duration) error {
	qs := r.FormValue(paramQuery)
	if limit <= 0 || qs == "" {
		return nil
	}
	at, param := now, "time"
	if rangeQuery {
		param = "end"
	}
	if s := r.FormValue(param); s != "" {
		var err error
		if at, err = parseTime(s); err != nil {
			return nil
		}
	}
	expr, err := p.ParseExpr(qs)
	if err != nil {
		return nil
	}
	if length := selectedLength(expr, at.UnixMilli(), lookback); length > limit {
		return errQueryTooLong(length, limit)
	}
	return nil
}

// checkMetadataRange rejects a series, labels or label values request whose
// start and end are further apart than limit. As in Cortex, a request
// without a start, or with one at or before the Unix epoch (Prometheus'
// clients send its earliest time to mean none), is not limited; an end that
// is missing or after now counts as now.
func checkMetadataRange(r *http.Request, limit time.Duration, now time.Time) error {
	if limit <= 0 || r.FormValue("start") == "" {
		return nil
	}
	start, err := parseTime(r.FormValue("start"))
	if err != nil || start.UnixMilli() <= 0 {
		return nil
	}
	end := now
	if s := r.FormValue("end"); s != "" {
		if end, err = parseTime(s); err != nil {
			return nil
		}
		if end.After(now) {
			end = now
		}
	}
	if length := end.Sub(start); length > limit {
		return errQueryTooLong(length, limit)
	}
	return nil
}

// selectedLength returns how much time the selectors of expr read when it is
// evaluated at the instant at (in milliseconds), Cortex's measure of an
// expression's length: each selector reads its range, or the lookback delta
// for an instant selector, before the instant, moved back by its offset and
// by the offsets and ranges of the subqueries around it, or pinned by an @
// modifier. Time read by several selectors counts once.
func selectedLength(expr parser.Expr, at int64, lookback time.Duration) time.Duration {
	type span struct{ from, to int64 } // milliseconds
	var spans []span
	parser.Inspect(expr, func(node parser.Node, path []parser.Node) error {
		var (
			vs  *parser.VectorSelector
			rng time.Duration
		)
		switch n := node.(type) {
		case *parser.MatrixSelector:
			vs, _ = n.VectorSelector.(*parser.VectorSelector)
			rng = n.Range
		case *parser.VectorSelector:
			if len(path) > 0 {
				if _, ok := path[len(path)-1].(*parser.MatrixSelector); ok {
					return nil // measured with its range
				}
			}
			vs, rng = n, lookback
		}
		if vs == nil {
			return nil
		}
		// The subqueries around the selector, outermost first: an @ on one
		// pins it, and what those outside it added no longer counts.
		var (
			pinned           *int64
			subOffset, subRn time.Duration
		)
		for _, p := range path {
			sq, ok := p.(*parser.SubqueryExpr)
			if !ok {
				continue
			}
			if sq.Timestamp != nil {
				pinned, subOffset, subRn = sq.Timestamp, 0, 0
			}
			subOffset += sq.OriginalOffset
			subRn += sq.Range
		}
		from, to := at, at
		switch {
		case vs.Timestamp != nil:
			from, to = *vs.Timestamp, *vs.Timestamp
		default:
			if pinned != nil {
				from, to = *pinned, *pinned
			}
			to -= subOffset.Milliseconds()
			from -= (subOffset + subRn).Milliseconds()
		}
		from -= (rng + vs.OriginalOffset).Milliseconds()
		to -= vs.OriginalOffset.Milliseconds()
		spans = append(spans, span{from, to})
		return nil
	})
	if len(spans) == 0 {
		return 0
	}
	slices.SortFunc(spans, func(a, b span) int { return cmp.Compare(a.from, b.from) })
	var total int64
	cur := spans[0]
	for _, s := range spans[1:] {
		if s.from <= cur.to {
			cur.to = max(cur.to, s.to)
			continue
		}
		total += cur.to - cur.from
		cur = s
	}
	total += cur.to - cur.from
	return time.Duration(total) * time.Millisecond
}

// parseTime parses a time parameter as Prometheus' API does.
func parseTime(s string) (time.Time, error) {
	if t, err := strconv.ParseFloat(s, 64); err == nil {
		s, ns := math.Modf(t)
		ns = math.Round(ns*1000) / 1000
		return time.Unix(int64(s), int64(ns*float64(time.Second))).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	switch s {
	case v1.MinTime.Format(time.RFC3339Nano):
		return v1.MinTime, nil
	case v1.MaxTime.Format(time.RFC3339Nano):
		return v1.MaxTime, nil
	}
	return time.Time{}, errors.New("cannot parse time")
}

package query

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
	v1 "github.com/prometheus/prometheus/web/api/v1"
)

// The parameters of Prometheus' API that hold PromQL and times.
const (
	paramQuery = "query"
	paramMatch = "match[]"
)

var timeParams = []string{"time", "start", "end"}

// checkRequest applies the limits that must hold before Prometheus' API
// parses anything: times that parse to a point in time, and PromQL no larger
// and no deeper than the limits. It reads the form (URL and urlencoded body)
// the way Prometheus' endpoints do; the parsed form stays on r for them, so
// the body is read once. The error is the whole message of a 400 bad_data.
func (h *handler) checkRequest(r *http.Request) error {
	for _, name := range timeParams {
		if err := checkTimeParam(r, name); err != nil {
			return err
		}
	}
	o := h.api.opts
	if qs := r.FormValue(paramQuery); qs != "" {
		if err := checkExpr(qs, o.MaxQueryExpressionBytes, o.MaxQueryExpressionDepth); err != nil {
			h.api.metrics.limitHits.WithLabelValues(limitExpression).Inc()
			return err
		}
	}
	if err := r.ParseForm(); err == nil && len(r.Form[paramMatch]) > 0 {
		if err := checkMatchers(r.Form[paramMatch], o.MaxQueryExpressionBytes, o.MaxQueryExpressionDepth); err != nil {
			h.api.metrics.limitHits.WithLabelValues(limitExpression).Inc()
			return err
		}
	}
	return nil
}

// checkTimeParam rejects a time that Prometheus' API would parse to no point
// in time: NaN, infinities, and numbers of seconds outside the times its
// timestamps (milliseconds in an int64) can hold. Prometheus would evaluate
// such a query at the overflowed time -9223372036.854. Other unparseable
// values are left to Prometheus, which rejects them in the same words.
func checkTimeParam(r *http.Request, name string) error {
	s := r.FormValue(name)
	if s == "" {
		return nil
	}
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return nil // not a number: an RFC 3339 time, or Prometheus' error
	}
	if math.IsNaN(f) || f < float64(v1.MinTime.Unix()) || f > float64(v1.MaxTime.Unix()) {
		return fmt.Errorf("invalid parameter %q: cannot parse %q to a valid timestamp: not a finite number of seconds between %s and %s",
			name, s, v1.MinTime.Format(time.RFC3339), v1.MaxTime.Format(time.RFC3339))
	}
	return nil
}

// checkExpr rejects PromQL longer than maxBytes or nested deeper than
// maxDepth (a limit of zero or less is none), in Mimir's words for the size.
// Both are checked without parsing: Prometheus' parser and engine take time
// that grows with the square of the nesting depth, and the parser cannot be
// interrupted.
func checkExpr(qs string, maxBytes, maxDepth int) error {
	if maxBytes > 0 && len(qs) > maxBytes {
		return fmt.Errorf("the raw query size in bytes exceeds the limit (query size: %d, limit: %d)", len(qs), maxBytes)
	}
	if maxDepth > 0 {
		if d := exprDepth(qs); d > maxDepth {
			return fmt.Errorf("the query expression is nested too deeply (depth: %d, limit: %d): nested parentheses, brackets, braces and chained operators each add one", d, maxDepth)
		}
	}
	return nil
}

// checkMatchers applies the limits of checkExpr to the series selectors of
// match[]: their total size, and the depth of each.
func checkMatchers(ms []string, maxBytes, maxDepth int) error {
	if maxBytes > 0 {
		n := 0
		for _, m := range ms {
			n += len(m)
		}
		if n > maxBytes {
			return fmt.Errorf("the raw query size in bytes exceeds the limit (query size: %d, limit: %d): the size of all match[] selectors", n, maxBytes)
		}
	}
	for _, m := range ms {
		if err := checkExpr(m, 0, maxDepth); err != nil {
			return err
		}
	}
	return nil
}

// exprDepth returns an upper bound of the depth of the syntax tree that
// Prometheus' parser builds from qs, in time linear in its length, from its
// tokens alone: each parenthesis, bracket or brace nests one deeper, and in
// each comma-separated part of one, every operator, range and subquery may
// nest one deeper (the parser builds a+b+c as (a+b)+c, and x[1m:][1m:] as
// two subqueries, one in the other). Input that does not lex is measured up to
// where it stops; the parser then reports the error.
func exprDepth(qs string) int {
	// A group is what one pair of parentheses, brackets or braces holds, or
	// the whole expression: the operators of its current comma-separated part,
	// the deepest group nested in that part, and the deepest part before it.
	type group struct{ ops, inner, deepest int }
	groups := []group{{}}
	end := func(g group) int { return max(g.deepest, g.ops+g.inner) }
	l := parser.Lex(qs)
	var it parser.Item
	for {
		l.NextItem(&it)
		switch it.Typ {
		case parser.EOF, parser.ERROR:
			for len(groups) > 1 {
				d := end(groups[len(groups)-1])
				groups = groups[:len(groups)-1]
				top := &groups[len(groups)-1]
				top.inner = max(top.inner, d+1)
			}
			return end(groups[0])
		case parser.LEFT_BRACKET:
			// A range or subquery wraps what it follows, as an operator.
			groups[len(groups)-1].ops++
			groups = append(groups, group{})
		case parser.LEFT_PAREN, parser.LEFT_BRACE:
			groups = append(groups, group{})
		case parser.RIGHT_PAREN, parser.RIGHT_BRACKET, parser.RIGHT_BRACE:
			if len(groups) == 1 {
				continue // unbalanced: the parser's error
			}
			d := end(groups[len(groups)-1])
			groups = groups[:len(groups)-1]
			top := &groups[len(groups)-1]
			top.inner = max(top.inner, d+1)
		case parser.COMMA:
			g := &groups[len(groups)-1]
			g.deepest, g.ops, g.inner = end(*g), 0, 0
		default:
			if it.Typ.IsOperator() {
				groups[len(groups)-1].ops++
			}
		}
	}
}

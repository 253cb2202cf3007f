package query

import (
	"fmt"

	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
)

// checkResultSize fails a result of more than limit samples (none if limit
// is zero or less), before Prometheus' API encodes it.
func checkResultSize(v parser.Value, limit int) error {
	if limit <= 0 {
		return nil
	}
	n := 0
	switch v := v.(type) {
	case promql.Matrix:
		n = v.TotalSamples()
	case promql.Vector:
		n = v.TotalSamples()
	}
	if n > limit {
		return fmt.Errorf("the query result is too large to answer (samples: %d, limit: %d)", n, limit)
	}
	return nil
}

package quota

import "github.com/promspace/promspace/query"

// Query returns the query limits of l, for the workspace's
// query.Source.Limits: a zero field is no limit in both.
func (l Limits) Query() query.Limits {
	return query.Limits{
		MaxSamples:        l.MaxSamplesPerQuery,
		MaxChunksPerQuery: l.MaxChunksPerQuery,
		MaxBytesPerQuery:  l.MaxBytesPerQuery,
		MaxQueryLength:    l.MaxQueryLength,
		Timeout:           l.QueryTimeout,
	}
}

// QueryLimits returns the workspace's current query limits: a
// query.Source.Limits, which the query API calls as each request arrives,
// so that a changed limit applies to the next query.
func (q *Quota) QueryLimits() query.Limits { return q.Limits().Query() }

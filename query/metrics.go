package query

import (
	"github.com/prometheus/client_golang/prometheus"
)

// Values of the limit label of promspace_query_limit_hits_total.
const (
	limitTimeout          = "timeout"
	limitSamplesProcessed = "samples_processed_threshold"
	limitTimeRange        = "time_range"
	limitExpression       = "expression"
	limitChunks           = "chunks"
	limitBytes            = "bytes"
	limitResultSamples    = "result_samples"
)

type metrics struct {
	samplesProcessed prometheus.Counter
	limitHits        *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		samplesProcessed: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "promspace_query_samples_processed_total",
			Help: "Query samples processed (QSP) by charged queries of all workspaces.",
		}),
		limitHits: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "promspace_query_limit_hits_total",
			Help: "Queries rejected by a query limit, by limit.",
		}, []string{"limit"}),
	}
	for _, l := range []string{limitTimeout, limitSamplesProcessed, limitTimeRange, limitExpression, limitChunks, limitBytes, limitResultSamples} {
		m.limitHits.WithLabelValues(l)
	}
	if reg != nil {
		reg.MustRegister(m.samplesProcessed, m.limitHits)
	}
	return m
}

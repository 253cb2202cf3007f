package ingest

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
)

type metrics struct {
	requests   *prometheus.CounterVec
	duration   *prometheus.HistogramVec
	samples    *prometheus.CounterVec
	histograms *prometheus.CounterVec
	exemplars  *prometheus.CounterVec
	metadata   *prometheus.CounterVec
	discarded  *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "promspace",
			Subsystem: "ingest",
			Name:      "requests_total",
			Help:      "Remote-write requests by workspace, protocol version and HTTP status code.",
		}, []string{"workspace", "version", "code"}),
		duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
			Namespace:                       "promspace",
			Subsystem:                       "ingest",
			Name:                            "request_duration_seconds",
			Help:                            "Time to handle a remote-write request, by protocol version.",
			Buckets:                         prometheus.DefBuckets,
			NativeHistogramBucketFactor:     1.1,
			NativeHistogramMaxBucketNumber:  100,
			NativeHistogramMinResetDuration: 0,
		}, []string{"version"}),
		samples: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "promspace",
			Subsystem: "ingest",
			Name:      "received_samples_total",
			Help:      "Float samples received over remote write, before validation.",
		}, []string{"workspace"}),
		histograms: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "promspace",
			Subsystem: "ingest",
			Name:      "received_histograms_total",
			Help:      "Native histogram samples received over remote write, before validation.",
		}, []string{"workspace"}),
		exemplars: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "promspace",
			Subsystem: "ingest",
			Name:      "received_exemplars_total",
			Help:      "Exemplars received over remote write, before validation.",
		}, []string{"workspace"}),
		metadata: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "promspace",
			Subsystem: "ingest",
			Name:      "received_metadata_total",
			Help:      "Metadata entries received over remote write (1.0 entries, 2.0 series with metadata).",
		}, []string{"workspace"}),
		discarded: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "promspace",
			Subsystem: "ingest",
			Name:      "discarded_samples_total",
			Help:      "Float and histogram samples rejected by validation, the pipeline or the TSDB, by reason.",
		}, []string{"workspace", "reason"}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.duration, m.samples, m.histograms, m.exemplars, m.metadata, m.discarded)
	}
	return m
}

func (m *metrics) observeReceived(workspace string, r *Request) {
	if n := r.SampleCount(); n > 0 {
		m.samples.WithLabelValues(workspace).Add(float64(n))
	}
	if n := r.HistogramCount(); n > 0 {
		m.histograms.WithLabelValues(workspace).Add(float64(n))
	}
	if n := r.ExemplarCount(); n > 0 {
		m.exemplars.WithLabelValues(workspace).Add(float64(n))
	}
	if n := r.MetadataCount(); n > 0 {
		m.metadata.WithLabelValues(workspace).Add(float64(n))
	}
}

func (m *metrics) observeRequest(workspace string, v Version, code int, seconds float64) {
	m.requests.WithLabelValues(workspace, v.String(), strconv.Itoa(code)).Inc()
	m.duration.WithLabelValues(v.String()).Observe(seconds)
}

// forget deletes the series of one workspace.
func (m *metrics) forget(workspace string) {
	l := prometheus.Labels{"workspace": workspace}
	m.requests.DeletePartialMatch(l)
	m.samples.DeletePartialMatch(l)
	m.histograms.DeletePartialMatch(l)
	m.exemplars.DeletePartialMatch(l)
	m.metadata.DeletePartialMatch(l)
	m.discarded.DeletePartialMatch(l)
}

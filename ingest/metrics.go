package ingest

import (
	"strconv"

	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
)

type metrics struct {
	requests          *prometheus.CounterVec
	duration          *prometheus.HistogramVec
	samples           *prometheus.CounterVec
	histograms        *prometheus.CounterVec
	exemplars         *prometheus.CounterVec
	metadata          *prometheus.CounterVec
	discarded         *prometheus.CounterVec
	writtenSamples    *prometheus.CounterVec
	writtenHistograms *prometheus.CounterVec
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
		writtenSamples: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "promspace",
			Subsystem: "ingest",
			Name:      "written_samples_total",
			Help:      "Float samples written to the workspace's TSDB: AMP's samples ingested, with written histograms.",
		}, []string{"workspace"}),
		writtenHistograms: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "promspace",
			Subsystem: "ingest",
			Name:      "written_histograms_total",
			Help:      "Native histogram samples written to the workspace's TSDB.",
		}, []string{"workspace"}),
	}
	if reg != nil {
		reg.MustRegister(m.requests, m.duration, m.samples, m.histograms, m.exemplars, m.metadata, m.discarded,
			m.writtenSamples, m.writtenHistograms)
	}
	return m
}

// observeWritten counts the samples and histograms of a committed request.
func (m *metrics) observeWritten(workspace string, samples, histograms int) {
	if samples > 0 {
		m.writtenSamples.WithLabelValues(workspace).Add(float64(samples))
	}
	if histograms > 0 {
		m.writtenHistograms.WithLabelValues(workspace).Add(float64(histograms))
	}
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
	m.writtenSamples.DeletePartialMatch(l)
	m.writtenHistograms.DeletePartialMatch(l)
}

// Usage is what a workspace sent over remote write and what of it was
// stored, as counted by the Handler's metrics since its endpoint opened in
// this process (see Endpoint.Close): the samples-ingested meter of AMP's
// billing is WrittenSamples + WrittenHistograms.
type Usage struct {
	ReceivedSamples, ReceivedHistograms int64
	WrittenSamples, WrittenHistograms   int64
	// DiscardedSamples counts the float and histogram samples refused, by
	// reason (the discard reasons above and those of pipeline stages).
	DiscardedSamples map[string]int64
}

// Usage returns the usage of the workspace id. It reads the metrics
// without creating series for a workspace that has none, in time that
// grows with the number of workspaces: it is for views, not hot paths.
func (h *Handler) Usage(id string) Usage {
	m := h.metrics
	u := Usage{
		ReceivedSamples:    int64(counterOf(m.samples, id)[""]),
		ReceivedHistograms: int64(counterOf(m.histograms, id)[""]),
		WrittenSamples:     int64(counterOf(m.writtenSamples, id)[""]),
		WrittenHistograms:  int64(counterOf(m.writtenHistograms, id)[""]),
		DiscardedSamples:   map[string]int64{},
	}
	for reason, v := range counterOf(m.discarded, id) {
		u.DiscardedSamples[reason] = int64(v)
	}
	return u
}

// counterOf returns the values of c's series whose workspace label is id,
// by the value of their other label ("" when there is none).
func counterOf(c *prometheus.CounterVec, id string) map[string]float64 {
	ch := make(chan prometheus.Metric)
	go func() {
		c.Collect(ch)
		close(ch)
	}()
	out := map[string]float64{}
	var pb dto.Metric
	for metric := range ch {
		pb.Reset()
		if metric.Write(&pb) != nil {
			continue
		}
		ours, other := false, ""
		for _, lp := range pb.GetLabel() {
			if lp.GetName() == "workspace" {
				ours = lp.GetValue() == id
			} else {
				other = lp.GetValue()
			}
		}
		if ours {
			out[other] += pb.GetCounter().GetValue()
		}
	}
	return out
}

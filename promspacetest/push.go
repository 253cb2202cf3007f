package promspacetest

import (
	"context"
	"math"
	"net/url"
	"testing"
	"time"

	"github.com/golang/snappy"
	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	config_util "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage/remote"
)

// Push sends series, and metadata if any, to the workspace in one remote
// write 1.0 request through Prometheus' own remote-write client. An error,
// including a rejection of any sample, fails the test.
func (s *Server) Push(t testing.TB, series []prompb.TimeSeries, metadata ...prompb.MetricMetadata) {
	t.Helper()
	if err := s.push(series, metadata); err != nil {
		t.Fatalf("promspacetest: remote write: %v", err)
	}
}

func (s *Server) push(series []prompb.TimeSeries, metadata []prompb.MetricMetadata) error {
	u, err := url.Parse(s.RemoteWriteURL)
	if err != nil {
		return err
	}
	client, err := remote.NewWriteClient("promspacetest", &remote.ClientConfig{
		URL:           &config_util.URL{URL: u},
		Timeout:       model.Duration(30 * time.Second),
		WriteProtoMsg: remoteapi.WriteV1MessageType,
	})
	if err != nil {
		return err
	}
	raw, err := (&prompb.WriteRequest{Timeseries: series, Metadata: metadata}).Marshal()
	if err != nil {
		return err
	}
	_, err = client.Store(context.Background(), snappy.Encode(nil, raw), 0)
	return err
}

// PushGatherer gathers g, as Prometheus would scrape it, and pushes every
// sample with the current time over remote write, with each metric
// family's type and help as metadata. Labels in extra are added to every
// series, as a scrape adds job and instance.
func (s *Server) PushGatherer(t testing.TB, g prometheus.Gatherer, extra ...labels.Label) {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatalf("promspacetest: gather: %v", err)
	}
	series, metadata := FromMetricFamilies(mfs, time.Now(), labels.New(extra...))
	s.Push(t, series, metadata...)
}

// FromMetricFamilies turns gathered metric families into remote-write series
// and metadata, with the series a scrape of their text exposition would
// give: one per counter, gauge and untyped metric; _bucket, _sum and _count
// for a histogram; quantiles, _sum and _count for a summary. Samples without
// a timestamp of their own get ts.
func FromMetricFamilies(mfs []*dto.MetricFamily, ts time.Time, extra labels.Labels) ([]prompb.TimeSeries, []prompb.MetricMetadata) {
	var (
		series   []prompb.TimeSeries
		metadata []prompb.MetricMetadata
		b        = labels.NewBuilder(labels.EmptyLabels())
	)
	for _, mf := range mfs {
		name := mf.GetName()
		metadata = append(metadata, prompb.MetricMetadata{
			Type:             prompb.FromMetadataType(metricType(mf.GetType())),
			MetricFamilyName: name,
			Help:             mf.GetHelp(),
			Unit:             mf.GetUnit(),
		})
		for _, m := range mf.GetMetric() {
			at := ts.UnixMilli()
			if m.TimestampMs != nil {
				at = m.GetTimestampMs()
			}
			add := func(metric string, v float64, extraName, extraValue string) {
				b.Reset(extra)
				for _, lp := range m.GetLabel() {
					b.Set(lp.GetName(), lp.GetValue())
				}
				b.Set(model.MetricNameLabel, metric)
				if extraName != "" {
					b.Set(extraName, extraValue)
				}
				series = append(series, prompb.TimeSeries{
					Labels:  prompb.FromLabels(b.Labels(), nil),
					Samples: []prompb.Sample{{Value: v, Timestamp: at}},
				})
			}
			switch mf.GetType() {
			case dto.MetricType_COUNTER:
				add(name, m.GetCounter().GetValue(), "", "")
			case dto.MetricType_GAUGE:
				add(name, m.GetGauge().GetValue(), "", "")
			case dto.MetricType_UNTYPED:
				add(name, m.GetUntyped().GetValue(), "", "")
			case dto.MetricType_SUMMARY:
				sm := m.GetSummary()
				for _, q := range sm.GetQuantile() {
					add(name, q.GetValue(), model.QuantileLabel, formatFloat(q.GetQuantile()))
				}
				add(name+"_sum", sm.GetSampleSum(), "", "")
				add(name+"_count", float64(sm.GetSampleCount()), "", "")
			case dto.MetricType_HISTOGRAM, dto.MetricType_GAUGE_HISTOGRAM:
				h := m.GetHistogram()
				sawInf := false
				for _, bk := range h.GetBucket() {
					sawInf = sawInf || math.IsInf(bk.GetUpperBound(), 1)
					add(name+"_bucket", float64(bk.GetCumulativeCount()), model.BucketLabel, formatFloat(bk.GetUpperBound()))
				}
				if !sawInf {
					add(name+"_bucket", float64(h.GetSampleCount()), model.BucketLabel, formatFloat(math.Inf(1)))
				}
				add(name+"_sum", h.GetSampleSum(), "", "")
				add(name+"_count", float64(h.GetSampleCount()), "", "")
			}
		}
	}
	return series, metadata
}

func metricType(t dto.MetricType) model.MetricType {
	switch t {
	case dto.MetricType_COUNTER:
		return model.MetricTypeCounter
	case dto.MetricType_GAUGE:
		return model.MetricTypeGauge
	case dto.MetricType_SUMMARY:
		return model.MetricTypeSummary
	case dto.MetricType_HISTOGRAM:
		return model.MetricTypeHistogram
	case dto.MetricType_GAUGE_HISTOGRAM:
		return model.MetricTypeGaugeHistogram
	}
	return model.MetricTypeUnknown
}

// formatFloat writes le and quantile values as Prometheus' scrape
// normalizes them ("1.0", "+Inf").
func formatFloat(f float64) string { return labels.FormatOpenMetricsFloat(f) }

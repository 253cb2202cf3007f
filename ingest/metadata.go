package ingest

import (
	"iter"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/metadata"
)

// MetadataSink keeps the latest metadata of each metric family of a
// workspace, as Prometheus' /api/v1/metadata shows it.
type MetadataSink interface {
	Set(metricFamily string, m metadata.Metadata)
}

// MetadataBatchSink is a MetadataSink that also takes the metadata of a
// whole request at once: SetAll records each family's metadata as Set
// would, for a lock a request where Set takes one a family. It may range
// over families more than once.
type MetadataBatchSink interface {
	MetadataSink
	SetAll(families iter.Seq2[string, metadata.Metadata])
}

// familyName returns the metric family a series belongs to, as a Prometheus
// scrape of the text format names it: classic histogram and summary series
// lose their _bucket, _sum, _count (_gsum, _gcount) suffixes; counters keep
// _total, as the text format's TYPE line has it. Native histograms are named
// after their family already.
func familyName(metric string, typ model.MetricType, native bool) string {
	if native {
		return metric
	}
	var suffixes []string
	switch typ {
	case model.MetricTypeHistogram:
		suffixes = []string{"_bucket", "_sum", "_count"}
	case model.MetricTypeGaugeHistogram:
		suffixes = []string{"_bucket", "_gsum", "_gcount", "_sum", "_count"}
	case model.MetricTypeSummary:
		suffixes = []string{"_sum", "_count"}
	default:
		return metric
	}
	for _, s := range suffixes {
		if f, ok := strings.CutSuffix(metric, s); ok && f != "" {
			return f
		}
	}
	return metric
}

// v1Families indexes the metadata entries of a 1.0 request by metric family,
// to attach them to the samples of the family's series.
type v1Families map[string]metadata.Metadata

// lookup returns the metadata of the family the series named metric belongs
// to: the family of the same name, or the one that metric's suffix points
// to when its type allows the suffix.
func (f v1Families) lookup(metric string) (metadata.Metadata, bool) {
	if m, ok := f[metric]; ok {
		return m, true
	}
	i := strings.LastIndexByte(metric, '_')
	if i <= 0 {
		return metadata.Metadata{}, false
	}
	m, ok := f[metric[:i]]
	if !ok || !typeAllowsSuffix(m.Type, metric[i:]) {
		return metadata.Metadata{}, false
	}
	return m, true
}

// typeAllowsSuffix reports whether series of a family of type typ may carry
// the suffix, as Prometheus' metadata API decides it.
func typeAllowsSuffix(typ model.MetricType, suffix string) bool {
	switch suffix {
	case "_total":
		return typ == model.MetricTypeCounter
	case "_bucket":
		return typ == model.MetricTypeHistogram || typ == model.MetricTypeGaugeHistogram
	case "_sum", "_count":
		return typ == model.MetricTypeHistogram || typ == model.MetricTypeGaugeHistogram || typ == model.MetricTypeSummary
	case "_gsum", "_gcount":
		return typ == model.MetricTypeGaugeHistogram
	case "_info":
		return typ == model.MetricTypeInfo
	default:
		return false
	}
}

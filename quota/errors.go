package quota

import (
	"fmt"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
)

// Discard reasons of the ingest limits, the label values of ingest's
// discarded-samples metric. They are Cortex's (pkg/util/validation and
// pkg/ingester), which AMP reports in CloudWatch.
const (
	ReasonPerUserSeriesLimit     = "per_user_series_limit"
	ReasonPerMetricSeriesLimit   = "per_metric_series_limit"
	ReasonPerLabelSetSeriesLimit = "per_labelset_series_limit"
	ReasonRateLimited            = "rate_limited"
	ReasonMaxLabelNamesPerSeries = "max_label_names_per_series"
	ReasonLabelNameTooLong       = "label_name_too_long"
	ReasonLabelValueTooLong      = "label_value_too_long"
)

// adminMessage ends AMP's series-limit texts.
const adminMessage = "please contact administrator to raise it"

// errRateLimited is AMP's (Cortex's distributor's) text for a request over
// the token bucket, answered 429.
func errRateLimited(rate float64, samples, metadata int) error {
	return fmt.Errorf("ingestion rate limit (%v) exceeded while adding %d samples and %d metadata", rate, samples, metadata)
}

// errBurstExceeded is the text for a request larger than the bucket can
// ever hold, answered 400: Cortex answers it 429 forever (its
// rate.Limiter.AllowN refuses any n over the burst), which a sender that
// retries 429s, as Prometheus does, would retry without end. The words are
// AMP's for the burst quota.
func errBurstExceeded(burst float64, samples, metadata int) error {
	return fmt.Errorf("ingestion burst size limit (%v) exceeded while adding %d samples and %d metadata", burst, samples, metadata)
}

// limitError is the 400 error of one discard reason in one request: the
// text of its first rejected series, the series if the text does not name
// it, and how many more series were rejected for the same reason.
type limitError struct {
	text   string
	series string
	more   int
}

func (e *limitError) Error() string {
	var more string
	if e.more > 0 {
		more = fmt.Sprintf("and %d more series", e.more)
	}
	switch {
	case e.series != "" && more != "":
		return fmt.Sprintf("%s (series: %s, %s)", e.text, e.series, more)
	case e.series != "":
		return fmt.Sprintf("%s (series: %s)", e.text, e.series)
	case more != "":
		return fmt.Sprintf("%s (%s)", e.text, more)
	default:
		return e.text
	}
}

// seriesLimitText is AMP's text for a series refused by limit; it does
// not name the series.
func seriesLimitText(l seriesLimit, cfg *ingestConfig) string {
	switch l.reason {
	case ReasonPerUserSeriesLimit:
		return fmt.Sprintf("per-user series limit of %d exceeded, %s", cfg.maxSeries, adminMessage)
	case ReasonPerMetricSeriesLimit:
		return fmt.Sprintf("per-metric series limit of %d exceeded, %s", cfg.maxPerMetric, adminMessage)
	default: // ReasonPerLabelSetSeriesLimit
		s := cfg.labelSets[l.set]
		return fmt.Sprintf("per-labelset series limit of %d exceeded (labelSet: %s)", s.MaxSeries, s.LabelSet.String())
	}
}

// labelLimitText is Cortex's text (pkg/util/validation/errors.go) for a
// series over a label limit.
func labelLimitText(reason string, cfg *ingestConfig, lset labels.Labels) string {
	switch reason {
	case ReasonMaxLabelNamesPerSeries:
		m := make(model.Metric, lset.Len())
		lset.Range(func(l labels.Label) { m[model.LabelName(l.Name)] = model.LabelValue(l.Value) })
		return fmt.Sprintf("series has too many labels (actual: %d, limit: %d) series: '%s'", lset.Len(), cfg.maxLabels, m.String())
	case ReasonLabelNameTooLong:
		var name string
		lset.Range(func(l labels.Label) {
			if name == "" && len(l.Name) > cfg.maxNameLen {
				name = l.Name
			}
		})
		return fmt.Sprintf("label name too long for metric (actual: %d, limit: %d) metric: %.200q label name: %.200q",
			len(name), cfg.maxNameLen, formatLabelSet(lset), name)
	default: // ReasonLabelValueTooLong
		var name, value string
		lset.Range(func(l labels.Label) {
			if name == "" && len(l.Value) > cfg.maxValueLen {
				name, value = l.Name, l.Value
			}
		})
		return fmt.Sprintf("label value too long for metric (actual: %d, limit: %d) metric: %.200q label name: %.200q label value: %.200q",
			len(value), cfg.maxValueLen, formatLabelSet(lset), name, value)
	}
}

// formatLabelSet writes a series as Cortex's formatLabelSet does: the
// metric name, then the other labels in their order, name{a="1", b="2"}.
func formatLabelSet(lset labels.Labels) string {
	name := lset.Get(labels.MetricName)
	var others []string
	lset.Range(func(l labels.Label) {
		if l.Name != labels.MetricName || l.Value == "" {
			others = append(others, fmt.Sprintf("%s=%q", l.Name, l.Value))
		}
	})
	switch {
	case len(others) > 0:
		return name + "{" + strings.Join(others, ", ") + "}"
	case name != "":
		return name
	default:
		return "{}"
	}
}

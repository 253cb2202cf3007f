package quota

import (
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// IngestUsage is how much of its ingest limits a workspace uses at one
// moment, for a view that puts each limit next to its usage. The limits
// themselves are Quota.Limits.
type IngestUsage struct {
	// Time is when the usage was taken, on the Quota's clock.
	Time time.Time

	// ActiveSeries counts the series with a sample in the last
	// ActiveSeriesWindow, against Limits.MaxActiveSeries.
	ActiveSeries int64
	// LargestMetric is the metric name with the most active series and
	// LargestMetricSeries their number, against
	// Limits.MaxActiveSeriesPerMetric; empty and 0 without active series.
	LargestMetric       string
	LargestMetricSeries int64
	// LabelSets has one entry for each of Limits.LimitsPerLabelSet, in
	// the same order.
	LabelSets []LabelSetUsage

	// IngestionTokens is what the workspace's token bucket holds: the
	// samples and metadata a request may carry now without a 429, at most
	// Limits.IngestionBurst. It is 0 when Limits.IngestionRate is 0 (no
	// rate limit).
	IngestionTokens float64

	// MetadataFamilies counts the metric families the workspace keeps
	// metadata for, against Limits.MaxMetadataFamilies;
	// MetadataDropped the metadata updates dropped because it was full.
	MetadataFamilies int
	MetadataDropped  int64
}

// LabelSetUsage is the usage of one entry of limitsPerLabelSet.
type LabelSetUsage struct {
	// LabelSet and MaxSeries are the entry's (MaxSeries 0: no limit).
	LabelSet  labels.Labels
	MaxSeries int64
	// ActiveSeries counts the active series holding every label of
	// LabelSet.
	ActiveSeries int64
}

// IngestUsage returns the workspace's current use of its ingest limits.
// Series idle for ActiveSeriesWindow are forgotten first if the periodic
// purge is due, so the counts are exact to within PurgeInterval.
func (q *Quota) IngestUsage() IngestUsage {
	now := q.now()
	q.purgeIfDue(now, true)
	u := IngestUsage{
		Time:            now,
		ActiveSeries:    q.active.total.Load(),
		IngestionTokens: q.bucket.available(now),
	}
	u.LargestMetric, u.LargestMetricSeries = q.active.largestMetric()
	u.LabelSets = q.active.labelSetUsage()
	if md := q.metadata(); md != nil {
		u.MetadataFamilies = md.Len()
		u.MetadataDropped = md.Dropped()
	}
	return u
}

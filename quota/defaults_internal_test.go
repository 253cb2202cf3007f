package quota

import (
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/promspace/promspace/workspace"
)

// TestDefaultsAreSPECs: DefaultLimits has the defaults of SPEC.md's quota
// table, row by row, written out as the table writes them.
func TestDefaultsAreSPECs(t *testing.T) {
	l := DefaultLimits()
	for _, c := range []struct {
		row       string
		got, want any
	}{
		{"active series per workspace", l.MaxActiveSeries, 2_000_000},
		{"active series per metric name", l.MaxActiveSeriesPerMetric, 2_000_000},
		{"series per label set: none until configured", len(l.LimitsPerLabelSet), 0},
		{"ingestion rate", l.IngestionRate, 140_000.0},
		{"ingestion burst", l.IngestionBurst, 1_000_000},
		{"labels per series", l.MaxLabelsPerSeries, 70},
		{"label name length", l.MaxLabelNameLength, 1024},
		{"label value length", l.MaxLabelValueLength, 2048},
		{"HA clusters per workspace", l.MaxHAClusters, 500},
		{"metrics with metadata", l.MaxMetadataFamilies, 20_000},
		{"out-of-order window", l.OutOfOrderTimeWindow, 60 * time.Second},
		{"samples per query", l.MaxSamplesPerQuery, 50_000_000},
		{"chunks per query", l.MaxChunksPerQuery, 2_000_000},
		{"bytes per query per 24h of range", l.MaxBytesPerQuery, int64(5_000_000_000)},
		{"query time range", l.MaxQueryLength, 32 * 24 * time.Hour},
		{"query time", l.QueryTimeout, time.Minute},
		{"retention", l.Retention, 150 * 24 * time.Hour},
		{"rules per workspace", l.MaxRules, 2000},
		{"active alerts", l.MaxActiveAlerts, 1000},
	} {
		if c.got != c.want {
			t.Errorf("%s: %v, want %v", c.row, c.got, c.want)
		}
	}
}

// TestDefaultTexts: the ingest limits' texts with AMP's defaults filled in
// are those of SPEC.md's quota table.
func TestDefaultTexts(t *testing.T) {
	l := DefaultLimits()
	l.LimitsPerLabelSet = []workspace.LabelSetLimit{{LabelSet: labels.FromStrings("job", "api"), MaxSeries: 5000}}
	cfg := newIngestConfig(&l, nil)
	var many []string
	for i := range 70 {
		many = append(many, fmt.Sprintf("l%02d", i), "v")
	}
	for _, c := range []struct{ got, want string }{
		{seriesLimitText(seriesLimit{reason: ReasonPerUserSeriesLimit}, cfg),
			"per-user series limit of 2000000 exceeded, please contact administrator to raise it"},
		{seriesLimitText(seriesLimit{reason: ReasonPerMetricSeriesLimit}, cfg),
			"per-metric series limit of 2000000 exceeded, please contact administrator to raise it"},
		{seriesLimitText(seriesLimit{reason: ReasonPerLabelSetSeriesLimit}, cfg),
			`per-labelset series limit of 5000 exceeded (labelSet: {job="api"})`},
		{errRateLimited(cfg.rate, 1200, 3).Error(),
			"ingestion rate limit (140000) exceeded while adding 1200 samples and 3 metadata"},
		{strings.SplitAfter(labelLimitText(ReasonMaxLabelNamesPerSeries, cfg, labels.FromStrings(append(many, "__name__", "m")...)), " series: ")[0],
			"series has too many labels (actual: 71, limit: 70) series: "},
		{strings.SplitAfter(labelLimitText(ReasonLabelNameTooLong, cfg, labels.FromStrings("__name__", "m", strings.Repeat("n", 1025), "v")), " metric: ")[0],
			"label name too long for metric (actual: 1025, limit: 1024) metric: "},
		{strings.SplitAfter(labelLimitText(ReasonLabelValueTooLong, cfg, labels.FromStrings("__name__", "m", "a", strings.Repeat("v", 2049))), " metric: ")[0],
			"label value too long for metric (actual: 2049, limit: 2048) metric: "},
	} {
		if c.got != c.want {
			t.Errorf("got  %q\nwant %q", c.got, c.want)
		}
	}
}

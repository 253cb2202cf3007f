package quota

import (
	"slices"
	"time"

	"github.com/promspace/promspace/workspace"
)

// AMP's default quotas (SPEC.md, "Quotas"). Those the workspace package
// already owns are its constants.
const (
	DefaultMaxActiveSeries          = 2_000_000
	DefaultMaxActiveSeriesPerMetric = 2_000_000
	// DefaultIngestionRate is in samples per second.
	DefaultIngestionRate      = 140_000
	DefaultIngestionBurst     = 1_000_000
	DefaultMaxLabelsPerSeries = 70
	// DefaultMaxLabelNameLength and DefaultMaxLabelValueLength are in
	// bytes.
	DefaultMaxLabelNameLength   = 1024
	DefaultMaxLabelValueLength  = 2048
	DefaultMaxHAClusters        = 500
	DefaultMaxMetadataFamilies  = workspace.MaxMetadataFamilies
	DefaultOutOfOrderTimeWindow = workspace.DefaultOutOfOrderTimeWindow

	DefaultMaxSamplesPerQuery = 50_000_000
	DefaultMaxChunksPerQuery  = 2_000_000
	// DefaultMaxBytesPerQuery is per started 24 hours of a query's range.
	DefaultMaxBytesPerQuery = 5_000_000_000
	DefaultMaxQueryLength   = 32 * 24 * time.Hour
	DefaultQueryTimeout     = time.Minute

	DefaultRetention = workspace.DefaultRetention

	DefaultMaxRules        = 2000
	DefaultMaxActiveAlerts = 1000

	// AMP's alert manager quotas: the size of a definition (its YAML, in
	// bytes), its template files, its inhibition rules and the nodes of
	// its routing tree.
	DefaultMaxAlertManagerDefinitionBytes = 1 << 20
	DefaultMaxAlertManagerTemplates       = 100
	DefaultMaxInhibitionRules             = 100
	DefaultMaxRoutingTreeNodes            = 100
)

// Limits are the quotas of one workspace: one field for each per-workspace
// row of SPEC.md's quota table. In a Limits value a zero field means no
// limit, except OutOfOrderTimeWindow (zero accepts no out-of-order sample)
// and Retention (see below); DefaultLimits has AMP's values.
//
// Two rows of the table are not fields, because they are not a
// workspace's: workspaces per account (workspace.Options.MaxWorkspaces)
// and the QSP thresholds, which are parameters of each query (the query
// package reads them).
//
// Quota.Process enforces the ingest limits (series, labels, ingestion
// rate); the query API reads the query limits (Limits.Query), package
// rules the rules and alerts limits, package alertmanager the alert
// manager's, and the workspace's HA tracker the HA cluster limit.
type Limits struct {
	// MaxActiveSeries bounds the series of the workspace with a sample in
	// the last 2 hours: "per-user series limit of N exceeded".
	MaxActiveSeries int
	// MaxActiveSeriesPerMetric bounds the active series of one metric
	// name: "per-metric series limit of N exceeded".
	MaxActiveSeriesPerMetric int
	// LimitsPerLabelSet bound the active series holding each label set,
	// "per-labelset series limit of N exceeded". None until configured:
	// they are the workspace's Configuration.LimitsPerLabelSet, which
	// ApplyConfig copies here.
	LimitsPerLabelSet []workspace.LabelSetLimit
	// IngestionRate, in samples per second, and IngestionBurst are the
	// workspace's token bucket; a request over it answers 429 with
	// Retry-After.
	IngestionRate  float64
	IngestionBurst int
	// MaxLabelsPerSeries bounds the labels of a series, the metric name
	// included.
	MaxLabelsPerSeries int
	// MaxLabelNameLength and MaxLabelValueLength bound a label's name and
	// value, in bytes.
	MaxLabelNameLength  int
	MaxLabelValueLength int
	// MaxHAClusters bounds the HA clusters the dedupe tracker follows for
	// the workspace; the Quota gives an override's to the tracker (see
	// Quota.ApplyConfig).
	MaxHAClusters int
	// MaxMetadataFamilies bounds the metric families the workspace keeps
	// metadata for; further metadata is dropped, its samples kept.
	MaxMetadataFamilies int

	// MaxSamplesPerQuery bounds the samples a query holds in memory at
	// once.
	MaxSamplesPerQuery int
	// MaxChunksPerQuery bounds the chunks a query reads from storage.
	MaxChunksPerQuery int
	// MaxBytesPerQuery bounds the bytes of chunks a query reads for each
	// started 24 hours of its range.
	MaxBytesPerQuery int64
	// MaxQueryLength bounds the time range of a query.
	MaxQueryLength time.Duration
	// QueryTimeout bounds the time a query runs.
	QueryTimeout time.Duration

	// MaxRules bounds the rules of all the workspace's namespaces;
	// MaxActiveAlerts the alerts sent at once.
	MaxRules        int
	MaxActiveAlerts int

	// MaxAlertManagerDefinitionBytes bounds an alert manager definition's
	// YAML; MaxAlertManagerTemplates its template files,
	// MaxInhibitionRules its inhibition rules and MaxRoutingTreeNodes the
	// routes of its routing tree, the root included. Package alertmanager
	// refuses a definition over any of them.
	MaxAlertManagerDefinitionBytes int
	MaxAlertManagerTemplates       int
	MaxInhibitionRules             int
	MaxRoutingTreeNodes            int

	// OutOfOrderTimeWindow and Retention are the workspace's
	// Configuration, which ApplyConfig copies here and its TSDB enforces.
	// They are listed so that Limits shows every quota of a workspace in
	// one place; changing them here changes nothing.
	OutOfOrderTimeWindow time.Duration
	Retention            time.Duration
}

// DefaultLimits returns AMP's default quotas.
func DefaultLimits() Limits {
	return Limits{
		MaxActiveSeries:          DefaultMaxActiveSeries,
		MaxActiveSeriesPerMetric: DefaultMaxActiveSeriesPerMetric,
		IngestionRate:            DefaultIngestionRate,
		IngestionBurst:           DefaultIngestionBurst,
		MaxLabelsPerSeries:       DefaultMaxLabelsPerSeries,
		MaxLabelNameLength:       DefaultMaxLabelNameLength,
		MaxLabelValueLength:      DefaultMaxLabelValueLength,
		MaxHAClusters:            DefaultMaxHAClusters,
		MaxMetadataFamilies:      DefaultMaxMetadataFamilies,

		MaxSamplesPerQuery: DefaultMaxSamplesPerQuery,
		MaxChunksPerQuery:  DefaultMaxChunksPerQuery,
		MaxBytesPerQuery:   DefaultMaxBytesPerQuery,
		MaxQueryLength:     DefaultMaxQueryLength,
		QueryTimeout:       DefaultQueryTimeout,

		MaxRules:        DefaultMaxRules,
		MaxActiveAlerts: DefaultMaxActiveAlerts,

		MaxAlertManagerDefinitionBytes: DefaultMaxAlertManagerDefinitionBytes,
		MaxAlertManagerTemplates:       DefaultMaxAlertManagerTemplates,
		MaxInhibitionRules:             DefaultMaxInhibitionRules,
		MaxRoutingTreeNodes:            DefaultMaxRoutingTreeNodes,

		OutOfOrderTimeWindow: DefaultOutOfOrderTimeWindow,
		Retention:            DefaultRetention,
	}
}

// clone returns l sharing nothing mutable with the receiver.
func (l Limits) clone() Limits {
	l.LimitsPerLabelSet = slices.Clone(l.LimitsPerLabelSet)
	return l
}

// withConfig returns l with the quotas that c holds.
func (l Limits) withConfig(c workspace.Configuration) Limits {
	l.LimitsPerLabelSet = slices.Clone(c.LimitsPerLabelSet)
	l.OutOfOrderTimeWindow = c.OutOfOrderTimeWindow
	l.Retention = c.Retention
	return l
}

package quota

import (
	"encoding/json"
	"math"
	"net/http"
	"time"
)

// View is the JSON of GET /workspaces/{id}/limits, a promspace extension:
// every limit of the workspace next to its current usage, to show how close
// the workspace is to each (README, "Limits and the /limits view").
type View struct {
	WorkspaceID string     `json:"workspaceId"`
	Time        time.Time  `json:"time"`
	Limits      ViewLimits `json:"limits"`
	// LabelSets has one entry per limitsPerLabelSet entry, in order.
	LabelSets []LabelSetView `json:"labelSets"`
	Usage     UsageView      `json:"usage"`
}

// ViewLimits holds one ViewLimit per quota, in the order of SPEC.md's table.
type ViewLimits struct {
	ActiveSeries          ViewLimit `json:"activeSeries"`
	ActiveSeriesPerMetric ViewLimit `json:"activeSeriesPerMetric"`
	IngestionRate         ViewLimit `json:"ingestionRate"`
	IngestionBurst        ViewLimit `json:"ingestionBurst"`
	LabelsPerSeries       ViewLimit `json:"labelsPerSeries"`
	LabelNameLength       ViewLimit `json:"labelNameLength"`
	LabelValueLength      ViewLimit `json:"labelValueLength"`
	HAClusters            ViewLimit `json:"haClusters"`
	MetadataFamilies      ViewLimit `json:"metadataFamilies"`
	OutOfOrderTimeWindow  ViewLimit `json:"outOfOrderTimeWindow"`
	SamplesPerQuery       ViewLimit `json:"samplesPerQuery"`
	ChunksPerQuery        ViewLimit `json:"chunksPerQuery"`
	BytesPerQuery         ViewLimit `json:"bytesPerQuery"`
	QueryTimeRange        ViewLimit `json:"queryTimeRange"`
	QueryTimeout          ViewLimit `json:"queryTimeout"`
	Retention             ViewLimit `json:"retention"`
	Rules                 ViewLimit `json:"rules"`
	ActiveAlerts          ViewLimit `json:"activeAlerts"`
}

// ViewLimit is one limit and its usage. Limit is null when there is none,
// Usage when promspace does not measure it (a per-query or per-series
// limit, or one whose owner is not built yet). Durations are in seconds.
type ViewLimit struct {
	Limit *float64 `json:"limit"`
	Usage *float64 `json:"usage"`
	Unit  string   `json:"unit"`
	// Metric names the metric of activeSeriesPerMetric's usage: the one
	// with the most active series.
	Metric string `json:"metric,omitempty"`
}

// LabelSetView is one entry of limitsPerLabelSet and its active series.
type LabelSetView struct {
	LabelSet map[string]string `json:"labelSet"`
	ViewLimit
}

// UsageView is the workspace's meter reading: AMP's billing dimensions and
// the samples discarded, by reason. Counts start when the workspace opened
// in this process.
type UsageView struct {
	SamplesIngested       int64            `json:"samplesIngested"`
	HistogramsIngested    int64            `json:"histogramsIngested"`
	SamplesDiscarded      map[string]int64 `json:"samplesDiscarded"`
	StorageBytes          StorageView      `json:"storageBytes"`
	QuerySamplesProcessed int64            `json:"querySamplesProcessed"`
}

// StorageView is StorageBytes in JSON, with their total.
type StorageView struct {
	Head   int64 `json:"head"`
	WAL    int64 `json:"wal"`
	Blocks int64 `json:"blocks"`
	Total  int64 `json:"total"`
}

// View returns the workspace's limits next to their usage.
func (q *Quota) View() View {
	l := q.Limits()
	u := q.IngestUsage()
	var r MeterReading
	if m := q.Meter(); m != nil {
		r = m.Read()
	}
	count := func(limit, usage int64, unit string) ViewLimit {
		return ViewLimit{Limit: limitOf(float64(limit)), Usage: ptr(float64(usage)), Unit: unit}
	}
	static := func(limit float64, unit string) ViewLimit {
		return ViewLimit{Limit: limitOf(limit), Unit: unit}
	}
	seconds := func(d time.Duration) ViewLimit { return static(d.Seconds(), "seconds") }

	v := View{
		WorkspaceID: q.id,
		Time:        u.Time.UTC(),
		Limits: ViewLimits{
			ActiveSeries:          count(int64(l.MaxActiveSeries), u.ActiveSeries, "series"),
			ActiveSeriesPerMetric: count(int64(l.MaxActiveSeriesPerMetric), u.LargestMetricSeries, "series"),
			IngestionRate:         static(l.IngestionRate, "samples/s"),
			IngestionBurst:        static(float64(l.IngestionBurst), "samples"),
			LabelsPerSeries:       static(float64(l.MaxLabelsPerSeries), "labels"),
			LabelNameLength:       static(float64(l.MaxLabelNameLength), "bytes"),
			LabelValueLength:      static(float64(l.MaxLabelValueLength), "bytes"),
			HAClusters:            static(float64(l.MaxHAClusters), "clusters"),
			MetadataFamilies:      count(int64(l.MaxMetadataFamilies), int64(u.MetadataFamilies), "families"),
			SamplesPerQuery:       static(float64(l.MaxSamplesPerQuery), "samples"),
			ChunksPerQuery:        static(float64(l.MaxChunksPerQuery), "chunks"),
			BytesPerQuery:         static(float64(l.MaxBytesPerQuery), "bytes per 24h of range"),
			QueryTimeRange:        seconds(l.MaxQueryLength),
			QueryTimeout:          seconds(l.QueryTimeout),
			Retention:             seconds(l.Retention),
			Rules:                 static(float64(l.MaxRules), "rules"),
			ActiveAlerts:          static(float64(l.MaxActiveAlerts), "alerts"),
		},
		LabelSets: []LabelSetView{},
		Usage: UsageView{
			SamplesIngested:    r.SamplesIngested,
			HistogramsIngested: r.HistogramsIngested,
			SamplesDiscarded:   r.SamplesDiscarded,
			StorageBytes: StorageView{Head: r.Storage.Head, WAL: r.Storage.WAL, Blocks: r.Storage.Blocks,
				Total: r.Storage.Total()},
			QuerySamplesProcessed: r.QuerySamplesProcessed,
		},
	}
	v.Limits.ActiveSeriesPerMetric.Metric = u.LargestMetric
	if f := q.controlPlane.Load(); f != nil {
		rules, alerts := (*f)()
		v.Limits.Rules = count(int64(l.MaxRules), int64(rules), "rules")
		v.Limits.ActiveAlerts = count(int64(l.MaxActiveAlerts), int64(alerts), "alerts")
	}
	if q.ha != nil {
		// The tracker's limit is the one in force: its own options' may
		// differ from Limits'.
		n := q.ha.Options().MaxClusters
		if n == math.MaxInt {
			n = 0
		}
		v.Limits.HAClusters = count(int64(n), int64(q.ha.Clusters()), "clusters")
	}
	// Zero accepts no out-of-order sample: a limit, not none.
	v.Limits.OutOfOrderTimeWindow = ViewLimit{Limit: ptr(l.OutOfOrderTimeWindow.Seconds()), Unit: "seconds"}
	if l.IngestionRate > 0 {
		// What a request would take of the burst now.
		v.Limits.IngestionBurst.Usage = ptr(max(0, float64(l.IngestionBurst)-u.IngestionTokens))
	}
	if v.Usage.SamplesDiscarded == nil {
		v.Usage.SamplesDiscarded = map[string]int64{}
	}
	for _, s := range u.LabelSets {
		v.LabelSets = append(v.LabelSets, LabelSetView{
			LabelSet:  s.LabelSet.Map(),
			ViewLimit: count(s.MaxSeries, s.ActiveSeries, "series"),
		})
	}
	return v
}

// limitOf is a limit's JSON value: null for zero, no limit.
func limitOf(v float64) *float64 {
	if v <= 0 {
		return nil
	}
	return &v
}

func ptr(v float64) *float64 { return &v }

// ServeHTTP answers GET /workspaces/{id}/limits with the workspace's View.
// The caller routes, authenticates and authorizes the request.
func (q *Quota) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodGet && r.Method != http.MethodHead {
		w.Header().Set("Allow", "GET, HEAD")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	b, err := json.Marshal(q.View())
	if err != nil {
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.Write(b)
}

// ControlPlaneUsage reports a workspace's rules and its firing alerts, for
// the View's rules and activeAlerts.
type ControlPlaneUsage func() (rules, activeAlerts int)

// SetControlPlaneUsage sets what reports the workspace's rules and firing
// alerts to the View: the rules component sets it when it opens and
// clears it (nil) when it closes. Without it the View gives the limits
// alone.
func (q *Quota) SetControlPlaneUsage(f ControlPlaneUsage) {
	if f == nil {
		q.controlPlane.Store(nil)
		return
	}
	q.controlPlane.Store(&f)
}

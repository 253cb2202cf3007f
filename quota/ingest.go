package quota

import (
	"context"
	"net/http"
	"slices"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/promspace/promspace/ingest"
	"github.com/promspace/promspace/workspace"
)

// ingestConfig is what Process reads of the limits, swapped whole when they
// change.
type ingestConfig struct {
	maxSeries, maxPerMetric int64
	labelSets               []workspace.LabelSetLimit
	rate                    float64

	maxLabels, maxNameLen, maxValueLen int
	// gen numbers the label limits: a series checked against generation
	// gen is not checked again until they change.
	gen uint64
}

func newIngestConfig(l *Limits, old *ingestConfig) *ingestConfig {
	c := &ingestConfig{
		maxSeries:    int64(l.MaxActiveSeries),
		maxPerMetric: int64(l.MaxActiveSeriesPerMetric),
		labelSets:    slices.Clone(l.LimitsPerLabelSet),
		rate:         l.IngestionRate,
		maxLabels:    l.MaxLabelsPerSeries,
		maxNameLen:   l.MaxLabelNameLength,
		maxValueLen:  l.MaxLabelValueLength,
		gen:          1,
	}
	if old != nil {
		c.gen = old.gen
		if c.maxLabels != old.maxLabels || c.maxNameLen != old.maxNameLen || c.maxValueLen != old.maxValueLen {
			c.gen++
		}
	}
	return c
}

// labelViolation returns the reason lset breaks a label limit, "" if none,
// checked in Cortex's order: the number of labels, then each label's name
// and value.
func (c *ingestConfig) labelViolation(lset labels.Labels) string {
	n, reason := 0, ""
	lset.Range(func(l labels.Label) {
		n++
		switch {
		case reason != "":
		case c.maxNameLen > 0 && len(l.Name) > c.maxNameLen:
			reason = ReasonLabelNameTooLong
		case c.maxValueLen > 0 && len(l.Value) > c.maxValueLen:
			reason = ReasonLabelValueTooLong
		}
	})
	if c.maxLabels > 0 && n > c.maxLabels {
		return ReasonMaxLabelNamesPerSeries
	}
	return reason
}

// ingestScratch is the per-request state of Process, pooled.
type ingestScratch struct {
	series []seriesState
	// rejected has one entry per discard reason met, in order.
	rejected []rejectedSeries
}

type seriesState struct {
	hash    uint64
	entry   *activeEntry // nil: not active when the request came
	refused bool         // over a label limit
}

// rejectedSeries are the series of a request refused for one reason: the
// first, which the response names, and how many.
type rejectedSeries struct {
	limit seriesLimit
	first int
	n     int
}

// Process implements ingest.Stage: it enforces the workspace's ingest
// limits on req, as Cortex's distributor and ingester do, in this order:
//
//  1. label limits (labels per series, name and value length): series
//     over them are dropped;
//  2. the ingestion token bucket, for the samples, histograms and
//     metadata left: a request over it is refused whole with 429 and
//     Retry-After (400 if it is larger than the burst, which no wait
//     makes room for), and counts no series as active;
//  3. active series: a series not active yet is admitted if the
//     workspace, its metric name and each label set it matches have room
//     for one more; series refused are dropped.
//
// Dropped series answer 400, every other sample being written: one
// message a reason, AMP's text naming the first series refused for it and
// how many more were. Discards are counted by Cortex's reason names.
// A series already active costs a hash and a lookup in a shard of the
// workspace's own; no lock is shared with other workspaces.
func (q *Quota) Process(_ context.Context, _ ingest.Target, req *ingest.Request) error {
	cfg := q.cfg.Load()
	now := q.now()
	nowMs := now.UnixMilli()
	q.purgeIfDue(now, false)

	sc, _ := q.scratch.Get().(*ingestScratch)
	if sc == nil {
		sc = &ingestScratch{}
	}
	defer q.putScratch(sc)
	sc.series = slices.Grow(sc.series[:0], len(req.Series))[:len(req.Series)]

	checkLabels := cfg.maxLabels > 0 || cfg.maxNameLen > 0 || cfg.maxValueLen > 0
	samples, metadata := 0, len(req.Metadata)
	for i := range req.Series {
		s := &req.Series[i]
		h := s.Labels.Hash()
		e := q.active.get(h, s.Labels)
		sc.series[i] = seriesState{hash: h, entry: e}
		if checkLabels && (e == nil || e.checked.Load() != cfg.gen) {
			if r := cfg.labelViolation(s.Labels); r != "" {
				sc.series[i].refused = true
				sc.reject(req, seriesLimit{reason: r}, i)
				continue
			}
			if e != nil {
				e.checked.Store(cfg.gen)
			}
		}
		samples += len(s.Samples) + len(s.Histograms)
		if !s.Metadata.IsEmpty() {
			metadata++
		}
	}

	switch d, wait := q.bucket.take(now, samples+metadata); d {
	case bucketWait:
		return &ingest.StatusError{
			Status:     http.StatusTooManyRequests,
			RetryAfter: retryAfter(wait),
			Err:        errRateLimited(cfg.rate, samples, metadata),
			Reason:     ReasonRateLimited,
		}
	case bucketTooLarge:
		_, burst := q.bucket.limit()
		return &ingest.StatusError{
			Status: http.StatusBadRequest,
			Err:    errBurstExceeded(burst, samples, metadata),
			Reason: ReasonRateLimited,
		}
	}

	lim := limitsFor{maxSeries: cfg.maxSeries, maxPerMetric: cfg.maxPerMetric}
	for i := range sc.series {
		st := &sc.series[i]
		if st.refused || (st.entry != nil && st.entry.touch(nowMs)) {
			continue
		}
		lset := req.Series[i].Labels
		_, l := q.active.add(st.hash, lset, nowMs, lim, false, cfg.gen)
		if l.reason != "" && q.purging.Load() {
			// Idle series are being purged: count once they are gone.
			q.awaitPurge()
			_, l = q.active.add(st.hash, lset, nowMs, lim, false, cfg.gen)
		}
		if l.reason != "" {
			sc.reject(req, l, i)
		}
	}

	for _, r := range sc.rejected {
		lset := req.Series[r.first].Labels
		var text string
		switch r.limit.reason {
		case ReasonMaxLabelNamesPerSeries, ReasonLabelNameTooLong, ReasonLabelValueTooLong:
			text = labelLimitText(r.limit.reason, cfg, lset)
		default:
			text = seriesLimitText(r.limit, cfg, lset)
		}
		req.Drop(r.first, r.limit.reason, &limitError{text: text, more: r.n - 1})
	}
	return nil
}

// reject notes that series i is refused for l: the first of a reason is
// dropped with its error once all are known, the others at once without.
func (sc *ingestScratch) reject(req *ingest.Request, l seriesLimit, i int) {
	for k := range sc.rejected {
		if r := &sc.rejected[k]; r.limit.reason == l.reason {
			r.n++
			req.Drop(i, l.reason, nil)
			return
		}
	}
	sc.rejected = append(sc.rejected, rejectedSeries{limit: l, first: i, n: 1})
}

func (q *Quota) putScratch(sc *ingestScratch) {
	clear(sc.series) // drops the entries
	sc.series = sc.series[:0]
	sc.rejected = sc.rejected[:0]
	q.scratch.Put(sc)
}

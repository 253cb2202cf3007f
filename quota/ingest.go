package quota

import (
	"context"
	"net/http"
	"slices"
	"time"

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
	gen uint32
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

func (c *ingestConfig) checksLabels() bool {
	return c.maxLabels > 0 || c.maxNameLen > 0 || c.maxValueLen > 0
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
	// prefetched keeps what hashAll read, lest its reads be dropped.
	prefetched uint64
	// order lists the series by shard, those of shard k being
	// order[bounds[k]:bounds[k+1]], for seeAll to lock each shard once.
	order  []int32
	bounds [activeShards + 1]int32
}

type seriesState struct {
	hash uint64
	step seriesStep
	// checked is the generation of label limits a series active but not
	// touched yet passed, to record when it is; 0 for nothing new.
	checked uint32
}

// seriesStep is where a series of a request stands.
type seriesStep uint8

const (
	stepDone   seriesStep = iota // active and touched, or refused
	stepActive                   // active, its labels passed, not touched yet
	stepNew                      // not active, its labels passed: to admit
)

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
//
// A series already active costs a hash and one lookup in a shard of the
// workspace's own; no lock is shared with other workspaces. That is when
// the bucket holds the whole request: its tokens are taken first and
// those of series over a label limit given back, so series can be touched
// as they are looked up, shard by shard, each shard's read lock taken
// once. Otherwise the series are looked up, the tokens of those left
// taken, and then they are touched.
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

	if q.bucket.tryTake(now, tokens(req)) {
		q.bucket.giveBack(q.seeAll(cfg, nowMs, req, sc))
	} else {
		if err := q.lookAll(cfg, now, req, sc); err != nil {
			return err
		}
		for i := range sc.series {
			if st := &sc.series[i]; st.step == stepActive {
				st.step = stepDone
				if !q.active.touch(st.hash, req.Series[i].Labels, nowMs, st.checked) {
					st.step = stepNew // purged meanwhile
				}
			}
		}
	}

	lim := limitsFor{maxSeries: cfg.maxSeries, maxPerMetric: cfg.maxPerMetric}
	for i := range sc.series {
		st := &sc.series[i]
		if st.step != stepNew {
			continue
		}
		lset := req.Series[i].Labels
		l := q.active.add(st.hash, lset, nowMs, lim, false, cfg.gen)
		if l.reason != "" && q.purging.Load() {
			// Idle series are being purged: count once they are gone.
			q.awaitPurge()
			l = q.active.add(st.hash, lset, nowMs, lim, false, cfg.gen)
		}
		if l.reason != "" {
			sc.reject(req, l, i)
		}
	}

	// Messages in the order of the series they name.
	slices.SortFunc(sc.rejected, func(a, b rejectedSeries) int { return a.first - b.first })
	for _, r := range sc.rejected {
		lset := req.Series[r.first].Labels
		err := &limitError{more: r.n - 1}
		switch r.limit.reason {
		case ReasonMaxLabelNamesPerSeries, ReasonLabelNameTooLong, ReasonLabelValueTooLong:
			err.text = labelLimitText(r.limit.reason, cfg, lset)
		default:
			err.text, err.series = seriesLimitText(r.limit, cfg), lset.String()
		}
		req.Drop(r.first, r.limit.reason, err)
	}
	return nil
}

// hashAll hashes the series of req into sc, and brings the slots their
// lookups will read into cache meanwhile, for the lookups not to wait for
// the memory one after the other: the steady state of a workspace with
// many active series costs one cache miss a series, which overlap here.
// It also sorts the series by shard, into sc.order.
func (q *Quota) hashAll(req *ingest.Request, sc *ingestScratch) {
	clear(sc.bounds[:])
	for i := range req.Series {
		h := slotHash(seriesHash(req.Series[i].Labels))
		sc.series[i] = seriesState{hash: h}
		sc.bounds[h&(activeShards-1)+1]++
	}
	for k := 1; k <= activeShards; k++ {
		sc.bounds[k] += sc.bounds[k-1]
	}
	sc.order = slices.Grow(sc.order[:0], len(sc.series))[:len(sc.series)]
	next := sc.bounds
	for i := range sc.series {
		k := sc.series[i].hash & (activeShards - 1)
		sc.order[next[k]] = int32(i)
		next[k]++
	}
	// A loop of its own, short, so that many of its reads are in flight
	// at once.
	var sum uint64
	for i := range sc.series {
		sum += q.active.prefetch(sc.series[i].hash)
	}
	sc.prefetched = sum
}

// tokens returns the tokens req takes whole: one for each sample,
// histogram and metadata entry (in one pass over the series, which
// Request's counts would take three).
func tokens(req *ingest.Request) int {
	n := len(req.Metadata)
	for i := range req.Series {
		s := &req.Series[i]
		n += len(s.Samples) + len(s.Histograms)
		if !s.Metadata.IsEmpty() {
			n++
		}
	}
	return n
}

// seeAll looks every series of req up, touching those active, once the
// bucket gave tokens for all. It returns the tokens of the series refused
// for their labels.
func (q *Quota) seeAll(cfg *ingestConfig, now int64, req *ingest.Request, sc *ingestScratch) (unused int) {
	q.hashAll(req, sc)
	checkLabels := cfg.checksLabels()
	for k := range activeShards {
		group := sc.order[sc.bounds[k]:sc.bounds[k+1]]
		if len(group) == 0 {
			continue
		}
		sh := &q.active.shards[k]
		sh.mtx.RLock()
		for _, i := range group {
			s, st := &req.Series[i], &sc.series[i]
			active, violation := sh.see(st.hash, s.Labels, now, cfg, checkLabels)
			if !active && checkLabels {
				violation = cfg.labelViolation(s.Labels)
			}
			switch {
			case violation != "":
				sc.reject(req, seriesLimit{reason: violation}, int(i))
				unused += len(s.Samples) + len(s.Histograms)
				if !s.Metadata.IsEmpty() {
					unused++
				}
			case !active:
				st.step = stepNew
			}
		}
		sh.mtx.RUnlock()
	}
	return unused
}

// lookAll looks every series of req up and checks its labels, then takes
// the tokens of those left from the bucket, or returns the error that
// refuses the request.
func (q *Quota) lookAll(cfg *ingestConfig, now time.Time, req *ingest.Request, sc *ingestScratch) error {
	q.hashAll(req, sc)
	checkLabels := cfg.checksLabels()
	samples, metadata := 0, len(req.Metadata)
	for i := range req.Series {
		s := &req.Series[i]
		st := &sc.series[i]
		h := st.hash
		active, checked := q.active.lookup(h, s.Labels)
		st.step = stepNew
		if active {
			st.step = stepActive
		}
		if checkLabels && (!active || checked != cfg.gen) {
			if r := cfg.labelViolation(s.Labels); r != "" {
				st.step = stepDone
				sc.reject(req, seriesLimit{reason: r}, i)
				continue
			}
			st.checked = cfg.gen
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
	return nil
}

// reject notes that series i is refused for l: the first of a reason, in
// the request's order, is dropped with its error once all are known, the
// others at once without.
func (sc *ingestScratch) reject(req *ingest.Request, l seriesLimit, i int) {
	for k := range sc.rejected {
		if r := &sc.rejected[k]; r.limit.reason == l.reason {
			r.n++
			if i < r.first {
				// Series are not seen in their order: the first is the
				// one to name.
				r.first, i, r.limit = i, r.first, l
			}
			req.Drop(i, l.reason, nil)
			return
		}
	}
	sc.rejected = append(sc.rejected, rejectedSeries{limit: l, first: i, n: 1})
}

func (q *Quota) putScratch(sc *ingestScratch) {
	sc.series = sc.series[:0]
	sc.rejected = sc.rejected[:0]
	q.scratch.Put(sc)
}

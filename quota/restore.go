package quota

import (
	"context"
	"fmt"
	"math"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/promspace/promspace/workspace"
)

// restore counts as active the series of w's TSDB, open and replayed, with
// a sample in the last ActiveSeriesWindow, each last seen at its last
// sample (at most now), so that a restart forgets no active series and
// lets no new ones past the limits. They are counted whatever the limits,
// as series that were admitted before.
//
// It reads w.DB(), not w: a workspace that is opening serves no queriers.
func (q *Quota) restore(ctx context.Context, w *workspace.Workspace) error {
	db := w.DB()
	if db == nil {
		return nil
	}
	now := q.now().UnixMilli()
	// Up to the end of time: samples up to ingest's 10 minutes ahead of
	// now are accepted, and make their series active.
	cq, err := db.ChunkQuerier(now-ActiveSeriesWindow.Milliseconds(), math.MaxInt64)
	if err != nil {
		return fmt.Errorf("count active series: %w", err)
	}
	defer cq.Close()
	set := cq.Select(ctx, false, nil, labels.MustNewMatcher(labels.MatchRegexp, labels.MetricName, ".+"))
	for n := 0; set.Next(); n++ {
		if n%1024 == 0 && ctx.Err() != nil {
			return fmt.Errorf("count active series: %w", ctx.Err())
		}
		s := set.At()
		last := int64(math.MinInt64)
		it := s.Iterator(nil)
		for it.Next() {
			last = max(last, it.At().MaxTime)
		}
		if err := it.Err(); err != nil {
			return fmt.Errorf("count active series: %w", err)
		}
		if last == math.MinInt64 {
			continue
		}
		lset := s.Labels().Copy()
		q.active.add(slotHash(seriesHash(lset)), lset, min(last, now), limitsFor{}, true, 0)
	}
	if err := set.Err(); err != nil {
		return fmt.Errorf("count active series: %w", err)
	}
	return nil
}

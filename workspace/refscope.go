package workspace

import (
	"sync/atomic"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb/chunks"
)

// refScopes tells the appenders of a workspace's TSDB for how long a series
// reference they gave out stays good (see orderedAppender.SeriesRefScope).
// The TSDB never gives two series the same reference, so a reference names
// its series until the head drops that series; the TSDB's series lifecycle
// callback reports each drop, and refScopes then starts a new scope, which
// tells every holder of a reference of the old one to look its series up
// again.
type refScopes struct {
	cur atomic.Uint32
}

// lastScope numbers the scopes of every workspace of the process, so that
// no two share a number until 2^32 scopes have begun: with a scope begun
// at each drop of series from a head, every two hours or so per workspace,
// that is beyond the life of any process.
var lastScope atomic.Uint32

func nextScope() uint32 {
	for {
		if id := lastScope.Add(1); id != 0 {
			return id
		}
	}
}

func newRefScopes() *refScopes {
	s := &refScopes{}
	s.cur.Store(nextScope())
	return s
}

// scope returns the current scope, never 0.
func (s *refScopes) scope() uint32 { return s.cur.Load() }

// PreCreation implements tsdb.SeriesLifecycleCallback.
func (*refScopes) PreCreation(labels.Labels) error { return nil }

// PostCreation implements tsdb.SeriesLifecycleCallback.
func (*refScopes) PostCreation(labels.Labels) {}

// PostDeletion implements tsdb.SeriesLifecycleCallback: series were
// dropped from the head, so references given out before may name nothing.
func (s *refScopes) PostDeletion(deleted map[chunks.HeadSeriesRef]labels.Labels) {
	if len(deleted) > 0 {
		s.cur.Store(nextScope())
	}
}

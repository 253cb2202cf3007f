package workspace

import (
	"sync/atomic"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb/chunks"
)

// refScopes tells the appenders of a workspace's TSDB for how long a series
// reference they gave out stays good (see Workspace.AppenderV2's
// SeriesRefScope). The TSDB never gives two series the same reference, so
// a reference names its series until the head drops that series; the
// TSDB's series lifecycle callback reports each drop, and refScopes then
// starts a new scope, which tells every holder of a reference of the old
// one to look its series up again.
type refScopes struct {
	cur atomic.Pointer[refScope]
}

// refScope is one scope: its identity is its address, hence a field, so
// that no two scopes share one.
type refScope struct{ _ byte }

func newRefScopes() *refScopes {
	s := &refScopes{}
	s.cur.Store(new(refScope))
	return s
}

// scope returns the current scope.
func (s *refScopes) scope() *refScope { return s.cur.Load() }

// PreCreation implements tsdb.SeriesLifecycleCallback.
func (*refScopes) PreCreation(labels.Labels) error { return nil }

// PostCreation implements tsdb.SeriesLifecycleCallback.
func (*refScopes) PostCreation(labels.Labels) {}

// PostDeletion implements tsdb.SeriesLifecycleCallback: series were
// dropped from the head, so references given out before may name nothing.
func (s *refScopes) PostDeletion(deleted map[chunks.HeadSeriesRef]labels.Labels) {
	if len(deleted) > 0 {
		s.cur.Store(new(refScope))
	}
}

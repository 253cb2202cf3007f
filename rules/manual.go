package rules

import (
	"context"
	"errors"
	"sync"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	promrules "github.com/prometheus/prometheus/rules"
)

// parking holds the own schedules of the groups of a manager under
// ManualEvaluation. Prometheus runs every group in a loop of its own; park,
// the loop's iteration function, blocks it in its first iteration until
// the group is to stop, so that the loop neither evaluates nor touches the
// group's state (its `for` restore, above all) while EvalAt does.
type parking struct {
	mtx sync.Mutex
	chs map[*promrules.Group]chan struct{}
}

func (p *parking) ch(g *promrules.Group) chan struct{} {
	p.mtx.Lock()
	defer p.mtx.Unlock()
	if p.chs == nil {
		p.chs = map[*promrules.Group]chan struct{}{}
	}
	ch, ok := p.chs[g]
	if !ok {
		ch = make(chan struct{})
		p.chs[g] = ch
	}
	return ch
}

func (p *parking) park(ctx context.Context, g *promrules.Group, _ time.Time) {
	select {
	case <-p.ch(g):
	case <-ctx.Done():
	}
}

// release lets the loop of g go on, to see that it is stopped.
func (p *parking) release(g *promrules.Group) {
	ch := p.ch(g)
	p.mtx.Lock()
	defer p.mtx.Unlock()
	select {
	case <-ch:
	default:
		close(ch)
	}
}

func (p *parking) releaseAll() {
	p.mtx.Lock()
	chs := make([]*promrules.Group, 0, len(p.chs))
	for g := range p.chs {
		chs = append(chs, g)
	}
	p.mtx.Unlock()
	for _, g := range chs {
		p.release(g)
	}
}

// releaseReplaced releases the loops of the groups that loading files
// will stop, those removed or changed, before Prometheus' manager stops
// them and waits for their loops. Called with mtx held.
func (m *RuleManager) releaseReplaced(files []string) error {
	next, errs := m.manager.LoadGroups(m.opts.EvaluationInterval, labels.EmptyLabels(), "", m.iterationFunc(), false, files...)
	if len(errs) > 0 {
		return errors.Join(errs...)
	}
	for _, g := range m.current() {
		if ng, ok := next[promrules.GroupKey(g.File(), g.Name())]; !ok || !g.Equals(ng) {
			m.parked.release(g)
			delete(m.restoring, g)
		}
	}
	return nil
}

// current returns the groups of the last load.
func (m *RuleManager) current() []*promrules.Group {
	if gs := m.groups.Load(); gs != nil {
		return *gs
	}
	return nil
}

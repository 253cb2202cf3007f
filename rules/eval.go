package rules

import (
	"context"
	"time"

	promrules "github.com/prometheus/prometheus/rules"
)

// EvalAt evaluates every group once at ts, in the order of RuleGroups, as
// `promtool test rules` does: recording rules append their results at ts,
// alerting rules update their alerts and ALERTS and ALERTS_FOR_STATE, and
// alerts due are sent. Under ManualEvaluation the second EvalAt after the
// workspace opened also restores the `for` state of the alerts of the
// groups loaded then, from ALERTS_FOR_STATE, as Prometheus does after its
// second evaluation (Options.OutageTolerance, ForGracePeriod).
//
// It may be called without ManualEvaluation, but then races the groups'
// own schedules.
func (m *RuleManager) EvalAt(ctx context.Context, ts time.Time) {
	m.mtx.Lock()
	defer m.mtx.Unlock()
	for _, g := range m.current() {
		promrules.DefaultEvalIterationFunc(ctx, g, ts)
		if n, ok := m.restoring[g]; ok {
			if n++; n < 2 {
				m.restoring[g] = n
				continue
			}
			g.RestoreForState(ts)
			delete(m.restoring, g)
		}
	}
}

// notify is Prometheus' NotifyFunc for the workspace: it holds back the
// firing alerts beyond the workspace's MaxActiveAlerts, counting them, and
// hands the rest to Options.Notify. Which alerts are within the limit is
// decided over all the workspace's firing alerts in the order of its
// groups and rules, so that the same ones are sent at every evaluation.
func (m *RuleManager) notify(ctx context.Context, expr string, alerts ...*promrules.Alert) {
	if len(alerts) == 0 {
		return
	}
	if _, maxAlerts := m.limits(); maxAlerts > 0 {
		if allowed := m.firingWithin(maxAlerts); allowed != nil {
			kept := alerts[:0:0]
			for _, a := range alerts {
				if _, ok := allowed[a.Labels.Hash()]; a.State != promrules.StateFiring || ok {
					kept = append(kept, a)
				} else {
					m.metrics.alertsOverLimit.Inc()
				}
			}
			alerts = kept
		}
	}
	if m.opts.Notify != nil && len(alerts) > 0 {
		m.opts.Notify(ctx, m.w, expr, alerts)
	}
}

// firingWithin returns the label hashes of the first limit firing alerts
// of the workspace, nil if it has no more than limit.
func (m *RuleManager) firingWithin(limit int) map[uint64]struct{} {
	var firing []uint64
	for _, g := range m.current() {
		for _, r := range g.AlertingRules() {
			for _, a := range r.ActiveAlerts() {
				if a.State == promrules.StateFiring {
					firing = append(firing, a.Labels.Hash())
				}
			}
		}
	}
	if len(firing) <= limit {
		return nil
	}
	allowed := make(map[uint64]struct{}, limit)
	for _, h := range firing[:limit] {
		allowed[h] = struct{}{}
	}
	return allowed
}

// AlertsOverLimit returns how many firing alerts were held back by
// MaxActiveAlerts so far, counted at each send.
func (m *RuleManager) AlertsOverLimit() float64 { return counterValue(m.metrics.alertsOverLimit) }

package alertmanager

import (
	"context"
	"time"

	"github.com/prometheus/alertmanager/alert"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/notifier"
	promrules "github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/util/strutil"
)

// Send takes the alerts of the workspace's alerting rule whose expression
// is expr, as Prometheus' rules manager sends them to its notifier
// (rules.SendAlerts): StartsAt is when the alert fired, EndsAt when it was
// resolved or, while it fires, until when it is valid, and GeneratorURL
// links to the expression on the workspace. They enter the workspace's
// Alertmanager as alerts posted to its API do, and go to every forwarding
// URL. Without a definition, the workspace's Alertmanager takes none, as
// AMP sends no notification then; they are still forwarded.
//
// Send does not block on receivers: notifications are the dispatcher's.
// Its signature is rules.NotifyFunc's, less the workspace.
func (in *Instance) Send(ctx context.Context, expr string, alerts []*promrules.Alert) {
	if len(alerts) == 0 {
		return
	}
	generator := in.opts.ExternalURL + "/workspaces/" + in.w.ID() + strutil.TableLinkForExpression(expr)
	out := make([]*notifier.Alert, 0, len(alerts))
	for _, a := range alerts {
		na := &notifier.Alert{
			StartsAt:     a.FiredAt,
			Labels:       a.Labels,
			Annotations:  a.Annotations,
			GeneratorURL: generator,
		}
		if !a.ResolvedAt.IsZero() {
			na.EndsAt = a.ResolvedAt
		} else {
			na.EndsAt = a.ValidUntil
		}
		out = append(out, na)
	}
	if in.forward != nil {
		in.forward.send(out)
	}
	in.put(ctx, out)
}

// put stores alerts in the workspace's Alertmanager as its API's POST
// /api/v2/alerts does: the same defaults for StartsAt and EndsAt, and the
// same validation, an invalid alert being dropped.
func (in *Instance) put(ctx context.Context, alerts []*notifier.Alert) {
	run := in.running.Load()
	if run == nil {
		in.dropped("no_definition").Add(float64(len(alerts)))
		return
	}
	now := time.Now()
	resolveTimeout := time.Duration(run.conf.Global.ResolveTimeout)
	valid := make([]*alert.Alert, 0, len(alerts))
	for _, na := range alerts {
		a := &alert.Alert{
			Alert: model.Alert{
				Labels:       labelSet(na.Labels),
				Annotations:  labelSet(na.Annotations),
				StartsAt:     na.StartsAt,
				EndsAt:       na.EndsAt,
				GeneratorURL: na.GeneratorURL,
			},
			UpdatedAt: now,
		}
		if a.StartsAt.IsZero() {
			a.StartsAt = now
			if !a.EndsAt.IsZero() {
				a.StartsAt = a.EndsAt
			}
		}
		if a.EndsAt.IsZero() {
			a.Timeout = true
			a.EndsAt = now.Add(resolveTimeout)
		}
		if err := a.Validate(); err != nil {
			in.logger.Warn("Dropping an invalid alert", "alert", na.String(), "err", err)
			in.dropped("invalid").Inc()
			continue
		}
		valid = append(valid, a)
	}
	if err := in.alerts.Put(ctx, valid...); err != nil {
		in.logger.Error("Storing alerts failed", "err", err)
		in.dropped("error").Add(float64(len(valid)))
	}
}

func (in *Instance) dropped(reason string) prometheus.Counter {
	return in.droppedTotal.WithLabelValues(reason)
}

func labelSet(ls labels.Labels) model.LabelSet {
	out := make(model.LabelSet, ls.Len())
	ls.Range(func(l labels.Label) {
		if l.Value != "" {
			out[model.LabelName(l.Name)] = model.LabelValue(l.Value)
		}
	})
	return out
}

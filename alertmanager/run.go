package alertmanager

import (
	"context"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/config/receiver"
	"github.com/prometheus/alertmanager/dispatch"
	"github.com/prometheus/alertmanager/eventrecorder"
	"github.com/prometheus/alertmanager/inhibit"
	"github.com/prometheus/alertmanager/notify"
	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/alertmanager/timeinterval"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
)

// noRecorder records no Alertmanager events: the zero Recorder.
var noRecorder eventrecorder.Recorder

// running is what the API and Send read of the definition being run.
type running struct {
	conf *amconfig.Config
}

// built is a definition ready to run: what can fail is done.
type built struct {
	conf      *amconfig.Config
	tmpl      *template.Template
	routes    *dispatch.Route
	receivers map[string][]notify.Integration
	intervals map[string][]timeinterval.TimeInterval
}

// build builds the templates, routing tree and receivers of p, as
// Alertmanager's reload does before it stops anything: an error here
// leaves the running definition as it is.
func (in *Instance) build(p *parsed) (*built, error) {
	conf := p.conf
	tmpl, err := p.template()
	if err != nil {
		return nil, invalid("invalid template_files: %v", err)
	}
	tmpl.ExternalURL = in.extURL

	capRepeatInterval(conf.Route)
	routes := dispatch.NewRoute(conf.Route, nil)
	active := map[string]bool{}
	routes.Walk(func(r *dispatch.Route) { active[r.RouteOpts.Receiver] = true })
	receivers := make(map[string][]notify.Integration, len(active))
	for _, rcv := range conf.Receivers {
		if !active[rcv.Name] {
			continue
		}
		integrations, err := receiver.BuildReceiverIntegrations(in.withHostSNS(rcv), tmpl, in.logger)
		if err != nil {
			return nil, invalid("receiver %q: %v", rcv.Name, err)
		}
		receivers[rcv.Name] = integrations
	}
	intervals := make(map[string][]timeinterval.TimeInterval, len(conf.MuteTimeIntervals)+len(conf.TimeIntervals))
	for _, ti := range conf.MuteTimeIntervals {
		intervals[ti.Name] = ti.TimeIntervals
	}
	for _, ti := range conf.TimeIntervals {
		intervals[ti.Name] = ti.TimeIntervals
	}
	return &built{conf: conf, tmpl: tmpl, routes: routes, receivers: receivers, intervals: intervals}, nil
}

// run stops the running definition's inhibitor and dispatcher and starts
// b's, as Alertmanager's reload does: the inhibitor loads the alerts
// before the dispatcher starts, so that none is notified that it would
// inhibit. Called with mtx held.
func (in *Instance) run(b *built) {
	conf := b.conf
	in.stop()
	inhibitor := inhibit.NewInhibitor(in.alerts, conf.InhibitRules, in.logger, noRecorder)
	// No cluster: a workspace's Alertmanager is one replica, so nothing
	// waits for peers.
	wait := func() time.Duration { return 0 }
	pipeline := in.pipeline.New(b.receivers, wait, inhibitor, in.silencer,
		timeinterval.NewIntervener(b.intervals), in.marker, in.nflog, nil)
	in.api.Update(conf, func(ctx context.Context, labels model.LabelSet) {
		inhibitor.Mutes(ctx, labels)
		in.silencer.Mutes(ctx, labels)
	})
	timeout := func(d time.Duration) time.Duration { return max(d, notify.MinTimeout) }
	dispatcher := dispatch.NewDispatcher(in.alerts, b.routes, pipeline, in.marker, timeout,
		dispatchMaintenanceInterval, nil, in.logger, noRecorder, in.dmetrics, b.tmpl)

	go inhibitor.Run()
	inhibitor.WaitForLoading()
	in.inhibitor.Store(inhibitor)
	go dispatcher.Run(time.Now())
	dispatcher.WaitForLoading()
	in.dispatcher.Store(dispatcher)
	in.running.Store(&running{conf: conf})
}

// dispatchMaintenanceInterval is Alertmanager's
// --dispatch.maintenance-interval.
const dispatchMaintenanceInterval = 30 * time.Second

// capRepeatInterval applies AMP's cap on repeat_interval to every route.
func capRepeatInterval(r *amconfig.Route) {
	if r == nil {
		return
	}
	if r.RepeatInterval != nil && time.Duration(*r.RepeatInterval) > MaxRepeatInterval {
		d := model.Duration(MaxRepeatInterval)
		r.RepeatInterval = &d
	}
	for _, c := range r.Routes {
		capRepeatInterval(c)
	}
}

// withHostSNS returns rcv with the host program's SNS endpoint and
// credentials in each of its sns_configs, copied: the definition stored
// keeps the user's.
func (in *Instance) withHostSNS(rcv amconfig.Receiver) amconfig.Receiver {
	if in.opts.SNSEndpoint == "" && in.opts.SNSCredentials == nil {
		return rcv
	}
	cfgs := make([]*amconfig.SNSConfig, len(rcv.SNSConfigs))
	for i, c := range rcv.SNSConfigs {
		cc := *c
		if in.opts.SNSEndpoint != "" {
			cc.APIUrl = in.opts.SNSEndpoint
		}
		if cr := in.opts.SNSCredentials; cr != nil && cc.Sigv4.AccessKey == "" && cc.Sigv4.Profile == "" && cc.Sigv4.RoleARN == "" {
			cc.Sigv4.AccessKey = cr.AccessKeyID
			cc.Sigv4.SecretKey = commoncfg.Secret(cr.SecretAccessKey)
		}
		cfgs[i] = &cc
	}
	rcv.SNSConfigs = cfgs
	return rcv
}

package alertmanager

import (
	"fmt"
	"log/slog"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	promconfig "github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery/targetgroup"
	"github.com/prometheus/prometheus/notifier"
)

// forwarder sends a workspace's alerts to the external Alertmanagers of
// Options.ForwardURLs with Prometheus' own notifier, as a Prometheus
// server with those URLs as static alertmanagers would: v2 JSON, batches,
// a bounded queue and its timeouts. Resending a firing alert is the rules
// manager's (ResendDelay), which calls Send again.
type forwarder struct {
	m    *notifier.Manager
	done chan struct{}
}

func newForwarder(opts *Options, reg prometheus.Registerer, logger *slog.Logger) (*forwarder, error) {
	conf := &promconfig.Config{}
	groups := map[string][]*targetgroup.Group{}
	for i, u := range opts.ForwardURLs {
		if u.Host == "" || (u.Scheme != "http" && u.Scheme != "https") {
			return nil, fmt.Errorf("forwarding URL %q: want http or https and a host", u)
		}
		amc := promconfig.DefaultAlertmanagerConfig
		amc.Scheme = u.Scheme
		amc.PathPrefix = strings.TrimSuffix(u.Path, "/")
		amc.Timeout = model.Duration(opts.ForwardTimeout)
		conf.AlertingConfig.AlertmanagerConfigs = append(conf.AlertingConfig.AlertmanagerConfigs, &amc)
		// The keys ApplyConfig gives the configurations.
		groups[fmt.Sprintf("config-%d", i)] = []*targetgroup.Group{{
			Source:  u.String(),
			Targets: []model.LabelSet{{model.AddressLabel: model.LabelValue(u.Host)}},
		}}
	}
	m := notifier.NewManager(&notifier.Options{QueueCapacity: opts.ForwardQueueCapacity, Registerer: reg},
		model.UTF8Validation, logger)
	if err := m.ApplyConfig(conf); err != nil {
		return nil, err
	}
	f := &forwarder{m: m, done: make(chan struct{})}
	tsets := make(chan map[string][]*targetgroup.Group)
	go func() {
		defer close(f.done)
		m.Run(tsets)
	}()
	// The loop takes one update at a time: once it takes the second, the
	// first is applied and alerts sent from now on have their targets.
	tsets <- groups
	tsets <- groups
	return f, nil
}

func (f *forwarder) send(alerts []*notifier.Alert) { f.m.Send(alerts...) }

func (f *forwarder) stop() {
	f.m.Stop()
	<-f.done
}

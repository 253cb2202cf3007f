package scraper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	config_util "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/scrape"
)

// runner runs one scraper: Prometheus' discovery manager finds the targets
// of its scrape configuration and Prometheus' scrape manager scrapes them
// into its destination.
type runner struct {
	logger *slog.Logger
	dest   *destination
	cancel context.CancelFunc
	disc   *discovery.Manager
	scrape *scrape.Manager
	sd     *discovery.SDMetrics
	wg     sync.WaitGroup
}

// startRunner starts the managers of scraper id, writing to dest, with no
// configuration yet: apply gives them one.
func (m *Manager) startRunner(id string, dest *destination) (*runner, error) {
	logger := m.logger.With("scraper", id)
	reg := prometheus.WrapRegistererWith(prometheus.Labels{"scraper": id}, m.opts.Registerer)
	sd, err := discovery.CreateAndRegisterSDMetrics(reg)
	if err != nil {
		return nil, err
	}
	r := &runner{logger: logger, dest: dest, sd: sd}
	sm, err := scrape.NewManager(&scrape.Options{
		// Metric metadata reaches the workspace's metadata as remote
		// write's would.
		AppendMetadata:          true,
		DiscoveryReloadInterval: model.Duration(m.opts.DiscoveryReloadInterval),
	}, logger.With("component", "scrape"), nil, nil, dest, reg)
	if err != nil {
		r.unregisterSD()
		return nil, err
	}
	r.scrape = sm
	ctx, cancel := context.WithCancel(context.Background())
	r.cancel = cancel
	r.disc = discovery.NewManager(ctx, logger.With("component", "discovery"), reg, sd,
		discovery.Name("scrape"), discovery.Updatert(m.opts.DiscoveryUpdateInterval))
	if r.disc == nil {
		cancel()
		sm.UnregisterMetrics()
		r.unregisterSD()
		return nil, errors.New("the discovery manager could not be created")
	}
	r.wg.Add(2)
	go func() {
		defer r.wg.Done()
		_ = r.disc.Run()
	}()
	go func() {
		defer r.wg.Done()
		_ = sm.Run(r.disc.SyncCh())
	}()
	return r, nil
}

// apply gives both managers the configuration, the scrape manager first as
// Prometheus does, so that the targets discovered find their scrape pools.
func (r *runner) apply(sc *scrapeConfig) error {
	scfgs, err := sc.cfg.GetScrapeConfigs()
	if err != nil {
		return err
	}
	// The scrape manager builds a job's HTTP client only once targets are
	// discovered, and then only logs its failure: build each one now, so
	// that a job that cannot scrape (a CA file that cannot be read, say)
	// fails the scraper with the reason.
	for _, c := range scfgs {
		client, err := config_util.NewClientFromConfig(c.HTTPClientConfig, c.JobName)
		if err != nil {
			return fmt.Errorf("scrape job %s: %w", c.JobName, err)
		}
		client.CloseIdleConnections()
	}
	if err := r.scrape.ApplyConfig(sc.cfg); err != nil {
		return fmt.Errorf("apply the scrape configuration: %w", err)
	}
	sd := make(map[string]discovery.Configs, len(scfgs))
	for _, c := range scfgs {
		sd[c.JobName] = c.ServiceDiscoveryConfigs
	}
	if err := r.disc.ApplyConfig(sd); err != nil {
		return fmt.Errorf("apply the service discovery configuration: %w", err)
	}
	r.dest.setExternalLabels(sc.externalLabels)
	return nil
}

// stop stops scraping and discovery, and unregisters the managers'
// metrics. As when Prometheus shuts down, no staleness markers are written:
// the series end where the last scrape left them.
func (r *runner) stop() {
	start := time.Now()
	r.scrape.Stop()
	r.cancel()
	r.wg.Wait()
	r.scrape.UnregisterMetrics()
	r.disc.UnregisterMetrics()
	r.unregisterSD()
	r.logger.Debug("Scraper stopped", "took", time.Since(start))
}

func (r *runner) unregisterSD() {
	for _, mm := range r.sd.MechanismMetrics {
		mm.Unregister()
	}
	r.sd.RefreshManager.Unregister()
}

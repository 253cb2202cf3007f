package scraper

import (
	_ "embed"
	"fmt"
	"log/slog"
	"strings"

	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/labels"
	"go.yaml.in/yaml/v3"

	// Service discovery mechanisms a scrape configuration may name: static
	// targets need none, files, DNS, HTTP and Kubernetes are registered
	// here (Kubernetes is what AMP's EKS scrapers use).
	_ "github.com/prometheus/prometheus/discovery/dns"
	_ "github.com/prometheus/prometheus/discovery/file"
	_ "github.com/prometheus/prometheus/discovery/http"
	_ "github.com/prometheus/prometheus/discovery/kubernetes"
)

// defaultConfiguration is the scrape configuration AMP's
// GetDefaultScraperConfiguration returns: the one Amazon EKS creates a
// scraper with.
//
//go:embed default_scraper_configuration.yaml
var defaultConfiguration []byte

// DefaultConfiguration returns AMP's default scrape configuration YAML.
func DefaultConfiguration() []byte { return append([]byte(nil), defaultConfiguration...) }

// scrapeConfig is a loaded scrape configuration and the external labels
// added to every sample the scraper writes.
type scrapeConfig struct {
	cfg            *config.Config
	externalLabels labels.Labels
}

// loadConfiguration parses a scraper's configuration with Prometheus'
// config.Load. The external labels are taken as written: config.Load
// expands environment variables in them, which would let a scraper read the
// server's environment.
func loadConfiguration(blob []byte) (*scrapeConfig, error) {
	if len(strings.TrimSpace(string(blob))) == 0 {
		return nil, fmt.Errorf("the scrape configuration is empty")
	}
	cfg, err := config.Load(string(blob), slog.New(slog.DiscardHandler))
	if err != nil {
		return nil, err
	}
	var raw struct {
		Global struct {
			ExternalLabels map[string]string `yaml:"external_labels"`
		} `yaml:"global"`
	}
	if err := yaml.Unmarshal(blob, &raw); err != nil {
		return nil, err
	}
	ext := labels.FromMap(raw.Global.ExternalLabels)
	cfg.GlobalConfig.ExternalLabels = ext
	scfgs, err := cfg.GetScrapeConfigs()
	if err != nil {
		return nil, err
	}
	for _, sc := range scfgs {
		// Failure logs would be files on this host, named by the caller.
		sc.ScrapeFailureLogFile = ""
	}
	return &scrapeConfig{cfg: cfg, externalLabels: ext}, nil
}

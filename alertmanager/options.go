package alertmanager

import (
	"context"
	"log/slog"
	"net/url"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/promspace/promspace/workspace"
)

// ComponentName is the name of the Component of Alertmanagers, for
// workspace.InstanceOf.
const ComponentName = "alertmanager"

// Defaults of Options.
const (
	// DefaultRetention is how long silences and notification log entries
	// are kept after they end: Alertmanager's --data.retention.
	DefaultRetention = 120 * time.Hour
	// DefaultMaintenanceInterval is how often silences and the
	// notification log are garbage collected and written to disk:
	// Alertmanager's --data.maintenance-interval.
	DefaultMaintenanceInterval = 15 * time.Minute
	// DefaultAlertGCInterval is Alertmanager's --alerts.gc-interval.
	DefaultAlertGCInterval = 30 * time.Minute
	// DefaultForwardQueueCapacity is Prometheus' --alertmanager.notification-queue-capacity.
	DefaultForwardQueueCapacity = 10000
	// DefaultForwardTimeout is Prometheus' alertmanager timeout.
	DefaultForwardTimeout = 10 * time.Second
)

// SNSCredentials sign the SNS Publish requests of sns_configs whose sigv4
// block names no access key.
type SNSCredentials struct {
	AccessKeyID     string
	SecretAccessKey string
}

// Options configure Alertmanagers. Zero values mean the default.
type Options struct {
	// AllowAllReceivers accepts every receiver type Alertmanager has.
	// Without it a definition may only have sns_configs, as AMP allows,
	// and webhook_configs, which promspace adds; any other is refused with
	// a ValidationException, and so is an sns_config's api_url, which AMP
	// does not take.
	AllowAllReceivers bool
	// SNSEndpoint, when set, is the api_url of every sns_config: the host
	// program's choice of where SNS Publish requests go, such as a
	// loopback server in tests and local setups. Empty leaves the AWS
	// SDK's endpoint for the topic's region.
	SNSEndpoint string
	// SNSCredentials, when set, sign the Publish requests of sns_configs
	// without credentials of their own; otherwise the AWS SDK's default
	// chain finds them, as AMP's service role would.
	SNSCredentials *SNSCredentials
	// ForwardURLs are external Alertmanagers to which every workspace's
	// alerts are also sent, with Prometheus' notifier: Alertmanager's v2
	// JSON, each URL's path the prefix before /api/v2/alerts.
	ForwardURLs []*url.URL
	// ForwardQueueCapacity and ForwardTimeout are those of Prometheus'
	// notifier.
	ForwardQueueCapacity int
	ForwardTimeout       time.Duration
	// ExternalURL is the base of links to the service: each workspace's
	// Alertmanager's external URL is ExternalURL/workspaces/<id>/alertmanager,
	// and each alert's generator URL ExternalURL/workspaces/<id>/graph?....
	// Empty gives links without scheme and host.
	ExternalURL string
	// Retention, MaintenanceInterval and AlertGCInterval are
	// Alertmanager's.
	Retention           time.Duration
	MaintenanceInterval time.Duration
	AlertGCInterval     time.Duration
	// Logger defaults to discarding; each workspace's Alertmanager logs
	// with a "workspace" attribute.
	Logger *slog.Logger
	// Registerer receives the metrics of every workspace's Alertmanager,
	// with a "workspace" label, unregistered when the workspace closes;
	// nil registers them only in each Instance.Gatherer.
	Registerer prometheus.Registerer
}

// DefaultOptions returns the defaults: AMP's receivers only, no
// forwarding.
func DefaultOptions() Options {
	return Options{
		ForwardQueueCapacity: DefaultForwardQueueCapacity,
		ForwardTimeout:       DefaultForwardTimeout,
		Retention:            DefaultRetention,
		MaintenanceInterval:  DefaultMaintenanceInterval,
		AlertGCInterval:      DefaultAlertGCInterval,
		Logger:               slog.New(slog.DiscardHandler),
	}
}

// Alertmanagers holds what the alert managers of all workspaces share: the
// options. Its Component gives each workspace its Instance.
type Alertmanagers struct {
	opts Options
}

// New returns Alertmanagers with the given options.
func New(opts Options) *Alertmanagers {
	d := DefaultOptions()
	if opts.ForwardQueueCapacity <= 0 {
		opts.ForwardQueueCapacity = d.ForwardQueueCapacity
	}
	if opts.ForwardTimeout <= 0 {
		opts.ForwardTimeout = d.ForwardTimeout
	}
	if opts.Retention <= 0 {
		opts.Retention = d.Retention
	}
	if opts.MaintenanceInterval <= 0 {
		opts.MaintenanceInterval = d.MaintenanceInterval
	}
	if opts.AlertGCInterval <= 0 {
		opts.AlertGCInterval = d.AlertGCInterval
	}
	if opts.Logger == nil {
		opts.Logger = d.Logger
	}
	return &Alertmanagers{opts: opts}
}

// Component returns the workspace component whose instance for each
// workspace is its *Instance. It must come after the quota component,
// whose alert manager limits it enforces, and before the rules component,
// so that it is open whenever the rules send alerts. Opening reads the
// workspace's definition from its bucket and its silences and
// notification log from its directory; a bucket that cannot be read fails
// the opening.
func (ams *Alertmanagers) Component() workspace.Component {
	return workspace.NewComponent(ComponentName, func(ctx context.Context, w *workspace.Workspace) (workspace.Instance, error) {
		return ams.open(ctx, w)
	})
}

package promspace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"path/filepath"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	promrules "github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"
	"github.com/thanos-io/objstore"

	"github.com/promspace/promspace/alertmanager"
	"github.com/promspace/promspace/auth"
	"github.com/promspace/promspace/dedupe"
	"github.com/promspace/promspace/ingest"
	"github.com/promspace/promspace/logging"
	"github.com/promspace/promspace/query"
	"github.com/promspace/promspace/quota"
	"github.com/promspace/promspace/rules"
	"github.com/promspace/promspace/scraper"
	"github.com/promspace/promspace/shipper"
	"github.com/promspace/promspace/workspace"
)

// Options configures a Service. The zero value of each field means its
// default.
type Options struct {
	// DataDir holds every workspace's TSDB and, unless Bucket is set, the
	// filesystem bucket with workspace metadata. Required.
	DataDir string
	// Bucket stores the workspace records and, for each workspace, what it
	// keeps beyond the local disk: its rule groups namespaces, its metric
	// metadata and its shipped blocks. Defaults to a filesystem bucket
	// under DataDir, to which blocks are not shipped: it would hold a second
	// copy of them on the same disk.
	Bucket objstore.Bucket
	// Region and AccountID make up workspace ARNs. Default us-east-1 and
	// 000000000000.
	Region    string
	AccountID string
	// PublicURL is the base of each workspace's prometheusEndpoint. Empty
	// derives it from each request.
	PublicURL string

	Logger     *slog.Logger
	Registerer prometheus.Registerer

	// Workspace, Ingest, Query, Quota, Dedupe, Rules and Shipper tune the packages
	// behind the service; their zero values are the packages' defaults.
	// Fields that the Service sets itself (directories, loggers,
	// registerers) are overwritten. Workspace.Components are opened for
	// every workspace after the Service's own. A workspace's query limits
	// (samples, chunks and bytes per query, time range, timeout) are its
	// Quota's (Quota.Limits and Overrides), not Query's: Query's apply to
	// the PromQL engine the rules evaluate with.
	Workspace workspace.Options
	Ingest    ingest.Options
	Query     query.Options
	Quota     quota.Options
	Dedupe    dedupe.Options
	Rules     rules.Options
	// Alertmanager configures every workspace's alert manager (package
	// alertmanager): receivers allowed, the SNS endpoint, forwarding URLs.
	// Its ExternalURL defaults to PublicURL.
	Alertmanager alertmanager.Options
	// Shipper ships every workspace's blocks to Bucket and restores them
	// on an empty DataDir (see package shipper). It is off without a
	// Bucket (or Workspace.Bucket) of one's own.
	Shipper shipper.Options
	// Scraper tunes the managed scrapers (package scraper), whose records
	// are kept in the workspaces' bucket under scrapers/.
	Scraper scraper.Options

	// Authenticator says who is calling and Authorizer what they may do
	// (package auth builds both from a configuration). When both are nil
	// every request is anonymous, acts for AccountID and is allowed: the
	// local default. A nil Authorizer alone allows every authenticated
	// caller everything.
	Authenticator auth.Authenticator
	Authorizer    auth.Authorizer
}

// Service is a local AMP: the control plane of every workspace and each
// workspace's data plane, served as one http.Handler.
type Service struct {
	logger        *slog.Logger
	registry      *workspace.Registry
	ingest        *ingest.Handler
	query         *query.API
	quotas        *quota.Quotas
	meters        *quota.Meters
	trackers      *dedupe.Trackers
	rules         *rules.Managers
	alertmanagers *alertmanager.Alertmanagers
	logging       *logging.Loggers
	shipper       *shipper.Shipper
	scrapers      *scraper.Manager
	// scraperBucket is the scrapers' own handle on the registry's
	// filesystem bucket, closed with them; nil with Options.Bucket.
	scraperBucket objstore.Bucket
	handler       http.Handler
}

// New opens the registry under opts.DataDir, reopening every workspace
// already there, and returns the service. Close it to close every TSDB.
func New(ctx context.Context, opts Options) (*Service, error) {
	if opts.DataDir == "" {
		return nil, errors.New("promspace: a data directory is required for the workspaces' TSDBs")
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	reg := opts.Registerer
	if reg == nil {
		reg = prometheus.NewRegistry()
	}

	wo := opts.Workspace
	wo.DataDir = opts.DataDir
	if opts.Bucket != nil {
		wo.Bucket = opts.Bucket
	}
	if opts.Region != "" {
		wo.Region = opts.Region
	}
	if opts.AccountID != "" {
		wo.AccountID = opts.AccountID
	}
	wo.Logger = logger.With("component", "workspace")
	wo.Registerer = reg

	ingestOpts := opts.Ingest
	ingestOpts.Logger = logger.With("component", "ingest")
	ingestOpts.Registerer = reg
	qo := opts.Query
	qo.Logger = logger.With("component", "query")
	qo.Registerer = reg
	quotaOpts := opts.Quota
	quotaOpts.Logger = logger.With("component", "quota")
	quotaOpts.Registerer = reg
	dedupeOpts := opts.Dedupe
	dedupeOpts.Logger = logger.With("component", "dedupe")
	dedupeOpts.Registerer = reg
	// The quotas' HA cluster limit is the tracker's, unless the tracker
	// has one of its own; zero there means no limit.
	if l := opts.Quota.Limits; l != nil && dedupeOpts.MaxClusters == 0 {
		dedupeOpts.MaxClusters = l.MaxHAClusters
		if l.MaxHAClusters == 0 {
			dedupeOpts.MaxClusters = math.MaxInt
		}
	}
	trackers, err := dedupe.New(dedupeOpts)
	if err != nil {
		return nil, fmt.Errorf("dedupe options: %w", err)
	}
	s := &Service{
		logger:   logger,
		ingest:   ingest.NewHandler(ingestOpts),
		query:    query.New(qo),
		quotas:   quota.New(quotaOpts),
		trackers: trackers,
	}
	s.meters = quota.NewMeters(quota.MeterOptions{Registerer: reg, Ingest: s.ingest, Now: quotaOpts.Now})
	rulesOpts := opts.Rules
	rulesOpts.Logger = logger.With("component", "rules")
	rulesOpts.Registerer = reg
	if rulesOpts.Engine == nil {
		rulesOpts.Engine = s.query.Engine()
	}
	s.logging = logging.New(logging.Options{
		Dir:    filepath.Join(opts.DataDir, logging.LogsDirName),
		Logger: logger.With("component", "logging"),
	})
	if rulesOpts.VendedLog == nil {
		// A workspace's rule evaluation failures go to its logging
		// configuration's log group.
		rulesOpts.VendedLog = func(w *workspace.Workspace) slog.Handler {
			if l, ok := workspace.InstanceOf[*logging.Instance](w, logging.ComponentName); ok {
				return l.Handler(logging.ComponentRuler)
			}
			return nil
		}
	}
	amOpts := opts.Alertmanager
	amOpts.Logger = logger.With("component", "alertmanager")
	amOpts.Registerer = reg
	// A workspace's alert manager failures go to its logging
	// configuration's log group too.
	vended := &workspaceLogs{}
	amOpts.Logger = slog.New(slog.NewMultiHandler(amOpts.Logger.Handler(),
		logging.ByWorkspace(logging.ComponentAlertManager, vended.find)))
	if amOpts.ExternalURL == "" {
		amOpts.ExternalURL = strings.TrimSuffix(opts.PublicURL, "/")
	}
	s.alertmanagers = alertmanager.New(amOpts)
	if rulesOpts.Appendable == nil {
		// Rule results go through the workspace's write pipeline (HA
		// dedupe, then quotas), as remote write does.
		rulesOpts.Appendable = func(w *workspace.Workspace) storage.AppendableV2 {
			if e, ok := workspace.InstanceOf[ingestInstance](w, ingestComponent); ok {
				return e.Endpoint
			}
			return nil
		}
	}
	if rulesOpts.Notify == nil {
		// A workspace's alerts go to its own alert manager.
		rulesOpts.Notify = func(ctx context.Context, w *workspace.Workspace, expr string, alerts []*promrules.Alert) {
			if am, ok := workspace.InstanceOf[*alertmanager.Instance](w, alertmanager.ComponentName); ok {
				am.Send(ctx, expr, alerts)
			}
		}
	}
	s.rules = rules.New(rulesOpts)
	shipperOpts := opts.Shipper
	shipperOpts.Logger = logger.With("component", "shipper")
	shipperOpts.Registerer = reg
	if wo.Bucket == nil {
		shipperOpts.Disabled = true
	}
	s.shipper = shipper.New(shipperOpts)
	wo.Components = append(s.components(), wo.Components...)
	sbkt, ownSbkt, err := scraperBucket(wo, opts.DataDir)
	if err != nil {
		return nil, fmt.Errorf("open the scrapers' bucket: %w", err)
	}
	registry, err := workspace.Open(ctx, wo)
	if err != nil {
		if ownSbkt {
			_ = sbkt.Close()
		}
		return nil, fmt.Errorf("open workspaces: %w", err)
	}
	s.registry = registry
	vended.reg.Store(registry)
	if err := s.openScrapers(ctx, opts.Scraper, sbkt, ownSbkt, logger, reg); err != nil {
		return nil, errors.Join(fmt.Errorf("open scrapers: %w", err), registry.Close())
	}

	s.handler = s.routes(opts, logger, reg)
	return s, nil
}

// ServeHTTP serves AMP's control plane and every workspace's data plane.
func (s *Service) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s.handler.ServeHTTP(w, r)
}

// Registry is the service's workspace registry, for programs that manage
// workspaces in-process.
func (s *Service) Registry() *workspace.Registry { return s.registry }

// Close stops every scraper and closes every workspace's TSDB.
func (s *Service) Close() error { return errors.Join(s.closeScrapers(), s.registry.Close()) }

// EnsureWorkspace returns the active workspace with the given alias in the
// service's account, creating it when there is none.
func (s *Service) EnsureWorkspace(ctx context.Context, alias string) (*workspace.Workspace, error) {
	in := workspace.ListInput{Alias: alias, MaxResults: workspace.MaxMaxResults}
	for {
		out, err := s.registry.List(ctx, in)
		if err != nil {
			return nil, err
		}
		for _, w := range out.Workspaces {
			if w.Alias() == alias && w.Status() != workspace.StatusDeleting {
				got, err := s.registry.Get(ctx, w.ID())
				if oerr := w.OpenError(); err != nil && oerr != nil {
					return nil, fmt.Errorf("workspace %s (alias %q) cannot be opened: %w", w.ID(), alias, oerr)
				}
				return got, err
			}
		}
		if out.NextToken == "" {
			break
		}
		in.NextToken = out.NextToken
	}
	w, err := s.registry.Create(ctx, workspace.CreateInput{Alias: alias})
	if err != nil {
		return nil, err
	}
	got, err := s.registry.Get(ctx, w.ID())
	if oerr := w.OpenError(); err != nil && oerr != nil {
		return nil, fmt.Errorf("workspace %s (alias %q) cannot be created: %w", w.ID(), alias, oerr)
	}
	return got, err
}

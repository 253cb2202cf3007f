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
	"github.com/promspace/promspace/internal/promapi"
	"github.com/promspace/promspace/internal/restjson"
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

	authn, authz := opts.Authenticator, opts.Authorizer
	// Without access control, a path that is no AMP operation gets the 404
	// or 405 Prometheus would answer; with it, AMP's UnknownOperationException.
	local := authn == nil && authz == nil
	if local {
		logger.Warn("No credentials configured: every request is anonymous and allowed everything")
	}
	if authn == nil {
		authn = auth.Anonymous{AccountID: registry.AccountID()}
	}

	mux := http.NewServeMux()
	mux.HandleFunc("POST /workspaces/{workspaceId}/api/v1/remote_write", s.serveRemoteWrite)
	mux.HandleFunc("/workspaces/{workspaceId}/api/v1/remote_write", methodNotAllowed(http.MethodPost))
	mux.HandleFunc("/workspaces/{workspaceId}/api/v1/", s.serveQuery)
	// promspace's extensions: a workspace's limits next to its usage, and
	// its HA tracker's elections.
	mux.HandleFunc("GET /workspaces/{workspaceId}/limits", s.serveView(quota.ComponentName))
	mux.HandleFunc("GET /workspaces/{workspaceId}/ha-tracker", s.serveView(dedupe.ComponentName))
	// Rule groups namespaces: AMP's control plane, served by each
	// workspace's rules manager.
	mux.HandleFunc("/workspaces/{workspaceId}/rulegroupsnamespaces", s.serveView(rules.ComponentName))
	mux.HandleFunc("/workspaces/{workspaceId}/rulegroupsnamespaces/{name}", s.serveView(rules.ComponentName))
	// Alert manager definitions (AMP's control plane) and the Alertmanager
	// v2 API, served by each workspace's alert manager.
	mux.HandleFunc("/workspaces/{workspaceId}/alertmanager/", s.serveView(alertmanager.ComponentName))
	// Logging configurations, served by each workspace's logging instance.
	mux.HandleFunc("/workspaces/{workspaceId}/logging", s.serveView(logging.ComponentName))
	mux.HandleFunc("/workspaces/{workspaceId}/logging/query", s.serveView(logging.ComponentName))
	// Resource policies, kept with each workspace by the registry.
	mux.HandleFunc("/workspaces/{workspaceId}/policy", s.servePolicy)
	// Anomaly detectors are not offered: their operations answer as AMP
	// answers an operation it does not know.
	mux.HandleFunc("/workspaces/{workspaceId}/anomalydetectors", serveAnomalyDetectors)
	mux.HandleFunc("/workspaces/{workspaceId}/anomalydetectors/{anomalyDetectorId}", serveAnomalyDetectors)
	workspaces := workspace.NewHandler(registry, workspace.HandlerOptions{
		PublicURL: opts.PublicURL,
		Account:   s.account,
		// ListWorkspaces shows only the workspaces the caller may describe.
		Visible: func(ctx context.Context, w *workspace.Workspace) bool {
			return auth.Allowed(ctx, "aps:DescribeWorkspace", w.ARN())
		},
		Logger: logger.With("component", "workspace"),
	})
	// Scrapers, an account's resources, and the tags of their ARNs.
	s.routeScrapers(mux, workspaces, logger)
	mux.Handle("/", workspaces)
	// A workspace id is looked up in the caller's own account, as AMP
	// does, so that another account's workspace is as unknown as one that
	// does not exist, unless its resource policy shares it with the
	// caller: then the middleware authorizes it with both policies, and
	// the request acts on the owner's workspace (Service.account).
	ps := &policies{reg: registry}
	s.handler = auth.Middleware(mux, auth.MiddlewareOptions{
		Authenticator: authn,
		Authorizer:    authz,
		AccountOf: func(_ context.Context, id string) (string, bool) {
			return registry.AccountOf(id)
		},
		ResourcePolicy:    ps.of,
		Region:            registry.Region(),
		PassUnknownRoutes: local,
		Logger:            logger.With("component", "auth"),
		Registerer:        reg,
	})
	return s, nil
}

// account is the account a request acts for: its principal's, or the
// owner's of a workspace its resource policy shares with the principal.
func (s *Service) account(r *http.Request) string {
	if op, ok := auth.OperationFrom(r.Context()); ok && op.Account != "" && op.WorkspaceID != "" && op.WorkspaceID == r.PathValue("workspaceId") {
		return op.Account
	}
	if p, ok := auth.PrincipalFrom(r.Context()); ok && p.AccountID != "" {
		return p.AccountID
	}
	return s.registry.AccountID()
}

// workspace resolves the data-plane request's workspace within the caller's
// account and holds it open until release is called.
func (s *Service) workspace(r *http.Request) (*workspace.Workspace, func(), error) {
	return s.registry.Resolve(r.Context(), s.account(r), r.PathValue("workspaceId"))
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

func (s *Service) serveRemoteWrite(w http.ResponseWriter, r *http.Request) {
	ws, release, err := s.workspace(r)
	if err != nil {
		writeDataPlaneError(w, err, false)
		return
	}
	defer release()
	serveInstance[ingestInstance](w, r, ws, ingestComponent)
}

func (s *Service) serveQuery(w http.ResponseWriter, r *http.Request) {
	ws, release, err := s.workspace(r)
	if err != nil {
		writeDataPlaneError(w, err, true)
		return
	}
	defer release()
	serveInstance[queryInstance](w, r, ws, queryComponent)
}

// serveView returns the handler of a workspace's view served by its
// instance of the named component, with AMP's control-plane errors.
func (s *Service) serveView(name string) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		id := r.PathValue("workspaceId")
		ws, release, err := s.workspace(r)
		if err != nil {
			if errors.Is(err, workspace.ErrNotFound) {
				restjson.WriteError(w, http.StatusNotFound, "ResourceNotFoundException", "Workspace not found: "+id,
					map[string]any{"resourceId": id, "resourceType": "Workspace"})
				return
			}
			restjson.WriteError(w, http.StatusInternalServerError, "InternalServerException", "internal error", nil)
			s.logger.Error("Resolving a workspace failed", "workspace", id, "err", err)
			return
		}
		defer release()
		h, ok := ws.Instance(name).(http.Handler)
		if !ok {
			restjson.WriteError(w, http.StatusNotFound, "UnknownOperationException",
				"no operation matches "+r.Method+" "+r.URL.Path, nil)
			return
		}
		h.ServeHTTP(w, r)
	}
}

// serveInstance serves r with ws's instance of the named component, which
// every open workspace has.
func serveInstance[T interface {
	workspace.Instance
	http.Handler
}](w http.ResponseWriter, r *http.Request, ws *workspace.Workspace, name string) {
	inst, ok := workspace.InstanceOf[T](ws, name)
	if !ok {
		writeDataPlaneError(w, fmt.Errorf("workspace %s has no %s component", ws.ID(), name), name == queryComponent)
		return
	}
	inst.ServeHTTP(w, r)
}

// methodNotAllowed answers 405 for a path served only with the allowed
// method, as Prometheus' router does.
func methodNotAllowed(allowed string) http.HandlerFunc {
	return func(w http.ResponseWriter, _ *http.Request) {
		w.Header().Set("Allow", allowed)
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
	}
}

// writeDataPlaneError answers a data-plane request whose workspace cannot be
// used. Query paths get Prometheus' error JSON, remote write a plain text as
// Prometheus' write handler writes.
func writeDataPlaneError(w http.ResponseWriter, err error, promJSON bool) {
	code, errType := http.StatusInternalServerError, promapi.ErrorInternal
	if errors.Is(err, workspace.ErrNotFound) {
		code, errType = http.StatusNotFound, promapi.ErrorNotFound
	}
	if !promJSON {
		http.Error(w, err.Error(), code)
		return
	}
	promapi.WriteError(w, code, errType, err.Error())
}

// serveAnomalyDetectors answers the anomaly detector operations, which
// promspace does not offer, with AMP's ValidationException for an unknown
// operation.
func serveAnomalyDetectors(w http.ResponseWriter, r *http.Request) {
	restjson.WriteError(w, http.StatusBadRequest, "ValidationException",
		"anomaly detectors are not supported: "+r.Method+" "+r.URL.Path, map[string]any{"reason": "UNKNOWN_OPERATION"})
}

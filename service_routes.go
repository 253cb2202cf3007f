package promspace

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/promspace/promspace/alertmanager"
	"github.com/promspace/promspace/auth"
	"github.com/promspace/promspace/dedupe"
	"github.com/promspace/promspace/internal/promapi"
	"github.com/promspace/promspace/internal/restjson"
	"github.com/promspace/promspace/logging"
	"github.com/promspace/promspace/quota"
	"github.com/promspace/promspace/rules"
	"github.com/promspace/promspace/workspace"
)

// routes returns the service's handler: AMP's control plane and every
// workspace's data plane behind the access-control middleware.
func (s *Service) routes(opts Options, logger *slog.Logger, reg prometheus.Registerer) http.Handler {
	registry := s.registry
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
	return auth.Middleware(mux, auth.MiddlewareOptions{
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
			restjson.UnknownOperation(w, r)
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

package auth

import (
	"context"
	"errors"
	"log/slog"
	"net/http"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/promspace/promspace/internal/promapi"
	"github.com/promspace/promspace/internal/restjson"
)

// MiddlewareOptions configures Middleware. Zero values mean the defaults.
type MiddlewareOptions struct {
	// Authenticator says who is calling. Anonymous{} when nil.
	Authenticator Authenticator
	// Authorizer says what they may do. AllowAll{} when nil: every
	// authenticated caller may do everything.
	Authorizer Authorizer
	// Region is the region of the resource ARNs. DefaultRegion when empty.
	Region string
	// AccountOf returns the account that owns a workspace. When it is nil,
	// or the workspace does not exist (ok false), the ARN is built with the
	// caller's own account, so that a denial says nothing about whether the
	// workspace exists; an allowed request then reaches the handler, which
	// answers 404. So it is too for another account's workspace that its
	// resource policy does not share with the caller.
	AccountOf func(ctx context.Context, workspaceID string) (account string, ok bool)
	// ResourcePolicy returns a workspace's resource-based policy, which the
	// Middleware evaluates with the caller's identity policies for the
	// workspace's Prometheus-compatible operations (Shareable): within one
	// account either may allow; across accounts both must; an explicit
	// Deny in either wins. Nil: no resource policies.
	ResourcePolicy ResourcePolicyFunc
	// PassUnknownRoutes lets authenticated requests for routes outside the
	// route table through to next without an authorization check, for next
	// to answer 404 or 405. By default they are refused as AMP refuses
	// them: 404 UnknownOperationException.
	PassUnknownRoutes bool
	// Logger logs denials (debug) and failures (error). Discarded when nil.
	Logger *slog.Logger
	// Registerer registers promspace_auth_requests_total. Not registered
	// when nil.
	Registerer prometheus.Registerer
}

type middleware struct {
	next     http.Handler
	opts     MiddlewareOptions
	requests *prometheus.CounterVec
}

// Middleware authenticates every request, matches it to its AMP operation
// (see Route), builds the resource ARN and asks the Authorizer; allowed
// requests reach next with the principal and operation in their context
// (PrincipalFrom, OperationFrom, Allowed). Refusals look like AMP's: on the
// control plane a 403 (413 for an oversized body) with x-amzn-ErrorType and
// {"message":"..."}; on the data plane (/workspaces/{id}/api/v1/...,
// /workspaces/{id}/alertmanager/api/v2/...) the same status and header with
// Prometheus' {"status":"error","errorType":"...","error":"..."}.
func Middleware(next http.Handler, opts MiddlewareOptions) http.Handler {
	if opts.Authenticator == nil {
		opts.Authenticator = Anonymous{}
	}
	if opts.Authorizer == nil {
		opts.Authorizer = AllowAll{}
	}
	if opts.Region == "" {
		opts.Region = DefaultRegion
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	m := &middleware{
		next: next,
		opts: opts,
		requests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "promspace_auth_requests_total",
			Help: "Requests seen by the auth middleware, by result: allowed, or the AWS error type of the refusal.",
		}, []string{"result"}),
	}
	if opts.Registerer != nil {
		if err := opts.Registerer.Register(m.requests); err != nil {
			var are prometheus.AlreadyRegisteredError
			if errors.As(err, &are) {
				if existing, ok := are.ExistingCollector.(*prometheus.CounterVec); ok {
					m.requests = existing
				}
			} else {
				opts.Logger.Warn("Registering metrics failed", "err", err)
			}
		}
	}
	return m
}

func (m *middleware) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ctx := r.Context()
	path := r.URL.EscapedPath()
	dataPlane := isDataPlanePath(path)

	p, err := m.opts.Authenticator.Authenticate(r)
	if err == nil && p == nil {
		err = errors.New("authenticator returned no principal")
	}
	if err != nil {
		f := failureOf(err)
		if f.status == http.StatusInternalServerError {
			m.opts.Logger.Error("Authentication failed", "method", r.Method, "path", path, "err", err)
		} else {
			m.opts.Logger.Debug("Request not authenticated", "method", r.Method, "path", path, "type", f.errType, "err", err)
		}
		m.refuse(w, f, dataPlane)
		return
	}

	op, ok := Route(r.Method, path)
	if !ok {
		if m.opts.PassUnknownRoutes {
			m.requests.WithLabelValues("allowed").Inc()
			m.next.ServeHTTP(w, r.WithContext(NewContext(ctx, p, m.opts.Authorizer)))
			return
		}
		m.opts.Logger.Debug("Unknown operation refused", "method", r.Method, "path", path, "principal", p.arn())
		m.refuse(w, failure{http.StatusNotFound, errTypeUnknownOperation,
			"no operation matches " + r.Method + " " + path}, dataPlane)
		return
	}

	d, err := m.authorize(ctx, p, op)
	resource, allowed := d.resource, d.allowed
	if err != nil {
		m.opts.Logger.Error("Authorization failed", "principal", p.arn(), "action", op.Action, "resource", resource, "err", err)
		m.refuse(w, failureOf(err), dataPlane)
		return
	}
	if !allowed {
		m.opts.Logger.Debug("Access denied", "principal", p.arn(), "action", op.Action, "resource", resource)
		m.refuse(w, failure{http.StatusForbidden, errTypeAccessDenied,
			"User: " + p.arn() + " is not authorized to perform: " + op.Action + " on resource: " + resource}, dataPlane)
		return
	}
	m.requests.WithLabelValues("allowed").Inc()
	op.Account = d.account
	ctx = context.WithValue(ctx, ctxKey{}, &ctxValue{principal: p, authorizer: m.opts.Authorizer, op: &op})
	m.next.ServeHTTP(w, r.WithContext(ctx))
}

func (m *middleware) refuse(w http.ResponseWriter, f failure, dataPlane bool) {
	m.requests.WithLabelValues(f.errType).Inc()
	writeFailure(w, f, dataPlane)
}

// writeFailure answers as AMP does: the control plane in AWS's REST-JSON
// error shape, the data plane in Prometheus' API error shape, both with
// x-amzn-ErrorType (which AWS's front end sets on every refusal).
func writeFailure(w http.ResponseWriter, f failure, dataPlane bool) {
	if dataPlane {
		w.Header().Set(restjson.ErrorTypeHeader, f.errType)
		promapi.WriteError(w, f.status, f.errType, f.message)
		return
	}
	restjson.WriteError(w, f.status, f.errType, f.message, nil)
}

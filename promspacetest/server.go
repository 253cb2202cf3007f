// Package promspacetest is a test harness: it starts a promspace service on
// a loopback port with one workspace in t.TempDir(), and offers helpers to
// write to it over real remote write and assert on it with PromQL, and to
// load rules files, evaluate them at chosen times and assert which alerts
// fire and which notifications the workspace's alert manager sends.
//
//	srv := promspacetest.NewServer(t)
//	srv.PushGatherer(t, registry)
//	srv.AssertQuery(t, `sum(my_requests_total)`, map[string]float64{`{}`: 3})
//	srv.LoadRulesFile(t, "alerts.yaml")
//	srv.EvalRules(t, now)
//	srv.EvalRules(t, now.Add(5*time.Minute))
//	srv.AssertFiring(t, promspacetest.Alert{Labels: ..., Annotations: ...})
//	srv.LoadAlertmanagerConfig(t, "")  // routes every alert to the harness's receiver
//	srv.WaitNotifications(t, 1)        // what reached it, through the workspace's alert manager
//
// Everything is torn down by t.Cleanup.
package promspacetest

import (
	"context"
	"net/http/httptest"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"

	"github.com/promspace/promspace"
)

// Server is a running promspace service with one workspace.
type Server struct {
	// URL is the service's base URL, where AMP's control plane answers.
	URL string
	// WorkspaceID is the id of the workspace NewServer created.
	WorkspaceID string
	// RemoteWriteURL takes remote write 1.0 and 2.0 into the workspace.
	RemoteWriteURL string
	// QueryURL is the workspace's Prometheus server URL: the base that
	// Prometheus API clients, Grafana and promtool take.
	QueryURL string

	// Service is the service behind the server, for tests that need more
	// workspaces or in-process access.
	Service *promspace.Service

	api v1.API
	// hook is the receiver of LoadAlertmanagerConfig, started with it.
	receiverMtx sync.Mutex
	hook        *receiver
}

// Option changes the options NewServer starts the service with.
type Option func(*promspace.Options)

// WithOptions applies f to the service options before the service starts.
func WithOptions(f func(*promspace.Options)) Option { return Option(f) }

// NewServer starts a service on a loopback port with a workspace aliased
// "default", its data in t.TempDir(). t.Cleanup stops it.
func NewServer(t testing.TB, opts ...Option) *Server {
	t.Helper()
	o := promspace.Options{DataDir: t.TempDir()}
	// Rules are evaluated when EvalRules says, at the time it is given.
	o.Rules.ManualEvaluation = true
	for _, opt := range opts {
		opt(&o)
	}
	ctx := context.Background()
	svc, err := promspace.New(ctx, o)
	if err != nil {
		t.Fatalf("promspacetest: start service: %v", err)
	}
	ws, err := svc.EnsureWorkspace(ctx, "default")
	if err != nil {
		svc.Close()
		t.Fatalf("promspacetest: create workspace: %v", err)
	}
	hs := httptest.NewServer(svc)
	t.Cleanup(func() {
		hs.Close()
		if err := svc.Close(); err != nil {
			t.Errorf("promspacetest: close service: %v", err)
		}
	})

	s := &Server{
		URL:            hs.URL,
		WorkspaceID:    ws.ID(),
		RemoteWriteURL: hs.URL + "/workspaces/" + ws.ID() + "/api/v1/remote_write",
		QueryURL:       hs.URL + "/workspaces/" + ws.ID(),
		Service:        svc,
	}
	client, err := api.NewClient(api.Config{Address: s.QueryURL})
	if err != nil {
		t.Fatalf("promspacetest: query client: %v", err)
	}
	s.api = v1.NewAPI(client)
	return s
}

// API is a client_golang Prometheus API client for the workspace.
func (s *Server) API() v1.API { return s.api }

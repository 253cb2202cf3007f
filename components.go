package promspace

import (
	"context"
	"net/http"

	"github.com/promspace/promspace/dedupe"
	"github.com/promspace/promspace/ingest"
	"github.com/promspace/promspace/logging"
	"github.com/promspace/promspace/query"
	"github.com/promspace/promspace/quota"
	"github.com/promspace/promspace/rules"
	"github.com/promspace/promspace/workspace"
)

// A workspace's metadata store takes a request's metadata under one lock.
var _ ingest.MetadataBatchSink = (*workspace.MetadataStore)(nil)

// Names of the Service's workspace components.
const (
	ingestComponent = "ingest"
	queryComponent  = "query"
)

// components are the Service's own workspace components, opened in this
// order for every workspace before those of Options.Workspace.Components:
// the HA tracker and the quotas first, since the ingest endpoint runs them
// as its workspace's pipeline (dedupe first, then quota), and the usage
// meter, which the query API reports to; then the ingest endpoint, the
// rules manager (after the quotas, whose rules and alerts limits it
// enforces) and the query API, which answers /api/v1/rules and
// /api/v1/alerts from the rules manager opened before it; last the block
// shipper, which also restores the bucket's blocks before the TSDB opens.
func (s *Service) components() []workspace.Component {
	return []workspace.Component{
		s.trackers.Component(),
		s.quotas.Component(),
		s.meters.Component(),
		// Logging before the components that vend records through it.
		s.logging.Component(),
		workspace.NewComponent(ingestComponent, func(_ context.Context, w *workspace.Workspace) (workspace.Instance, error) {
			var stages []ingest.Stage
			if t, ok := workspace.InstanceOf[*dedupe.Tracker](w, dedupe.ComponentName); ok {
				stages = append(stages, t)
			}
			if q, ok := workspace.InstanceOf[*quota.Quota](w, quota.ComponentName); ok {
				stages = append(stages, q)
			}
			return ingestInstance{s.ingest.Open(ingest.Target{ID: w.ID(), Appendable: w, Metadata: w.Metadata(), Pipeline: stages})}, nil
		}),
		// The alert manager before the rules manager, which sends to it
		// and so closes first.
		s.alertmanagers.Component(),
		s.rules.Component(),
		workspace.NewComponent(queryComponent, func(_ context.Context, w *workspace.Workspace) (workspace.Instance, error) {
			src := query.Source{ID: w.ID(), Queryable: w, Exemplars: w, Metadata: w.Metadata()}
			// The workspace's own query limits, read as each request
			// arrives, so that an override applies to the next query.
			if q, ok := workspace.InstanceOf[*quota.Quota](w, quota.ComponentName); ok {
				src.Limits = q.QueryLimits
			}
			if m, ok := workspace.InstanceOf[*quota.Meter](w, quota.MeterComponentName); ok {
				src.OnQuery = m.ObserveQuery
			}
			if l, ok := workspace.InstanceOf[*logging.Instance](w, logging.ComponentName); ok {
				src.OnQueryRecord = l.ObserveQuery
			}
			if m, ok := workspace.InstanceOf[*rules.RuleManager](w, rules.ComponentName); ok {
				src.Rules = m
			}
			// Built once per workspace: Prometheus' API object is costly
			// enough not to build per request.
			h := s.query.Handler(src)
			return queryInstance{http.StripPrefix("/workspaces/"+w.ID(), h)}, nil
		}),
		s.shipper.Component(),
	}
}

// ingestInstance is a workspace's remote-write endpoint.
type ingestInstance struct{ *ingest.Endpoint }

func (ingestInstance) ApplyConfig(workspace.Configuration) error { return nil }

// queryInstance is a workspace's query API.
type queryInstance struct{ http.Handler }

func (queryInstance) ApplyConfig(workspace.Configuration) error { return nil }
func (queryInstance) Close() error                              { return nil }

package promspace

import (
	"context"
	"net/http"

	"github.com/promspace/promspace/ingest"
	"github.com/promspace/promspace/query"
	"github.com/promspace/promspace/workspace"
)

// Names of the Service's workspace components.
const (
	ingestComponent = "ingest"
	queryComponent  = "query"
)

// components are the Service's own workspace components, opened in this
// order for every workspace before those of Options.Workspace.Components.
func (s *Service) components() []workspace.Component {
	return []workspace.Component{
		workspace.NewComponent(ingestComponent, func(_ context.Context, w *workspace.Workspace) (workspace.Instance, error) {
			return ingestInstance{s.ingest.Open(ingest.Target{ID: w.ID(), Appendable: w, Metadata: w.Metadata()})}, nil
		}),
		workspace.NewComponent(queryComponent, func(_ context.Context, w *workspace.Workspace) (workspace.Instance, error) {
			// Built once per workspace: Prometheus' API object is costly
			// enough not to build per request.
			h := s.query.Handler(query.Source{ID: w.ID(), Queryable: w, Exemplars: w, Metadata: w.Metadata()})
			return queryInstance{http.StripPrefix("/workspaces/"+w.ID(), h)}, nil
		}),
	}
}

// ingestInstance is a workspace's remote-write endpoint.
type ingestInstance struct{ *ingest.Endpoint }

func (ingestInstance) ApplyConfig(workspace.Configuration) error { return nil }

// queryInstance is a workspace's query API.
type queryInstance struct{ http.Handler }

func (queryInstance) ApplyConfig(workspace.Configuration) error { return nil }
func (queryInstance) Close() error                              { return nil }

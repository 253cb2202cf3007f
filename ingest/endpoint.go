package ingest

import "net/http"

// Endpoint is the remote-write endpoint of one workspace: the Target it
// writes to and the workspace's series of the Handler's metrics, which
// Close deletes. A host program opens one per workspace (the Service does
// so as a workspace component) and closes it when the workspace goes.
type Endpoint struct {
	h *Handler
	t Target
}

// Open returns the endpoint that writes to t.
func (h *Handler) Open(t Target) *Endpoint { return &Endpoint{h: h, t: t} }

// ServeHTTP handles a remote-write request, as Handler.Write does.
func (e *Endpoint) ServeHTTP(w http.ResponseWriter, r *http.Request) { e.h.Write(w, r, e.t) }

// Close deletes the workspace's metric series. Requests still served
// afterwards would create them again.
func (e *Endpoint) Close() error {
	e.h.metrics.forget(e.t.ID)
	return nil
}

package alertmanager

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"strings"

	"github.com/promspace/promspace/internal/restjson"
)

// maxAPIBody bounds a request to the Alertmanager API: AMP's alert
// payload quota.
const maxAPIBody = 20 << 20

// resourceType names definitions in AMP's exceptions.
const resourceType = "AlertManagerDefinition"

// ServeHTTP serves, under /workspaces/{workspaceId}/alertmanager, AMP's
// alert manager definition operations on .../definition, with AMP's
// REST-JSON bodies, status codes and exceptions, and the workspace's
// Alertmanager v2 API on .../api/v2/, Alertmanager's own handler. The
// caller resolved the workspace and checked access.
func (in *Instance) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	in.muxOnce.Do(func() {
		mux := http.NewServeMux()
		const base = "/workspaces/{workspaceId}/alertmanager"
		mux.HandleFunc("POST "+base+"/definition", in.serveCreate)
		mux.HandleFunc("PUT "+base+"/definition", in.servePut)
		mux.HandleFunc("GET "+base+"/definition", in.serveDescribe)
		mux.HandleFunc("DELETE "+base+"/definition", in.serveDelete)
		mux.Handle(base+"/api/v2/", http.StripPrefix("/workspaces/"+in.w.ID()+"/alertmanager", http.HandlerFunc(in.serveAPI)))
		mux.HandleFunc("/", restjson.UnknownOperation)
		in.mux = mux
	})
	in.mux.ServeHTTP(w, r)
}

// serveAPI serves Alertmanager's v2 API, paths starting at /api/v2/. A
// workspace without a definition has no Alertmanager to answer: 404
// ResourceNotFoundException. A change of the silences is written to disk
// before it is answered.
func (in *Instance) serveAPI(w http.ResponseWriter, r *http.Request) {
	if in.running.Load() == nil {
		restjson.WriteError(w, http.StatusNotFound, "ResourceNotFoundException",
			"Alert manager definition not found for workspace "+in.w.ID(),
			map[string]any{"resourceId": in.w.ID(), "resourceType": resourceType})
		return
	}
	if r.Body != nil {
		r.Body = http.MaxBytesReader(w, r.Body, maxAPIBody)
	}
	changesSilences := (r.Method == http.MethodPost && r.URL.Path == "/api/v2/silences") ||
		(r.Method == http.MethodDelete && strings.HasPrefix(r.URL.Path, "/api/v2/silence/"))
	if !changesSilences {
		in.api.Handler.ServeHTTP(w, r)
		return
	}
	rec := &recorder{header: http.Header{}, status: http.StatusOK}
	in.api.Handler.ServeHTTP(rec, r)
	if rec.status/100 == 2 {
		if err := in.snapshotSilences(); err != nil {
			in.logger.Error("Writing the silences failed", "err", err)
			http.Error(w, "could not store the silences", http.StatusInternalServerError)
			return
		}
	}
	for k, v := range rec.header {
		w.Header()[k] = v
	}
	w.WriteHeader(rec.status)
	_, _ = w.Write(rec.body.Bytes())
}

// recorder holds a response until the change it answers is stored.
type recorder struct {
	header http.Header
	status int
	body   bytes.Buffer
}

func (rec *recorder) Header() http.Header         { return rec.header }
func (rec *recorder) WriteHeader(status int)      { rec.status = status }
func (rec *recorder) Write(b []byte) (int, error) { return rec.body.Write(b) }

type statusJSON struct {
	StatusCode   Status `json:"statusCode"`
	StatusReason string `json:"statusReason,omitempty"`
}

// epochSeconds is a timestamp as rest-json bodies carry them.
type epochSeconds = restjson.Time

type definitionRequest struct {
	Data        []byte `json:"data"`
	ClientToken string `json:"clientToken"`
}

func (in *Instance) serveCreate(w http.ResponseWriter, r *http.Request) {
	var req definitionRequest
	if err := in.decodeBody(r, &req); err != nil {
		in.writeError(w, r, err)
		return
	}
	d, err := in.Create(r.Context(), req.Data, req.ClientToken)
	if err != nil {
		in.writeError(w, r, err)
		return
	}
	restjson.WriteJSON(w, http.StatusAccepted, map[string]statusJSON{"status": {d.Status, d.StatusReason}})
}

func (in *Instance) servePut(w http.ResponseWriter, r *http.Request) {
	var req definitionRequest
	if err := in.decodeBody(r, &req); err != nil {
		in.writeError(w, r, err)
		return
	}
	d, err := in.Put(r.Context(), req.Data, req.ClientToken)
	if err != nil {
		in.writeError(w, r, err)
		return
	}
	restjson.WriteJSON(w, http.StatusAccepted, map[string]statusJSON{"status": {d.Status, d.StatusReason}})
}

func (in *Instance) serveDescribe(w http.ResponseWriter, r *http.Request) {
	d, err := in.Describe()
	if err != nil {
		in.writeError(w, r, err)
		return
	}
	c, m := epochSeconds(d.CreatedAt), epochSeconds(d.ModifiedAt)
	restjson.WriteJSON(w, http.StatusOK, map[string]any{"alertManagerDefinition": struct {
		Status     statusJSON   `json:"status"`
		Data       []byte       `json:"data"`
		CreatedAt  epochSeconds `json:"createdAt"`
		ModifiedAt epochSeconds `json:"modifiedAt"`
	}{statusJSON{d.Status, d.StatusReason}, d.Data, c, m}})
}

func (in *Instance) serveDelete(w http.ResponseWriter, r *http.Request) {
	if err := in.Delete(r.Context()); err != nil {
		in.writeError(w, r, err)
		return
	}
	restjson.WriteAccepted(w)
}

// writeError answers err as the AMP exception it stands for.
func (in *Instance) writeError(w http.ResponseWriter, r *http.Request, err error) {
	resource := map[string]any{"resourceId": in.w.ID(), "resourceType": resourceType}
	var ve *ValidationError
	switch {
	case errors.As(err, &ve):
		restjson.WriteValidation(w, ve.Message, ve.Field)
	case errors.Is(err, ErrNotFound):
		restjson.WriteError(w, http.StatusNotFound, "ResourceNotFoundException",
			"Alert manager definition not found for workspace "+in.w.ID(), resource)
	case errors.Is(err, ErrConflict):
		restjson.WriteError(w, http.StatusConflict, "ConflictException", err.Error(), resource)
	case errors.Is(err, context.Canceled):
		restjson.WriteError(w, http.StatusRequestTimeout, "InternalServerException", err.Error(), nil)
	default:
		in.logger.Error("Alert manager definition request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		restjson.WriteError(w, http.StatusInternalServerError, "InternalServerException", "internal error", nil)
	}
}

// decodeBody decodes a JSON request body into v; an empty body is {}. The
// body may hold a definition of the workspace's size limit, base64
// encoded, and the rest of the JSON.
func (in *Instance) decodeBody(r *http.Request, v any) error {
	limit := int64(64 << 20)
	if n := in.limits().MaxAlertManagerDefinitionBytes; n > 0 {
		limit = int64(n)/3*4 + 64<<10
	}
	if e := restjson.DecodeBody(r, limit, v); e != nil {
		if e.TooLarge {
			return invalid("alert manager definition is over the limit of %d bytes", in.limits().MaxAlertManagerDefinitionBytes)
		}
		return &ValidationError{Message: e.Message}
	}
	return nil
}

package logging

import (
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/promspace/promspace/internal/restjson"
)

// maxRequestBody bounds a request body: a log group ARN and a client token.
const maxRequestBody = 64 << 10

// Resource types of AMP's exceptions.
const (
	resourceType      = "LoggingConfiguration"
	queryResourceType = "QueryLoggingConfiguration"
)

// ServeHTTP serves AMP's logging configuration operations of the workspace
// on their control-plane paths, /workspaces/{workspaceId}/logging and
// .../logging/query, with AMP's REST-JSON bodies, status codes and
// exceptions. The caller resolved the workspace and checked access.
func (in *Instance) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	in.muxOnce.Do(func() {
		mux := http.NewServeMux()
		const base = "/workspaces/{workspaceId}/logging"
		mux.HandleFunc("POST "+base, in.serveCreate)
		mux.HandleFunc("PUT "+base, in.serveUpdate)
		mux.HandleFunc("GET "+base, in.serveDescribe)
		mux.HandleFunc("DELETE "+base, in.serveDelete)
		mux.HandleFunc("POST "+base+"/query", in.serveCreateQuery)
		mux.HandleFunc("PUT "+base+"/query", in.serveUpdateQuery)
		mux.HandleFunc("GET "+base+"/query", in.serveDescribeQuery)
		mux.HandleFunc("DELETE "+base+"/query", in.serveDeleteQuery)
		mux.HandleFunc("/", restjson.UnknownOperation)
		in.mux = mux
	})
	in.mux.ServeHTTP(w, r)
}

type statusJSON struct {
	StatusCode   Status `json:"statusCode"`
	StatusReason string `json:"statusReason,omitempty"`
}

// epochSeconds is a timestamp as rest-json bodies carry them.
type epochSeconds = restjson.Time

type destinationJSON struct {
	CloudWatchLogs *struct {
		LogGroupARN string `json:"logGroupArn"`
	} `json:"cloudWatchLogs"`
	Filters *struct {
		QSPThreshold *int64 `json:"qspThreshold"`
	} `json:"filters"`
}

func (in *Instance) serveCreate(w http.ResponseWriter, r *http.Request) {
	in.serveChange(w, r, in.Create)
}
func (in *Instance) serveUpdate(w http.ResponseWriter, r *http.Request) {
	in.serveChange(w, r, in.Update)
}

func (in *Instance) serveChange(w http.ResponseWriter, r *http.Request, change func(context.Context, CreateInput) (*Configuration, error)) {
	var req struct {
		LogGroupARN string `json:"logGroupArn"`
		ClientToken string `json:"clientToken"`
	}
	if err := decodeBody(r, &req); err != nil {
		in.writeError(w, r, err, resourceType)
		return
	}
	c, err := change(r.Context(), CreateInput{LogGroupARN: req.LogGroupARN, ClientToken: req.ClientToken})
	if err != nil {
		in.writeError(w, r, err, resourceType)
		return
	}
	restjson.WriteJSON(w, http.StatusAccepted, map[string]statusJSON{"status": {c.Status, c.StatusReason}})
}

func (in *Instance) serveDescribe(w http.ResponseWriter, r *http.Request) {
	c, err := in.Describe()
	if err != nil {
		in.writeError(w, r, err, resourceType)
		return
	}
	created, modified := epochSeconds(c.CreatedAt), epochSeconds(c.ModifiedAt)
	restjson.WriteJSON(w, http.StatusOK, map[string]any{"loggingConfiguration": map[string]any{
		"status": statusJSON{c.Status, c.StatusReason}, "workspace": in.w.ID(), "logGroupArn": c.LogGroupARN,
		"createdAt": created, "modifiedAt": modified,
	}})
}

func (in *Instance) serveDelete(w http.ResponseWriter, r *http.Request) {
	if err := in.Delete(r.Context()); err != nil {
		in.writeError(w, r, err, resourceType)
		return
	}
	restjson.WriteAccepted(w)
}

func (in *Instance) serveCreateQuery(w http.ResponseWriter, r *http.Request) {
	in.serveQueryChange(w, r, in.CreateQuery)
}

func (in *Instance) serveUpdateQuery(w http.ResponseWriter, r *http.Request) {
	in.serveQueryChange(w, r, in.UpdateQuery)
}

func (in *Instance) serveQueryChange(w http.ResponseWriter, r *http.Request, change func(context.Context, QueryInput) (*QueryConfiguration, error)) {
	var req struct {
		Destinations []destinationJSON `json:"destinations"`
		ClientToken  string            `json:"clientToken"`
	}
	if err := decodeBody(r, &req); err != nil {
		in.writeError(w, r, err, queryResourceType)
		return
	}
	in2, err := queryInput(req.Destinations)
	if err != nil {
		in.writeError(w, r, err, queryResourceType)
		return
	}
	in2.ClientToken = req.ClientToken
	q, err := change(r.Context(), in2)
	if err != nil {
		in.writeError(w, r, err, queryResourceType)
		return
	}
	restjson.WriteJSON(w, http.StatusAccepted, map[string]statusJSON{"status": {q.Status, q.StatusReason}})
}

// queryInput takes the one destination AMP allows out of its list.
func queryInput(ds []destinationJSON) (QueryInput, error) {
	if len(ds) != 1 {
		return QueryInput{}, &ValidationError{Field: "destinations", Message: fmt.Sprintf(
			"1 validation error detected: Value at 'destinations' failed to satisfy constraint: Member must have length equal to 1, got %d", len(ds))}
	}
	d := ds[0]
	if d.CloudWatchLogs == nil {
		return QueryInput{}, &ValidationError{Field: "destinations.member.1.member.cloudWatchLogs", Message: "cloudWatchLogs is required"}
	}
	if d.Filters == nil || d.Filters.QSPThreshold == nil {
		return QueryInput{}, &ValidationError{Field: "destinations.member.1.member.filters.member.qspThreshold", Message: "filters.qspThreshold is required"}
	}
	return QueryInput{LogGroupARN: d.CloudWatchLogs.LogGroupARN, QSPThreshold: *d.Filters.QSPThreshold}, nil
}

func (in *Instance) serveDescribeQuery(w http.ResponseWriter, r *http.Request) {
	q, err := in.DescribeQuery()
	if err != nil {
		in.writeError(w, r, err, queryResourceType)
		return
	}
	created, modified := epochSeconds(q.CreatedAt), epochSeconds(q.ModifiedAt)
	dest := map[string]any{
		"cloudWatchLogs": map[string]string{"logGroupArn": q.LogGroupARN},
		"filters":        map[string]int64{"qspThreshold": q.QSPThreshold},
	}
	restjson.WriteJSON(w, http.StatusOK, map[string]any{"queryLoggingConfiguration": map[string]any{
		"status": statusJSON{q.Status, q.StatusReason}, "workspace": in.w.ID(), "destinations": []any{dest},
		"createdAt": created, "modifiedAt": modified,
	}})
}

func (in *Instance) serveDeleteQuery(w http.ResponseWriter, r *http.Request) {
	if err := in.DeleteQuery(r.Context()); err != nil {
		in.writeError(w, r, err, queryResourceType)
		return
	}
	restjson.WriteAccepted(w)
}

// writeError answers err as the AMP exception it stands for.
func (in *Instance) writeError(w http.ResponseWriter, r *http.Request, err error, resType string) {
	resource := map[string]any{"resourceId": in.w.ID(), "resourceType": resType}
	var ve *ValidationError
	switch {
	case errors.As(err, &ve):
		restjson.WriteValidation(w, ve.Message, ve.Field)
	case errors.Is(err, ErrNotFound):
		what := "Logging configuration"
		if resType == queryResourceType {
			what = "Query logging configuration"
		}
		restjson.WriteError(w, http.StatusNotFound, "ResourceNotFoundException",
			what+" not found for workspace "+in.w.ID(), resource)
	case errors.Is(err, ErrConflict):
		restjson.WriteError(w, http.StatusConflict, "ConflictException", err.Error(), resource)
	default:
		in.logger.Error("Logging configuration request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		restjson.WriteError(w, http.StatusInternalServerError, "InternalServerException", "internal error", nil)
	}
}

// decodeBody decodes a JSON request body into v; an empty body is {}.
func decodeBody(r *http.Request, v any) error {
	if e := restjson.DecodeBody(r, maxRequestBody, v); e != nil {
		return &ValidationError{Message: e.Message}
	}
	return nil
}

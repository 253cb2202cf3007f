// Package promapi writes the error JSON of Prometheus' HTTP API,
// {"status":"error","errorType":"...","error":"..."}, which Prometheus'
// clients (client_golang's API client, Grafana, promtool) read. The query
// API, the data plane's refusals and the rules API share it.
package promapi

import (
	"encoding/json"
	"net/http"
)

// Error types of Prometheus' API, the errorType member.
const (
	ErrorTimeout     = "timeout"
	ErrorCanceled    = "canceled"
	ErrorExec        = "execution"
	ErrorBadData     = "bad_data"
	ErrorInternal    = "internal"
	ErrorUnavailable = "unavailable"
	ErrorNotFound    = "not_found"
)

type errorBody struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
}

// WriteError writes Prometheus' error JSON with the given status code.
func WriteError(w http.ResponseWriter, code int, errorType, message string) {
	b, _ := json.Marshal(errorBody{Status: "error", ErrorType: errorType, Error: message})
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_, _ = w.Write(b) // the client has gone
}

// Package restjson writes responses the way AWS's REST-JSON protocol does,
// which is what the AWS SDK's amp client reads: a JSON body, an
// x-amzn-RequestId header, and for errors an x-amzn-ErrorType header naming
// the exception. The control plane, the access-control middleware and the
// rules and alert-manager APIs share it.
package restjson

import (
	"encoding/json"
	"net/http"

	"github.com/google/uuid"
)

// ErrorTypeHeader names the exception of an error response; the SDK reads
// it before the body.
const ErrorTypeHeader = "x-amzn-ErrorType"

// WriteJSON writes v as the JSON body of a response with the given status.
func WriteJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		status, b = http.StatusInternalServerError, []byte(`{"message":"could not encode response"}`)
	}
	h := w.Header()
	h.Set("Content-Type", "application/json")
	h.Set("x-amzn-RequestId", uuid.NewString())
	w.WriteHeader(status)
	_, _ = w.Write(b) // the client has gone
}

// WriteError writes the exception errType with the given message and the
// exception's other members (resourceId, fieldList, quotaCode, ...), if any.
func WriteError(w http.ResponseWriter, status int, errType, message string, members map[string]any) {
	body := make(map[string]any, len(members)+1)
	for k, v := range members {
		body[k] = v
	}
	body["message"] = message
	w.Header().Set(ErrorTypeHeader, errType)
	WriteJSON(w, status, body)
}

// Package restjson writes responses the way AWS's REST-JSON protocol does,
// which is what the AWS SDK's amp client reads: a JSON body, an
// x-amzn-RequestId header, and for errors an x-amzn-ErrorType header naming
// the exception. The control plane, the access-control middleware and the
// rules and alert-manager APIs share it.
package restjson

import (
	"encoding/json"
	"fmt"
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

// WriteAccepted answers an operation whose response has no body, such as
// a delete: 202 with the request id.
func WriteAccepted(w http.ResponseWriter) {
	w.Header().Set("x-amzn-RequestId", uuid.NewString())
	w.WriteHeader(http.StatusAccepted)
}

// WriteValidation writes the ValidationException of a request that does
// not validate: reason FIELD_VALIDATION_FAILED with a fieldList naming
// field, or, without a field, CANNOT_PARSE.
func WriteValidation(w http.ResponseWriter, message, field string) {
	members := map[string]any{"reason": "CANNOT_PARSE"}
	if field != "" {
		members["reason"] = "FIELD_VALIDATION_FAILED"
		members["fieldList"] = []map[string]string{{"name": field, "message": message}}
	}
	WriteError(w, http.StatusBadRequest, "ValidationException", message, members)
}

// UnknownOperation answers a request that matches no operation of a
// handler, as AMP does: 404 UnknownOperationException.
func UnknownOperation(w http.ResponseWriter, r *http.Request) {
	WriteError(w, http.StatusNotFound, "UnknownOperationException",
		fmt.Sprintf("no operation matches %s %s", r.Method, r.URL.Path), nil)
}

package restjson

import (
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"reflect"
	"testing"
)

func TestWriters(t *testing.T) {
	for _, tc := range []struct {
		name     string
		write    func(w http.ResponseWriter, r *http.Request)
		status   int
		errType  string
		wantBody map[string]any
	}{
		{"validation of a field", func(w http.ResponseWriter, _ *http.Request) { WriteValidation(w, "bad alias", "alias") },
			http.StatusBadRequest, "ValidationException", map[string]any{
				"message": "bad alias", "reason": "FIELD_VALIDATION_FAILED",
				"fieldList": []any{map[string]any{"name": "alias", "message": "bad alias"}}}},
		{"validation without a field", func(w http.ResponseWriter, _ *http.Request) { WriteValidation(w, "not JSON", "") },
			http.StatusBadRequest, "ValidationException", map[string]any{"message": "not JSON", "reason": "CANNOT_PARSE"}},
		{"unknown operation", UnknownOperation,
			http.StatusNotFound, "UnknownOperationException", map[string]any{"message": "no operation matches PATCH /workspaces"}},
		{"error with members", func(w http.ResponseWriter, _ *http.Request) {
			WriteError(w, http.StatusNotFound, "ResourceNotFoundException", "Workspace not found: ws-1", map[string]any{"resourceId": "ws-1"})
		}, http.StatusNotFound, "ResourceNotFoundException", map[string]any{"message": "Workspace not found: ws-1", "resourceId": "ws-1"}},
		{"accepted", func(w http.ResponseWriter, _ *http.Request) { WriteAccepted(w) }, http.StatusAccepted, "", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rec := httptest.NewRecorder()
			tc.write(rec, httptest.NewRequest(http.MethodPatch, "/workspaces", nil))
			if rec.Code != tc.status {
				t.Errorf("status %d, want %d", rec.Code, tc.status)
			}
			if got := rec.Header().Get(ErrorTypeHeader); got != tc.errType {
				t.Errorf("%s %q, want %q", ErrorTypeHeader, got, tc.errType)
			}
			if rec.Header().Get("x-amzn-RequestId") == "" {
				t.Error("no x-amzn-RequestId")
			}
			if tc.wantBody == nil {
				if rec.Body.Len() != 0 {
					t.Errorf("body %q, want none", rec.Body)
				}
				return
			}
			var got map[string]any
			if err := json.Unmarshal(rec.Body.Bytes(), &got); err != nil {
				t.Fatalf("body %q: %v", rec.Body, err)
			}
			if !reflect.DeepEqual(got, tc.wantBody) {
				t.Errorf("body %v, want %v", got, tc.wantBody)
			}
		})
	}
}

package rules

import (
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/promspace/promspace/quota"
)

// TestAPIExceptions checks the REST-JSON bodies of AMP's exceptions that
// the SDK test reads only through their type and message.
func TestAPIExceptions(t *testing.T) {
	_, w, m := openWorkspace(t, t.TempDir(), Options{}, quota.DefaultLimits())
	srv := httptest.NewServer(m)
	t.Cleanup(srv.Close)
	base := srv.URL + "/workspaces/" + w.ID() + "/rulegroupsnamespaces"
	data := base64.StdEncoding.EncodeToString([]byte(recordRule))
	for _, tc := range []struct {
		method, url, body string
		code              int
		errType           string
		members           map[string]any
	}{
		{"POST", base, `{"name":"ns","data":"` + data + `"}`, http.StatusAccepted, "", map[string]any{"name": "ns", "status": map[string]any{"statusCode": "CREATING"}}},
		{"POST", base, `{"name":"ns","data":"` + data + `"}`, http.StatusConflict, "ConflictException", map[string]any{"resourceId": "ns", "resourceType": "RuleGroupsNamespace"}},
		{"PUT", base + "/ns", `{"data":"` + base64.StdEncoding.EncodeToString([]byte("groups: [")) + `"}`, http.StatusBadRequest, "ValidationException",
			map[string]any{"reason": "FIELD_VALIDATION_FAILED"}},
		{"PUT", base + "/ns", `{"data":`, http.StatusBadRequest, "ValidationException", map[string]any{"reason": "CANNOT_PARSE"}},
		{"GET", base + "/missing", "", http.StatusNotFound, "ResourceNotFoundException", map[string]any{"resourceId": "missing", "resourceType": "RuleGroupsNamespace"}},
		{"DELETE", base + "/missing", "", http.StatusNotFound, "ResourceNotFoundException", nil},
		{"GET", base + "?maxResults=0", "", http.StatusBadRequest, "ValidationException", map[string]any{"reason": "FIELD_VALIDATION_FAILED"}},
		{"GET", base + "?nextToken=!!", "", http.StatusBadRequest, "ValidationException", nil},
		{"PATCH", base + "/ns", "", http.StatusNotFound, "UnknownOperationException", nil},
		{"GET", base + "?name=n", "", http.StatusOK, "", nil},
		{"DELETE", base + "/ns", "", http.StatusAccepted, "", nil},
	} {
		req, err := http.NewRequest(tc.method, tc.url, strings.NewReader(tc.body))
		if err != nil {
			t.Fatal(err)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		b, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != tc.code || resp.Header.Get("x-amzn-ErrorType") != tc.errType {
			t.Errorf("%s %s: %d %q %s, want %d %q", tc.method, tc.url, resp.StatusCode, resp.Header.Get("x-amzn-ErrorType"), b, tc.code, tc.errType)
			continue
		}
		var body map[string]any
		if len(b) > 0 {
			if err := json.Unmarshal(b, &body); err != nil {
				t.Errorf("%s %s: %v: %s", tc.method, tc.url, err, b)
			}
		}
		for k, want := range tc.members {
			if got, _ := json.Marshal(body[k]); string(got) != mustJSON(want) {
				t.Errorf("%s %s: %s = %s, want %s", tc.method, tc.url, k, got, mustJSON(want))
			}
		}
	}
}

func mustJSON(v any) string {
	b, _ := json.Marshal(v)
	return string(b)
}

package promspace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"sync"

	"github.com/promspace/promspace/auth/iam"
	"github.com/promspace/promspace/internal/restjson"
	"github.com/promspace/promspace/workspace"
)

// maxPolicyRequest bounds a PutResourcePolicy body.
const maxPolicyRequest = 64 << 10

// policies caches the parsed resource policy of each workspace by
// revision, so that a request is not authorized by parsing JSON.
type policies struct {
	reg *workspace.Registry
	mtx sync.Mutex
	m   map[string]parsedPolicy
}

type parsedPolicy struct {
	revision string
	policy   *iam.ResourcePolicy
}

// of is auth.MiddlewareOptions.ResourcePolicy: workspace id's resource
// policy, nil if it has none.
func (ps *policies) of(ctx context.Context, id string) (*iam.ResourcePolicy, error) {
	p, err := ps.reg.ResourcePolicyOf(ctx, id)
	if err != nil || p == nil {
		return nil, err
	}
	ps.mtx.Lock()
	defer ps.mtx.Unlock()
	if c, ok := ps.m[id]; ok && c.revision == p.RevisionID {
		return c.policy, nil
	}
	parsed, err := iam.ParseResourcePolicy([]byte(p.Document))
	if err != nil {
		// Validated when put: a newer parser refusing it grants nothing.
		return nil, fmt.Errorf("resource policy of workspace %s: %w", id, err)
	}
	if ps.m == nil {
		ps.m = map[string]parsedPolicy{}
	}
	ps.m[id] = parsedPolicy{p.RevisionID, parsed}
	return parsed, nil
}

// servePolicy serves PutResourcePolicy, DescribeResourcePolicy and
// DeleteResourcePolicy on /workspaces/{workspaceId}/policy.
func (s *Service) servePolicy(w http.ResponseWriter, r *http.Request) {
	ctx, id, account := r.Context(), r.PathValue("workspaceId"), s.account(r)
	switch r.Method {
	case http.MethodPut:
		var req struct {
			PolicyDocument *string `json:"policyDocument"`
			RevisionID     string  `json:"revisionId"`
			ClientToken    string  `json:"clientToken"`
		}
		b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxPolicyRequest))
		if err == nil {
			err = json.Unmarshal(b, &req)
		}
		if err != nil {
			restjson.WriteError(w, http.StatusBadRequest, "ValidationException", "could not parse request body: "+err.Error(),
				map[string]any{"reason": "CANNOT_PARSE"})
			return
		}
		if req.PolicyDocument == nil {
			writePolicyValidation(w, "policyDocument is required")
			return
		}
		if _, err := iam.ParseResourcePolicy([]byte(*req.PolicyDocument)); err != nil {
			writePolicyValidation(w, err.Error())
			return
		}
		p, status, err := s.registry.PutResourcePolicy(ctx, account, id, workspace.PutResourcePolicyInput{
			Document: *req.PolicyDocument, RevisionID: req.RevisionID, ClientToken: req.ClientToken})
		if err != nil {
			s.writePolicyError(w, r, id, err)
			return
		}
		restjson.WriteJSON(w, http.StatusAccepted, map[string]string{"policyStatus": string(status), "revisionId": p.RevisionID})
	case http.MethodGet:
		p, err := s.registry.DescribeResourcePolicy(ctx, account, id)
		if err != nil {
			s.writePolicyError(w, r, id, err)
			return
		}
		restjson.WriteJSON(w, http.StatusOK, map[string]string{
			"policyDocument": p.Document, "policyStatus": string(workspace.PolicyActive), "revisionId": p.RevisionID})
	case http.MethodDelete:
		if err := s.registry.DeleteResourcePolicy(ctx, account, id, r.URL.Query().Get("revisionId")); err != nil {
			s.writePolicyError(w, r, id, err)
			return
		}
		restjson.WriteAccepted(w)
	default:
		restjson.UnknownOperation(w, r)
	}
}

func writePolicyValidation(w http.ResponseWriter, msg string) {
	restjson.WriteValidation(w, msg, "policyDocument")
}

func (s *Service) writePolicyError(w http.ResponseWriter, r *http.Request, id string, err error) {
	switch {
	case errors.Is(err, workspace.ErrPolicyNotFound):
		restjson.WriteError(w, http.StatusNotFound, "ResourceNotFoundException", "Resource policy not found for workspace "+id,
			map[string]any{"resourceId": id, "resourceType": "ResourcePolicy"})
	case errors.Is(err, workspace.ErrNotFound):
		restjson.WriteError(w, http.StatusNotFound, "ResourceNotFoundException", "Workspace not found: "+id,
			map[string]any{"resourceId": id, "resourceType": "Workspace"})
	case errors.Is(err, workspace.ErrConflict):
		restjson.WriteError(w, http.StatusConflict, "ConflictException", err.Error(),
			map[string]any{"resourceId": id, "resourceType": "ResourcePolicy"})
	default:
		s.logger.Error("Resource policy request failed", "method", r.Method, "workspace", id, "err", err)
		restjson.WriteError(w, http.StatusInternalServerError, "InternalServerException", "internal error", nil)
	}
}

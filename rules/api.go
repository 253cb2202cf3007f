package rules

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/promspace/promspace/internal/restjson"
)

// List bounds of ListRuleGroupsNamespaces, AMP's.
const (
	DefaultMaxResults = 100
	MaxMaxResults     = 1000
)

// maxRequestBody bounds a request: a rules file of MaxDataBytes, base64
// encoded, and the rest of the JSON.
const maxRequestBody = MaxDataBytes/3*4 + 64<<10

// resourceType names namespaces in AMP's exceptions.
const resourceType = "RuleGroupsNamespace"

// ServeHTTP serves AMP's rule groups namespace operations of the workspace
// on their control-plane paths, /workspaces/{workspaceId}/rulegroupsnamespaces
// and .../{name}, with AMP's REST-JSON bodies, status codes and
// exceptions. The caller resolved the workspace and checked access.
func (m *RuleManager) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	m.muxOnce.Do(func() {
		mux := http.NewServeMux()
		const base = "/workspaces/{workspaceId}/rulegroupsnamespaces"
		mux.HandleFunc("POST "+base, m.serveCreate)
		mux.HandleFunc("GET "+base, m.serveList)
		mux.HandleFunc("PUT "+base+"/{name}", m.servePut)
		mux.HandleFunc("GET "+base+"/{name}", m.serveDescribe)
		mux.HandleFunc("DELETE "+base+"/{name}", m.serveDelete)
		mux.HandleFunc("/", restjson.UnknownOperation)
		m.mux = mux
	})
	m.mux.ServeHTTP(w, r)
}

type statusJSON struct {
	StatusCode   Status `json:"statusCode"`
	StatusReason string `json:"statusReason,omitempty"`
}

// epochSeconds is a timestamp as rest-json bodies carry them.
type epochSeconds = restjson.Time

type namespaceJSON struct {
	Arn        string            `json:"arn"`
	Name       string            `json:"name"`
	Status     statusJSON        `json:"status"`
	Data       []byte            `json:"data,omitempty"`
	CreatedAt  *epochSeconds     `json:"createdAt,omitempty"`
	ModifiedAt *epochSeconds     `json:"modifiedAt,omitempty"`
	Tags       map[string]string `json:"tags,omitempty"`
}

// toJSON returns ns as Describe and List show it; data only if withData.
func toJSON(ns *Namespace, withData bool) namespaceJSON {
	c, mod := epochSeconds(ns.CreatedAt), epochSeconds(ns.ModifiedAt)
	j := namespaceJSON{Arn: ns.ARN, Name: ns.Name, Status: statusJSON{ns.Status, ns.StatusReason},
		CreatedAt: &c, ModifiedAt: &mod, Tags: ns.Tags}
	if withData {
		j.Data = ns.Data
	}
	return j
}

// changed is what Create and Put answer.
func changed(ns *Namespace) namespaceJSON {
	return namespaceJSON{Arn: ns.ARN, Name: ns.Name, Status: statusJSON{ns.Status, ns.StatusReason}, Tags: ns.Tags}
}

func (m *RuleManager) serveCreate(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Name        string            `json:"name"`
		Data        []byte            `json:"data"`
		ClientToken string            `json:"clientToken"`
		Tags        map[string]string `json:"tags"`
	}
	if err := decodeBody(r, &req); err != nil {
		m.writeError(w, r, err, "")
		return
	}
	ns, err := m.Create(r.Context(), CreateInput{Name: req.Name, Data: req.Data, ClientToken: req.ClientToken, Tags: req.Tags})
	if err != nil {
		m.writeError(w, r, err, req.Name)
		return
	}
	restjson.WriteJSON(w, http.StatusAccepted, changed(ns))
}

func (m *RuleManager) servePut(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	var req struct {
		Data        []byte `json:"data"`
		ClientToken string `json:"clientToken"`
	}
	if err := decodeBody(r, &req); err != nil {
		m.writeError(w, r, err, name)
		return
	}
	ns, err := m.Put(r.Context(), PutInput{Name: name, Data: req.Data, ClientToken: req.ClientToken})
	if err != nil {
		m.writeError(w, r, err, name)
		return
	}
	restjson.WriteJSON(w, http.StatusAccepted, changed(ns))
}

func (m *RuleManager) serveDescribe(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	ns, err := m.Describe(name)
	if err != nil {
		m.writeError(w, r, err, name)
		return
	}
	restjson.WriteJSON(w, http.StatusOK, map[string]namespaceJSON{"ruleGroupsNamespace": toJSON(ns, true)})
}

func (m *RuleManager) serveList(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	limit := DefaultMaxResults
	if s := q.Get("maxResults"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxMaxResults {
			m.writeError(w, r, &ValidationError{Field: "maxResults",
				Message: fmt.Sprintf("maxResults must be an integer between 1 and %d", MaxMaxResults)}, "")
			return
		}
		limit = n
	}
	after := ""
	if tok := q.Get("nextToken"); tok != "" {
		b, err := base64.RawURLEncoding.DecodeString(tok)
		if err != nil || validateName(string(b)) != nil {
			m.writeError(w, r, &ValidationError{Field: "nextToken", Message: "invalid nextToken"}, "")
			return
		}
		after = string(b)
	}
	resp := struct {
		RuleGroupsNamespaces []namespaceJSON `json:"ruleGroupsNamespaces"`
		NextToken            string          `json:"nextToken,omitempty"`
	}{RuleGroupsNamespaces: []namespaceJSON{}}
	for _, ns := range m.List(q.Get("name")) {
		if ns.Name <= after {
			continue
		}
		if len(resp.RuleGroupsNamespaces) == limit {
			last := resp.RuleGroupsNamespaces[limit-1].Name
			resp.NextToken = base64.RawURLEncoding.EncodeToString([]byte(last))
			break
		}
		resp.RuleGroupsNamespaces = append(resp.RuleGroupsNamespaces, toJSON(ns, false))
	}
	restjson.WriteJSON(w, http.StatusOK, resp)
}

func (m *RuleManager) serveDelete(w http.ResponseWriter, r *http.Request) {
	name := r.PathValue("name")
	if err := m.Delete(r.Context(), name); err != nil {
		m.writeError(w, r, err, name)
		return
	}
	restjson.WriteAccepted(w)
}

// writeError answers err as the AMP exception it stands for.
func (m *RuleManager) writeError(w http.ResponseWriter, r *http.Request, err error, name string) {
	resource := map[string]any{"resourceId": name, "resourceType": resourceType}
	var ve *ValidationError
	switch {
	case errors.As(err, &ve):
		restjson.WriteValidation(w, ve.Message, ve.Field)
	case errors.Is(err, ErrTooManyRules):
		restjson.WriteError(w, http.StatusBadRequest, "ValidationException", err.Error(),
			map[string]any{"reason": "OTHER"})
	case errors.Is(err, ErrNotFound):
		restjson.WriteError(w, http.StatusNotFound, "ResourceNotFoundException",
			"Rule groups namespace not found: "+name, resource)
	case errors.Is(err, ErrConflict):
		restjson.WriteError(w, http.StatusConflict, "ConflictException", err.Error(), resource)
	case errors.Is(err, context.Canceled):
		restjson.WriteError(w, http.StatusRequestTimeout, "InternalServerException", err.Error(), nil)
	default:
		m.logger.Error("Rule groups namespace request failed", "method", r.Method, "path", r.URL.Path, "err", err)
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

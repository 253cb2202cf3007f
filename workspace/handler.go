package workspace

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/promspace/promspace/internal/restjson"
)

// maxRequestBody bounds a control-plane request body; AMP's requests are
// small JSON documents.
const maxRequestBody = 1 << 20

// HandlerOptions configure NewHandler.
type HandlerOptions struct {
	// PublicURL is the base of the prometheusEndpoint of described
	// workspaces, e.g. https://aps.example.com. Empty means the scheme and
	// host of the request.
	PublicURL string
	// Account returns the account a request acts for; nil, or an empty
	// answer, means the registry's Options.AccountID. Workspaces of other
	// accounts do not exist for the request.
	Account func(*http.Request) string
	// Visible filters ListWorkspaces, for access control; nil shows all.
	Visible func(ctx context.Context, w *Workspace) bool
	Logger  *slog.Logger
}

type handler struct {
	reg    *Registry
	opts   HandlerOptions
	logger *slog.Logger
}

// NewHandler returns AMP's control-plane REST-JSON API over reg, with the
// paths, methods, JSON names, status codes and errors the AWS SDK's amp
// client expects: workspaces, their alias, configuration and tags. The data
// plane under /workspaces/{id}/api/v1/ is not served here.
func NewHandler(reg *Registry, opts HandlerOptions) http.Handler {
	h := &handler{reg: reg, opts: opts, logger: cmp.Or(opts.Logger, reg.logger)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /workspaces", h.createWorkspace)
	mux.HandleFunc("GET /workspaces", h.listWorkspaces)
	mux.HandleFunc("GET /workspaces/{workspaceId}", h.describeWorkspace)
	mux.HandleFunc("DELETE /workspaces/{workspaceId}", h.deleteWorkspace)
	mux.HandleFunc("POST /workspaces/{workspaceId}/alias", h.updateWorkspaceAlias)
	mux.HandleFunc("GET /workspaces/{workspaceId}/configuration", h.describeWorkspaceConfiguration)
	mux.HandleFunc("PATCH /workspaces/{workspaceId}/configuration", h.updateWorkspaceConfiguration)
	// The ARN holds slashes; the SDK escapes them, other clients may not.
	mux.HandleFunc("GET /tags/{resourceArn...}", h.listTagsForResource)
	mux.HandleFunc("POST /tags/{resourceArn...}", h.tagResource)
	mux.HandleFunc("DELETE /tags/{resourceArn...}", h.untagResource)
	mux.HandleFunc("/", h.unknownOperation)
	return mux
}

func (h *handler) account(r *http.Request) string {
	if h.opts.Account != nil {
		if a := h.opts.Account(r); a != "" {
			return a
		}
	}
	return h.reg.opts.AccountID
}

// workspace returns the workspace of the request's path, in any status, if
// the request's account owns it.
func (h *handler) workspace(r *http.Request) (*Workspace, error) {
	return h.reg.owned(h.account(r), r.PathValue("workspaceId"))
}

func (h *handler) createWorkspace(rw http.ResponseWriter, r *http.Request) {
	var req struct {
		Alias       *string           `json:"alias"`
		ClientToken string            `json:"clientToken"`
		Tags        map[string]string `json:"tags"`
		KmsKeyArn   string            `json:"kmsKeyArn"`
	}
	if err := decodeBody(r, &req); err != nil {
		h.writeError(rw, r, err, "", "")
		return
	}
	if req.Alias != nil && strings.TrimSpace(*req.Alias) == "" {
		h.writeError(rw, r, aliasRequired(), "", "")
		return
	}
	w, status, err := h.reg.create(r.Context(), CreateInput{
		Alias:       deref(req.Alias),
		ClientToken: req.ClientToken,
		Tags:        req.Tags,
		KmsKeyArn:   req.KmsKeyArn,
		Account:     h.account(r),
	})
	if err != nil {
		h.writeError(rw, r, err, "", "Workspace")
		return
	}
	restjson.WriteJSON(rw, http.StatusAccepted, struct {
		Arn         string            `json:"arn"`
		KmsKeyArn   string            `json:"kmsKeyArn,omitempty"`
		Status      statusJSON        `json:"status"`
		Tags        map[string]string `json:"tags,omitempty"`
		WorkspaceID string            `json:"workspaceId"`
	}{w.ARN(), w.KmsKeyArn(), statusJSON{StatusCode: string(status)}, w.Tags(), w.ID()})
}

func (h *handler) describeWorkspace(rw http.ResponseWriter, r *http.Request) {
	w, err := h.workspace(r)
	if err != nil {
		h.writeError(rw, r, err, r.PathValue("workspaceId"), "Workspace")
		return
	}
	restjson.WriteJSON(rw, http.StatusOK, map[string]workspaceJSON{"workspace": h.describe(r, w, true)})
}

func (h *handler) listWorkspaces(rw http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	in := ListInput{
		Account:   h.account(r),
		Alias:     q.Get("alias"),
		NextToken: q.Get("nextToken"),
	}
	if s := q.Get("maxResults"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 || n > MaxMaxResults {
			h.writeError(rw, r, &ValidationError{Reason: ReasonFieldValidationFailed, Fields: []FieldError{{
				Name: "maxResults", Message: fmt.Sprintf("must be an integer between 1 and %d", MaxMaxResults),
			}}}, "", "")
			return
		}
		in.MaxResults = n
	}
	if h.opts.Visible != nil {
		ctx := r.Context()
		in.Filter = func(w *Workspace) bool { return h.opts.Visible(ctx, w) }
	}
	out, err := h.reg.List(r.Context(), in)
	if err != nil {
		h.writeError(rw, r, err, "", "")
		return
	}
	resp := struct {
		Workspaces []workspaceJSON `json:"workspaces"`
		NextToken  string          `json:"nextToken,omitempty"`
	}{Workspaces: make([]workspaceJSON, 0, len(out.Workspaces)), NextToken: out.NextToken}
	for _, w := range out.Workspaces {
		resp.Workspaces = append(resp.Workspaces, h.describe(r, w, false))
	}
	restjson.WriteJSON(rw, http.StatusOK, resp)
}

func (h *handler) updateWorkspaceAlias(rw http.ResponseWriter, r *http.Request) {
	id := r.PathValue("workspaceId")
	var req struct {
		Alias       *string `json:"alias"`
		ClientToken string  `json:"clientToken"`
	}
	if err := decodeBody(r, &req); err != nil {
		h.writeError(rw, r, err, id, "Workspace")
		return
	}
	if req.Alias != nil && strings.TrimSpace(*req.Alias) == "" {
		h.writeError(rw, r, aliasRequired(), id, "Workspace")
		return
	}
	if _, err := h.workspace(r); err != nil {
		h.writeError(rw, r, err, id, "Workspace")
		return
	}
	err := h.reg.UpdateAlias(r.Context(), UpdateAliasInput{ID: id, Alias: deref(req.Alias), ClientToken: req.ClientToken})
	if err != nil {
		h.writeError(rw, r, err, id, "Workspace")
		return
	}
	rw.WriteHeader(http.StatusNoContent)
}

func (h *handler) deleteWorkspace(rw http.ResponseWriter, r *http.Request) {
	id := r.PathValue("workspaceId")
	var fe fieldErrors
	validateClientToken(&fe, r.URL.Query().Get("clientToken"))
	if err := fe.err(); err != nil {
		h.writeError(rw, r, err, id, "Workspace")
		return
	}
	if _, err := h.workspace(r); err != nil {
		h.writeError(rw, r, err, id, "Workspace")
		return
	}
	if err := h.reg.Delete(r.Context(), id); err != nil {
		h.writeError(rw, r, err, id, "Workspace")
		return
	}
	restjson.WriteAccepted(rw)
}

func (h *handler) describeWorkspaceConfiguration(rw http.ResponseWriter, r *http.Request) {
	id := r.PathValue("workspaceId")
	w, err := h.workspace(r)
	if err != nil {
		h.writeError(rw, r, err, id, "Workspace")
		return
	}
	d := w.configDescription()
	c := configurationJSON{
		Status:                        statusJSON{StatusCode: string(d.Status), StatusReason: d.StatusReason},
		RetentionPeriodInDays:         int64(d.Retention / (24 * time.Hour)),
		OutOfOrderTimeWindowInSeconds: int64(d.OutOfOrderTimeWindow / time.Second),
		RuleQueryOffsetInSeconds:      int64(d.RuleQueryOffset / time.Second),
	}
	for _, l := range d.LimitsPerLabelSet {
		j := limitsPerLabelSetJSON{LabelSet: l.LabelSet.Map()}
		j.Limits = &struct {
			MaxSeries *int64 `json:"maxSeries,omitempty"`
		}{MaxSeries: &l.MaxSeries}
		c.LimitsPerLabelSet = append(c.LimitsPerLabelSet, j)
	}
	restjson.WriteJSON(rw, http.StatusOK, map[string]configurationJSON{"workspaceConfiguration": c})
}

func (h *handler) updateWorkspaceConfiguration(rw http.ResponseWriter, r *http.Request) {
	id := r.PathValue("workspaceId")
	var req struct {
		ClientToken                   string                  `json:"clientToken"`
		LimitsPerLabelSet             []limitsPerLabelSetJSON `json:"limitsPerLabelSet"`
		RetentionPeriodInDays         *int                    `json:"retentionPeriodInDays"`
		OutOfOrderTimeWindowInSeconds *int                    `json:"outOfOrderTimeWindowInSeconds"`
		RuleQueryOffsetInSeconds      *int                    `json:"ruleQueryOffsetInSeconds"`
	}
	if err := decodeBody(r, &req); err != nil {
		h.writeError(rw, r, err, id, "Workspace")
		return
	}
	in := UpdateConfigurationInput{
		ID:                            id,
		ClientToken:                   req.ClientToken,
		RetentionPeriodInDays:         req.RetentionPeriodInDays,
		OutOfOrderTimeWindowInSeconds: req.OutOfOrderTimeWindowInSeconds,
		RuleQueryOffsetInSeconds:      req.RuleQueryOffsetInSeconds,
	}
	if req.LimitsPerLabelSet != nil {
		var fe fieldErrors
		in.LimitsPerLabelSet = make([]LabelSetLimit, 0, len(req.LimitsPerLabelSet))
		for i, l := range req.LimitsPerLabelSet {
			if l.LabelSet == nil {
				fe.add(fmt.Sprintf("limitsPerLabelSet[%d].labelSet", i), "is required")
			}
			if l.Limits == nil {
				fe.add(fmt.Sprintf("limitsPerLabelSet[%d].limits", i), "is required")
			}
			lim := LabelSetLimit{LabelSet: labels.FromMap(l.LabelSet)}
			if l.Limits != nil && l.Limits.MaxSeries != nil {
				lim.MaxSeries = *l.Limits.MaxSeries
			}
			in.LimitsPerLabelSet = append(in.LimitsPerLabelSet, lim)
		}
		if err := fe.err(); err != nil {
			h.writeError(rw, r, err, id, "Workspace")
			return
		}
	}
	if _, err := h.workspace(r); err != nil {
		h.writeError(rw, r, err, id, "Workspace")
		return
	}
	status, err := h.reg.UpdateConfiguration(r.Context(), in)
	if err != nil {
		h.writeError(rw, r, err, id, "Workspace")
		return
	}
	restjson.WriteJSON(rw, http.StatusAccepted, map[string]statusJSON{"status": {StatusCode: string(status)}})
}

// taggedWorkspace returns the workspace the request's resourceArn names, if
// the request's account owns it.
func (h *handler) taggedWorkspace(r *http.Request) (string, error) {
	arn := r.PathValue("resourceArn")
	w, err := h.reg.WorkspaceByARN(r.Context(), arn)
	if err == nil {
		_, err = h.reg.owned(h.account(r), w.ID())
	}
	if errors.Is(err, ErrNotFound) {
		err = notFound(arn)
	}
	return arn, err
}

func (h *handler) listTagsForResource(rw http.ResponseWriter, r *http.Request) {
	arn, err := h.taggedWorkspace(r)
	if err != nil {
		h.writeError(rw, r, err, arn, "Workspace")
		return
	}
	tags, err := h.reg.ListTags(r.Context(), arn)
	if err != nil {
		h.writeError(rw, r, err, arn, "Workspace")
		return
	}
	if tags == nil {
		tags = map[string]string{}
	}
	restjson.WriteJSON(rw, http.StatusOK, map[string]map[string]string{"tags": tags})
}

func (h *handler) tagResource(rw http.ResponseWriter, r *http.Request) {
	var req struct {
		Tags map[string]string `json:"tags"`
	}
	if err := decodeBody(r, &req); err != nil {
		h.writeError(rw, r, err, "", "")
		return
	}
	if req.Tags == nil {
		h.writeError(rw, r, &ValidationError{Reason: ReasonFieldValidationFailed, Fields: []FieldError{{Name: "tags", Message: "is required"}}}, "", "")
		return
	}
	arn, err := h.taggedWorkspace(r)
	if err == nil {
		err = h.reg.TagResource(r.Context(), arn, req.Tags)
	}
	if err != nil {
		h.writeError(rw, r, err, arn, "Workspace")
		return
	}
	restjson.WriteJSON(rw, http.StatusOK, struct{}{})
}

func (h *handler) untagResource(rw http.ResponseWriter, r *http.Request) {
	arn, err := h.taggedWorkspace(r)
	if err == nil {
		err = h.reg.UntagResource(r.Context(), arn, r.URL.Query()["tagKeys"])
	}
	if err != nil {
		h.writeError(rw, r, err, arn, "Workspace")
		return
	}
	restjson.WriteJSON(rw, http.StatusOK, struct{}{})
}

func aliasRequired() error {
	return &ValidationError{Reason: ReasonFieldValidationFailed, Fields: []FieldError{{
		Name: "alias", Message: fmt.Sprintf("must be 1 to %d characters long", maxAliasLength),
	}}}
}

func deref(s *string) string {
	if s == nil {
		return ""
	}
	return *s
}

// decodeBody decodes a JSON request body into v; an empty body is {}.
func decodeBody(r *http.Request, v any) error {
	if e := restjson.DecodeBody(r, maxRequestBody, v); e != nil {
		return &ValidationError{Reason: bodyReason(e), Message: e.Message}
	}
	return nil
}

// bodyReason is the ValidationException reason of a body refused: OTHER
// for one over the limit, CANNOT_PARSE for the rest.
func bodyReason(e *restjson.BodyError) string {
	if e.TooLarge {
		return ReasonOther
	}
	return ReasonCannotParse
}

package workspace

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"net/http"

	"github.com/promspace/promspace/internal/restjson"
)

func (h *handler) unknownOperation(rw http.ResponseWriter, r *http.Request) {
	restjson.UnknownOperation(rw, r)
}

// writeError answers err as the AMP exception it stands for.
func (h *handler) writeError(rw http.ResponseWriter, r *http.Request, err error, resourceID, resourceType string) {
	resource := map[string]any{
		"resourceId":   resourceID,
		"resourceType": cmp.Or(resourceType, "Workspace"),
	}
	var ve *ValidationError
	switch {
	case errors.As(err, &ve):
		members := map[string]any{"reason": cmp.Or(ve.Reason, ReasonOther)}
		if len(ve.Fields) > 0 {
			members["fieldList"] = ve.Fields
		}
		restjson.WriteError(rw, http.StatusBadRequest, "ValidationException", ve.Error(), members)
	case errors.Is(err, ErrNotFound):
		restjson.WriteError(rw, http.StatusNotFound, "ResourceNotFoundException",
			fmt.Sprintf("%s not found: %s", cmp.Or(resourceType, "Resource"), resourceID), resource)
	case errors.Is(err, ErrConflict):
		restjson.WriteError(rw, http.StatusConflict, "ConflictException", err.Error(), resource)
	case errors.Is(err, ErrQuotaExceeded):
		resource["serviceCode"], resource["quotaCode"] = "amp", "WorkspacesPerAccount"
		restjson.WriteError(rw, http.StatusPaymentRequired, "ServiceQuotaExceededException",
			"Limit exceeded. Maximum workspaces per account.", resource)
	case errors.Is(err, context.Canceled):
		// The client is gone; nobody reads the answer.
		restjson.WriteError(rw, http.StatusRequestTimeout, "InternalServerException", err.Error(), nil)
	default:
		h.logger.Error("Control-plane request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		restjson.WriteError(rw, http.StatusInternalServerError, "InternalServerException", "internal error", nil)
	}
}

package query

import (
	"errors"
	"net/http"
	"strconv"

	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/util/httputil"
	v1 "github.com/prometheus/prometheus/web/api/v1"
)

// metadataHandler serves /api/v1/metadata from the workspace's metadata
// store. Prometheus' endpoint reads it from scrape targets, which a workspace
// has none of; parameters, errors and JSON are Prometheus'.
func (h *handler) metadataHandler() http.Handler {
	return httputil.CompressionHandler{Handler: http.HandlerFunc(h.metadata)}
}

func (h *handler) metadata(w http.ResponseWriter, r *http.Request) {
	switch r.Method {
	case http.MethodGet:
	case http.MethodOptions:
		h.prom.ServeHTTP(w, r)
		return
	default:
		w.Header().Set("Allow", "GET, OPTIONS")
		http.Error(w, http.StatusText(http.StatusMethodNotAllowed), http.StatusMethodNotAllowed)
		return
	}
	httputil.SetCORS(w, noCrossOrigin, r)

	limit := -1
	if s := r.FormValue("limit"); s != "" {
		var err error
		if limit, err = strconv.Atoi(s); err != nil {
			writeError(w, http.StatusBadRequest, errorBadData, errors.New("limit must be a number"))
			return
		}
	}
	limitPerMetric := -1
	if s := r.FormValue("limit_per_metric"); s != "" {
		var err error
		if limitPerMetric, err = strconv.Atoi(s); err != nil {
			writeError(w, http.StatusBadRequest, errorBadData, errors.New("limit_per_metric must be a number"))
			return
		}
	}

	var data map[string][]metadata.Metadata
	if h.src.Metadata != nil {
		data = h.src.Metadata.List(r.FormValue("metric"), limit, limitPerMetric)
	}
	if data == nil {
		data = map[string][]metadata.Metadata{}
	}
	b, err := v1.JSONCodec{}.Encode(&v1.Response{Status: "success", Data: data})
	if err != nil {
		h.api.opts.Logger.Error("Marshaling metadata failed", "workspace", h.src.ID, "err", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(http.StatusOK)
	w.Write(b) //nolint:errcheck // the client has gone
}

package query

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/common/route"
	"github.com/promspace/promspace/internal/promapi"
)

const apiPrefix = "/api/v1"

// The query parameters AMP adds to query and query_range.
const (
	paramWarningThreshold = "max_samples_processed_warning_threshold"
	paramErrorThreshold   = "max_samples_processed_error_threshold"
)

// Error types of Prometheus' error JSON that this package writes itself.
const (
	errorBadData  = promapi.ErrorBadData
	errorNotFound = promapi.ErrorNotFound
)

// exposed are the endpoints of Prometheus' API that a workspace serves, as
// they are spelled in Prometheus' router. Everything else under /api/v1 is
// not found, as it is in AMP.
var exposed = []string{
	"/query",
	"/query_range",
	"/query_exemplars",
	"/series",
	"/labels",
	"/label/{name}/values",
	"/format_query",
	"/parse_query",
	"/status/buildinfo",
}

// handler is the HTTP API of one workspace.
type handler struct {
	api  *API
	src  Source
	prom *route.Router
}

func newHandler(a *API, src Source, prom *route.Router) http.Handler {
	h := &handler{api: a, src: src, prom: prom}
	mux := http.NewServeMux()
	for _, p := range exposed {
		switch p {
		case "/query":
			mux.Handle(apiPrefix+p, h.checked(h.withLimits(false)))
		case "/query_range":
			mux.Handle(apiPrefix+p, h.checked(h.withLimits(true)))
		case "/series", "/labels", "/label/{name}/values":
			mux.Handle(apiPrefix+p, h.checked(h.withMetadataRange(prom)))
		case "/status/buildinfo":
			mux.Handle(apiPrefix+p, prom)
		default:
			mux.Handle(apiPrefix+p, h.checked(prom))
		}
	}
	mux.Handle(apiPrefix+"/metadata", h.metadataHandler())
	mux.HandleFunc("/", notFound)
	return mux
}

// checked rejects, before Prometheus' API parses them, requests whose times
// or PromQL break checkRequest's limits, then hands the request to next with
// the time it arrived and the workspace's limits at that time.
func (h *handler) checked(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			h.prom.ServeHTTP(w, r) // Prometheus' OPTIONS and 405
			return
		}
		// A query's timeout counts from here, before its body is read.
		ctx := withStart(r.Context(), h.api.now())
		r = r.WithContext(withQueryLimits(ctx, h.api.limitsOf(h.src)))
		if err := h.checkRequest(r); err != nil {
			writeError(w, http.StatusBadRequest, errorBadData, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// withLimits applies AMP's query limits that Prometheus' endpoint does not
// know of, then hands the request to it.
func (h *handler) withLimits(rangeQuery bool) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var (
			t   thresholds
			err error
		)
		if t.warning, err = thresholdParam(r, paramWarningThreshold); err != nil {
			writeError(w, http.StatusBadRequest, errorBadData, err)
			return
		}
		if t.error, err = thresholdParam(r, paramErrorThreshold); err != nil {
			writeError(w, http.StatusBadRequest, errorBadData, err)
			return
		}
		limit := h.limits(r).MaxQueryLength
		if rangeQuery {
			err = checkTimeRange(r, limit)
		}
		if err == nil {
			err = checkSelectedRange(h.api.parser, r, rangeQuery, h.arrival(r), h.api.opts.LookbackDelta, limit)
		}
		if err != nil {
			h.api.metrics.limitHits.WithLabelValues(limitTimeRange).Inc()
			writeError(w, http.StatusBadRequest, errorBadData, err)
			return
		}
		h.prom.ServeHTTP(w, r.WithContext(withThresholds(r.Context(), t)))
	})
}

// withMetadataRange applies the query time range limit to a series, labels
// or label values request, then hands it to next.
func (h *handler) withMetadataRange(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if err := checkMetadataRange(r, h.limits(r).MaxQueryLength, h.arrival(r)); err != nil {
			h.api.metrics.limitHits.WithLabelValues(limitTimeRange).Inc()
			writeError(w, http.StatusBadRequest, errorBadData, err)
			return
		}
		next.ServeHTTP(w, r)
	})
}

// arrival returns when r arrived, the now of its checks.
func (h *handler) arrival(r *http.Request) time.Time {
	if t, ok := startFrom(r.Context()); ok {
		return t
	}
	return h.api.now()
}

// limits returns the limits of the workspace as r arrived.
func (h *handler) limits(r *http.Request) Limits {
	if l, ok := limitsFrom(r.Context()); ok {
		return l
	}
	return h.api.limitsOf(h.src)
}

func thresholdParam(r *http.Request, name string) (int64, error) {
	s := r.FormValue(name)
	if s == "" {
		return 0, nil
	}
	v, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("invalid parameter %q: %w", name, err)
	}
	if v < 0 {
		return 0, fmt.Errorf("invalid parameter %q: must be non-negative", name)
	}
	return v, nil
}

func notFound(w http.ResponseWriter, _ *http.Request) {
	writeError(w, http.StatusNotFound, errorNotFound, errors.New("not found"))
}

// writeError writes Prometheus' error JSON.
func writeError(w http.ResponseWriter, code int, errorType string, err error) {
	promapi.WriteError(w, code, errorType, err.Error())
}

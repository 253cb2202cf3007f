package query

import (
	"errors"
	"fmt"
	"math"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/common/route"
	v1 "github.com/prometheus/prometheus/web/api/v1"
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
// the time it arrived.
func (h *handler) checked(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodPost {
			h.prom.ServeHTTP(w, r) // Prometheus' OPTIONS and 405
			return
		}
		// A query's timeout counts from here, before its body is read.
		r = r.WithContext(withStart(r.Context(), h.api.now()))
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
		if rangeQuery {
			if err := checkTimeRange(r, h.api.opts.MaxQueryLength); err != nil {
				h.api.metrics.limitHits.WithLabelValues(limitTimeRange).Inc()
				writeError(w, http.StatusBadRequest, errorBadData, err)
				return
			}
		}
		h.prom.ServeHTTP(w, r.WithContext(withThresholds(r.Context(), t)))
	})
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

// checkTimeRange rejects a range query longer than limit, in Cortex's words.
// Times that do not parse are left for Prometheus to reject.
func checkTimeRange(r *http.Request, limit time.Duration) error {
	if limit <= 0 {
		return nil
	}
	start, err := parseTime(r.FormValue("start"))
	if err != nil {
		return nil
	}
	end, err := parseTime(r.FormValue("end"))
	if err != nil {
		return nil
	}
	if length := end.Sub(start); length > limit {
		return fmt.Errorf("the query time range exceeds the limit (query length: %s, limit: %s)", model.Duration(length), model.Duration(limit))
	}
	return nil
}

// parseTime parses a time parameter as Prometheus' API does.
func parseTime(s string) (time.Time, error) {
	if t, err := strconv.ParseFloat(s, 64); err == nil {
		s, ns := math.Modf(t)
		ns = math.Round(ns*1000) / 1000
		return time.Unix(int64(s), int64(ns*float64(time.Second))).UTC(), nil
	}
	if t, err := time.Parse(time.RFC3339Nano, s); err == nil {
		return t, nil
	}
	switch s {
	case v1.MinTime.Format(time.RFC3339Nano):
		return v1.MinTime, nil
	case v1.MaxTime.Format(time.RFC3339Nano):
		return v1.MaxTime, nil
	}
	return time.Time{}, errors.New("cannot parse time")
}

func notFound(w http.ResponseWriter, _ *http.Request) {
	writeError(w, http.StatusNotFound, errorNotFound, errors.New("not found"))
}

// writeError writes Prometheus' error JSON.
func writeError(w http.ResponseWriter, code int, errorType string, err error) {
	promapi.WriteError(w, code, errorType, err.Error())
}

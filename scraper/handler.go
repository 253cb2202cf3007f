package scraper

import (
	"cmp"
	"errors"
	"log/slog"
	"net/http"
	"strconv"

	"github.com/promspace/promspace/internal/restjson"
	"github.com/promspace/promspace/workspace"
)

// maxRequestBody bounds a request body: a scrape configuration of up to
// 1 MiB, base64, and the rest of the request.
const maxRequestBody = 2 << 20

// HandlerOptions configure Manager.Handler.
type HandlerOptions struct {
	// Account returns the account a request acts for; nil, or an empty
	// answer, means the Registry's AccountID.
	Account func(*http.Request) string
	// Next serves the tag operations on ARNs that are not a scraper's
	// (the workspace handler); nil answers them ResourceNotFound.
	Next   http.Handler
	Logger *slog.Logger
}

type handler struct {
	m      *Manager
	opts   HandlerOptions
	logger *slog.Logger
}

// Handler returns AMP's scraper operations over REST-JSON, as the AWS SDK's
// amp client calls them: /scrapers, /scrapers/{scraperId}, its
// /logging-configuration, /scraperconfiguration, and /tags/{resourceArn}
// for scraper ARNs (other ARNs go to opts.Next).
func (m *Manager) Handler(opts HandlerOptions) http.Handler {
	h := &handler{m: m, opts: opts, logger: cmp.Or(opts.Logger, m.logger)}
	mux := http.NewServeMux()
	mux.HandleFunc("POST /scrapers", h.create)
	mux.HandleFunc("GET /scrapers", h.list)
	mux.HandleFunc("GET /scrapers/{scraperId}", h.describe)
	mux.HandleFunc("PUT /scrapers/{scraperId}", h.update)
	mux.HandleFunc("DELETE /scrapers/{scraperId}", h.delete)
	mux.HandleFunc("GET /scrapers/{scraperId}/logging-configuration", h.describeLogging)
	mux.HandleFunc("PUT /scrapers/{scraperId}/logging-configuration", h.updateLogging)
	mux.HandleFunc("DELETE /scrapers/{scraperId}/logging-configuration", h.deleteLogging)
	mux.HandleFunc("GET /scraperconfiguration", h.defaultConfiguration)
	mux.HandleFunc("GET /tags/{resourceArn...}", h.tags(h.listTags))
	mux.HandleFunc("POST /tags/{resourceArn...}", h.tags(h.tagResource))
	mux.HandleFunc("DELETE /tags/{resourceArn...}", h.tags(h.untagResource))
	mux.HandleFunc("/", h.unknownOperation)
	return mux
}

func (h *handler) account(r *http.Request) string {
	if h.opts.Account != nil {
		if a := h.opts.Account(r); a != "" {
			return a
		}
	}
	return h.m.opts.Registry.AccountID()
}

// statusJSON is AMP's ScraperStatus.
type statusJSON struct {
	StatusCode Status `json:"statusCode"`
}

// changeJSON answers CreateScraper and UpdateScraper.
type changeJSON struct {
	Arn       string            `json:"arn"`
	ScraperID string            `json:"scraperId"`
	Status    statusJSON        `json:"status"`
	Tags      map[string]string `json:"tags,omitempty"`
}

func changeOf(s *Scraper) changeJSON {
	return changeJSON{Arn: s.ARN, ScraperID: s.ID, Status: statusJSON{s.Status}, Tags: s.Tags}
}

func (h *handler) create(rw http.ResponseWriter, r *http.Request) {
	var in CreateInput
	if err := decodeBody(r, &in); err != nil {
		h.writeError(rw, r, err, "")
		return
	}
	in.Account = h.account(r)
	s, err := h.m.Create(r.Context(), in)
	if err != nil {
		h.writeError(rw, r, err, "")
		return
	}
	restjson.WriteJSON(rw, http.StatusAccepted, changeOf(s))
}

func (h *handler) list(rw http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	in := ListInput{Account: h.account(r), NextToken: q.Get("nextToken")}
	if v := q.Get("maxResults"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			n = -1 // out of range: answered as such
		}
		in.MaxResults = n
	}
	// Every other query parameter is a filter (the model's
	// httpQueryParams).
	for k, vs := range q {
		if k != "maxResults" && k != "nextToken" {
			if in.Filters == nil {
				in.Filters = map[string][]string{}
			}
			in.Filters[k] = vs
		}
	}
	out, err := h.m.List(r.Context(), in)
	if err != nil {
		h.writeError(rw, r, err, "")
		return
	}
	sums := make([]summaryJSON, len(out.Scrapers))
	for i, s := range out.Scrapers {
		sums[i] = summaryOf(s)
	}
	restjson.WriteJSON(rw, http.StatusOK, struct {
		Scrapers  []summaryJSON `json:"scrapers"`
		NextToken string        `json:"nextToken,omitempty"`
	}{sums, out.NextToken})
}

func (h *handler) describe(rw http.ResponseWriter, r *http.Request) {
	id := r.PathValue("scraperId")
	s, err := h.m.Describe(r.Context(), h.account(r), id)
	if err != nil {
		h.writeError(rw, r, err, id)
		return
	}
	restjson.WriteJSON(rw, http.StatusOK, struct {
		Scraper descriptionJSON `json:"scraper"`
	}{descriptionOf(s)})
}

func (h *handler) update(rw http.ResponseWriter, r *http.Request) {
	id := r.PathValue("scraperId")
	var in UpdateInput
	if err := decodeBody(r, &in); err != nil {
		h.writeError(rw, r, err, id)
		return
	}
	in.Account, in.ID = h.account(r), id
	s, err := h.m.Update(r.Context(), in)
	if err != nil {
		h.writeError(rw, r, err, id)
		return
	}
	restjson.WriteJSON(rw, http.StatusAccepted, changeOf(s))
}

func (h *handler) delete(rw http.ResponseWriter, r *http.Request) {
	id := r.PathValue("scraperId")
	var fe fieldErrors
	validateClientToken(&fe, r.URL.Query().Get("clientToken"))
	if err := fe.err(); err != nil {
		h.writeError(rw, r, err, id)
		return
	}
	s, err := h.m.Delete(r.Context(), h.account(r), id)
	if err != nil {
		h.writeError(rw, r, err, id)
		return
	}
	restjson.WriteJSON(rw, http.StatusAccepted, struct {
		ScraperID string     `json:"scraperId"`
		Status    statusJSON `json:"status"`
	}{s.ID, statusJSON{s.Status}})
}

func (h *handler) defaultConfiguration(rw http.ResponseWriter, _ *http.Request) {
	restjson.WriteJSON(rw, http.StatusOK, struct {
		Configuration []byte `json:"configuration"`
	}{DefaultConfiguration()})
}

func (h *handler) unknownOperation(rw http.ResponseWriter, r *http.Request) {
	restjson.UnknownOperation(rw, r)
}

// writeError answers err as the AMP exception it stands for.
func (h *handler) writeError(rw http.ResponseWriter, r *http.Request, err error, id string) {
	var (
		ve *workspace.ValidationError
		nf *notFoundError
	)
	switch {
	case errors.As(err, &ve):
		members := map[string]any{"reason": cmp.Or(ve.Reason, workspace.ReasonOther)}
		if len(ve.Fields) > 0 {
			members["fieldList"] = ve.Fields
		}
		restjson.WriteError(rw, http.StatusBadRequest, "ValidationException", ve.Error(), members)
	case errors.As(err, &nf):
		restjson.WriteError(rw, http.StatusNotFound, "ResourceNotFoundException", nf.Error(),
			map[string]any{"resourceId": nf.id, "resourceType": nf.typ})
	case errors.Is(err, workspace.ErrNotFound):
		restjson.WriteError(rw, http.StatusNotFound, "ResourceNotFoundException", err.Error(),
			map[string]any{"resourceId": id, "resourceType": "Scraper"})
	case errors.Is(err, workspace.ErrConflict):
		restjson.WriteError(rw, http.StatusConflict, "ConflictException", err.Error(),
			map[string]any{"resourceId": id, "resourceType": "Scraper"})
	case errors.Is(err, errQuotaExceeded):
		restjson.WriteError(rw, http.StatusPaymentRequired, "ServiceQuotaExceededException",
			"Limit exceeded. Maximum scrapers per account.", map[string]any{
				"resourceId": id, "resourceType": "Scraper", "serviceCode": "amp", "quotaCode": "ScrapersPerAccount",
			})
	default:
		h.logger.Error("Scraper request failed", "method", r.Method, "path", r.URL.Path, "err", err)
		restjson.WriteError(rw, http.StatusInternalServerError, "InternalServerException", "internal error", nil)
	}
}

// decodeBody decodes a JSON request body into v; an empty body is {}.
func decodeBody(r *http.Request, v any) error {
	if e := restjson.DecodeBody(r, maxRequestBody, v); e != nil {
		reason := workspace.ReasonCannotParse
		if e.TooLarge {
			reason = workspace.ReasonOther
		}
		return &workspace.ValidationError{Reason: reason, Message: e.Message}
	}
	return nil
}

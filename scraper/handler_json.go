package scraper

import (
	"net/http"
	"strconv"
	"time"

	"github.com/promspace/promspace/internal/restjson"
	"github.com/promspace/promspace/workspace"
)

// epochSeconds is a timestamp the way rest-json bodies carry them.
type epochSeconds time.Time

func (t epochSeconds) MarshalJSON() ([]byte, error) {
	return strconv.AppendFloat(nil, float64(time.Time(t).UnixMilli())/1e3, 'f', -1, 64), nil
}

// summaryJSON is AMP's ScraperSummary.
type summaryJSON struct {
	Alias             string             `json:"alias,omitempty"`
	Arn               string             `json:"arn"`
	CreatedAt         epochSeconds       `json:"createdAt"`
	Destination       Destination        `json:"destination"`
	Exporters         []Exporter         `json:"exporters,omitempty"`
	LastModifiedAt    epochSeconds       `json:"lastModifiedAt"`
	RoleArn           string             `json:"roleArn"`
	RoleConfiguration *RoleConfiguration `json:"roleConfiguration,omitempty"`
	ScraperID         string             `json:"scraperId"`
	Source            Source             `json:"source"`
	Status            statusJSON         `json:"status"`
	StatusReason      string             `json:"statusReason,omitempty"`
	Tags              map[string]string  `json:"tags,omitempty"`
}

// descriptionJSON is AMP's ScraperDescription: the summary and the
// configuration.
type descriptionJSON struct {
	summaryJSON
	ScrapeConfiguration ScrapeConfiguration `json:"scrapeConfiguration"`
}

func summaryOf(s *Scraper) summaryJSON {
	return summaryJSON{
		Alias:             s.Alias,
		Arn:               s.ARN,
		CreatedAt:         epochSeconds(s.CreatedAt),
		Destination:       s.Destination,
		Exporters:         s.Exporters,
		LastModifiedAt:    epochSeconds(s.LastModifiedAt),
		RoleArn:           s.RoleArn,
		RoleConfiguration: s.RoleConfiguration,
		ScraperID:         s.ID,
		Source:            s.Source,
		Status:            statusJSON{s.Status},
		StatusReason:      s.StatusReason,
		Tags:              s.Tags,
	}
}

func descriptionOf(s *Scraper) descriptionJSON {
	return descriptionJSON{summaryJSON: summaryOf(s), ScrapeConfiguration: s.ScrapeConfiguration}
}

// loggingDestinationJSON is AMP's ScraperLoggingDestination union.
type loggingDestinationJSON struct {
	CloudWatchLogs *struct {
		LogGroupArn string `json:"logGroupArn"`
	} `json:"cloudWatchLogs,omitempty"`
}

// loggingStatusJSON is AMP's ScraperLoggingConfigurationStatus.
type loggingStatusJSON struct {
	StatusCode   Status `json:"statusCode"`
	StatusReason string `json:"statusReason,omitempty"`
}

func (h *handler) describeLogging(rw http.ResponseWriter, r *http.Request) {
	id := r.PathValue("scraperId")
	l, err := h.m.DescribeLogging(r.Context(), h.account(r), id)
	if err != nil {
		h.writeError(rw, r, err, id)
		return
	}
	var dest loggingDestinationJSON
	dest.CloudWatchLogs = &struct {
		LogGroupArn string `json:"logGroupArn"`
	}{l.LogGroupArn}
	components := l.Components
	if components == nil {
		components = []Component{}
	}
	restjson.WriteJSON(rw, http.StatusOK, struct {
		LoggingDestination loggingDestinationJSON `json:"loggingDestination"`
		ModifiedAt         epochSeconds           `json:"modifiedAt"`
		ScraperComponents  []Component            `json:"scraperComponents"`
		ScraperID          string                 `json:"scraperId"`
		Status             loggingStatusJSON      `json:"status"`
	}{dest, epochSeconds(l.ModifiedAt), components, id, loggingStatusJSON{StatusCode: l.Status}})
}

func (h *handler) updateLogging(rw http.ResponseWriter, r *http.Request) {
	id := r.PathValue("scraperId")
	var req struct {
		LoggingDestination *loggingDestinationJSON `json:"loggingDestination"`
		ScraperComponents  []Component             `json:"scraperComponents"`
	}
	if err := decodeBody(r, &req); err != nil {
		h.writeError(rw, r, err, id)
		return
	}
	if req.LoggingDestination == nil || req.LoggingDestination.CloudWatchLogs == nil {
		h.writeError(rw, r, &workspace.ValidationError{Reason: workspace.ReasonFieldValidationFailed, Fields: []workspace.FieldError{{
			Name: "loggingDestination", Message: "is required: cloudWatchLogs",
		}}}, id)
		return
	}
	status, err := h.m.UpdateLogging(r.Context(), h.account(r), id, req.LoggingDestination.CloudWatchLogs.LogGroupArn, req.ScraperComponents)
	if err != nil {
		h.writeError(rw, r, err, id)
		return
	}
	restjson.WriteJSON(rw, http.StatusAccepted, struct {
		Status loggingStatusJSON `json:"status"`
	}{loggingStatusJSON{StatusCode: status}})
}

func (h *handler) deleteLogging(rw http.ResponseWriter, r *http.Request) {
	id := r.PathValue("scraperId")
	var fe fieldErrors
	validateClientToken(&fe, r.URL.Query().Get("clientToken"))
	err := fe.err()
	if err == nil {
		err = h.m.DeleteLogging(r.Context(), h.account(r), id)
	}
	if err != nil {
		h.writeError(rw, r, err, id)
		return
	}
	restjson.WriteAccepted(rw)
}

// tags serves a tag operation on a scraper ARN, and passes any other ARN
// to the next handler.
func (h *handler) tags(serve func(rw http.ResponseWriter, r *http.Request, arn string)) http.HandlerFunc {
	return func(rw http.ResponseWriter, r *http.Request) {
		arn := r.PathValue("resourceArn")
		if !scraperArnRE.MatchString(arn) {
			if h.opts.Next != nil {
				h.opts.Next.ServeHTTP(rw, r)
				return
			}
		}
		serve(rw, r, arn)
	}
}

func (h *handler) listTags(rw http.ResponseWriter, r *http.Request, arn string) {
	tags, err := h.m.ListTags(r.Context(), h.account(r), arn)
	if err != nil {
		h.writeError(rw, r, err, arn)
		return
	}
	if tags == nil {
		tags = map[string]string{}
	}
	restjson.WriteJSON(rw, http.StatusOK, map[string]map[string]string{"tags": tags})
}

func (h *handler) tagResource(rw http.ResponseWriter, r *http.Request, arn string) {
	var req struct {
		Tags map[string]string `json:"tags"`
	}
	err := decodeBody(r, &req)
	if err == nil && req.Tags == nil {
		err = &workspace.ValidationError{Reason: workspace.ReasonFieldValidationFailed, Fields: []workspace.FieldError{{Name: "tags", Message: "is required"}}}
	}
	if err == nil {
		err = h.m.TagResource(r.Context(), h.account(r), arn, req.Tags)
	}
	if err != nil {
		h.writeError(rw, r, err, arn)
		return
	}
	restjson.WriteJSON(rw, http.StatusOK, struct{}{})
}

func (h *handler) untagResource(rw http.ResponseWriter, r *http.Request, arn string) {
	if err := h.m.UntagResource(r.Context(), h.account(r), arn, r.URL.Query()["tagKeys"]); err != nil {
		h.writeError(rw, r, err, arn)
		return
	}
	restjson.WriteJSON(rw, http.StatusOK, struct{}{})
}

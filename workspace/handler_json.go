package workspace

import (
	"net/http"
	"strings"

	"github.com/promspace/promspace/internal/restjson"
)

// JSON shapes of AMP's API.
type (
	statusJSON struct {
		StatusCode   string `json:"statusCode"`
		StatusReason string `json:"statusReason,omitempty"`
	}
	workspaceJSON struct {
		Alias              string            `json:"alias,omitempty"`
		Arn                string            `json:"arn"`
		CreatedAt          epochSeconds      `json:"createdAt"`
		KmsKeyArn          string            `json:"kmsKeyArn,omitempty"`
		PrometheusEndpoint string            `json:"prometheusEndpoint,omitempty"`
		Status             statusJSON        `json:"status"`
		Tags               map[string]string `json:"tags,omitempty"`
		WorkspaceID        string            `json:"workspaceId"`
	}
	limitsPerLabelSetJSON struct {
		LabelSet map[string]string `json:"labelSet"`
		Limits   *struct {
			MaxSeries *int64 `json:"maxSeries,omitempty"`
		} `json:"limits"`
	}
	configurationJSON struct {
		Status                        statusJSON              `json:"status"`
		LimitsPerLabelSet             []limitsPerLabelSetJSON `json:"limitsPerLabelSet,omitempty"`
		RetentionPeriodInDays         int64                   `json:"retentionPeriodInDays"`
		OutOfOrderTimeWindowInSeconds int64                   `json:"outOfOrderTimeWindowInSeconds"`
		RuleQueryOffsetInSeconds      int64                   `json:"ruleQueryOffsetInSeconds"`
	}
)

// epochSeconds is a timestamp as rest-json bodies carry them.
type epochSeconds = restjson.Time

func (h *handler) describe(r *http.Request, w *Workspace, withEndpoint bool) workspaceJSON {
	d := workspaceJSON{
		Alias:       w.Alias(),
		Arn:         w.ARN(),
		CreatedAt:   epochSeconds(w.CreatedAt()),
		KmsKeyArn:   w.KmsKeyArn(),
		Status:      statusJSON{StatusCode: string(w.Status())},
		Tags:        w.Tags(),
		WorkspaceID: w.ID(),
	}
	if withEndpoint {
		d.PrometheusEndpoint = h.publicURL(r) + "/workspaces/" + w.ID() + "/"
	}
	return d
}

func (h *handler) publicURL(r *http.Request) string {
	if h.opts.PublicURL != "" {
		return strings.TrimSuffix(h.opts.PublicURL, "/")
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host
}

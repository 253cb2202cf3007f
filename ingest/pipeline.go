package ingest

import (
	"context"
	"fmt"
	"net/http"
	"time"
)

// A Stage inspects, changes or rejects a decoded remote-write request between
// decoding and the TSDB appender. HA dedupe and quota checks are stages.
//
// Process sees only series that passed validation. It may:
//   - return nil to let the request go on, possibly after changing series in
//     place (for example removing the __replica__ label from their Labels);
//   - drop single series with req.Drop, which keeps the rest of the request
//     and answers 400 with the given error (or drops silently with a nil
//     error);
//   - reject the whole request by returning an error. A *StatusError chooses
//     the HTTP status (202 for a deduplicated request, 429 with Retry-After
//     for a rate limit, 400 for content over a limit); any other error is a
//     failure of the stage itself and answers 500.
//
// The Request and its slices are reused once the request is answered: a
// stage must not keep them after Process returns (labels.Labels, histograms
// and metadata values it copies out stay valid). Series.WithoutLabel keeps
// a series' labels without one label in the handler's labels cache, shared
// by all workspaces: a stage may keep and reuse its result, and must not
// rely on it for anything the workspace decides. Labels assigned to a series
// must stay sorted and valid; series added by a stage are not validated
// again. Process is called concurrently for concurrent requests, of the same
// or of other workspaces.
type Stage interface {
	Process(ctx context.Context, t Target, req *Request) error
}

// A LabelStripper is a Stage that removes one label from the series it lets
// through, as HA dedupe removes the replica label. When it is the first
// stage a request meets (the Handler's first, or the Target's first when
// the Handler has none), decoding leaves the label it names out of every
// series' Labels already and keeps the value in the series
// (Series.StrippedValue; Request.StrippedLabel names the label): the
// labels the Handler's cache keeps are then those the TSDB stores, with no
// second copy, and the series of every replica share them. The stage must
// then either take the series as they are or, to keep the label, put it
// back (Request.RestoreStripped) before it returns. StrippedLabel is read
// for each request; "" strips nothing.
type LabelStripper interface {
	Stage
	StrippedLabel() string
}

// stripLabel returns the label decoding leaves out for the first stage of
// a request, "" for none.
func stripLabel(handler, target []Stage) string {
	first := handler
	if len(first) == 0 {
		first = target
	}
	if len(first) == 0 {
		return ""
	}
	if s, ok := first[0].(LabelStripper); ok {
		return s.StrippedLabel()
	}
	return ""
}

// StageFunc adapts a function to a Stage.
type StageFunc func(ctx context.Context, t Target, req *Request) error

// Process calls f.
func (f StageFunc) Process(ctx context.Context, t Target, req *Request) error {
	return f(ctx, t, req)
}

// StatusError is an error that decides the HTTP status of the remote-write
// response. Stages return it (possibly wrapped) to reject a whole request.
type StatusError struct {
	// Status is the HTTP status code, for example http.StatusAccepted,
	// http.StatusBadRequest or http.StatusTooManyRequests.
	Status int
	// RetryAfter, when positive, is sent as the Retry-After header in whole
	// seconds, rounded up.
	RetryAfter time.Duration
	// Err is the message sent to the client.
	Err error
	// Reason labels the discarded-samples metric for the request's samples.
	// Empty means "deduplicated" for 202, "rate_limited" for 429 and
	// "rejected" otherwise.
	Reason string
}

func (e *StatusError) reason() string {
	switch {
	case e.Reason != "":
		return e.Reason
	case e.Status == http.StatusAccepted:
		return "deduplicated"
	case e.Status == http.StatusTooManyRequests:
		return "rate_limited"
	default:
		return "rejected"
	}
}

// Error returns the message of Err.
func (e *StatusError) Error() string {
	if e.Err == nil {
		return http.StatusText(e.Status)
	}
	return e.Err.Error()
}

// Unwrap returns Err.
func (e *StatusError) Unwrap() error { return e.Err }

// Reject returns a *StatusError with the given status and message.
func Reject(status int, format string, args ...any) error {
	return &StatusError{Status: status, Err: fmt.Errorf(format, args...)}
}

// Discard reasons, the label values of the discarded-samples metric. They
// are Cortex's, which AMP reports. Stages may use their own.
const (
	ReasonMissingMetricName   = "missing_metric_name"
	ReasonInvalidMetricName   = "metric_name_invalid"
	ReasonInvalidLabel        = "label_invalid"
	ReasonDuplicateLabelNames = "duplicate_label_names"
	ReasonEmptySeries         = "empty_series"
	ReasonOutOfOrder          = "sample-out-of-order"
	ReasonTooOld              = "sample-too-old"
	ReasonOutOfBounds         = "sample-out-of-bounds"
	ReasonDuplicateTimestamp  = "new-value-for-timestamp"
	ReasonInvalidHistogram    = "native_histogram_invalid"
	ReasonInvalidMetadata     = "metadata_invalid"
	ReasonInvalidExemplar     = "exemplar_invalid"
)

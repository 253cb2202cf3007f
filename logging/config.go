package logging

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strings"
	"time"

	"github.com/thanos-io/objstore"
)

// Status is a logging configuration's status, as AMP names it.
type Status string

// Logging configuration statuses (LoggingConfiguration and
// QueryLoggingConfiguration share them). A change is stored before it is
// answered, so CREATING, UPDATING and DELETING are only what Create,
// Update and Delete answer; CREATION_FAILED and UPDATE_FAILED stay until
// the next change when the log group's file could not be opened.
const (
	StatusCreating       Status = "CREATING"
	StatusActive         Status = "ACTIVE"
	StatusUpdating       Status = "UPDATING"
	StatusDeleting       Status = "DELETING"
	StatusCreationFailed Status = "CREATION_FAILED"
	StatusUpdateFailed   Status = "UPDATE_FAILED"
)

// logGroupARNPattern is AMP's pattern of a logGroupArn (LogGroupArn in the
// amp API model): a CloudWatch Logs log group ARN ending in :*.
const logGroupARNPattern = `arn:aws[a-z0-9-]*:logs:[a-z0-9-]+:[0-9]{12}:log-group:[A-Za-z0-9\.\-\_\#/]{1,512}\:\*`

var logGroupARN = regexp.MustCompile(`^` + logGroupARNPattern + `$`)

// Errors of configuration changes, which the API answers as AMP's
// exceptions.
var (
	ErrNotFound = errors.New("logging configuration not found")
	ErrConflict = errors.New("logging configuration conflict")
)

// ValidationError is a refused request; Field names the member at fault.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string { return e.Message }

// validateLogGroupARN checks arn as AMP does, with AWS's wording of a
// pattern constraint.
func validateLogGroupARN(field, arn string) error {
	if !logGroupARN.MatchString(arn) {
		return &ValidationError{Field: field, Message: fmt.Sprintf(
			"1 validation error detected: Value '%s' at '%s' failed to satisfy constraint: Member must satisfy regular expression pattern: %s",
			arn, field, logGroupARNPattern)}
	}
	return nil
}

// LogGroupName returns the log group name of a log group ARN,
// arn:aws:logs:<region>:<account>:log-group:<name>:*.
func LogGroupName(arn string) string {
	_, name, _ := strings.Cut(arn, ":log-group:")
	return strings.TrimSuffix(name, ":*")
}

// Configuration is a workspace's rules and alerting logging configuration.
type Configuration struct {
	LogGroupARN  string    `json:"logGroupArn"`
	Status       Status    `json:"status"`
	StatusReason string    `json:"statusReason,omitempty"`
	CreatedAt    time.Time `json:"createdAt"`
	ModifiedAt   time.Time `json:"modifiedAt"`
	ClientToken  string    `json:"clientToken,omitempty"`
}

// QueryConfiguration is a workspace's query logging configuration: the
// queries whose samples processed are over QSPThreshold are logged to
// LogGroupARN. AMP takes a list of exactly one destination.
type QueryConfiguration struct {
	LogGroupARN  string    `json:"logGroupArn"`
	QSPThreshold int64     `json:"qspThreshold"`
	Status       Status    `json:"status"`
	StatusReason string    `json:"statusReason,omitempty"`
	CreatedAt    time.Time `json:"createdAt"`
	ModifiedAt   time.Time `json:"modifiedAt"`
	ClientToken  string    `json:"clientToken,omitempty"`
}

// Objects of the workspace's bucket, one per configuration.
const (
	configObject      = "logging/configuration.json"
	queryConfigObject = "logging/query.json"
)

// store keeps a workspace's configurations in its bucket: an upload is
// atomic, and a successful one is the change's acknowledgement.
type store struct{ bkt objstore.Bucket }

func (s store) put(ctx context.Context, name string, v any) error {
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.bkt.Upload(context.WithoutCancel(ctx), name, bytes.NewReader(b))
}

func (s store) delete(ctx context.Context, name string) error {
	err := s.bkt.Delete(context.WithoutCancel(ctx), name)
	if s.bkt.IsObjNotFoundErr(err) {
		return nil
	}
	return err
}

// get reads name into v; false when there is no such object.
func (s store) get(ctx context.Context, name string, v any) (bool, error) {
	r, err := s.bkt.Get(ctx, name)
	if s.bkt.IsObjNotFoundErr(err) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return false, err
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, &corruptError{err: err}
	}
	return true, nil
}

// modified returns when the object name was last written, or now when the
// bucket does not tell.
func (s store) modified(ctx context.Context, name string, now func() time.Time) time.Time {
	if a, err := s.bkt.Attributes(ctx, name); err == nil && !a.LastModified.IsZero() {
		return a.LastModified.UTC()
	}
	return now().UTC()
}

// corruptError is a stored configuration that cannot be taken: its object
// does not decode as one, or what it holds does not validate.
type corruptError struct{ err error }

func (e *corruptError) Error() string { return e.err.Error() }
func (e *corruptError) Unwrap() error { return e.err }

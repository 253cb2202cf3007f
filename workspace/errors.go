package workspace

import (
	"errors"
	"fmt"
	"strings"
)

var (
	// ErrNotFound is returned for a workspace that does not exist, is being
	// deleted or was deleted.
	ErrNotFound = errors.New("workspace not found")
	// ErrConflict is returned when a request conflicts with the state of a
	// workspace: a client token reused with other parameters, or a change to
	// a workspace that is being deleted.
	ErrConflict = errors.New("conflict")
	// ErrQuotaExceeded is returned when an account already has
	// Options.MaxWorkspaces workspaces.
	ErrQuotaExceeded = errors.New("service quota exceeded")
	// ErrInvalid is returned for input that breaks AMP's constraints; the
	// error is a *ValidationError.
	ErrInvalid = errors.New("invalid input")
	// ErrClosed is returned by a closed Registry.
	ErrClosed = errors.New("registry closed")
)

// Reasons of a ValidationError, as AMP names them.
const (
	ReasonUnknownOperation      = "UNKNOWN_OPERATION"
	ReasonCannotParse           = "CANNOT_PARSE"
	ReasonFieldValidationFailed = "FIELD_VALIDATION_FAILED"
	ReasonOther                 = "OTHER"
)

// FieldError names one field of a request that failed validation.
type FieldError struct {
	Name    string `json:"name"`
	Message string `json:"message"`
}

// ValidationError is AMP's ValidationException. It matches ErrInvalid.
type ValidationError struct {
	Reason string
	Fields []FieldError
	// Message, if set, says what is wrong when Fields cannot.
	Message string
}

func (e *ValidationError) Error() string {
	if e.Message != "" {
		return e.Message
	}
	if len(e.Fields) == 0 {
		return strings.ToLower(e.Reason)
	}
	msgs := make([]string, 0, len(e.Fields))
	for _, f := range e.Fields {
		msgs = append(msgs, f.Name+": "+f.Message)
	}
	return strings.Join(msgs, "; ")
}

// Is makes errors.Is(err, ErrInvalid) hold.
func (e *ValidationError) Is(target error) bool { return target == ErrInvalid }

// fieldErrors collects the fields that failed validation of one request.
type fieldErrors []FieldError

func (fe *fieldErrors) add(name, format string, args ...any) {
	*fe = append(*fe, FieldError{Name: name, Message: fmt.Sprintf(format, args...)})
}

func (fe fieldErrors) err() error {
	if len(fe) == 0 {
		return nil
	}
	return &ValidationError{Reason: ReasonFieldValidationFailed, Fields: fe}
}

func notFound(id string) error { return fmt.Errorf("%s: %w", id, ErrNotFound) }

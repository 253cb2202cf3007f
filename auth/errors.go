package auth

import (
	"errors"
	"fmt"
	"net/http"

	"github.com/promspace/promspace/auth/sigv4"
)

// Sentinel errors returned (wrapped) by Authenticators and the Middleware.
// Check them with errors.Is; the Middleware maps each to the status and
// x-amzn-ErrorType AMP answers with. Those of SigV4 verification are
// package sigv4's own.
var (
	// ErrMissingToken: the request carries no credentials the
	// authenticator understands. AMP: 403 MissingAuthenticationTokenException.
	ErrMissingToken = errors.New("missing authentication token")
	// ErrIncompleteSignature: a SigV4 signature is present but malformed.
	// AMP: 403 IncompleteSignatureException.
	ErrIncompleteSignature = sigv4.ErrIncompleteSignature
	// ErrInvalidSignature: the signature does not verify: wrong secret,
	// tampered request, other region or service. AMP: 403 InvalidSignatureException.
	ErrInvalidSignature = sigv4.ErrInvalidSignature
	// ErrSignatureExpired wraps ErrInvalidSignature: the signing time is
	// outside the allowed clock skew, or a presigned URL has expired.
	ErrSignatureExpired = sigv4.ErrSignatureExpired
	// ErrUnrecognizedClient: unknown access key, session token that does not
	// belong to the key, or unknown bearer token. AMP: 403 UnrecognizedClientException.
	ErrUnrecognizedClient = sigv4.ErrUnrecognizedClient
	// ErrBodyTooLarge: the body had to be read to verify the signature and
	// it is larger than the configured maximum. 413.
	ErrBodyTooLarge = sigv4.ErrBodyTooLarge
	// ErrUnreadableBody: the body had to be read to verify the signature and
	// it ended early (an aborted upload, a body shorter than its
	// Content-Length). 400, as the handler itself would answer.
	ErrUnreadableBody = sigv4.ErrUnreadableBody
	// ErrAccessDenied: the principal is authenticated but not allowed to
	// perform the action on the resource. AMP: 403 AccessDeniedException.
	ErrAccessDenied = errors.New("access denied")
)

// Messages AMP (AWS's API front end) answers with, word for word.
const (
	msgMissingToken         = sigv4.MessageMissingToken
	msgInvalidSignature     = sigv4.MessageInvalidSignature
	msgUnrecognized         = sigv4.MessageUnrecognizedClient
	errTypeMissingToken     = "MissingAuthenticationTokenException"
	errTypeIncomplete       = "IncompleteSignatureException"
	errTypeInvalidSig       = "InvalidSignatureException"
	errTypeUnrecognized     = "UnrecognizedClientException"
	errTypeAccessDenied     = "AccessDeniedException"
	errTypeUnknownOperation = "UnknownOperationException"
	errTypeTooLarge         = "PayloadTooLargeException"
	errTypeBadBody          = "SerializationException"
	errTypeInternal         = "InternalServerException"
)

// Error is an authentication or authorization failure: Kind is one of the
// sentinel errors above, Message the text the client is shown (AWS's
// wording, which is why it is capitalised). It is sigv4's error type, so
// that a verification failure needs no conversion beyond its kind.
type Error = sigv4.Error

func newError(kind error, format string, args ...any) *Error {
	if len(args) == 0 {
		return &Error{Kind: kind, Message: format}
	}
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// failure is how the Middleware answers an error: HTTP status, AWS error
// type and client-facing message.
type failure struct {
	status  int
	errType string
	message string
}

func failureOf(err error) failure {
	msg := ""
	var e *Error
	if errors.As(err, &e) {
		msg = e.Message
	}
	pick := func(def string) string {
		if msg != "" {
			return msg
		}
		return def
	}
	switch {
	case errors.Is(err, ErrMissingToken):
		return failure{http.StatusForbidden, errTypeMissingToken, msgMissingToken}
	case errors.Is(err, ErrIncompleteSignature):
		return failure{http.StatusForbidden, errTypeIncomplete, pick("Authorization header is malformed.")}
	case errors.Is(err, ErrInvalidSignature):
		return failure{http.StatusForbidden, errTypeInvalidSig, pick(msgInvalidSignature)}
	case errors.Is(err, ErrUnrecognizedClient):
		return failure{http.StatusForbidden, errTypeUnrecognized, msgUnrecognized}
	case errors.Is(err, ErrBodyTooLarge):
		return failure{http.StatusRequestEntityTooLarge, errTypeTooLarge, pick("Request body too large.")}
	case errors.Is(err, ErrUnreadableBody):
		return failure{http.StatusBadRequest, errTypeBadBody, pick("Request body could not be read.")}
	case errors.Is(err, ErrAccessDenied):
		return failure{http.StatusForbidden, errTypeAccessDenied, pick("Access denied.")}
	default:
		return failure{http.StatusInternalServerError, errTypeInternal, "Internal server error while authenticating the request."}
	}
}

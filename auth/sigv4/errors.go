package sigv4

import (
	"errors"
	"fmt"
)

// Sentinel errors of Verify, wrapped in an *Error that carries AWS's message
// for the client. Check them with errors.Is. The names follow the AWS
// exceptions they correspond to (MissingAuthenticationTokenException,
// IncompleteSignatureException, InvalidSignatureException,
// UnrecognizedClientException); which HTTP status and body a refusal gets is
// the caller's choice.
var (
	// ErrMissingSignature: the request carries no SigV4 signature at all,
	// neither an AWS4-* Authorization header nor a presigned query string.
	// A caller that accepts other schemes tries the next one.
	ErrMissingSignature = errors.New("missing signature")
	// ErrIncompleteSignature: a signature is present but malformed, or the
	// request lacks what SigV4 requires (X-Amz-Date, a signed host header).
	ErrIncompleteSignature = errors.New("incomplete signature")
	// ErrInvalidSignature: the signature does not verify: wrong secret,
	// tampered request, another region or service.
	ErrInvalidSignature = errors.New("invalid signature")
	// ErrSignatureExpired wraps ErrInvalidSignature: the signing time is
	// outside the allowed clock skew, or a presigned URL has expired.
	ErrSignatureExpired = fmt.Errorf("signature expired: %w", ErrInvalidSignature)
	// ErrUnrecognizedClient: unknown access key, or a session token that
	// does not belong to the key. A CredentialStore returns it, wrapped or
	// not, for a key it does not know.
	ErrUnrecognizedClient = errors.New("unrecognized client")
	// ErrBodyTooLarge: the body had to be read to hash it and it is larger
	// than Options.MaxBodySize.
	ErrBodyTooLarge = errors.New("request body too large")
	// ErrUnreadableBody: the body had to be read to hash it and it ended
	// early (an aborted upload, a body shorter than its Content-Length).
	ErrUnreadableBody = errors.New("request body could not be read")
)

// Messages AWS answers with, word for word, for callers that refuse a
// request in AWS's words on grounds of their own.
const (
	MessageMissingToken       = "Missing Authentication Token"
	MessageInvalidSignature   = "The request signature we calculated does not match the signature you provided. Check your AWS Secret Access Key and signing method. Consult the service documentation for details."
	MessageUnrecognizedClient = "The security token included in the request is invalid."
)

// Error is a verification failure: Kind is one of the sentinel errors above,
// Message the text AWS shows the client in the same case (which is why it
// is capitalised and punctuated).
type Error struct {
	Kind    error
	Message string
}

func (e *Error) Error() string { return e.Kind.Error() + ": " + e.Message }

// Unwrap makes errors.Is(err, ErrInvalidSignature) and friends work.
func (e *Error) Unwrap() error { return e.Kind }

func newError(kind error, format string, args ...any) *Error {
	if len(args) == 0 {
		return &Error{Kind: kind, Message: format}
	}
	return &Error{Kind: kind, Message: fmt.Sprintf(format, args...)}
}

// truncate bounds the client-supplied text quoted back in a message.
func truncate(s string) string {
	const max = 128
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}

package auth

import (
	"context"
	"net/http"

	"github.com/promspace/promspace/internal/amp"
)

// DefaultRegion is the region used when none is configured.
const DefaultRegion = amp.DefaultRegion

// DefaultAccountID is the account of the anonymous principal when none is
// configured (the account LocalStack and similar emulators use).
const DefaultAccountID = amp.DefaultAccountID

// AnonymousName is the name and ARN of the principal Anonymous returns.
const AnonymousName = "anonymous"

// Method says how a principal was authenticated.
type Method string

// Authentication methods.
const (
	MethodSigV4     Method = "sigv4"
	MethodBearer    Method = "bearer"
	MethodAnonymous Method = "anonymous"
)

// Principal is an authenticated caller.
type Principal struct {
	// AccountID is the 12-digit AWS account the caller belongs to; it owns
	// the workspaces the caller creates.
	AccountID string
	// AccessKeyID is the SigV4 access key the request was signed with;
	// empty for other methods.
	AccessKeyID string
	// Name is the IAM user name.
	Name string
	// ARN identifies the caller in policies' attachments and in denial
	// messages, e.g. arn:aws:iam::111122223333:user/NAME.
	ARN string
	// Method is how the caller authenticated.
	Method Method
}

// UserARN returns the IAM user ARN arn:aws:iam::<account>:user/<name>.
func UserARN(account, name string) string {
	return "arn:aws:iam::" + account + ":user/" + name
}

// arn returns p.ARN, or the user ARN built from the account and name.
func (p *Principal) arn() string {
	if p.ARN != "" {
		return p.ARN
	}
	return UserARN(p.AccountID, p.Name)
}

// Authenticator says who sent a request.
//
// Authenticate returns an error wrapping ErrMissingToken when the request
// carries no credentials of the kind the implementation understands (so
// Chain can try the next one), one of the other sentinel errors in this
// package when the credentials are present but not valid, and never
// (nil, nil). It may read r.Body, but then it must leave an equivalent,
// unread body in its place for the handler.
type Authenticator interface {
	Authenticate(r *http.Request) (*Principal, error)
}

// Authorizer says what a principal may do.
//
// Authorize reports whether p may perform action (e.g. "aps:RemoteWrite",
// compared case-insensitively) on resource (an ARN or "*"). A nil
// principal is never allowed. A non-nil error means the decision could not
// be made (a backend failed), not a denial. Implementations are safe for
// concurrent use.
type Authorizer interface {
	Authorize(ctx context.Context, p *Principal, action, resource string) (bool, error)
}

// AuthenticatorFunc adapts a function to Authenticator.
type AuthenticatorFunc func(r *http.Request) (*Principal, error)

// Authenticate calls f(r).
func (f AuthenticatorFunc) Authenticate(r *http.Request) (*Principal, error) { return f(r) }

// AuthorizerFunc adapts a function to Authorizer.
type AuthorizerFunc func(ctx context.Context, p *Principal, action, resource string) (bool, error)

// Authorize calls f.
func (f AuthorizerFunc) Authorize(ctx context.Context, p *Principal, action, resource string) (bool, error) {
	return f(ctx, p, action, resource)
}

type ctxKey struct{}

type ctxValue struct {
	principal  *Principal
	authorizer Authorizer
	op         *Operation
}

// NewContext returns a context carrying the principal and the authorizer
// that Allowed consults. The Middleware calls it for every request it lets
// through.
func NewContext(parent context.Context, p *Principal, a Authorizer) context.Context {
	return context.WithValue(parent, ctxKey{}, &ctxValue{principal: p, authorizer: a})
}

// PrincipalFrom returns the principal the Middleware authenticated.
func PrincipalFrom(ctx context.Context) (*Principal, bool) {
	v, _ := ctx.Value(ctxKey{}).(*ctxValue)
	if v == nil || v.principal == nil {
		return nil, false
	}
	return v.principal, true
}

// OperationFrom returns the AMP operation the Middleware matched the
// request to.
func OperationFrom(ctx context.Context) (Operation, bool) {
	v, _ := ctx.Value(ctxKey{}).(*ctxValue)
	if v == nil || v.op == nil {
		return Operation{}, false
	}
	return *v.op, true
}

// Allowed reports whether the caller of the request that ctx belongs to may
// perform action on resource. The control plane uses it to filter
// ListWorkspaces to the workspaces the caller may aps:DescribeWorkspace.
// It is false when ctx did not pass through the Middleware (or NewContext)
// and when the authorizer fails: it never fails open.
func Allowed(ctx context.Context, action, resource string) bool {
	v, _ := ctx.Value(ctxKey{}).(*ctxValue)
	if v == nil || v.principal == nil || v.authorizer == nil {
		return false
	}
	ok, err := v.authorizer.Authorize(ctx, v.principal, action, resource)
	return err == nil && ok
}

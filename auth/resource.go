package auth

import (
	"context"
	"strings"

	"github.com/promspace/promspace/auth/iam"
)

// ResourcePolicyFunc returns the resource-based policy attached to a
// workspace, nil when it has none (or does not exist). An error means the
// policy could not be read; the request then fails with 500.
type ResourcePolicyFunc func(ctx context.Context, workspaceID string) (*iam.ResourcePolicy, error)

// A Decider is an Authorizer that tells an explicit deny from an implicit
// one and evaluates a principal's identity policies on the resources of
// any account: what the Middleware combines with a workspace's resource
// policy. PolicyAuthorizer is one. With an Authorizer that is not, a
// refusal is an implicit deny, which a resource policy may overturn
// within one account.
type Decider interface {
	Decide(ctx context.Context, p *Principal, action, resource string) (iam.Decision, error)
}

// Decide implements Decider: the decision of the policies attached to p,
// whatever account the resource is in.
func (a *PolicyAuthorizer) Decide(_ context.Context, p *Principal, action, resource string) (iam.Decision, error) {
	if p == nil {
		return iam.ImplicitDeny, nil
	}
	a.mu.RLock()
	policies := a.attached[p.arn()]
	a.mu.RUnlock()
	return iam.Evaluate(policies, action, resource), nil
}

// shareable are the actions a workspace's resource policy can grant: its
// Prometheus-compatible (data-plane) operations. AMP ignores the others
// in a resource policy, and so does the Middleware.
var shareable = func() map[string]bool {
	m := map[string]bool{}
	for _, r := range Routes() {
		if r.DataPlane {
			m[strings.ToLower(r.Action)] = true
		}
	}
	return m
}()

// Shareable reports whether a workspace's resource policy can grant
// action: whether it is one of the workspace's Prometheus-compatible
// operations.
func Shareable(action string) bool { return shareable[strings.ToLower(action)] }

// identity is p's identity-based decision on resource.
func identity(ctx context.Context, a Authorizer, p *Principal, action, resource string) (iam.Decision, error) {
	if d, ok := a.(Decider); ok {
		return d.Decide(ctx, p, action, resource)
	}
	ok, err := a.Authorize(ctx, p, action, resource)
	if err != nil || !ok {
		return iam.ImplicitDeny, err
	}
	return iam.Allow, nil
}

// decision is how the Middleware authorized a request.
type decision struct {
	resource string // the ARN it was authorized on
	account  string // the account of that ARN
	allowed  bool
}

// authorize decides op for p as IAM does with a resource-based policy:
//   - another account's workspace whose resource policy does not allow p
//     the action is as unknown as a missing one: the request is
//     authorized on the workspace ARN of p's own account, as before
//     resource policies, and the handler answers it as not found;
//   - another account's workspace whose resource policy allows it: p's
//     identity policies must allow it too;
//   - a workspace of p's account: either policy may allow, an explicit
//     Deny in either wins, and an Allow of the resource policy that names
//     only p's account (not p) needs the identity policies' Allow too.
func (m *middleware) authorize(ctx context.Context, p *Principal, op Operation) (decision, error) {
	owner := p.AccountID
	if op.WorkspaceID != "" && m.opts.AccountOf != nil {
		if o, ok := m.opts.AccountOf(ctx, op.WorkspaceID); ok {
			owner = o
		}
	}
	d := decision{resource: op.Resource(m.opts.Region, owner), account: owner}
	rd, direct := iam.ImplicitDeny, false
	if op.WorkspaceID != "" && m.opts.ResourcePolicy != nil && Shareable(op.Action) {
		pol, err := m.opts.ResourcePolicy(ctx, op.WorkspaceID)
		if err != nil {
			return decision{}, err
		}
		if pol != nil {
			rd, direct = pol.Evaluate(iam.Caller{ARN: p.arn(), Account: p.AccountID}, op.Action, d.resource)
		}
	}
	var err error
	switch {
	case owner != p.AccountID && rd != iam.Allow:
		d = decision{resource: op.Resource(m.opts.Region, p.AccountID), account: p.AccountID}
		d.allowed, err = m.opts.Authorizer.Authorize(ctx, p, op.Action, d.resource)
	case owner != p.AccountID:
		var id iam.Decision
		id, err = identity(ctx, m.opts.Authorizer, p, op.Action, d.resource)
		d.allowed = id == iam.Allow
	case rd == iam.ImplicitDeny:
		d.allowed, err = m.opts.Authorizer.Authorize(ctx, p, op.Action, d.resource)
	default:
		var id iam.Decision
		id, err = identity(ctx, m.opts.Authorizer, p, op.Action, d.resource)
		d.allowed = id != iam.ExplicitDeny && rd != iam.ExplicitDeny && (id == iam.Allow || rd == iam.Allow && direct)
	}
	return d, err
}

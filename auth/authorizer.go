package auth

import (
	"context"
	"sort"
	"strings"
	"sync"

	"github.com/promspace/promspace/auth/iam"
)

// Names of AWS's managed policies for AMP, available as presets.
const (
	PresetRemoteWriteAccess = "AmazonPrometheusRemoteWriteAccess"
	PresetQueryAccess       = "AmazonPrometheusQueryAccess"
	PresetFullAccess        = "AmazonPrometheusFullAccess"
)

// The aps statements of AWS's managed policies. AmazonPrometheusFullAccess
// also grants the EKS, EC2, IAM and CloudWatch Logs actions the managed
// collector needs; they have no meaning here and are left out.
var presetDocuments = map[string]string{
	PresetRemoteWriteAccess: `{"Version":"2012-10-17","Statement":[{"Action":["aps:RemoteWrite"],"Effect":"Allow","Resource":"*"}]}`,
	PresetQueryAccess:       `{"Version":"2012-10-17","Statement":[{"Action":["aps:GetLabels","aps:GetMetricMetadata","aps:GetSeries","aps:QueryMetrics"],"Effect":"Allow","Resource":"*"}]}`,
	PresetFullAccess:        `{"Version":"2012-10-17","Statement":[{"Sid":"AllPrometheusActions","Effect":"Allow","Action":["aps:*"],"Resource":"*"}]}`,
}

// Preset returns a fresh copy of the named AWS managed policy.
func Preset(name string) (*iam.Policy, bool) {
	doc, ok := presetDocuments[name]
	if !ok {
		return nil, false
	}
	p, err := iam.ParsePolicy([]byte(doc))
	if err != nil {
		panic("auth: preset " + name + " does not parse: " + err.Error())
	}
	return p, true
}

// PresetNames lists the presets, sorted.
func PresetNames() []string {
	names := make([]string, 0, len(presetDocuments))
	for n := range presetDocuments {
		names = append(names, n)
	}
	sort.Strings(names)
	return names
}

// PolicyAuthorizer evaluates the identity-based policies attached to a
// principal's ARN, as IAM does: an explicit Deny wins, then an Allow, and a
// request no statement matches is denied.
//
// As in IAM, identity-based policies alone grant nothing on another
// account's resources: Authorize denies a resource ARN whose account is
// not the principal's whatever the policies say. The Middleware combines
// Decide, which does not, with the resource's resource-based policy.
type PolicyAuthorizer struct {
	mu       sync.RWMutex
	attached map[string][]*iam.Policy
}

// NewPolicyAuthorizer returns an authorizer with no policies attached.
func NewPolicyAuthorizer() *PolicyAuthorizer {
	return &PolicyAuthorizer{attached: map[string][]*iam.Policy{}}
}

// Attach attaches policies to the principal ARN (Principal.ARN, e.g.
// arn:aws:iam::111122223333:user/alice). It is safe to call while requests
// are being authorized.
func (a *PolicyAuthorizer) Attach(principalARN string, policies ...*iam.Policy) {
	a.mu.Lock()
	defer a.mu.Unlock()
	a.attached[principalARN] = append(a.attached[principalARN][:len(a.attached[principalARN]):len(a.attached[principalARN])], policies...)
}

// Authorize implements Authorizer.
func (a *PolicyAuthorizer) Authorize(_ context.Context, p *Principal, action, resource string) (bool, error) {
	if p == nil {
		return false, nil
	}
	if acct, ok := arnAccount(resource); ok && acct != "" && acct != p.AccountID {
		return false, nil
	}
	a.mu.RLock()
	policies := a.attached[p.arn()]
	a.mu.RUnlock()
	return iam.Evaluate(policies, action, resource) == iam.Allow, nil
}

// arnAccount returns the account field of an ARN
// (arn:partition:service:region:account:resource).
func arnAccount(s string) (string, bool) {
	if !strings.HasPrefix(s, "arn:") {
		return "", false
	}
	parts := strings.SplitN(s, ":", 6)
	if len(parts) < 6 {
		return "", false
	}
	return parts[4], true
}

// Package amp holds the AMP constants that several packages share, so that
// each exists once: the default region and account of a local AMP.
package amp

const (
	// DefaultRegion is the region of ARNs and SigV4 signatures when none is
	// configured.
	DefaultRegion = "us-east-1"
	// DefaultAccountID is the account of workspaces and anonymous callers
	// when none is configured.
	DefaultAccountID = "000000000000"
)

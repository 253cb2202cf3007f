// Package auth owns promspace's access control, as AMP does it with IAM:
// who is calling (authentication) and what they may do (authorization), and
// the table from HTTP route to IAM action and resource ARN that joins the
// two.
//
// Authentication (Authenticator):
//   - SigV4 authenticates AWS Signature Version 4 requests for service
//     "aps" in one region as the principal of the Credential that signed
//     them. Package sigv4 verifies the signature (header and presigned
//     forms, canonical request, clock skew, session tokens, body hashing);
//     SigV4 looks the access key up in a CredentialStore
//     (StaticCredentials by default) and turns sigv4's failures into this
//     package's sentinel errors, keeping AWS's messages.
//   - BearerTokens maps `Authorization: Bearer <token>` to principals.
//   - Anonymous accepts everyone, for local use when nothing is configured.
//   - Chain combines them.
//
// Authorization (Authorizer):
//   - PolicyAuthorizer evaluates the IAM identity-based policy documents
//     (package iam, and AWS's managed policies for AMP as presets: Preset)
//     attached to principals: explicit Deny wins, then Allow, else deny;
//     its Authorize never allows across accounts, its Decide (Decider)
//     tells explicit from implicit denies on any account's resources.
//   - AllowAll allows everything (pairs with Anonymous).
//   - Resource-based policies: MiddlewareOptions.ResourcePolicy gives a
//     workspace's policy (iam.ResourcePolicy), which the Middleware
//     evaluates together with the identity policies for the workspace's
//     Prometheus-compatible operations (Shareable), as IAM does: within
//     one account either may allow (an Allow naming only the account
//     needs the identity policies' Allow too), across accounts both must,
//     an explicit Deny in either wins. Another account's workspace whose
//     policy does not share the operation with the caller is authorized,
//     and then looked up, in the caller's own account, where it is
//     unknown; Operation.Account says which account the handler must look
//     the workspace up in.
//
// Routing: Route maps a request to its AMP Operation (all 44 control-plane
// operations of the amp API and the data-plane operations), whose Action
// and Resource(region, account) are what Middleware authorizes.
//
// Middleware puts it together in front of promspace's handler and answers
// refusals as AMP does; handlers read the caller with PrincipalFrom and ask
// further questions with Allowed (the control plane filters ListWorkspaces
// with it). Config parses the server configuration's access-control
// section and builds the authenticator and authorizer.
//
// The package does not own workspaces (it learns a workspace's owner
// through MiddlewareOptions.AccountOf and its resource policy through
// MiddlewareOptions.ResourcePolicy, both kept by package workspace), or
// IAM itself: users, groups, roles and STS are out of scope. Allowed, as
// ListWorkspaces uses it, evaluates identity policies only. Nor does it own
// signature verification (package sigv4) or the policy language (package
// iam), which depend on nothing here. Package authtest holds the
// conformance tests every Authenticator and Authorizer passes.
package auth

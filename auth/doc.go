// Package auth owns promspace's access control, as AMP does it with IAM:
// who is calling (authentication) and what they may do (authorization), and
// the table from HTTP route to IAM action and resource ARN that joins the
// two.
//
// Authentication (Authenticator):
//   - SigV4 verifies AWS Signature Version 4 for service "aps" in one
//     region, in the Authorization header or a presigned query string,
//     written from the AWS specification and canonicalising exactly as
//     aws-sdk-go-v2's signer does. Credentials come from a CredentialStore
//     (StaticCredentials by default). Session tokens, the 5-minute clock
//     skew (injectable clock), X-Amz-Content-Sha256 (UNSIGNED-PAYLOAD or the
//     payload's hash, which is checked) are handled; without that header the
//     body is hashed, within a size bound, and put back for the handler.
//     Chunked STREAMING-* payload signing (S3 only) is rejected.
//   - BearerTokens maps `Authorization: Bearer <token>` to principals.
//   - Anonymous accepts everyone, for local use when nothing is configured.
//   - Chain combines them.
//
// Authorization (Authorizer):
//   - PolicyAuthorizer evaluates IAM identity-based policy documents
//     (ParsePolicy, and AWS's managed policies as presets: Preset) attached
//     to principals: explicit Deny wins, then Allow, else deny; never across
//     accounts. Condition blocks are rejected when a policy is parsed, not
//     ignored.
//   - AllowAll allows everything (pairs with Anonymous).
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
// through MiddlewareOptions.AccountOf), resource-based policies, or IAM
// itself: users, groups, roles and STS are out of scope. Package authtest
// holds the conformance tests every Authenticator and Authorizer passes.
package auth

// Package sigv4 verifies AWS Signature Version 4 on incoming HTTP requests,
// the server side of what aws-sdk-go-v2's signer, Prometheus' sigv4 round
// tripper and curl --aws-sigv4 do. It depends on nothing but the standard
// library.
//
// A Verifier checks requests for one region and service (a parameter:
// "aps" for Amazon Managed Service for Prometheus, "execute-api", ...):
//
//	v, err := sigv4.NewVerifier(sigv4.Options{Region: "us-east-1", Service: "aps", Credentials: store})
//	res, err := v.Verify(ctx, r) // res.AccessKeyID signed r
//
// What it owns: the Authorization header and presigned-URL forms
// (X-Amz-Algorithm, X-Amz-Expires up to a week), the canonical request as
// aws-sdk-go-v2 builds it for services other than S3 (the path URI-encoded
// once more, the query sorted after encoding, signed headers trimmed and
// joined), the credential scope, the signing time against an injectable
// clock with a clock skew, session tokens (X-Amz-Security-Token), and the
// payload: X-Amz-Content-Sha256 as UNSIGNED-PAYLOAD or the body's hash,
// which is checked; without that header the body is hashed, within a size
// bound, and put back on the request. Derived signing keys are cached.
// Failures are *Error values wrapping one sentinel error each, with the
// message AWS gives the client.
//
// What it does not own: where secrets come from (a CredentialStore), who
// the access key belongs to and what it may do, and how a refusal is
// answered (status codes, response bodies). Signing requests, chunked
// STREAMING-* payload signing (S3's; rejected) and Signature Version 4A
// (rejected) are out of scope.
package sigv4

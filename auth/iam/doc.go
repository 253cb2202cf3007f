// Package iam is the language of AWS IAM identity-based policy documents:
// ParsePolicy reads and validates a document as IAM writes it, Validate
// checks one built in code, and Evaluate decides an action on a resource
// as IAM does: an explicit Deny wins, then an Allow, and a request no
// statement matches is (implicitly) denied. Actions (aps:RemoteWrite,
// aps:Get*) match case-insensitively and resource ARNs case-sensitively,
// with the wildcards * and ?.
//
// Elements the package cannot evaluate (Condition, policy variables,
// Principal) are rejected when a document is parsed, never ignored, since
// ignoring them would grant or deny more than the author meant.
//
// What it does not own: which policies are attached to whom, principals,
// accounts (identity-based policies grant nothing across accounts; the
// caller checks that), resource-based policies, and any AWS service's
// actions or managed policies.
package iam

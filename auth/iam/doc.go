// Package iam is the language of AWS IAM policy documents:
// ParsePolicy reads and validates an identity-based document as IAM writes
// it, Validate checks one built in code, and Evaluate decides an action on
// a resource as IAM does: an explicit Deny wins, then an Allow, and a
// request no statement matches is (implicitly) denied. Actions
// (aps:RemoteWrite, aps:Get*) match case-insensitively and resource ARNs
// case-sensitively, with the wildcards * and ?.
//
// ParseResourcePolicy reads a resource-based document (a workspace's
// resource policy): statements name their Principal ("*", account ids,
// account root, user and role ARNs) and may hold Conditions on
// aws:PrincipalAccount and aws:SourceAccount; ResourcePolicy.Evaluate
// decides for a Caller, and says whether an Allow named the caller itself
// or only its account.
//
// Elements the package cannot evaluate (Condition blocks in identity
// policies, other condition keys and operators, policy variables,
// NotPrincipal, Principal in an identity policy) are rejected when a
// document is parsed, never ignored, since ignoring them would grant or
// deny more than the author meant.
//
// What it does not own: which policies are attached to whom, principals,
// accounts, and how identity-based and resource-based decisions combine
// (package auth does: within one account either may allow, across
// accounts both must), and any AWS service's actions or managed policies.
package iam

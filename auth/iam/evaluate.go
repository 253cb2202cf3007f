package iam

import "unicode/utf8"

// Decision is the outcome of evaluating policies for one request.
type Decision int

// Decisions, in increasing precedence: an explicit Deny beats an Allow,
// which beats no matching statement (an implicit deny).
const (
	ImplicitDeny Decision = iota
	Allow
	ExplicitDeny
)

func (d Decision) String() string {
	switch d {
	case Allow:
		return "allow"
	case ExplicitDeny:
		return "explicit deny"
	default:
		return "implicit deny"
	}
}

// Evaluate returns the policy's decision for action on resource.
func (p *Policy) Evaluate(action, resource string) Decision {
	d := ImplicitDeny
	for i := range p.Statements {
		st := &p.Statements[i]
		if !st.matches(action, resource) {
			continue
		}
		if st.Effect == EffectDeny {
			return ExplicitDeny
		}
		if st.Effect == EffectAllow {
			d = Allow
		}
	}
	return d
}

// Evaluate combines policies as IAM does: any explicit Deny wins, else any
// Allow, else the request is (implicitly) denied.
func Evaluate(policies []*Policy, action, resource string) Decision {
	d := ImplicitDeny
	for _, p := range policies {
		switch p.Evaluate(action, resource) {
		case ExplicitDeny:
			return ExplicitDeny
		case Allow:
			d = Allow
		}
	}
	return d
}

func (st *Statement) matches(action, resource string) bool {
	if len(st.Action) > 0 {
		if !anyMatch(st.Action, action, true) {
			return false
		}
	} else if anyMatch(st.NotAction, action, true) {
		return false
	}
	if len(st.Resource) > 0 {
		return anyMatch(st.Resource, resource, false)
	}
	return !anyMatch(st.NotResource, resource, false)
}

func anyMatch(patterns []string, s string, fold bool) bool {
	for _, p := range patterns {
		if wildcardMatch(p, s, fold) {
			return true
		}
	}
	return false
}

// wildcardMatch matches s against pattern, where * is any run of characters
// (including none) and ? exactly one character. fold compares ASCII
// letters case-insensitively. It runs in O(len(pattern)*len(s)) at worst,
// with no recursion.
func wildcardMatch(pattern, s string, fold bool) bool {
	p, i := 0, 0
	starP, starI := -1, 0
	for i < len(s) {
		if p < len(pattern) {
			switch c := pattern[p]; {
			case c == '*':
				starP, starI = p, i
				p++
				continue
			case c == '?':
				_, size := utf8.DecodeRuneInString(s[i:])
				p++
				i += size
				continue
			case c == s[i] || fold && lower(c) == lower(s[i]):
				p++
				i++
				continue
			}
		}
		if starP < 0 {
			return false
		}
		starI++
		p, i = starP+1, starI
	}
	for p < len(pattern) && pattern[p] == '*' {
		p++
	}
	return p == len(pattern)
}

func lower(c byte) byte {
	if 'A' <= c && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}

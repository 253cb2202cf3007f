package iam

import (
	"encoding/json"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strings"
)

// ResourcePolicy is a resource-based policy document: a Policy whose
// statements each name the principals they apply to, and may carry
// conditions on the caller's account.
//
// What is supported beyond Policy: Principal as "*" or {"AWS": ...}
// with "*", 12-digit account ids, account root ARNs
// (arn:aws:iam::<account>:root) and IAM user and role ARNs; other
// principal types (Service, Federated, CanonicalUser) are kept but never
// match, since no caller here is a service or a federated user. Condition
// with the keys aws:PrincipalAccount and aws:SourceAccount under the
// String operators (StringEquals, StringNotEquals, StringEqualsIgnoreCase,
// StringNotEqualsIgnoreCase, StringLike, StringNotLike, each with
// IfExists). What is rejected with an error: NotPrincipal, any other
// condition key or operator, and set operators (ForAnyValue:,
// ForAllValues:).
type ResourcePolicy struct {
	Version    string
	ID         string
	Statements []ResourceStatement
}

// ResourceStatement is one statement of a ResourcePolicy.
type ResourceStatement struct {
	Statement
	// Principals are the statement's AWS principals: "*", account ids and
	// ARNs.
	Principals []string
	// OtherPrincipals are its principals of other types, by type.
	OtherPrincipals map[string][]string
	// Conditions must all hold for the statement to apply.
	Conditions []Condition
}

// Condition is one key of a statement's Condition block under one
// operator: it holds when the request's value of Key matches one of Values.
type Condition struct {
	Operator string // as written, e.g. StringEqualsIfExists
	Key      string // aws:PrincipalAccount or aws:SourceAccount, as written
	Values   []string
}

// Caller is what a resource-based policy knows of a request's caller.
type Caller struct {
	// ARN is the caller's ARN (an IAM user, or an assumed role's session
	// arn:aws:sts::<account>:assumed-role/<role>/<session>).
	ARN string
	// Account is the caller's account: aws:PrincipalAccount.
	Account string
	// SourceAccount is aws:SourceAccount, the account a service acts for;
	// empty, as for every direct caller, when the request has none.
	SourceAccount string
}

// Condition keys a resource policy may use.
const (
	KeyPrincipalAccount = "aws:PrincipalAccount"
	KeySourceAccount    = "aws:SourceAccount"
)

var (
	accountID    = regexp.MustCompile(`^[0-9]{12}$`)
	principalARN = regexp.MustCompile(`^arn:aws[a-z-]*:(iam|sts)::[0-9]{12}:[^\s*?]+$`)
	stringOps    = []string{"StringEquals", "StringNotEquals", "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase", "StringLike", "StringNotLike"}
)

// ParseResourcePolicy parses a resource-based policy document (JSON) and
// validates it. Its errors wrap ErrInvalidPolicy.
func ParseResourcePolicy(data []byte) (*ResourcePolicy, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPolicy, err)
	}
	if top == nil {
		return nil, fmt.Errorf("%w: document must be a JSON object", ErrInvalidPolicy)
	}
	p := &ResourcePolicy{Version: PolicyVersion2008}
	var rawStatements json.RawMessage
	for k, v := range top {
		var err error
		switch k {
		case "Version":
			err = json.Unmarshal(v, &p.Version)
		case "Id":
			err = json.Unmarshal(v, &p.ID)
		case "Statement":
			rawStatements = v
		default:
			err = errors.New("unsupported element")
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalidPolicy, k, err)
		}
	}
	if p.Version != PolicyVersion2012 && p.Version != PolicyVersion2008 {
		return nil, fmt.Errorf("%w: Version must be %q or %q, got %q", ErrInvalidPolicy, PolicyVersion2012, PolicyVersion2008, p.Version)
	}
	var list []json.RawMessage
	switch firstByte(rawStatements) {
	case '[':
		if err := json.Unmarshal(rawStatements, &list); err != nil {
			return nil, fmt.Errorf("%w: Statement: %v", ErrInvalidPolicy, err)
		}
	case '{':
		list = []json.RawMessage{rawStatements}
	default:
		return nil, fmt.Errorf("%w: Statement must be an object or an array of objects", ErrInvalidPolicy)
	}
	if len(list) == 0 {
		return nil, fmt.Errorf("%w: no statements", ErrInvalidPolicy)
	}
	for i, raw := range list {
		st, err := parseResourceStatement(raw, p.Version)
		if err != nil {
			return nil, fmt.Errorf("%w: statement %d: %v", ErrInvalidPolicy, i+1, err)
		}
		p.Statements = append(p.Statements, st)
	}
	return p, nil
}

func parseResourceStatement(raw json.RawMessage, version string) (ResourceStatement, error) {
	var st ResourceStatement
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return st, errors.New("must be a JSON object")
	}
	rest := map[string]json.RawMessage{}
	for k, v := range m {
		var err error
		switch k {
		case "Principal":
			err = st.parsePrincipal(v)
		case "NotPrincipal":
			err = errors.New("NotPrincipal is not supported")
		case "Condition":
			st.Conditions, err = parseConditions(v)
		default:
			rest[k] = v
		}
		if err != nil {
			return st, fmt.Errorf("%s: %w", k, err)
		}
	}
	if _, ok := m["Principal"]; !ok {
		return st, errors.New("a resource-based policy statement must specify a Principal")
	}
	b, _ := json.Marshal(rest)
	var err error
	if st.Statement, err = parseStatement(b); err != nil {
		return st, err
	}
	return st, st.Statement.validate(version)
}

func (st *ResourceStatement) parsePrincipal(raw json.RawMessage) error {
	if firstByte(raw) == '"' {
		var s string
		if err := json.Unmarshal(raw, &s); err != nil || s != "*" {
			return errors.New(`must be "*" or an object of principal types`)
		}
		st.Principals = []string{"*"}
		return nil
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || len(m) == 0 {
		return errors.New(`must be "*" or an object of principal types`)
	}
	for typ, v := range m {
		l, err := stringOrList(v)
		if err != nil {
			return fmt.Errorf("%s: %w", typ, err)
		}
		switch typ {
		case "AWS":
			for _, pr := range l {
				if pr != "*" && !accountID.MatchString(pr) && !principalARN.MatchString(pr) {
					return fmt.Errorf("AWS: principal %q must be \"*\", a 12-digit account id or an IAM ARN", pr)
				}
			}
			st.Principals = append(st.Principals, l...)
		case "Service", "Federated", "CanonicalUser":
			if st.OtherPrincipals == nil {
				st.OtherPrincipals = map[string][]string{}
			}
			st.OtherPrincipals[typ] = l
		default:
			return fmt.Errorf("unknown principal type %q", typ)
		}
	}
	return nil
}

func parseConditions(raw json.RawMessage) ([]Condition, error) {
	var ops map[string]map[string]json.RawMessage
	if err := json.Unmarshal(raw, &ops); err != nil {
		return nil, errors.New("must be an object of operators, each an object of condition keys")
	}
	var out []Condition
	for op, keys := range ops {
		if strings.Contains(op, ":") {
			return nil, fmt.Errorf("operator %q: set operators are not supported", op)
		}
		if !slices.Contains(stringOps, strings.TrimSuffix(op, "IfExists")) {
			return nil, fmt.Errorf("operator %q is not supported (supported: the String operators, with IfExists)", op)
		}
		for key, v := range keys {
			if !strings.EqualFold(key, KeyPrincipalAccount) && !strings.EqualFold(key, KeySourceAccount) {
				return nil, fmt.Errorf("condition key %q is not supported (supported: %s, %s)", key, KeyPrincipalAccount, KeySourceAccount)
			}
			vals, err := stringOrList(v)
			if err != nil {
				return nil, fmt.Errorf("%s: %s: %w", op, key, err)
			}
			out = append(out, Condition{Operator: op, Key: key, Values: vals})
		}
	}
	slices.SortFunc(out, func(a, b Condition) int { return strings.Compare(a.Operator+a.Key, b.Operator+b.Key) })
	return out, nil
}

// Evaluate returns the policy's decision for caller performing action on
// resource: an explicit Deny of a statement that applies wins, then an
// Allow. direct reports whether an Allow named the caller itself (by its
// ARN, or with "*") rather than its account: within one account, an
// account principal delegates to the account's identity policies, which
// must then allow too, as in IAM.
func (p *ResourcePolicy) Evaluate(c Caller, action, resource string) (d Decision, direct bool) {
	for i := range p.Statements {
		st := &p.Statements[i]
		if !st.matches(action, resource) || !st.conditionsHold(c) {
			continue
		}
		matched, byName := st.principalMatch(c)
		if !matched {
			continue
		}
		if st.Effect == EffectDeny {
			return ExplicitDeny, false
		}
		if st.Effect == EffectAllow {
			d = Allow
			direct = direct || byName
		}
	}
	return d, direct && d == Allow
}

// principalMatch reports whether the statement names c, and whether by
// name (ARN or "*") rather than by account.
func (st *ResourceStatement) principalMatch(c Caller) (matched, byName bool) {
	for _, pr := range st.Principals {
		switch {
		case pr == "*":
			return true, true
		case accountID.MatchString(pr):
			if pr == c.Account {
				matched = true
			}
		case strings.HasSuffix(pr, ":root") && strings.Count(pr, ":") == 5:
			if acct := strings.Split(pr, ":")[4]; acct == c.Account {
				matched = true
			}
		case pr == c.ARN || pr == roleOfSession(c.ARN):
			return true, true
		}
	}
	return matched, false
}

// roleOfSession returns the role ARN of an assumed role's session ARN,
// arn:aws:sts::<account>:assumed-role/<role>/<session>, "" for others.
func roleOfSession(arn string) string {
	prefix, rest, ok := strings.Cut(arn, ":assumed-role/")
	if !ok || !strings.HasPrefix(prefix, "arn:") {
		return ""
	}
	role, _, ok := strings.Cut(rest, "/")
	if !ok {
		return ""
	}
	return strings.Replace(prefix, ":sts::", ":iam::", 1) + ":role/" + role
}

func (st *ResourceStatement) conditionsHold(c Caller) bool {
	for _, cond := range st.Conditions {
		if !cond.holds(c) {
			return false
		}
	}
	return true
}

func (cond Condition) holds(c Caller) bool {
	value := c.Account
	if strings.EqualFold(cond.Key, KeySourceAccount) {
		value = c.SourceAccount
	}
	op, ifExists := strings.CutSuffix(cond.Operator, "IfExists")
	negated := strings.Contains(op, "Not")
	if value == "" { // a key the request does not have
		return ifExists || negated
	}
	var match bool
	for _, v := range cond.Values {
		switch op {
		case "StringEquals", "StringNotEquals":
			match = v == value
		case "StringEqualsIgnoreCase", "StringNotEqualsIgnoreCase":
			match = strings.EqualFold(v, value)
		default:
			match = wildcardMatch(v, value, false)
		}
		if match {
			break
		}
	}
	return match != negated
}

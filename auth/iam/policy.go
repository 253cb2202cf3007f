package iam

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// Effect of a policy statement.
type Effect string

// The two effects IAM knows.
const (
	EffectAllow Effect = "Allow"
	EffectDeny  Effect = "Deny"
)

// Policy versions IAM accepts.
const (
	PolicyVersion2012 = "2012-10-17"
	PolicyVersion2008 = "2008-10-17"
)

// ErrInvalidPolicy is wrapped by every error of ParsePolicy and Validate.
var ErrInvalidPolicy = errors.New("invalid policy")

// Policy is an IAM identity-based policy document.
//
// What is supported: Version, Id, Statement (one object or an array), and
// in statements Sid, Effect, Action / NotAction and Resource / NotResource
// (a string or an array of strings) with the wildcards * and ?; actions
// match case-insensitively, resources case-sensitively, both on the whole
// string. What is rejected with an error rather than silently ignored,
// because ignoring it would grant or deny more than the author meant:
// Condition blocks, policy variables (${...}) in 2012-10-17 documents, and
// Principal / NotPrincipal (which belong to resource-based policies).
type Policy struct {
	Version    string
	ID         string
	Statements []Statement
}

// Statement is one statement of a Policy. Exactly one of Action and
// NotAction, and exactly one of Resource and NotResource, is set.
type Statement struct {
	Sid         string
	Effect      Effect
	Action      []string
	NotAction   []string
	Resource    []string
	NotResource []string
}

// ParsePolicy parses a policy document as IAM writes it (JSON) and
// validates it.
func ParsePolicy(data []byte) (*Policy, error) {
	var top map[string]json.RawMessage
	if err := json.Unmarshal(data, &top); err != nil {
		return nil, fmt.Errorf("%w: %v", ErrInvalidPolicy, err)
	}
	if top == nil {
		return nil, fmt.Errorf("%w: document must be a JSON object", ErrInvalidPolicy)
	}
	p := &Policy{Version: PolicyVersion2008}
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
			err = fmt.Errorf("unsupported element %q", k)
		}
		if err != nil {
			return nil, fmt.Errorf("%w: %s: %v", ErrInvalidPolicy, k, err)
		}
	}
	if rawStatements == nil {
		return nil, fmt.Errorf("%w: missing Statement", ErrInvalidPolicy)
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
	for i, raw := range list {
		st, err := parseStatement(raw)
		if err != nil {
			return nil, fmt.Errorf("%w: statement %d: %v", ErrInvalidPolicy, i+1, err)
		}
		p.Statements = append(p.Statements, st)
	}
	if err := p.Validate(); err != nil {
		return nil, err
	}
	return p, nil
}

func firstByte(b []byte) byte {
	b = bytes.TrimLeft(b, " \t\r\n")
	if len(b) == 0 {
		return 0
	}
	return b[0]
}

func parseStatement(raw json.RawMessage) (Statement, error) {
	var st Statement
	var m map[string]json.RawMessage
	if err := json.Unmarshal(raw, &m); err != nil || m == nil {
		return st, errors.New("must be a JSON object")
	}
	for k, v := range m {
		var err error
		switch k {
		case "Sid":
			err = json.Unmarshal(v, &st.Sid)
		case "Effect":
			var e string
			err = json.Unmarshal(v, &e)
			st.Effect = Effect(e)
		case "Action":
			st.Action, err = stringOrList(v)
		case "NotAction":
			st.NotAction, err = stringOrList(v)
		case "Resource":
			st.Resource, err = stringOrList(v)
		case "NotResource":
			st.NotResource, err = stringOrList(v)
		case "Condition":
			err = errors.New("condition blocks are not supported")
		case "Principal", "NotPrincipal":
			err = errors.New("identity-based policies must not specify a principal")
		default:
			err = errors.New("unsupported element")
		}
		if err != nil {
			return st, fmt.Errorf("%s: %w", k, err)
		}
	}
	return st, nil
}

func stringOrList(raw json.RawMessage) ([]string, error) {
	switch firstByte(raw) {
	case '"':
		var s string
		if err := json.Unmarshal(raw, &s); err != nil {
			return nil, err
		}
		return []string{s}, nil
	case '[':
		var l []string
		if err := json.Unmarshal(raw, &l); err != nil {
			return nil, errors.New("must be a string or an array of strings")
		}
		if len(l) == 0 {
			return nil, errors.New("must not be empty")
		}
		return l, nil
	default:
		return nil, errors.New("must be a string or an array of strings")
	}
}

// Validate checks a policy the way IAM would before accepting it.
func (p *Policy) Validate() error {
	if p.Version != PolicyVersion2012 && p.Version != PolicyVersion2008 {
		return fmt.Errorf("%w: Version must be %q or %q, got %q", ErrInvalidPolicy, PolicyVersion2012, PolicyVersion2008, p.Version)
	}
	if len(p.Statements) == 0 {
		return fmt.Errorf("%w: no statements", ErrInvalidPolicy)
	}
	for i, st := range p.Statements {
		if err := st.validate(p.Version); err != nil {
			return fmt.Errorf("%w: statement %d: %v", ErrInvalidPolicy, i+1, err)
		}
	}
	return nil
}

func (st Statement) validate(version string) error {
	if st.Effect != EffectAllow && st.Effect != EffectDeny {
		return fmt.Errorf("Effect must be %q or %q, got %q", EffectAllow, EffectDeny, st.Effect)
	}
	if (len(st.Action) == 0) == (len(st.NotAction) == 0) {
		return errors.New("exactly one of Action and NotAction is required")
	}
	if (len(st.Resource) == 0) == (len(st.NotResource) == 0) {
		return errors.New("exactly one of Resource and NotResource is required")
	}
	for _, a := range append(st.Action[:len(st.Action):len(st.Action)], st.NotAction...) {
		if err := validateAction(a); err != nil {
			return err
		}
	}
	for _, r := range append(st.Resource[:len(st.Resource):len(st.Resource)], st.NotResource...) {
		if r != "*" && (!strings.HasPrefix(r, "arn:") || strings.Count(r, ":") < 5) {
			return fmt.Errorf("resource %q must be in ARN format or \"*\"", r)
		}
		if version == PolicyVersion2012 && strings.Contains(r, "${") {
			return fmt.Errorf("resource %q: policy variables are not supported", r)
		}
	}
	return nil
}

func validateAction(a string) error {
	if a == "*" {
		return nil
	}
	vendor, name, ok := strings.Cut(a, ":")
	if !ok || vendor == "" || name == "" || strings.Contains(name, ":") {
		return fmt.Errorf("action %q must be \"*\" or \"service:action\"", a)
	}
	for _, c := range []byte(vendor) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '-') {
			return fmt.Errorf("action %q: invalid service prefix (wildcards are not allowed there)", a)
		}
	}
	for _, c := range []byte(name) {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '*' || c == '?' || c == '-' || c == '_') {
			return fmt.Errorf("action %q: invalid character %q", a, c)
		}
	}
	return nil
}

// MarshalJSON writes the policy as IAM does.
func (p *Policy) MarshalJSON() ([]byte, error) {
	type stmt struct {
		Sid         string   `json:"Sid,omitempty"`
		Effect      Effect   `json:"Effect"`
		Action      []string `json:"Action,omitempty"`
		NotAction   []string `json:"NotAction,omitempty"`
		Resource    []string `json:"Resource,omitempty"`
		NotResource []string `json:"NotResource,omitempty"`
	}
	doc := struct {
		Version   string `json:"Version"`
		ID        string `json:"Id,omitempty"`
		Statement []stmt `json:"Statement"`
	}{Version: p.Version, ID: p.ID}
	for _, s := range p.Statements {
		doc.Statement = append(doc.Statement, stmt(s))
	}
	return json.Marshal(doc)
}

// UnmarshalJSON parses with ParsePolicy.
func (p *Policy) UnmarshalJSON(data []byte) error {
	q, err := ParsePolicy(data)
	if err != nil {
		return err
	}
	*p = *q
	return nil
}

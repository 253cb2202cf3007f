package auth

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"regexp"
	"strconv"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"

	"github.com/promspace/promspace/auth/iam"
)

// Config is the access-control section of the server configuration:
//
//	region: us-east-1
//	credentials:
//	  - access_key_id: AKIDEXAMPLE
//	    secret_access_key: wJalrXUtnFEMI/K7MDENG
//	    session_token: optional
//	    account_id: "111122223333"
//	    name: optional                            # IAM user name; the access key ID by default
//	    policy: AmazonPrometheusFullAccess        # a preset, or a policy document as YAML or JSON
//	bearer_tokens:
//	  - token: local-dev-token
//	    account_id: "111122223333"
//	    policy: AmazonPrometheusQueryAccess
//	max_body_size: 33554432                      # optional, bytes (sigv4.DefaultMaxBodySize)
//
// policy may also be a list of presets and documents, all attached. A
// credential and a bearer token with the same account and name are the
// same IAM user, whose policies add up. With no credentials and no bearer
// tokens, Build returns anonymous access with everything allowed, for local
// use.
type Config struct {
	Region       string              `yaml:"region,omitempty"`
	Credentials  []CredentialConfig  `yaml:"credentials,omitempty"`
	BearerTokens []BearerTokenConfig `yaml:"bearer_tokens,omitempty"`
	// MaxBodySize bounds the body buffered to verify a signature when the
	// client sends no X-Amz-Content-Sha256; sigv4.DefaultMaxBodySize when 0.
	MaxBodySize int64 `yaml:"max_body_size,omitempty"`

	// Now is the clock SigV4 checks signing times against; time.Now when nil.
	Now func() time.Time `yaml:"-"`
}

// CredentialConfig is one SigV4 access key.
type CredentialConfig struct {
	AccessKeyID     string       `yaml:"access_key_id"`
	SecretAccessKey string       `yaml:"secret_access_key"`
	SessionToken    string       `yaml:"session_token,omitempty"`
	AccountID       string       `yaml:"account_id"`
	Name            string       `yaml:"name,omitempty"`
	Policy          PolicyConfig `yaml:"policy"`
}

// BearerTokenConfig is one bearer token.
type BearerTokenConfig struct {
	Token     string       `yaml:"token"`
	AccountID string       `yaml:"account_id"`
	Name      string       `yaml:"name,omitempty"`
	Policy    PolicyConfig `yaml:"policy"`
}

// PolicyConfig is the policy field of a credential or token: a preset's
// name, a policy document (a YAML mapping, or a JSON string), or a list of
// these.
type PolicyConfig struct {
	Policies []*iam.Policy
}

// UnmarshalYAML implements yaml.Unmarshaler.
func (pc *PolicyConfig) UnmarshalYAML(node *yaml.Node) error {
	pc.Policies = nil
	return pc.add(node)
}

func (pc *PolicyConfig) add(node *yaml.Node) error {
	switch node.Kind {
	case yaml.ScalarNode:
		s := strings.TrimSpace(node.Value)
		if strings.HasPrefix(s, "{") {
			p, err := iam.ParsePolicy([]byte(s))
			if err != nil {
				return fmt.Errorf("line %d: %w", node.Line, err)
			}
			pc.Policies = append(pc.Policies, p)
			return nil
		}
		p, ok := Preset(s)
		if !ok {
			return fmt.Errorf("line %d: unknown policy preset %q (presets: %s; or give a policy document)", node.Line, s, strings.Join(PresetNames(), ", "))
		}
		pc.Policies = append(pc.Policies, p)
		return nil
	case yaml.MappingNode:
		doc, err := yamlToJSON(node, 0)
		if err != nil {
			return fmt.Errorf("line %d: policy document: %w", node.Line, err)
		}
		b, err := json.Marshal(doc)
		if err != nil {
			return fmt.Errorf("line %d: policy document: %w", node.Line, err)
		}
		p, err := iam.ParsePolicy(b)
		if err != nil {
			return fmt.Errorf("line %d: %w", node.Line, err)
		}
		pc.Policies = append(pc.Policies, p)
		return nil
	case yaml.SequenceNode:
		for _, n := range node.Content {
			if n.Kind == yaml.SequenceNode {
				return fmt.Errorf("line %d: a policy list cannot contain lists", n.Line)
			}
			if err := pc.add(n); err != nil {
				return err
			}
		}
		return nil
	case yaml.AliasNode:
		return pc.add(node.Alias)
	default:
		return fmt.Errorf("line %d: policy must be a preset name, a policy document or a list of them", node.Line)
	}
}

// yamlToJSON turns a YAML policy document into values encoding/json
// writes as IAM's JSON. Scalars stay strings unless they are null, booleans
// or numbers: an unquoted Version: 2012-10-17 is the string IAM expects,
// not a timestamp.
func yamlToJSON(n *yaml.Node, depth int) (any, error) {
	if depth > 32 {
		return nil, errors.New("nested too deeply")
	}
	switch n.Kind {
	case yaml.MappingNode:
		m := make(map[string]any, len(n.Content)/2)
		for i := 0; i+1 < len(n.Content); i += 2 {
			k := n.Content[i]
			if k.Kind != yaml.ScalarNode {
				return nil, fmt.Errorf("line %d: keys must be strings", k.Line)
			}
			v, err := yamlToJSON(n.Content[i+1], depth+1)
			if err != nil {
				return nil, err
			}
			m[k.Value] = v
		}
		return m, nil
	case yaml.SequenceNode:
		l := make([]any, 0, len(n.Content))
		for _, c := range n.Content {
			v, err := yamlToJSON(c, depth+1)
			if err != nil {
				return nil, err
			}
			l = append(l, v)
		}
		return l, nil
	case yaml.AliasNode:
		return yamlToJSON(n.Alias, depth+1)
	case yaml.ScalarNode:
		switch n.ShortTag() {
		case "!!null", "!!bool", "!!int", "!!float":
			var v any
			if err := n.Decode(&v); err != nil {
				return nil, err
			}
			return v, nil
		}
		return n.Value, nil
	default:
		return nil, fmt.Errorf("line %d: unsupported YAML node", n.Line)
	}
}

// MarshalYAML writes the policies as documents.
func (pc PolicyConfig) MarshalYAML() (any, error) {
	docs := make([]any, 0, len(pc.Policies))
	for _, p := range pc.Policies {
		b, err := json.Marshal(p)
		if err != nil {
			return nil, err
		}
		var doc any
		if err := json.Unmarshal(b, &doc); err != nil {
			return nil, err
		}
		docs = append(docs, doc)
	}
	return docs, nil
}

// ParseConfig parses the access-control section and validates it.
// Unknown fields are an error.
func ParseConfig(data []byte) (*Config, error) {
	var c Config
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) { // io.EOF: an empty section
		return nil, fmt.Errorf("auth config: %w", err)
	}
	if err := c.Validate(); err != nil {
		return nil, err
	}
	return &c, nil
}

var (
	regionRE  = regexp.MustCompile(`^[a-z0-9]+(-[a-z0-9]+)*$`)
	accountRE = regexp.MustCompile(`^[0-9]{12}$`)
	userRE    = regexp.MustCompile(`^[A-Za-z0-9+=,.@_-]{1,64}$`)
)

// Validate checks the configuration and names the first offending entry.
// Secrets and tokens are never part of the message.
func (c *Config) Validate() error {
	if c.Region != "" && !regionRE.MatchString(c.Region) {
		return fmt.Errorf("auth config: region %q is not a valid region name", c.Region)
	}
	if c.MaxBodySize < 0 {
		return fmt.Errorf("auth config: max_body_size must not be negative")
	}
	keys := map[string]int{}
	for i, cr := range c.Credentials {
		where := fmt.Sprintf("auth config: credentials[%d]", i)
		switch {
		case cr.AccessKeyID == "":
			return fmt.Errorf("%s: access_key_id is required", where)
		case strings.ContainsAny(cr.AccessKeyID, "/ \t\r\n"):
			return fmt.Errorf("%s: access_key_id %q must not contain '/' or whitespace", where, cr.AccessKeyID)
		}
		where += " (" + cr.AccessKeyID + ")"
		if j, dup := keys[cr.AccessKeyID]; dup {
			return fmt.Errorf("%s: access key id already used by credentials[%d]", where, j)
		}
		keys[cr.AccessKeyID] = i
		if cr.SecretAccessKey == "" {
			return fmt.Errorf("%s: secret_access_key is required", where)
		}
		if err := validateIdentity(where, cr.AccountID, cr.Name, cr.Policy); err != nil {
			return err
		}
	}
	tokens := map[string]int{}
	for i, bt := range c.BearerTokens {
		where := fmt.Sprintf("auth config: bearer_tokens[%d]", i)
		if bt.Token == "" || strings.ContainsAny(bt.Token, " \t\r\n") {
			return fmt.Errorf("%s: token must be non-empty and contain no whitespace", where)
		}
		if j, dup := tokens[bt.Token]; dup {
			return fmt.Errorf("%s: token already used by bearer_tokens[%d]", where, j)
		}
		tokens[bt.Token] = i
		if err := validateIdentity(where, bt.AccountID, bt.Name, bt.Policy); err != nil {
			return err
		}
	}
	return nil
}

func validateIdentity(where, account, name string, pc PolicyConfig) error {
	if !accountRE.MatchString(account) {
		return fmt.Errorf("%s: account_id must be 12 digits (quote it in YAML), got %q", where, account)
	}
	if name != "" && !userRE.MatchString(name) {
		return fmt.Errorf("%s: name %q is not a valid IAM user name (1-64 of A-Z a-z 0-9 +=,.@_-)", where, name)
	}
	if len(pc.Policies) == 0 {
		return fmt.Errorf("%s: policy is required: one of %s, or a policy document", where, strings.Join(PresetNames(), ", "))
	}
	for _, p := range pc.Policies {
		if p == nil {
			return fmt.Errorf("%s: nil policy", where)
		}
		if err := p.Validate(); err != nil {
			return fmt.Errorf("%s: %w", where, err)
		}
	}
	return nil
}

// MiddlewareOptions builds the configuration (see Build) into options for
// Middleware, with the region set; the caller adds AccountOf, Logger and
// Registerer.
func (c *Config) MiddlewareOptions() (MiddlewareOptions, error) {
	a, z, err := c.Build()
	if err != nil {
		return MiddlewareOptions{}, err
	}
	return MiddlewareOptions{Authenticator: a, Authorizer: z, Region: c.Region}, nil
}

// Build validates the configuration and returns the authenticator (SigV4
// for the credentials, bearer tokens, chained) and the PolicyAuthorizer with
// each identity's policies attached. With nothing configured it returns
// Anonymous and AllowAll.
func (c *Config) Build() (Authenticator, Authorizer, error) {
	if err := c.Validate(); err != nil {
		return nil, nil, err
	}
	if len(c.Credentials) == 0 && len(c.BearerTokens) == 0 {
		return Anonymous{}, AllowAll{}, nil
	}
	authz := NewPolicyAuthorizer()
	var chain []Authenticator
	if len(c.Credentials) > 0 {
		creds := make([]Credential, 0, len(c.Credentials))
		for _, cr := range c.Credentials {
			cred := Credential{
				AccessKeyID:     cr.AccessKeyID,
				SecretAccessKey: cr.SecretAccessKey,
				SessionToken:    cr.SessionToken,
				AccountID:       cr.AccountID,
				Name:            cr.Name,
			}
			creds = append(creds, cred)
			authz.Attach(cred.Principal().ARN, cr.Policy.Policies...)
		}
		store, err := NewStaticCredentials(creds...)
		if err != nil {
			return nil, nil, fmt.Errorf("auth config: %w", err)
		}
		v, err := NewSigV4(SigV4Options{
			Region:      c.Region,
			Credentials: store,
			MaxBodySize: c.MaxBodySize,
			Now:         c.Now,
		})
		if err != nil {
			return nil, nil, fmt.Errorf("auth config: %w", err)
		}
		chain = append(chain, v)
	}
	if len(c.BearerTokens) > 0 {
		tokens := make(map[string]Principal, len(c.BearerTokens))
		for i, bt := range c.BearerTokens {
			name := bt.Name
			if name == "" {
				name = "bearer-token-" + strconv.Itoa(i+1)
			}
			p := Principal{AccountID: bt.AccountID, Name: name, ARN: UserARN(bt.AccountID, name), Method: MethodBearer}
			tokens[bt.Token] = p
			authz.Attach(p.ARN, bt.Policy.Policies...)
		}
		b, err := NewBearerTokens(tokens)
		if err != nil {
			return nil, nil, fmt.Errorf("auth config: %w", err)
		}
		chain = append(chain, b)
	}
	if len(chain) == 1 {
		return chain[0], authz, nil
	}
	return Chain(chain...), authz, nil
}

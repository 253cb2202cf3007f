package main

import (
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"

	"go.yaml.in/yaml/v3"

	"github.com/promspace/promspace/auth"
)

// config is the server's -config file: access control, in the shape auth
// documents:
//
//	region: us-east-1
//	credentials:
//	  - access_key_id: AKIDEXAMPLE
//	    secret_access_key: wJalrXUtnFEMI/K7MDENG
//	    account_id: "111122223333"
//	    policy: AmazonPrometheusFullAccess
//	bearer_tokens:
//	  - token: local-dev-token
//	    account_id: "111122223333"
//	    policy: AmazonPrometheusQueryAccess
//
// and where HA dedupe elects its leaders (see haTrackerConfig).
type config struct {
	*auth.Config `yaml:",inline"`
	HATracker    haTrackerConfig `yaml:"ha_tracker,omitempty"`
}

// loadConfig reads the file at path; an empty path is an empty config.
func loadConfig(path string) (config, error) {
	if path == "" {
		return config{Config: &auth.Config{}}, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return config{}, err
	}
	// One strict decoding of every section, so that a misspelt key of
	// any of them is an error with its line; then each section's checks.
	c := config{Config: &auth.Config{}}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&c); err != nil && !errors.Is(err, io.EOF) { // io.EOF: an empty file
		return config{}, fmt.Errorf("%s: %w", path, err)
	}
	if err := errors.Join(c.Config.Validate(), c.HATracker.validate()); err != nil {
		return config{}, fmt.Errorf("%s: %w", path, err)
	}
	return c, nil
}

// account is the account every configured identity belongs to, or "" when
// there are none or they belong to several.
func (c config) account() string {
	var acct string
	for _, a := range c.accounts() {
		if acct != "" && a != acct {
			return ""
		}
		acct = a
	}
	return acct
}

func (c config) accounts() []string {
	var out []string
	for _, cr := range c.Credentials {
		out = append(out, cr.AccountID)
	}
	for _, bt := range c.BearerTokens {
		out = append(out, bt.AccountID)
	}
	return out
}

// firstAccessKey is the access key id of the first credential, for the
// remote_write example the server logs; "" when there is none.
func (c config) firstAccessKey() string {
	if len(c.Credentials) == 0 {
		return ""
	}
	return c.Credentials[0].AccessKeyID
}

// haTrackerConfig is the ha_tracker section: the KV where HA dedupe elects
// one replica per cluster. Servers that share an etcd cluster and prefix
// elect the same leaders, so the replicas of a pair may write to different
// servers:
//
//	ha_tracker:
//	  kv: etcd                 # or memory, the default: this server alone
//	  endpoints: [127.0.0.1:2379]
//	  prefix: promspace/ha/    # default
type haTrackerConfig struct {
	KV        string   `yaml:"kv,omitempty"`
	Endpoints []string `yaml:"endpoints,omitempty"`
	Prefix    string   `yaml:"prefix,omitempty"`
}

func (h haTrackerConfig) validate() error {
	switch h.KV {
	case "", "memory":
		if len(h.Endpoints) > 0 || h.Prefix != "" {
			return errors.New("ha_tracker: endpoints and prefix are for kv: etcd")
		}
	case "etcd":
		if len(h.Endpoints) == 0 {
			return errors.New("ha_tracker: kv etcd needs endpoints")
		}
	default:
		return fmt.Errorf("ha_tracker: kv %q is neither memory nor etcd", h.KV)
	}
	return nil
}

package main

import (
	"fmt"
	"os"

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
type config struct {
	*auth.Config
}

// loadConfig reads the file at path; an empty path is an empty config.
func loadConfig(path string) (config, error) {
	if path == "" {
		return config{&auth.Config{}}, nil
	}
	data, err := os.ReadFile(path)
	if err != nil {
		return config{}, err
	}
	c, err := auth.ParseConfig(data)
	if err != nil {
		return config{}, fmt.Errorf("%s: %w", path, err)
	}
	return config{c}, nil
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

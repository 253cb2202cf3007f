package main

import (
	"errors"
	"fmt"
	"net/url"
	"strings"

	"github.com/promspace/promspace/alertmanager"
)

// alertmanagerConfig is the alertmanager section: the workspaces' alert
// managers.
//
//	alertmanager:
//	  forward_urls: [http://127.0.0.1:9093]  # external Alertmanagers that also get every alert
//	  sns_endpoint: http://127.0.0.1:4566    # where sns_configs publish (e.g. a local SNS)
//	  sns_access_key_id: test                # signs those Publish requests
//	  sns_secret_access_key: test
//	  allow_all_receivers: true              # not only sns_configs and webhook_configs
type alertmanagerConfig struct {
	ForwardURLs        []string `yaml:"forward_urls,omitempty"`
	SNSEndpoint        string   `yaml:"sns_endpoint,omitempty"`
	SNSAccessKeyID     string   `yaml:"sns_access_key_id,omitempty"`
	SNSSecretAccessKey string   `yaml:"sns_secret_access_key,omitempty"`
	AllowAllReceivers  bool     `yaml:"allow_all_receivers,omitempty"`
}

// options returns the section as alertmanager.Options, with the URLs of
// the -alertmanager.url flag forwarded to as well.
func (c alertmanagerConfig) options(flagURLs []string) (alertmanager.Options, error) {
	o := alertmanager.Options{SNSEndpoint: c.SNSEndpoint, AllowAllReceivers: c.AllowAllReceivers}
	var errs []error
	for _, s := range append(append([]string(nil), c.ForwardURLs...), flagURLs...) {
		u, err := url.Parse(s)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			errs = append(errs, fmt.Errorf("alertmanager: forward URL %q: want http(s)://host[:port][/prefix]", s))
			continue
		}
		o.ForwardURLs = append(o.ForwardURLs, u)
	}
	if c.SNSEndpoint != "" {
		if u, err := url.Parse(c.SNSEndpoint); err != nil || u.Host == "" {
			errs = append(errs, fmt.Errorf("alertmanager: sns_endpoint %q is no URL", c.SNSEndpoint))
		}
	}
	if (c.SNSAccessKeyID == "") != (c.SNSSecretAccessKey == "") {
		errs = append(errs, errors.New("alertmanager: sns_access_key_id and sns_secret_access_key go together"))
	} else if c.SNSAccessKeyID != "" {
		o.SNSCredentials = &alertmanager.SNSCredentials{AccessKeyID: c.SNSAccessKeyID, SecretAccessKey: c.SNSSecretAccessKey}
	}
	return o, errors.Join(errs...)
}

// urlsFlag is a repeatable flag of URLs, each also a comma-separated list.
type urlsFlag []string

func (f *urlsFlag) String() string { return strings.Join(*f, ",") }

func (f *urlsFlag) Set(s string) error {
	for _, u := range strings.Split(s, ",") {
		if u = strings.TrimSpace(u); u != "" {
			*f = append(*f, u)
		}
	}
	return nil
}

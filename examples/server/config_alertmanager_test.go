package main

import (
	"strings"
	"testing"
)

func TestAlertmanagerConfig(t *testing.T) {
	c, err := loadConfig(writeConfig(t, `
alertmanager:
  forward_urls: [http://127.0.0.1:9093/am]
  sns_endpoint: http://127.0.0.1:4566
  sns_access_key_id: test
  sns_secret_access_key: secret
  allow_all_receivers: true
`))
	if err != nil {
		t.Fatal(err)
	}
	o, err := c.Alertmanager.options([]string{"https://am.example:9093"})
	if err != nil {
		t.Fatal(err)
	}
	if len(o.ForwardURLs) != 2 || o.ForwardURLs[0].Path != "/am" || o.ForwardURLs[1].Scheme != "https" ||
		o.SNSEndpoint != "http://127.0.0.1:4566" || !o.AllowAllReceivers || o.SNSCredentials == nil || o.SNSCredentials.SecretAccessKey != "secret" {
		t.Errorf("options: %+v", o)
	}
	for _, bad := range []string{
		"alertmanager:\n  forward_urls: [127.0.0.1:9093]\n",
		"alertmanager:\n  sns_access_key_id: only\n",
		"alertmanager:\n  bogus: 1\n",
	} {
		if _, err := loadConfig(writeConfig(t, bad)); err == nil || !strings.Contains(err.Error(), "alertmanager") && !strings.Contains(err.Error(), "bogus") {
			t.Errorf("%q: %v", bad, err)
		}
	}
	var f urlsFlag
	_ = f.Set("http://a:1, http://b:2")
	_ = f.Set("http://c:3")
	if f.String() != "http://a:1,http://b:2,http://c:3" {
		t.Errorf("flag: %s", f.String())
	}
}

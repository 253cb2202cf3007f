package main

import (
	"encoding/json"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/promspace/promspace/quota"
)

const limitsConfigYAML = `
limits:
  max_active_series: 7
  ingestion_rate: 500
  query_timeout: 2m
overrides:
  default:
    max_query_length: 1h
    max_rules: 0
  ws-00000000-0000-0000-0000-000000000001:
    max_active_series: 9
`

func writeConfig(t *testing.T, yaml string) string {
	t.Helper()
	path := filepath.Join(t.TempDir(), "promspace.yml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestLimitsConfig: the limits section goes over AMP's defaults, and an
// override, by id, over the limits section; what is left out keeps the
// value beneath it.
func TestLimitsConfig(t *testing.T) {
	c, err := loadConfig(writeConfig(t, limitsConfigYAML))
	if err != nil {
		t.Fatal(err)
	}
	l := c.quotaLimits()
	want := quota.DefaultLimits()
	want.MaxActiveSeries, want.IngestionRate, want.QueryTimeout = 7, 500, 2*time.Minute
	if l.MaxActiveSeries != want.MaxActiveSeries || l.IngestionRate != want.IngestionRate || l.QueryTimeout != want.QueryTimeout ||
		l.IngestionBurst != want.IngestionBurst || l.MaxQueryLength != want.MaxQueryLength {
		t.Errorf("limits %+v", l)
	}
	o := c.quotaOverrides()
	got, ok := o.limitsOf("ws-00000000-0000-0000-0000-000000000001", "")
	if !ok || got.MaxActiveSeries != 9 || got.IngestionRate != 500 || got.MaxRules != quota.DefaultMaxRules {
		t.Errorf("override by id: %v %+v", ok, got)
	}
	if _, ok := o.limitsOf("ws-00000000-0000-0000-0000-000000000002", ""); ok {
		t.Error("an override for a workspace the config does not name")
	}

	for _, tc := range []struct{ yaml, want string }{
		{"limits:\n  max_active_serie: 1\n", "max_active_serie"},
		{"limits:\n  max_active_series: -1\n", "limits: max_active_series must not be negative"},
		{"overrides:\n  default:\n    ingestion_rate: -5\n    max_rules: -1\n", "overrides: default: ingestion_rate, max_rules must not be negative"},
		{"limits:\n  query_timeout: soon\n", "soon"},
	} {
		if _, err := loadConfig(writeConfig(t, tc.yaml)); err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%q: %v, want an error with %q", tc.yaml, err, tc.want)
		}
	}
}

// TestServerLimitsFromConfig: the server applies the config's limits and an
// override named by alias, to the default workspace it creates and, after a
// restart, to the one it reopens.
func TestServerLimitsFromConfig(t *testing.T) {
	conf, data := writeConfig(t, limitsConfigYAML), t.TempDir()
	for _, run := range []string{"created", "reopened"} {
		base, stop := serve(t, data, "-config", conf)
		ids := defaultWorkspaces(t, base)
		if len(ids) != 1 {
			t.Fatalf("%s: default workspaces %v", run, ids)
		}
		var view quota.View
		code, body := get(t, base+"/workspaces/"+ids[0]+"/limits")
		if err := json.Unmarshal([]byte(body), &view); code != http.StatusOK || err != nil {
			t.Fatalf("%s: %d %s", run, code, body)
		}
		l := view.Limits
		if *l.ActiveSeries.Limit != 7 || *l.QueryTimeRange.Limit != 3600 || *l.QueryTimeout.Limit != 120 || l.Rules.Limit != nil {
			t.Errorf("%s: limits %s", run, body)
		}
		// The override's time range applies to queries.
		end := time.Now()
		code, body = get(t, base+"/workspaces/"+ids[0]+"/api/v1/query_range?"+url.Values{"query": {"vector(1)"},
			"start": {end.Add(-2 * time.Hour).Format(time.RFC3339)}, "end": {end.Format(time.RFC3339)}, "step": {"60"}}.Encode())
		if code != http.StatusBadRequest || !strings.Contains(body, "the query time range exceeds the limit (query length: 2h, limit: 1h)") {
			t.Errorf("%s: a 2h range: %d %s", run, code, body)
		}
		if err := stop(); err != nil {
			t.Fatal(err)
		}
	}
}

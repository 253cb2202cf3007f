package main

import (
	"bytes"
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	clientv3 "go.etcd.io/etcd/client/v3"
	"go.yaml.in/yaml/v3"

	"github.com/promspace/promspace/auth"
	"github.com/promspace/promspace/dedupe"
	"github.com/promspace/promspace/quota"
	"github.com/promspace/promspace/workspace"
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
// and where HA dedupe elects its leaders (see haTrackerConfig), the
// quotas of the workspaces (see limitsConfig) and their alert managers
// (see alertmanagerConfig).
type config struct {
	*auth.Config `yaml:",inline"`
	HATracker    haTrackerConfig `yaml:"ha_tracker,omitempty"`
	Limits       limitsConfig    `yaml:"limits,omitempty"`
	// Overrides are the limits of one workspace, by id or alias, over
	// Limits.
	Overrides map[string]limitsConfig `yaml:"overrides,omitempty"`
	// Alertmanager configures the workspaces' alert managers (see
	// alertmanagerConfig).
	Alertmanager alertmanagerConfig `yaml:"alertmanager,omitempty"`
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
	_, amErr := c.Alertmanager.options(nil)
	if err := errors.Join(c.Config.Validate(), c.HATracker.validate(), c.validateLimits(), amErr); err != nil {
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

// defaultHAPrefix is where ha_tracker keeps the elections in etcd when the
// config names no prefix.
const defaultHAPrefix = "promspace/ha/"

// open returns the KV the section chooses, nil for the service's memory
// default, and what closes it. An etcd that does not answer within
// a few seconds fails the start, rather than every HA request later.
func (h haTrackerConfig) open(ctx context.Context) (dedupe.KV, func(), error) {
	if h.KV != "etcd" {
		return nil, func() {}, nil
	}
	client, err := clientv3.New(clientv3.Config{Endpoints: h.Endpoints, DialTimeout: 5 * time.Second})
	if err != nil {
		return nil, nil, fmt.Errorf("ha_tracker: etcd: %w", err)
	}
	prefix := cmp.Or(h.Prefix, defaultHAPrefix)
	cctx, cancel := context.WithTimeout(ctx, 5*time.Second)
	defer cancel()
	if _, err := client.Get(cctx, prefix, clientv3.WithPrefix(), clientv3.WithCountOnly()); err != nil {
		client.Close()
		return nil, nil, fmt.Errorf("ha_tracker: etcd at %s: %w", strings.Join(h.Endpoints, ","), err)
	}
	return dedupe.NewEtcdKV(client, prefix), func() { client.Close() }, nil
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

// limitsConfig is the limits section, the quotas of every workspace over
// AMP's defaults, and each entry of overrides, the quotas of one workspace
// (named by id, or else by alias) over the limits section. A quota left out
// keeps the value beneath it; 0 means no limit. Durations are Prometheus'
// (1m, 32d):
//
//	limits:
//	  max_active_series: 5000000
//	  ingestion_rate: 200000
//	overrides:
//	  default:                 # the alias of the default workspace
//	    max_active_series: 10000000
//	    query_timeout: 2m
//
// Retention, the out-of-order window and limitsPerLabelSet are each
// workspace's configuration (UpdateWorkspaceConfiguration), not the file's.
type limitsConfig struct {
	MaxActiveSeries          *int            `yaml:"max_active_series,omitempty"`
	MaxActiveSeriesPerMetric *int            `yaml:"max_active_series_per_metric,omitempty"`
	IngestionRate            *float64        `yaml:"ingestion_rate,omitempty"`
	IngestionBurst           *int            `yaml:"ingestion_burst,omitempty"`
	MaxLabelsPerSeries       *int            `yaml:"max_labels_per_series,omitempty"`
	MaxLabelNameLength       *int            `yaml:"max_label_name_length,omitempty"`
	MaxLabelValueLength      *int            `yaml:"max_label_value_length,omitempty"`
	MaxHAClusters            *int            `yaml:"max_ha_clusters,omitempty"`
	MaxMetadataFamilies      *int            `yaml:"max_metadata_families,omitempty"`
	MaxSamplesPerQuery       *int            `yaml:"max_samples_per_query,omitempty"`
	MaxChunksPerQuery        *int            `yaml:"max_chunks_per_query,omitempty"`
	MaxBytesPerQuery         *int64          `yaml:"max_bytes_per_query,omitempty"`
	MaxQueryLength           *model.Duration `yaml:"max_query_length,omitempty"`
	QueryTimeout             *model.Duration `yaml:"query_timeout,omitempty"`
	MaxRules                 *int            `yaml:"max_rules,omitempty"`
	MaxActiveAlerts          *int            `yaml:"max_active_alerts,omitempty"`
}

// over returns l with the quotas c sets.
func (c limitsConfig) over(l quota.Limits) quota.Limits {
	set := func(dst *int, v *int) {
		if v != nil {
			*dst = *v
		}
	}
	set(&l.MaxActiveSeries, c.MaxActiveSeries)
	set(&l.MaxActiveSeriesPerMetric, c.MaxActiveSeriesPerMetric)
	set(&l.IngestionBurst, c.IngestionBurst)
	set(&l.MaxLabelsPerSeries, c.MaxLabelsPerSeries)
	set(&l.MaxLabelNameLength, c.MaxLabelNameLength)
	set(&l.MaxLabelValueLength, c.MaxLabelValueLength)
	set(&l.MaxHAClusters, c.MaxHAClusters)
	set(&l.MaxMetadataFamilies, c.MaxMetadataFamilies)
	set(&l.MaxSamplesPerQuery, c.MaxSamplesPerQuery)
	set(&l.MaxChunksPerQuery, c.MaxChunksPerQuery)
	set(&l.MaxRules, c.MaxRules)
	set(&l.MaxActiveAlerts, c.MaxActiveAlerts)
	if c.IngestionRate != nil {
		l.IngestionRate = *c.IngestionRate
	}
	if c.MaxBytesPerQuery != nil {
		l.MaxBytesPerQuery = *c.MaxBytesPerQuery
	}
	if c.MaxQueryLength != nil {
		l.MaxQueryLength = time.Duration(*c.MaxQueryLength)
	}
	if c.QueryTimeout != nil {
		l.QueryTimeout = time.Duration(*c.QueryTimeout)
	}
	return l
}

// validate rejects negative quotas, naming the section.
func (c limitsConfig) validate(section string) error {
	var bad []string
	for name, v := range map[string]float64{
		"max_active_series":            float64(deref(c.MaxActiveSeries)),
		"max_active_series_per_metric": float64(deref(c.MaxActiveSeriesPerMetric)),
		"ingestion_rate":               deref(c.IngestionRate),
		"ingestion_burst":              float64(deref(c.IngestionBurst)),
		"max_labels_per_series":        float64(deref(c.MaxLabelsPerSeries)),
		"max_label_name_length":        float64(deref(c.MaxLabelNameLength)),
		"max_label_value_length":       float64(deref(c.MaxLabelValueLength)),
		"max_ha_clusters":              float64(deref(c.MaxHAClusters)),
		"max_metadata_families":        float64(deref(c.MaxMetadataFamilies)),
		"max_samples_per_query":        float64(deref(c.MaxSamplesPerQuery)),
		"max_chunks_per_query":         float64(deref(c.MaxChunksPerQuery)),
		"max_bytes_per_query":          float64(deref(c.MaxBytesPerQuery)),
		"max_rules":                    float64(deref(c.MaxRules)),
		"max_active_alerts":            float64(deref(c.MaxActiveAlerts)),
	} {
		if v < 0 {
			bad = append(bad, name)
		}
	}
	if len(bad) == 0 {
		return nil
	}
	slices.Sort(bad)
	return fmt.Errorf("%s: %s must not be negative (0 is no limit)", section, strings.Join(bad, ", "))
}

func deref[T int | int64 | float64](p *T) T {
	if p == nil {
		return 0
	}
	return *p
}

func (c config) validateLimits() error {
	errs := []error{c.Limits.validate("limits")}
	for _, key := range slices.Sorted(maps.Keys(c.Overrides)) {
		errs = append(errs, c.Overrides[key].validate("overrides: "+key))
	}
	return errors.Join(errs...)
}

// quotaLimits returns the limits of every workspace: AMP's defaults under
// the limits section.
func (c config) quotaLimits() quota.Limits { return c.Limits.over(quota.DefaultLimits()) }

// quotaOverrides returns the quota.Options.Overrides of the overrides
// section: an entry named by the workspace's id, or else by its alias.
func (c config) quotaOverrides() *overrides {
	return &overrides{base: c.quotaLimits(), entries: c.Overrides}
}

// overrides is the overrides section for a running service.
type overrides struct {
	base    quota.Limits
	entries map[string]limitsConfig
}

// limits is a quota.Options.Overrides. An entry by alias follows the
// workspace's alias as it is when the workspace opens or its configuration
// changes.
func (o *overrides) limits(w *workspace.Workspace) (quota.Limits, bool) {
	if w == nil {
		return quota.Limits{}, false
	}
	return o.limitsOf(w.ID(), w.Alias())
}

// limitsOf returns the entry of the workspace id, or else of its alias.
func (o *overrides) limitsOf(id, alias string) (quota.Limits, bool) {
	for _, key := range []string{id, alias} {
		if e, ok := o.entries[key]; ok && key != "" {
			return e.over(o.base), true
		}
	}
	return quota.Limits{}, false
}

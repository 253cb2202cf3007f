package workspace

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/alecthomas/units"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/tsdb"
)

// Bounds of a workspace configuration, from AMP.
const (
	MinRetentionDays = 1
	MaxRetentionDays = 1095
)

// Configuration is the workspace configuration AMP exposes through
// DescribeWorkspaceConfiguration.
type Configuration struct {
	// Retention is how long samples are kept (retentionPeriodInDays).
	Retention time.Duration
	// OutOfOrderTimeWindow is how far back out-of-order samples are accepted;
	// zero disables out-of-order ingestion.
	OutOfOrderTimeWindow time.Duration
	// LimitsPerLabelSet caps the active series matching each label set.
	LimitsPerLabelSet []LabelSetLimit
	// RuleQueryOffset delays rule evaluation queries into the past.
	RuleQueryOffset time.Duration
}

// LabelSetLimit is one entry of limitsPerLabelSet: series holding every
// label of LabelSet are limited to MaxSeries active series. MaxSeries 0
// enforces no limit.
type LabelSetLimit struct {
	LabelSet  labels.Labels
	MaxSeries int64
}

// ConfigurationStatus is the status of a workspace configuration.
type ConfigurationStatus string

// Configuration statuses.
const (
	ConfigurationActive       ConfigurationStatus = "ACTIVE"
	ConfigurationUpdating     ConfigurationStatus = "UPDATING"
	ConfigurationUpdateFailed ConfigurationStatus = "UPDATE_FAILED"
)

// ConfigurationDescription is a configuration with its status.
type ConfigurationDescription struct {
	Configuration
	Status       ConfigurationStatus
	StatusReason string
}

// UpdateConfigurationInput changes a workspace's configuration. Nil fields
// are left as they are; a non-nil empty LimitsPerLabelSet removes every
// label-set limit. At least one field must be set.
type UpdateConfigurationInput struct {
	ID                            string
	ClientToken                   string
	RetentionPeriodInDays         *int
	OutOfOrderTimeWindowInSeconds *int
	RuleQueryOffsetInSeconds      *int
	LimitsPerLabelSet             []LabelSetLimit
}

var (
	labelNameRE  = regexp.MustCompile(`^[a-zA-Z_][a-zA-Z0-9_]*$`)
	metricNameRE = regexp.MustCompile(`^[a-zA-Z_:][a-zA-Z0-9_:]*$`)
)

// apply validates in and returns c with in applied.
func (in UpdateConfigurationInput) apply(c Configuration) (Configuration, error) {
	var fe fieldErrors
	validateClientToken(&fe, in.ClientToken)
	if in.RetentionPeriodInDays == nil && in.OutOfOrderTimeWindowInSeconds == nil &&
		in.RuleQueryOffsetInSeconds == nil && in.LimitsPerLabelSet == nil {
		fe.add("workspaceConfiguration", "at least one of limitsPerLabelSet, retentionPeriodInDays, outOfOrderTimeWindowInSeconds or ruleQueryOffsetInSeconds must be set")
	}
	if d := in.RetentionPeriodInDays; d != nil {
		if *d < MinRetentionDays || *d > MaxRetentionDays {
			fe.add("retentionPeriodInDays", "must be between %d and %d", MinRetentionDays, MaxRetentionDays)
		} else {
			c.Retention = time.Duration(*d) * 24 * time.Hour
		}
	}
	if s := in.OutOfOrderTimeWindowInSeconds; s != nil {
		if *s < 0 || *s > math.MaxInt32 {
			fe.add("outOfOrderTimeWindowInSeconds", "must be between 0 and %d", math.MaxInt32)
		} else {
			c.OutOfOrderTimeWindow = time.Duration(*s) * time.Second
		}
	}
	if s := in.RuleQueryOffsetInSeconds; s != nil {
		if *s < 0 || *s > math.MaxInt32 {
			fe.add("ruleQueryOffsetInSeconds", "must be between 0 and %d", math.MaxInt32)
		} else {
			c.RuleQueryOffset = time.Duration(*s) * time.Second
		}
	}
	if in.LimitsPerLabelSet != nil {
		validateLimitsPerLabelSet(&fe, in.LimitsPerLabelSet)
		c.LimitsPerLabelSet = slices.Clone(in.LimitsPerLabelSet)
	}
	if err := fe.err(); err != nil {
		return Configuration{}, err
	}
	return c, nil
}

func validateLimitsPerLabelSet(fe *fieldErrors, limits []LabelSetLimit) {
	seen := make(map[string]struct{}, len(limits))
	for i, l := range limits {
		name := fmt.Sprintf("limitsPerLabelSet[%d]", i)
		if l.MaxSeries < 0 {
			fe.add(name+".limits.maxSeries", "must be greater than or equal to 0")
		}
		if l.LabelSet.IsEmpty() {
			fe.add(name+".labelSet", "must hold at least one label")
			continue
		}
		l.LabelSet.Range(func(lbl labels.Label) {
			switch {
			case !labelNameRE.MatchString(lbl.Name):
				fe.add(name+".labelSet", "label name %q must match [a-zA-Z_][a-zA-Z0-9_]*", lbl.Name)
			case lbl.Name == model.MetricNameLabel && !metricNameRE.MatchString(lbl.Value):
				fe.add(name+".labelSet", "metric name %q must match [a-zA-Z_:][a-zA-Z0-9_:]*", lbl.Value)
			case !validLabelSetValue(lbl.Value):
				fe.add(name+".labelSet", "value of label %q must be ASCII without control characters and hold a character that is not a space", lbl.Name)
			}
		})
		if _, dup := l.LabelSet.HasDuplicateLabelNames(); dup {
			fe.add(name+".labelSet", "label names must be unique")
		}
		key := l.LabelSet.String()
		if _, dup := seen[key]; dup {
			fe.add(name+".labelSet", "label set %s is given more than once", key)
		}
		seen[key] = struct{}{}
	}
}

func validLabelSetValue(v string) bool {
	if strings.TrimSpace(v) == "" {
		return false
	}
	for i := 0; i < len(v); i++ {
		if v[i] < 0x20 || v[i] > 0x7e {
			return false
		}
	}
	return true
}

// clone returns c sharing nothing mutable with the receiver.
func (c Configuration) clone() Configuration {
	c.LimitsPerLabelSet = slices.Clone(c.LimitsPerLabelSet)
	return c
}

// applyTo makes c the live configuration of db. Retention and the
// out-of-order window change in place; the retention size limits stay those
// of opts, the options db was opened with.
func (c Configuration) applyTo(db *tsdb.DB, opts *tsdb.Options) error {
	return db.ApplyConfig(&config.Config{
		StorageConfig: config.StorageConfig{
			TSDBConfig: &config.TSDBConfig{
				OutOfOrderTimeWindow: c.OutOfOrderTimeWindow.Milliseconds(),
				Retention: &config.TSDBRetentionConfig{
					Time:       model.Duration(c.Retention),
					Size:       units.Base2Bytes(opts.MaxBytes),
					Percentage: opts.MaxPercentage,
				},
			},
			// The head resizes its exemplar storage to this on every
			// ApplyConfig, so it must stay what the DB was opened with.
			ExemplarsConfig: &config.ExemplarsConfig{MaxExemplars: opts.MaxExemplars},
		},
	})
}

// configRecord is how a Configuration is persisted.
type configRecord struct {
	RetentionSeconds            int64         `json:"retentionSeconds"`
	OutOfOrderTimeWindowSeconds int64         `json:"outOfOrderTimeWindowSeconds"`
	RuleQueryOffsetSeconds      int64         `json:"ruleQueryOffsetSeconds"`
	LimitsPerLabelSet           []limitRecord `json:"limitsPerLabelSet,omitempty"`
	Status                      string        `json:"status,omitempty"`
	StatusReason                string        `json:"statusReason,omitempty"`
}

type limitRecord struct {
	LabelSet  map[string]string `json:"labelSet"`
	MaxSeries int64             `json:"maxSeries"`
}

func newConfigRecord(d ConfigurationDescription) configRecord {
	r := configRecord{
		RetentionSeconds:            int64(d.Retention / time.Second),
		OutOfOrderTimeWindowSeconds: int64(d.OutOfOrderTimeWindow / time.Second),
		RuleQueryOffsetSeconds:      int64(d.RuleQueryOffset / time.Second),
		Status:                      string(d.Status),
		StatusReason:                d.StatusReason,
	}
	for _, l := range d.LimitsPerLabelSet {
		r.LimitsPerLabelSet = append(r.LimitsPerLabelSet, limitRecord{LabelSet: l.LabelSet.Map(), MaxSeries: l.MaxSeries})
	}
	return r
}

func (r configRecord) description() ConfigurationDescription {
	d := ConfigurationDescription{
		Configuration: Configuration{
			Retention:            time.Duration(r.RetentionSeconds) * time.Second,
			OutOfOrderTimeWindow: time.Duration(r.OutOfOrderTimeWindowSeconds) * time.Second,
			RuleQueryOffset:      time.Duration(r.RuleQueryOffsetSeconds) * time.Second,
		},
		Status:       ConfigurationStatus(r.Status),
		StatusReason: r.StatusReason,
	}
	for _, l := range r.LimitsPerLabelSet {
		d.LimitsPerLabelSet = append(d.LimitsPerLabelSet, LabelSetLimit{LabelSet: labels.FromMap(l.LabelSet), MaxSeries: l.MaxSeries})
	}
	// A record written while an update was in flight describes an update
	// that was applied on open.
	if d.Status == "" || d.Status == ConfigurationUpdating {
		d.Status = ConfigurationActive
	}
	return d
}

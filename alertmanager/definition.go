package alertmanager

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"reflect"
	"slices"
	"strings"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/template"
	"github.com/thanos-io/objstore"
	"go.yaml.in/yaml/v3"

	"github.com/promspace/promspace/quota"
)

// Status is an alert manager definition status, as AMP names it.
type Status string

// Alert manager definition statuses. A change is applied before it is
// answered, so CREATING, UPDATING and DELETING are only what Create, Put
// and Delete answer; UPDATE_FAILED stays until the next change when a
// stored definition could not be applied when the workspace opened.
const (
	StatusCreating     Status = "CREATING"
	StatusActive       Status = "ACTIVE"
	StatusUpdating     Status = "UPDATING"
	StatusUpdateFailed Status = "UPDATE_FAILED"
	StatusDeleting     Status = "DELETING"
)

// MaxRepeatInterval is AMP's cap on a route's repeat_interval: a longer one
// is applied as 5 days.
const MaxRepeatInterval = 5 * 24 * time.Hour

// objectName is the definition's object in the workspace's bucket.
const objectName = "alertmanager/definition.json"

// Errors of definition changes, which the API answers as AMP's exceptions.
var (
	ErrNotFound = errors.New("alert manager definition not found")
	ErrConflict = errors.New("alert manager definition already exists")
)

// ValidationError is a refused definition. Field names the request member
// at fault.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string { return e.Message }

func invalid(format string, args ...any) error {
	return &ValidationError{Field: "data", Message: fmt.Sprintf(format, args...)}
}

// Definition is a workspace's alert manager definition: its data, AMP's
// YAML with alertmanager_config and template_files, and its status.
type Definition struct {
	Data         []byte    `json:"data"`
	Status       Status    `json:"status"`
	StatusReason string    `json:"statusReason,omitempty"`
	CreatedAt    time.Time `json:"createdAt"`
	ModifiedAt   time.Time `json:"modifiedAt"`
	// ClientToken is kept for idempotent retries of Create.
	ClientToken string `json:"clientToken,omitempty"`
}

func (d *Definition) clone() *Definition {
	c := *d
	c.Data = bytes.Clone(d.Data)
	return &c
}

// ampDefinition is the document AMP's definitions hold.
type ampDefinition struct {
	AlertmanagerConfig string            `yaml:"alertmanager_config"`
	TemplateFiles      map[string]string `yaml:"template_files"`
}

// parsed is a definition validated with Alertmanager's own parser: its
// configuration and its templates, parsed.
type parsed struct {
	conf          *amconfig.Config
	templateFiles map[string]string
}

// receiversAllowed are the receiver types of a definition without
// Options.AllowAllReceivers: AMP's and promspace's webhook.
var receiversAllowed = map[string]bool{"sns_configs": true, "webhook_configs": true}

// parseDefinition validates data as AMP does before it takes a definition:
// AMP's YAML document, Alertmanager's configuration parser, Alertmanager's
// template parser, the receiver types and the workspace's limits.
func parseDefinition(data []byte, l quota.Limits, allowAll bool) (*parsed, error) {
	if len(data) == 0 {
		return nil, invalid("data is required")
	}
	if l.MaxAlertManagerDefinitionBytes > 0 && len(data) > l.MaxAlertManagerDefinitionBytes {
		return nil, invalid("alert manager definition is %d bytes, over the limit of %d bytes", len(data), l.MaxAlertManagerDefinitionBytes)
	}
	var doc ampDefinition
	dec := yaml.NewDecoder(bytes.NewReader(data))
	dec.KnownFields(true)
	if err := dec.Decode(&doc); err != nil {
		return nil, invalid("invalid alert manager definition: %v", err)
	}
	if strings.TrimSpace(doc.AlertmanagerConfig) == "" {
		return nil, invalid("invalid alert manager definition: alertmanager_config is required")
	}
	if l.MaxAlertManagerTemplates > 0 && len(doc.TemplateFiles) > l.MaxAlertManagerTemplates {
		return nil, invalid("alert manager definition has %d template files, over the limit of %d", len(doc.TemplateFiles), l.MaxAlertManagerTemplates)
	}
	conf, err := amconfig.Load(doc.AlertmanagerConfig)
	if err != nil {
		return nil, invalid("invalid alertmanager_config: %v", err)
	}
	if l.MaxInhibitionRules > 0 && len(conf.InhibitRules) > l.MaxInhibitionRules {
		return nil, invalid("alertmanager_config has %d inhibition rules, over the limit of %d", len(conf.InhibitRules), l.MaxInhibitionRules)
	}
	if n := routeNodes(conf.Route); l.MaxRoutingTreeNodes > 0 && n > l.MaxRoutingTreeNodes {
		return nil, invalid("alertmanager_config's routing tree has %d nodes, over the limit of %d", n, l.MaxRoutingTreeNodes)
	}
	if !allowAll {
		if err := checkReceivers(conf); err != nil {
			return nil, err
		}
	}
	p := &parsed{conf: conf, templateFiles: doc.TemplateFiles}
	if _, err := p.template(); err != nil {
		return nil, invalid("invalid template_files: %v", err)
	}
	return p, nil
}

func routeNodes(r *amconfig.Route) int {
	if r == nil {
		return 0
	}
	n := 1
	for _, c := range r.Routes {
		n += routeNodes(c)
	}
	return n
}

// checkReceivers refuses the receiver types AMP does not offer, and the
// sns_config fields it does not take.
func checkReceivers(conf *amconfig.Config) error {
	for _, rcv := range conf.Receivers {
		v := reflect.ValueOf(rcv)
		t := v.Type()
		for i := range t.NumField() {
			f := t.Field(i)
			name, _, _ := strings.Cut(f.Tag.Get("yaml"), ",")
			if f.Type.Kind() != reflect.Slice || !strings.HasSuffix(name, "_configs") || v.Field(i).Len() == 0 {
				continue
			}
			if !receiversAllowed[name] {
				return invalid("receiver %q: %s is not a supported receiver type: only sns_configs (and webhook_configs) are", rcv.Name, name)
			}
		}
		for _, c := range rcv.SNSConfigs {
			if c.APIUrl != "" {
				return invalid("receiver %q: api_url is not allowed in sns_configs", rcv.Name)
			}
			if c.Sigv4.Region == "" {
				return invalid("receiver %q: sigv4.region is required in sns_configs", rcv.Name)
			}
		}
	}
	return nil
}

// template returns Alertmanager's default templates with every template
// file of the definition, in name order. AMP's definitions name their
// files in alertmanager_config's templates; the files are loaded whether
// named or not, so that what a name defines never depends on a glob.
func (p *parsed) template() (*template.Template, error) {
	t, err := template.FromGlobs(nil)
	if err != nil {
		return nil, err
	}
	for _, name := range slices.Sorted(maps.Keys(p.templateFiles)) {
		if err := t.Parse(strings.NewReader(p.templateFiles[name])); err != nil {
			return nil, fmt.Errorf("%s: %w", name, err)
		}
	}
	return t, nil
}

// store keeps a workspace's definition in its bucket, one JSON object: an
// Upload is atomic, so a definition is always its previous or its new
// version, and a successful upload is the change's acknowledgement.
type store struct{ bkt objstore.Bucket }

func (s store) put(ctx context.Context, d *Definition) error {
	b, err := json.Marshal(d)
	if err != nil {
		return err
	}
	return s.bkt.Upload(ctx, objectName, bytes.NewReader(b))
}

func (s store) delete(ctx context.Context) error {
	err := s.bkt.Delete(ctx, objectName)
	if s.bkt.IsObjNotFoundErr(err) {
		return nil
	}
	return err
}

// load reads the stored definition, nil if there is none.
func (s store) load(ctx context.Context) (*Definition, error) {
	r, err := s.bkt.Get(ctx, objectName)
	if s.bkt.IsObjNotFoundErr(err) {
		return nil, nil
	}
	if err != nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		return nil, err
	}
	var d Definition
	if err := json.Unmarshal(b, &d); err != nil {
		return nil, &corruptError{modified: s.modified(ctx), err: err}
	}
	return &d, nil
}

// modified returns when the definition's object was last modified, now
// when the bucket does not say.
func (s store) modified(ctx context.Context) time.Time {
	if a, err := s.bkt.Attributes(ctx, objectName); err == nil && !a.LastModified.IsZero() {
		return a.LastModified.UTC()
	}
	return time.Now().UTC()
}

// corruptError is a stored definition that does not decode.
type corruptError struct {
	modified time.Time
	err      error
}

func (e *corruptError) Error() string { return "alert manager definition object: " + e.err.Error() }
func (e *corruptError) Unwrap() error { return e.err }

// failed is the definition of a corrupt object, the full name of which is
// object: no data, UPDATE_FAILED with the reason, dated by the object.
func (e *corruptError) failed(object string) *Definition {
	return &Definition{
		Status:       StatusUpdateFailed,
		StatusReason: fmt.Sprintf("the stored alert manager definition %s cannot be read: %v", object, e.err),
		CreatedAt:    e.modified, ModifiedAt: e.modified,
	}
}

package rules

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"maps"
	"path"
	"regexp"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/thanos-io/objstore"
)

// Status is a rule groups namespace status, as AMP names it.
type Status string

// Rule groups namespace statuses. A change is applied before it is
// answered, so CREATING, UPDATING and DELETING are only what Create, Put
// and Delete answer; UPDATE_FAILED stays until the next change when a
// stored namespace could not be loaded into the rules manager.
const (
	StatusCreating     Status = "CREATING"
	StatusActive       Status = "ACTIVE"
	StatusUpdating     Status = "UPDATING"
	StatusUpdateFailed Status = "UPDATE_FAILED"
	StatusDeleting     Status = "DELETING"
)

// Limits of a namespace, from AMP's API model.
const (
	MaxNameLength = 128
	// MaxDataBytes bounds a rules file; AMP's request bodies are at most
	// 1 MB once base64 decoded (unconfirmed).
	MaxDataBytes = 1 << 20
)

// bucketPrefix holds one object per namespace in the workspace's bucket.
const bucketPrefix = "rulegroupsnamespaces/"

// validName is AMP's namespace name pattern, anchored: it also keeps
// names safe as file and object names.
var validName = regexp.MustCompile(`^[0-9A-Za-z][-.0-9A-Z_a-z]*$`)

// Namespace is one rule groups namespace: one Prometheus rules file.
type Namespace struct {
	Name         string            `json:"name"`
	ARN          string            `json:"arn"`
	Data         []byte            `json:"data"`
	Status       Status            `json:"status"`
	StatusReason string            `json:"statusReason,omitempty"`
	CreatedAt    time.Time         `json:"createdAt"`
	ModifiedAt   time.Time         `json:"modifiedAt"`
	Tags         map[string]string `json:"tags,omitempty"`
	// ClientToken and the rules count are kept for idempotent retries and
	// for the rules quota.
	ClientToken string `json:"clientToken,omitempty"`
	Rules       int    `json:"rules"`
	// invalid is why a stored file no longer validates (a newer
	// Prometheus refusing it): it is then left out of the evaluation.
	invalid string
	// corrupt is why the namespace's object could not be read, from the
	// bucket's load until the opening sets invalid from it.
	corrupt string
}

func (ns *Namespace) clone() *Namespace {
	c := *ns
	c.Data = bytes.Clone(ns.Data)
	c.Tags = maps.Clone(ns.Tags)
	return &c
}

// Errors of namespace changes, which the API answers as AMP's exceptions.
var (
	ErrNotFound = errors.New("rule groups namespace not found")
	ErrConflict = errors.New("rule groups namespace conflict")
	// ErrTooManyRules is answered as a ValidationException, as Cortex's
	// ruler refuses a rules file over its limit.
	ErrTooManyRules = errors.New("too many rules")
)

// ValidationError is a refused namespace: a bad name or rules file. Field
// names the request member at fault.
type ValidationError struct {
	Field   string
	Message string
}

func (e *ValidationError) Error() string { return e.Message }

func validateName(name string) error {
	if len(name) < 1 || len(name) > MaxNameLength || !validName.MatchString(name) {
		return &ValidationError{Field: "name", Message: fmt.Sprintf(
			"name must be 1 to %d characters of [-.0-9A-Z_a-z], starting with a letter or digit", MaxNameLength)}
	}
	return nil
}

// ruleParser parses rule expressions as Prometheus' rules manager does by
// default, so that what is accepted is what loads.
var ruleParser = parser.NewParser(parser.Options{})

// parseRules validates a rules file with Prometheus' rulefmt, as
// Prometheus does when it loads one, and returns its number of rules.
func parseRules(data []byte) (int, error) {
	if len(data) == 0 {
		return 0, &ValidationError{Field: "data", Message: "data is required"}
	}
	if len(data) > MaxDataBytes {
		return 0, &ValidationError{Field: "data", Message: fmt.Sprintf("rules file is larger than %d bytes", MaxDataBytes)}
	}
	rgs, errs := rulefmt.Parse(data, false, model.UTF8Validation, ruleParser, slog.New(slog.DiscardHandler))
	if len(errs) > 0 {
		msgs := make([]string, len(errs))
		for i, err := range errs {
			msgs[i] = err.Error()
		}
		return 0, &ValidationError{Field: "data", Message: "invalid rules file: " + strings.Join(msgs, "; ")}
	}
	n := 0
	for _, g := range rgs.Groups {
		n += len(g.Rules)
	}
	return n, nil
}

// store keeps a workspace's namespaces in its bucket, one JSON object each:
// an Upload is atomic, so a namespace is always its previous or its new
// version, and a successful upload is the change's acknowledgement.
type store struct{ bkt objstore.Bucket }

func objectName(name string) string { return bucketPrefix + name + ".json" }

func (s store) put(ctx context.Context, ns *Namespace) error {
	b, err := json.Marshal(ns)
	if err != nil {
		return err
	}
	return s.bkt.Upload(ctx, objectName(ns.Name), bytes.NewReader(b))
}

func (s store) delete(ctx context.Context, name string) error {
	err := s.bkt.Delete(ctx, objectName(name))
	if s.bkt.IsObjNotFoundErr(err) {
		return nil
	}
	return err
}

// loadAll reads every stored namespace. An object that does not decode,
// or holds another namespace than its name says, is returned as a
// namespace of that name with no rules, its corrupt field saying why: it is
// kept UPDATE_FAILED, visible to Describe and List, until a Put replaces it
// or a Delete removes it. Only a bucket that cannot be read fails the
// load.
func (s store) loadAll(ctx context.Context) (map[string]*Namespace, error) {
	out := map[string]*Namespace{}
	err := s.bkt.Iter(ctx, bucketPrefix, func(name string) error {
		want, ok := strings.CutSuffix(path.Base(name), ".json")
		if !ok {
			return nil
		}
		r, err := s.bkt.Get(ctx, name)
		if err != nil {
			return err
		}
		defer r.Close()
		b, err := io.ReadAll(r)
		if err != nil {
			return err
		}
		var ns Namespace
		switch err := json.Unmarshal(b, &ns); {
		case err != nil:
			out[want] = s.corrupt(ctx, name, want, err.Error())
		case ns.Name != want:
			out[want] = s.corrupt(ctx, name, want, fmt.Sprintf("it holds namespace %q", ns.Name))
		default:
			out[ns.Name] = &ns
		}
		return nil
	})
	return out, err
}

// corrupt is the namespace name of the corrupt object, dated by it.
func (s store) corrupt(ctx context.Context, object, name, why string) *Namespace {
	at := time.Now().UTC()
	if a, err := s.bkt.Attributes(ctx, object); err == nil && !a.LastModified.IsZero() {
		at = a.LastModified.UTC()
	}
	return &Namespace{Name: name, CreatedAt: at, ModifiedAt: at, corrupt: why}
}

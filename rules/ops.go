package rules

import (
	"bytes"
	"context"
	"fmt"
	"maps"
	"slices"
	"strings"
	"time"
)

// CreateInput is a CreateRuleGroupsNamespace request.
type CreateInput struct {
	Name        string
	Data        []byte
	ClientToken string
	Tags        map[string]string
}

// Create validates and stores a new namespace and loads it. It answers the
// namespace as AMP's Create does, CREATING; it is ACTIVE once answered. A
// retry with the same client token and data answers the namespace again;
// any other create of an existing name is ErrConflict.
func (m *RuleManager) Create(ctx context.Context, in CreateInput) (*Namespace, error) {
	if err := validateName(in.Name); err != nil {
		return nil, err
	}
	m.mtx.Lock()
	defer m.mtx.Unlock()
	if old, ok := m.namespaces[in.Name]; ok {
		if in.ClientToken != "" && in.ClientToken == old.ClientToken && bytes.Equal(in.Data, old.Data) {
			return old.clone(), nil
		}
		return nil, fmt.Errorf("%w: rule groups namespace %s already exists", ErrConflict, in.Name)
	}
	now := time.Now().UTC()
	ns := &Namespace{
		Name: in.Name, ARN: m.arn(in.Name), Data: bytes.Clone(in.Data), Status: StatusActive,
		CreatedAt: now, ModifiedAt: now, Tags: maps.Clone(in.Tags), ClientToken: in.ClientToken,
	}
	if err := m.apply(ctx, ns); err != nil {
		return nil, err
	}
	out := ns.clone()
	if out.Status == StatusActive {
		out.Status = StatusCreating
	}
	return out, nil
}

// PutInput is a PutRuleGroupsNamespace request: a new rules file for an
// existing namespace.
type PutInput struct {
	Name        string
	Data        []byte
	ClientToken string
}

// Put validates the new rules file of an existing namespace, stores it and
// loads it; it answers UPDATING. A file that does not validate changes
// nothing: the previous one keeps being evaluated.
func (m *RuleManager) Put(ctx context.Context, in PutInput) (*Namespace, error) {
	m.mtx.Lock()
	defer m.mtx.Unlock()
	old, ok := m.namespaces[in.Name]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, in.Name)
	}
	ns := old.clone()
	ns.Data, ns.ClientToken, ns.ModifiedAt = bytes.Clone(in.Data), in.ClientToken, time.Now().UTC()
	ns.Status, ns.StatusReason = StatusActive, ""
	ns.invalid = ""
	if err := m.apply(ctx, ns); err != nil {
		return nil, err
	}
	out := ns.clone()
	if out.Status == StatusActive {
		out.Status = StatusUpdating
	}
	return out, nil
}

// apply validates ns against its rules file and the workspace's rules
// quota, stores it (the acknowledgement) and loads every namespace.
// Called with mtx held.
func (m *RuleManager) apply(ctx context.Context, ns *Namespace) error {
	n, err := parseRules(ns.Data)
	if err != nil {
		return err
	}
	ns.Rules = n
	total := n
	for name, other := range m.namespaces {
		if name != ns.Name {
			total += other.Rules
		}
	}
	if maxRules, _ := m.limits(); maxRules > 0 && total > maxRules {
		return fmt.Errorf("%w: the workspace would have %d rules, over its limit of %d (this namespace has %d)",
			ErrTooManyRules, total, maxRules, n)
	}
	if err := m.store.put(ctx, ns); err != nil {
		return fmt.Errorf("store rule groups namespace %s: %w", ns.Name, err)
	}
	m.namespaces[ns.Name] = ns
	if err := m.load(); err != nil {
		m.logger.Error("Loading rule groups namespaces failed", "namespace", ns.Name, "err", err)
		// Stored: the namespace exists, UPDATE_FAILED; best effort to
		// keep the status across a restart.
		if perr := m.store.put(ctx, ns); perr != nil {
			m.logger.Warn("Storing the status of a namespace failed", "namespace", ns.Name, "err", perr)
		}
	}
	return nil
}

// Describe returns the namespace name.
func (m *RuleManager) Describe(name string) (*Namespace, error) {
	m.mtx.Lock()
	defer m.mtx.Unlock()
	ns, ok := m.namespaces[name]
	if !ok {
		return nil, fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	return ns.clone(), nil
}

// List returns the namespaces whose names start with prefix, by name.
func (m *RuleManager) List(prefix string) []*Namespace {
	m.mtx.Lock()
	defer m.mtx.Unlock()
	var out []*Namespace
	for name, ns := range m.namespaces {
		if strings.HasPrefix(name, prefix) {
			out = append(out, ns.clone())
		}
	}
	slices.SortFunc(out, func(a, b *Namespace) int { return strings.Compare(a.Name, b.Name) })
	return out
}

// Delete deletes the namespace name from the bucket and stops evaluating
// its groups, whose series Prometheus' manager marks stale.
func (m *RuleManager) Delete(ctx context.Context, name string) error {
	m.mtx.Lock()
	defer m.mtx.Unlock()
	if _, ok := m.namespaces[name]; !ok {
		return fmt.Errorf("%w: %s", ErrNotFound, name)
	}
	if err := m.store.delete(ctx, name); err != nil {
		return fmt.Errorf("delete rule groups namespace %s: %w", name, err)
	}
	delete(m.namespaces, name)
	if err := m.load(); err != nil {
		m.logger.Error("Loading rule groups namespaces failed", "err", err)
	}
	return nil
}

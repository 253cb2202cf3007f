package scraper

import (
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"strings"

	"github.com/google/uuid"

	"github.com/promspace/promspace/workspace"
)

// CreateInput is a CreateScraper request, made by Account.
type CreateInput struct {
	Account             string               `json:"-"`
	Alias               string               `json:"alias,omitempty"`
	ClientToken         string               `json:"clientToken,omitempty"`
	ScrapeConfiguration *ScrapeConfiguration `json:"scrapeConfiguration,omitempty"`
	Source              *Source              `json:"source,omitempty"`
	Destination         *Destination         `json:"destination,omitempty"`
	RoleConfiguration   *RoleConfiguration   `json:"roleConfiguration,omitempty"`
	Exporters           []Exporter           `json:"exporters,omitempty"`
	Tags                map[string]string    `json:"tags,omitempty"`
}

// fingerprint identifies what the request asks for, to tell a retry with
// the same client token from another request.
func (in CreateInput) fingerprint() string {
	in.Account, in.ClientToken = "", ""
	b, _ := json.Marshal(in)
	sum := sha256.Sum256(b)
	return hex.EncodeToString(sum[:])
}

// Create records a new scraper as CREATING and starts it in the background;
// it becomes ACTIVE once Prometheus' scrape and discovery managers have its
// configuration. A configuration that Prometheus does not load is refused
// with a ValidationError.
func (m *Manager) Create(ctx context.Context, in CreateInput) (*Scraper, error) {
	var fe fieldErrors
	validateAlias(&fe, in.Alias)
	validateClientToken(&fe, in.ClientToken)
	validateTags(&fe, in.Tags)
	validateSource(&fe, in.Source)
	region, account, _ := validateDestination(&fe, in.Destination)
	validateRoleConfiguration(&fe, in.RoleConfiguration)
	validateExporters(&fe, in.Exporters)
	validateScrapeConfiguration(&fe, in.ScrapeConfiguration)
	if err := fe.err(); err != nil {
		return nil, err
	}
	if err := m.checkDestination(ctx, in.Account, region, account, in.Destination.AMP.WorkspaceArn, in.RoleConfiguration); err != nil {
		return nil, err
	}
	fp := in.fingerprint()

	m.mtx.Lock()
	if m.closed {
		m.mtx.Unlock()
		return nil, ErrClosed
	}
	if in.ClientToken != "" {
		if id, ok := m.tokens[tokenKey(in.Account, in.ClientToken)]; ok {
			e := m.scrapers[id]
			s := e.s.clone()
			m.mtx.Unlock()
			if s.CreateRequest != fp {
				return nil, fmt.Errorf("client token %q was used to create scraper %s with other parameters: %w", in.ClientToken, id, workspace.ErrConflict)
			}
			return s, nil
		}
	}
	n := 0
	for _, e := range m.scrapers {
		if e.s.Account == in.Account && e.s.Status != StatusDeleting {
			n++
		}
	}
	if n >= m.opts.MaxScrapers {
		m.mtx.Unlock()
		return nil, fmt.Errorf("account %s has %d scrapers, the maximum: %w", in.Account, n, errQuotaExceeded)
	}
	id := "s-" + uuid.NewString()
	now := m.opts.Now().UTC()
	s := &Scraper{
		ID:                  id,
		ARN:                 fmt.Sprintf("arn:aws:aps:%s:%s:scraper/%s", m.opts.Registry.Region(), in.Account, id),
		Account:             in.Account,
		Alias:               in.Alias,
		RoleArn:             roleArn(in.Account, id),
		ScrapeConfiguration: *in.ScrapeConfiguration,
		Source:              *in.Source,
		Destination:         *in.Destination,
		RoleConfiguration:   in.RoleConfiguration,
		Exporters:           in.Exporters,
		Tags:                maps.Clone(in.Tags),
		Status:              StatusCreating,
		CreatedAt:           now,
		LastModifiedAt:      now,
		ClientToken:         in.ClientToken,
		CreateRequest:       fp,
	}
	e := m.newEntry(s)
	// Held until the record is stored, so that no operation on the new
	// scraper is answered before its creation is.
	e.saveMtx.Lock()
	m.scrapers[id] = e
	if in.ClientToken != "" {
		m.tokens[tokenKey(in.Account, in.ClientToken)] = id
	}
	m.bg.Add(1)
	m.mtx.Unlock()

	err := m.store.put(ctx, s)
	if err != nil {
		e.removed = true
		m.mtx.Lock()
		delete(m.scrapers, id)
		if in.ClientToken != "" {
			delete(m.tokens, tokenKey(in.Account, in.ClientToken))
		}
		m.mtx.Unlock()
	}
	e.saveMtx.Unlock()
	if err != nil {
		m.bg.Done()
		return nil, err
	}
	go m.activate(e)
	m.logger.Info("Scraper created", "scraper", id, "account", in.Account, "destination", s.WorkspaceArn())
	return s.clone(), nil
}

// roleArn is the service-linked role AMP gives a scraper.
func roleArn(account, id string) string {
	suffix := strings.TrimPrefix(id, "s-")
	if len(suffix) > 22 {
		suffix = suffix[:22]
	}
	return "arn:aws:iam::" + account + ":role/aws-service-role/scraper.aps.amazonaws.com/AWSServiceRoleForAmazonPrometheusScraper_" + suffix
}

var errQuotaExceeded = errors.New("service quota exceeded")

// checkDestination checks that the destination workspace is in the
// Registry's region and exists; a workspace of another account needs a
// roleConfiguration, as AMP's cross-account scraping does.
func (m *Manager) checkDestination(ctx context.Context, caller, region, account, arn string, rc *RoleConfiguration) error {
	var fe fieldErrors
	if region != m.opts.Registry.Region() {
		fe.add("destination.ampConfiguration.workspaceArn", "the workspace must be in the scraper's region, %s", m.opts.Registry.Region())
	}
	if account != caller && (rc == nil || rc.TargetRoleArn == "") {
		fe.add("roleConfiguration", "is required to write to a workspace of another account")
	}
	if err := fe.err(); err != nil {
		return err
	}
	w, err := m.opts.Registry.WorkspaceByARN(ctx, arn)
	if errors.Is(err, workspace.ErrNotFound) || (err == nil && w.Status() == workspace.StatusDeleting) {
		return &notFoundError{"Workspace", arn}
	}
	return err
}

// Describe returns scraper id of account.
func (m *Manager) Describe(_ context.Context, account, id string) (*Scraper, error) {
	e, err := m.lookup(account, id)
	if err != nil {
		return nil, err
	}
	return m.snapshot(e), nil
}

// UpdateInput is an UpdateScraper request: the fields that are set
// replace the scraper's.
type UpdateInput struct {
	Account             string               `json:"-"`
	ID                  string               `json:"-"`
	Alias               *string              `json:"alias,omitempty"`
	ClientToken         string               `json:"clientToken,omitempty"`
	ScrapeConfiguration *ScrapeConfiguration `json:"scrapeConfiguration,omitempty"`
	Destination         *Destination         `json:"destination,omitempty"`
	RoleConfiguration   *RoleConfiguration   `json:"roleConfiguration,omitempty"`
	// Exporters replace the scraper's when not nil; empty removes them.
	Exporters *[]Exporter `json:"exporters,omitempty"`
}

// Update records the changes, UPDATING, and applies the new configuration in
// the background: ACTIVE once applied, UPDATE_FAILED with the reason if it
// cannot be. Only an ACTIVE or UPDATE_FAILED scraper can be updated.
func (m *Manager) Update(ctx context.Context, in UpdateInput) (*Scraper, error) {
	e, err := m.lookup(in.Account, in.ID)
	if err != nil {
		return nil, err
	}
	var fe fieldErrors
	if in.Alias != nil {
		validateAlias(&fe, *in.Alias)
	}
	validateClientToken(&fe, in.ClientToken)
	if in.ScrapeConfiguration != nil {
		validateScrapeConfiguration(&fe, in.ScrapeConfiguration)
	}
	var region, account string
	if in.Destination != nil {
		region, account, _ = validateDestination(&fe, in.Destination)
	}
	validateRoleConfiguration(&fe, in.RoleConfiguration)
	if in.Exporters != nil {
		validateExporters(&fe, *in.Exporters)
	}
	if err := fe.err(); err != nil {
		return nil, err
	}
	if in.Destination != nil {
		rc := in.RoleConfiguration
		if rc == nil {
			rc = m.snapshot(e).RoleConfiguration
		}
		if err := m.checkDestination(ctx, in.Account, region, account, in.Destination.AMP.WorkspaceArn, rc); err != nil {
			return nil, err
		}
	}
	s, err := m.commit(ctx, e, func(s *Scraper) error {
		if s.Status != StatusActive && s.Status != StatusUpdateFailed {
			return fmt.Errorf("scraper %s is %s; only an ACTIVE or UPDATE_FAILED scraper can be updated: %w", s.ID, s.Status, workspace.ErrConflict)
		}
		if in.Alias != nil {
			s.Alias = *in.Alias
		}
		if in.ScrapeConfiguration != nil {
			s.ScrapeConfiguration = *in.ScrapeConfiguration
		}
		if in.Destination != nil {
			s.Destination = *in.Destination
		}
		if in.RoleConfiguration != nil {
			s.RoleConfiguration = in.RoleConfiguration
		}
		if in.Exporters != nil {
			s.Exporters = *in.Exporters
		}
		s.Status, s.StatusReason = StatusUpdating, ""
		s.LastModifiedAt = m.opts.Now().UTC()
		return nil
	})
	if err != nil {
		return nil, err
	}
	m.goBackground(func() { m.activate(e) })
	return s, nil
}

// Delete records the scraper as DELETING, then stops it and deletes its
// record in the background. Deleting a scraper being deleted answers its
// status again.
func (m *Manager) Delete(ctx context.Context, account, id string) (*Scraper, error) {
	e, err := m.lookup(account, id)
	if err != nil {
		return nil, err
	}
	again := false
	s, err := m.commit(ctx, e, func(s *Scraper) error {
		again = s.Status == StatusDeleting
		s.Status, s.StatusReason = StatusDeleting, ""
		return nil
	})
	if err != nil || again {
		return s, err
	}
	m.goBackground(func() { m.remove(e) })
	return s, nil
}

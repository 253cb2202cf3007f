package scraper

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/storage"
	"github.com/thanos-io/objstore"

	"github.com/promspace/promspace/workspace"
)

// DefaultMaxScrapers is AMP's default quota of scrapers per account and
// region.
const DefaultMaxScrapers = 10

// Options configures a Manager. Zero values mean the defaults.
type Options struct {
	// Bucket stores the scraper records, under scrapers/. Required.
	Bucket objstore.Bucket
	// Registry holds the destination workspaces and gives the region of
	// scraper ARNs. Required.
	Registry *workspace.Registry
	// Appendable returns the storage a scraper appends to in a resolved
	// workspace: its ingest endpoint, so that scraped samples go through
	// the same pipeline (HA dedupe, quotas) as remote write. Returning false
	// appends to the workspace itself, as nil does.
	Appendable func(*workspace.Workspace) (storage.AppendableV2, bool)
	// MaxScrapers bounds the scrapers of one account; default 10, AMP's
	// quota.
	MaxScrapers int
	// DiscoveryReloadInterval is how often the scrape manager applies what
	// discovery found, and DiscoveryUpdateInterval how often the discovery
	// manager sends it; both default to Prometheus' 5 s.
	DiscoveryReloadInterval time.Duration
	DiscoveryUpdateInterval time.Duration
	// Logger defaults to discarding; Registerer receives every scraper's
	// scrape and discovery metrics, labelled with its scraper id; nil
	// registers nowhere.
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// Now is the clock of the scrapers' timestamps; default time.Now.
	Now func() time.Time
}

// Manager keeps the scrapers of every account: their records in the bucket
// and, for each one that is not failed, its running scrape.
type Manager struct {
	opts   Options
	logger *slog.Logger
	store  store

	mtx      sync.RWMutex
	closed   bool
	scrapers map[string]*entry
	// tokens maps account and CreateScraper client token to a scraper id.
	tokens map[string]string
	// bg tracks the scrapers' starts, updates and deletions, which Close
	// waits for.
	bg sync.WaitGroup
}

// entry is one scraper.
type entry struct {
	// saveMtx orders the writes of the scraper's record; s is read under
	// Manager.mtx and replaced, never changed, under both.
	saveMtx sync.Mutex
	s       *Scraper
	// runMtx serializes the changes to the running scrape.
	runMtx sync.Mutex
	run    *runner
	dest   *destination
	// removed is set once the record is deleted.
	removed bool
}

// ErrClosed is returned by a closed Manager.
var ErrClosed = errors.New("scraper manager closed")

// New opens the scrapers stored in opts.Bucket and starts each one that was
// not failed; scrapers whose deletion was interrupted are deleted.
func New(ctx context.Context, opts Options) (*Manager, error) {
	if opts.Bucket == nil || opts.Registry == nil {
		return nil, errors.New("scraper: a bucket and a workspace registry are required")
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Appendable == nil {
		opts.Appendable = workspaceAppendable
	}
	if opts.MaxScrapers <= 0 {
		opts.MaxScrapers = DefaultMaxScrapers
	}
	if opts.DiscoveryReloadInterval <= 0 {
		opts.DiscoveryReloadInterval = 5 * time.Second
	}
	if opts.DiscoveryUpdateInterval <= 0 {
		opts.DiscoveryUpdateInterval = 5 * time.Second
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m := &Manager{
		opts:     opts,
		logger:   opts.Logger,
		store:    store{bkt: opts.Bucket, logger: opts.Logger},
		scrapers: map[string]*entry{},
		tokens:   map[string]string{},
	}
	recs, err := m.store.all(ctx)
	if err != nil {
		return nil, err
	}
	for _, s := range recs {
		e := m.newEntry(s)
		m.scrapers[s.ID] = e
		if s.ClientToken != "" {
			m.tokens[tokenKey(s.Account, s.ClientToken)] = s.ID
		}
		m.bg.Add(1)
		switch s.Status {
		case StatusDeleting, StatusDeletionFailed:
			go m.remove(e)
		case StatusCreationFailed:
			m.bg.Done()
		default:
			go m.activate(e)
		}
	}
	m.logger.Info("Scrapers opened", "scrapers", len(recs))
	return m, nil
}

func tokenKey(account, token string) string { return account + "/" + token }

func (m *Manager) newEntry(s *Scraper) *entry {
	account, id := destinationOf(s)
	return &entry{s: s, dest: newDestination(m, m.logger.With("scraper", s.ID), account, id)}
}

// destinationOf returns the account and id of s's destination workspace.
func destinationOf(s *Scraper) (account, id string) {
	if m := workspaceArnRE.FindStringSubmatch(s.WorkspaceArn()); m != nil {
		return m[2], m[3]
	}
	return "", ""
}

// lookup returns the entry of scraper id in account.
func (m *Manager) lookup(account, id string) (*entry, error) {
	m.mtx.RLock()
	defer m.mtx.RUnlock()
	if m.closed {
		return nil, ErrClosed
	}
	e, ok := m.scrapers[id]
	if !ok || e.s.Account != account {
		return nil, notFound(id)
	}
	return e, nil
}

// snapshot returns a copy of e's scraper.
func (m *Manager) snapshot(e *entry) *Scraper {
	m.mtx.RLock()
	defer m.mtx.RUnlock()
	return e.s.clone()
}

// commit stores the scraper change makes to a copy of e's current one, and
// only then makes it live. change returns an error to change nothing.
func (m *Manager) commit(ctx context.Context, e *entry, change func(s *Scraper) error) (*Scraper, error) {
	e.saveMtx.Lock()
	defer e.saveMtx.Unlock()
	if e.removed {
		return nil, notFound(e.s.ID)
	}
	s := m.snapshot(e)
	if err := change(s); err != nil {
		return nil, err
	}
	if err := m.store.put(ctx, s); err != nil {
		return nil, err
	}
	m.mtx.Lock()
	e.s = s
	m.mtx.Unlock()
	return s.clone(), nil
}

// setStatus records the outcome of a background operation, unless the
// scraper has been deleted since.
func (m *Manager) setStatus(e *entry, status Status, reason string) {
	_, err := m.commit(context.Background(), e, func(s *Scraper) error {
		if s.Status == StatusDeleting {
			return errDeleting
		}
		s.Status, s.StatusReason = status, reason
		return nil
	})
	if err != nil && !errors.Is(err, errDeleting) && !errors.Is(err, workspace.ErrNotFound) {
		m.logger.Error("Storing a scraper's status failed", "scraper", e.s.ID, "status", status, "err", err)
	}
}

var errDeleting = fmt.Errorf("the scraper is being deleted: %w", workspace.ErrConflict)

// activate starts e's scrape, or gives it its new configuration, and
// records ACTIVE, or CREATION_FAILED or UPDATE_FAILED with the reason.
func (m *Manager) activate(e *entry) {
	defer m.bg.Done()
	e.runMtx.Lock()
	defer e.runMtx.Unlock()
	s := m.snapshot(e)
	if s.Status == StatusDeleting {
		return
	}
	failed := StatusUpdateFailed
	if s.Status == StatusCreating {
		failed = StatusCreationFailed
	}
	err := m.run(e, s)
	if err != nil {
		m.logger.Warn("Scraper failed", "scraper", s.ID, "status", failed, "err", err)
		m.setStatus(e, failed, err.Error())
		return
	}
	m.setStatus(e, StatusActive, "")
}

// run applies s's configuration to e's running scrape, starting it first.
// Called with e.runMtx held.
func (m *Manager) run(e *entry, s *Scraper) error {
	sc, err := loadConfiguration(s.ScrapeConfiguration.ConfigurationBlob)
	if err != nil {
		return fmt.Errorf("invalid scrape configuration: %w", err)
	}
	account, id := destinationOf(s)
	e.dest.setWorkspace(account, id)
	if e.run == nil {
		r, err := m.startRunner(s.ID, e.dest)
		if err != nil {
			return err
		}
		e.run = r
	}
	return e.run.apply(sc)
}

// remove stops e's scrape and deletes its record, or records
// DELETION_FAILED.
func (m *Manager) remove(e *entry) {
	defer m.bg.Done()
	e.runMtx.Lock()
	if e.run != nil {
		e.run.stop()
		e.run = nil
	}
	e.runMtx.Unlock()

	e.saveMtx.Lock()
	defer e.saveMtx.Unlock()
	id := e.s.ID
	if err := m.store.delete(context.Background(), id); err != nil {
		m.logger.Error("Deleting a scraper failed", "scraper", id, "err", err)
		m.mtx.Lock()
		s := e.s.clone()
		s.Status, s.StatusReason = StatusDeletionFailed, err.Error()
		e.s = s
		m.mtx.Unlock()
		return
	}
	e.removed = true
	m.mtx.Lock()
	delete(m.scrapers, id)
	if e.s.ClientToken != "" {
		delete(m.tokens, tokenKey(e.s.Account, e.s.ClientToken))
	}
	m.mtx.Unlock()
	m.logger.Info("Scraper deleted", "scraper", id)
}

// Close waits for the scrapers' pending operations and stops every scrape.
func (m *Manager) Close() error {
	m.mtx.Lock()
	if m.closed {
		m.mtx.Unlock()
		return nil
	}
	m.closed = true
	m.mtx.Unlock()
	m.bg.Wait()

	m.mtx.RLock()
	es := slices.Collect(maps.Values(m.scrapers))
	m.mtx.RUnlock()
	var wg sync.WaitGroup
	for _, e := range es {
		wg.Go(func() {
			e.runMtx.Lock()
			defer e.runMtx.Unlock()
			if e.run != nil {
				e.run.stop()
				e.run = nil
			}
		})
	}
	wg.Wait()
	return nil
}

// goBackground runs f as a pending operation of the Manager, unless it is
// closed.
func (m *Manager) goBackground(f func()) {
	m.mtx.RLock()
	defer m.mtx.RUnlock()
	if m.closed {
		return
	}
	m.bg.Add(1)
	go f()
}

package promspace

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"path/filepath"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/storage"
	"github.com/thanos-io/objstore"

	"github.com/promspace/promspace/scraper"
	"github.com/promspace/promspace/workspace"
)

// scraperBucket returns the bucket of the scrapers' records: the
// registry's, which is wo.Bucket or else the filesystem bucket the registry
// opens under dataDir. That one is opened here too (own is then true), before
// the registry, so that the registry's opening is the one that clears the
// temporary files both may leave.
func scraperBucket(wo workspace.Options, dataDir string) (bkt objstore.Bucket, own bool, err error) {
	if wo.Bucket != nil {
		return wo.Bucket, false, nil
	}
	fs, err := workspace.NewFilesystemBucket(filepath.Join(dataDir, "bucket"))
	if err != nil {
		return nil, false, err
	}
	return fs, true, nil
}

// openScrapers opens the scraper manager, whose scrapers write into their
// workspaces' ingest endpoints.
func (s *Service) openScrapers(ctx context.Context, so scraper.Options, bkt objstore.Bucket, own bool, logger *slog.Logger, reg prometheus.Registerer) error {
	so.Bucket, so.Registry = bkt, s.registry
	so.Logger = logger.With("component", "scraper")
	so.Registerer = reg
	if so.Appendable == nil {
		so.Appendable = func(w *workspace.Workspace) (storage.AppendableV2, bool) {
			inst, ok := workspace.InstanceOf[ingestInstance](w, ingestComponent)
			return inst.Endpoint, ok
		}
	}
	m, err := scraper.New(ctx, so)
	if err != nil {
		if own {
			err = errors.Join(err, bkt.Close())
		}
		return err
	}
	s.scrapers = m
	if own {
		s.scraperBucket = bkt
	}
	return nil
}

// routeScrapers routes AMP's scraper operations, and the tag operations
// (which serve scraper ARNs and pass the others on to next), to the
// scraper manager.
func (s *Service) routeScrapers(mux *http.ServeMux, next http.Handler, logger *slog.Logger) {
	h := s.scrapers.Handler(scraper.HandlerOptions{
		Account: s.account,
		Next:    next,
		Logger:  logger.With("component", "scraper"),
	})
	mux.Handle("/scrapers", h)
	mux.Handle("/scrapers/", h)
	mux.Handle("/scraperconfiguration", h)
	mux.Handle("/tags/", h)
}

// closeScrapers stops every scraper, before the workspaces they write to
// close.
func (s *Service) closeScrapers() error {
	if s.scrapers == nil {
		return nil
	}
	err := s.scrapers.Close()
	if s.scraperBucket != nil {
		err = errors.Join(err, s.scraperBucket.Close())
	}
	return err
}

// Scrapers is the service's scraper manager, for programs that manage
// scrapers in-process.
func (s *Service) Scrapers() *scraper.Manager { return s.scrapers }

package scraper

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"strings"

	"github.com/thanos-io/objstore"
)

// recordPrefix is where scraper records live in the bucket, beside the
// workspaces' "workspaces/".
const recordPrefix = "scrapers/"

// storedRecord is a scraper as stored: the Scraper and the version of the
// record's format.
type storedRecord struct {
	Version int `json:"version"`
	*Scraper
}

func recordName(id string) string { return recordPrefix + id + ".json" }

// store keeps scraper records in the bucket.
type store struct {
	bkt    objstore.Bucket
	logger *slog.Logger
}

// put stores s. ctx only carries values: a client that goes away must not
// cut a write short.
func (st store) put(ctx context.Context, s *Scraper) error {
	b, err := json.Marshal(storedRecord{Version: 1, Scraper: s})
	if err != nil {
		return err
	}
	if err := st.bkt.Upload(context.WithoutCancel(ctx), recordName(s.ID), bytes.NewReader(b)); err != nil {
		return fmt.Errorf("store scraper %s: %w", s.ID, err)
	}
	return nil
}

func (st store) delete(ctx context.Context, id string) error {
	if err := st.bkt.Delete(context.WithoutCancel(ctx), recordName(id)); err != nil && !st.bkt.IsObjNotFoundErr(err) {
		return fmt.Errorf("delete scraper record %s: %w", id, err)
	}
	return nil
}

// all returns every stored record. A record that cannot be decoded is
// logged and left out: it must not keep the other scrapers from running.
func (st store) all(ctx context.Context) ([]*Scraper, error) {
	var names []string
	err := st.bkt.Iter(ctx, recordPrefix, func(name string) error {
		if strings.HasSuffix(name, ".json") {
			names = append(names, name)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list scraper records: %w", err)
	}
	out := make([]*Scraper, 0, len(names))
	for _, name := range names {
		s, err := st.get(ctx, name)
		if err != nil {
			if st.bkt.IsObjNotFoundErr(err) {
				continue // deleted since it was listed
			}
			st.logger.Error("Scraper record cannot be read", "object", name, "err", err)
			continue
		}
		out = append(out, s)
	}
	return out, nil
}

func (st store) get(ctx context.Context, name string) (*Scraper, error) {
	rc, err := st.bkt.Get(ctx, name)
	if err != nil {
		return nil, err
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return nil, err
	}
	rec := storedRecord{Scraper: &Scraper{}}
	if err := json.Unmarshal(b, &rec); err != nil {
		return nil, fmt.Errorf("decode %s: %w", name, err)
	}
	if want := strings.TrimSuffix(strings.TrimPrefix(name, recordPrefix), ".json"); rec.ID != want {
		return nil, fmt.Errorf("decode %s: scraper id %q does not match its name", name, rec.ID)
	}
	return rec.Scraper, nil
}

package workspace

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"strings"
	"time"

	"github.com/thanos-io/objstore"
)

// recordPrefix is where workspace records live in the bucket.
const recordPrefix = "workspaces/"

// record is a workspace as stored in the bucket.
type record struct {
	Version       int               `json:"version"`
	ID            string            `json:"workspaceId"`
	ARN           string            `json:"arn"`
	Account       string            `json:"account"`
	Alias         string            `json:"alias,omitempty"`
	KmsKeyArn     string            `json:"kmsKeyArn,omitempty"`
	Tags          map[string]string `json:"tags,omitempty"`
	Status        Status            `json:"status"`
	CreatedAt     time.Time         `json:"createdAt"`
	ClientToken   string            `json:"clientToken,omitempty"`
	CreateRequest createRequest     `json:"createRequest"`
	Configuration configRecord      `json:"configuration"`
}

// createRequest is what a CreateWorkspace carried, to tell a retry with the
// same client token from a different request reusing it.
type createRequest struct {
	Alias     string            `json:"alias,omitempty"`
	KmsKeyArn string            `json:"kmsKeyArn,omitempty"`
	Tags      map[string]string `json:"tags,omitempty"`
}

func recordName(id string) string { return recordPrefix + id + ".json" }

type recordStore struct {
	bkt objstore.Bucket
}

func (s recordStore) put(ctx context.Context, rec record) error {
	rec.Version = 1
	b, err := json.Marshal(rec)
	if err != nil {
		return err
	}
	if err := s.bkt.Upload(ctx, recordName(rec.ID), bytes.NewReader(b)); err != nil {
		return fmt.Errorf("store workspace %s: %w", rec.ID, err)
	}
	return nil
}

func (s recordStore) delete(ctx context.Context, id string) error {
	if err := s.bkt.Delete(ctx, recordName(id)); err != nil && !s.bkt.IsObjNotFoundErr(err) {
		return fmt.Errorf("delete workspace record %s: %w", id, err)
	}
	return nil
}

var (
	// errUndecodable marks a stored record that cannot be decoded.
	errUndecodable = errors.New("undecodable workspace record")
	// errRecordGone marks a record deleted since it was listed.
	errRecordGone = errors.New("workspace record gone")
)

// all returns every stored record. A record that cannot be decoded is
// logged and skipped, and left in the bucket for an operator to look at: one
// damaged record must not take every other workspace down.
func (s recordStore) all(ctx context.Context, logger *slog.Logger) ([]record, error) {
	var names []string
	err := s.bkt.Iter(ctx, recordPrefix, func(name string) error {
		if strings.HasSuffix(name, ".json") {
			names = append(names, name)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("list workspace records: %w", err)
	}
	recs := make([]record, 0, len(names))
	for _, name := range names {
		rec, err := s.get(ctx, name)
		switch {
		case errors.Is(err, errUndecodable):
			logger.Error("Skipping workspace record that cannot be decoded", "object", name, "err", err)
			continue
		case errors.Is(err, errRecordGone):
			// Deleted since it was listed.
			continue
		case err != nil:
			return nil, err
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

func (s recordStore) get(ctx context.Context, name string) (record, error) {
	rc, err := s.bkt.Get(ctx, name)
	if err != nil && s.bkt.IsObjNotFoundErr(err) {
		return record{}, fmt.Errorf("read %s: %w", name, errRecordGone)
	}
	if err != nil {
		return record{}, fmt.Errorf("read %s: %w", name, err)
	}
	defer rc.Close()
	b, err := io.ReadAll(rc)
	if err != nil {
		return record{}, fmt.Errorf("read %s: %w", name, err)
	}
	var rec record
	if err := json.Unmarshal(b, &rec); err != nil {
		return record{}, fmt.Errorf("decode %s: %w: %w", name, errUndecodable, err)
	}
	if rec.ID == "" || recordName(rec.ID) != name {
		return record{}, fmt.Errorf("decode %s: %w: workspace id %q does not match the object name", name, errUndecodable, rec.ID)
	}
	return rec, nil
}

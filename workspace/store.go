package workspace

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"time"

	"github.com/promspace/promspace/internal/atomicfile"
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

// idOfRecord returns the workspace id of the record object name, false if
// name is not a record's.
func idOfRecord(name string) (string, bool) {
	id, ok := strings.CutSuffix(strings.TrimPrefix(name, recordPrefix), ".json")
	return id, ok && strings.HasPrefix(name, recordPrefix) && validWorkspaceID(id)
}

// localRecordFile is the copy of a workspace's record kept in its TSDB
// directory, from which a record that the bucket lost or cannot give back
// readable is recovered.
const localRecordFile = "workspace.json"

// recordStore keeps workspace records in the bucket, the truth, and a copy
// of each in the workspace's directory. The copy is written after the
// bucket, so that it is never ahead of what was acknowledged.
type recordStore struct {
	bkt    objstore.Bucket
	dir    func(id string) string
	logger *slog.Logger
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
	// The bucket has the record: the operation is done whatever happens to
	// the copy, which only serves recovery.
	s.putLocal(rec.ID, b)
	return nil
}

func (s recordStore) putLocal(id string, b []byte) {
	if err := atomicfile.Write(filepath.Join(s.dir(id), localRecordFile), bytes.NewReader(b)); err != nil {
		s.logger.Warn("Writing the copy of a workspace record in its directory failed; the bucket has the record", "workspace", id, "err", err)
	}
}

// local returns the copy of workspace id's record kept in its directory.
func (s recordStore) local(id string) (record, error) {
	path := filepath.Join(s.dir(id), localRecordFile)
	b, err := os.ReadFile(path)
	if err != nil {
		return record{}, err
	}
	return decodeRecord(path, id, b)
}

func (s recordStore) delete(ctx context.Context, id string) error {
	if err := s.bkt.Delete(ctx, recordName(id)); err != nil && !s.bkt.IsObjNotFoundErr(err) {
		return fmt.Errorf("delete workspace record %s: %w", id, err)
	}
	return nil
}

// objectPrefix is the prefix of the objects a workspace keeps in the
// bucket besides its record (see Workspace.Bucket).
func objectPrefix(id string) string { return recordPrefix + id + "/" }

// deleteObjects deletes every object under the workspace's prefix.
func (s recordStore) deleteObjects(ctx context.Context, id string) error {
	var names []string
	err := s.bkt.Iter(ctx, objectPrefix(id), func(name string) error {
		names = append(names, name)
		return nil
	}, objstore.WithRecursiveIter())
	if err != nil {
		return fmt.Errorf("list objects of workspace %s: %w", id, err)
	}
	for _, name := range names {
		if err := s.bkt.Delete(ctx, name); err != nil && !s.bkt.IsObjNotFoundErr(err) {
			return fmt.Errorf("delete %s: %w", name, err)
		}
	}
	return nil
}

var (
	// errUndecodable marks a stored record that cannot be decoded.
	errUndecodable = errors.New("undecodable workspace record")
	// errRecordGone marks a record deleted since it was listed.
	errRecordGone = errors.New("workspace record gone")
)

// all returns every stored record, and the names of the records that
// cannot be decoded: one damaged record must not take every other workspace
// down.
func (s recordStore) all(ctx context.Context) (recs []record, undecodable []string, err error) {
	var names []string
	err = s.bkt.Iter(ctx, recordPrefix, func(name string) error {
		if strings.HasSuffix(name, ".json") {
			names = append(names, name)
		}
		return nil
	})
	if err != nil {
		return nil, nil, fmt.Errorf("list workspace records: %w", err)
	}
	recs = make([]record, 0, len(names))
	for _, name := range names {
		rec, err := s.get(ctx, name)
		switch {
		case errors.Is(err, errUndecodable):
			s.logger.Error("Workspace record cannot be decoded", "object", name, "err", err)
			undecodable = append(undecodable, name)
			continue
		case errors.Is(err, errRecordGone):
			// Deleted since it was listed.
			continue
		case err != nil:
			return nil, nil, err
		}
		recs = append(recs, rec)
	}
	return recs, undecodable, nil
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
	id, _ := idOfRecord(name)
	return decodeRecord(name, id, b)
}

// decodeRecord decodes the record of workspace id, read from where.
func decodeRecord(where, id string, b []byte) (record, error) {
	var rec record
	if err := json.Unmarshal(b, &rec); err != nil {
		return record{}, fmt.Errorf("decode %s: %w: %w", where, errUndecodable, err)
	}
	if rec.ID == "" || rec.ID != id {
		return record{}, fmt.Errorf("decode %s: %w: workspace id %q does not match its name", where, errUndecodable, rec.ID)
	}
	return rec, nil
}

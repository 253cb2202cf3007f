package workspace

import (
	"context"
	"encoding/json"
	"errors"
	"io/fs"
	"os"
	"path/filepath"
)

// recoverRecords completes the records read from the bucket with the copies
// kept in the workspaces' directories, so that what the control plane
// acknowledged is never dropped and no workspace's data is orphaned:
//   - a record the bucket holds but that cannot be decoded is recovered from
//     its copy and written back;
//   - a workspace directory whose record the bucket lacks gets its record
//     back from its copy;
//   - a record with no copy yet (written before copies were kept) gets one.
//
// What cannot be recovered is logged as an error, counted in
// promspace_workspace_records_unreadable, and left as it is, object and
// directory both, for an operator.
func (r *Registry) recoverRecords(ctx context.Context, recs []record, undecodable []string) ([]record, error) {
	known := make(map[string]bool, len(recs)+len(undecodable))
	for _, rec := range recs {
		known[rec.ID] = true
		if rec.Status == StatusDeleting {
			continue
		}
		if _, err := os.Stat(filepath.Join(r.dir(rec.ID), localRecordFile)); errors.Is(err, fs.ErrNotExist) {
			rec.Version = 1
			if b, err := json.Marshal(rec); err == nil {
				r.store.putLocal(rec.ID, b)
			}
		}
	}
	for _, name := range undecodable {
		id, ok := idOfRecord(name)
		if !ok {
			r.logger.Error("Workspace record cannot be decoded and its name is not a workspace id's; it is left in the bucket", "object", name)
			r.unreadable = append(r.unreadable, name)
			continue
		}
		known[id] = true
		rec, err := r.store.local(id)
		if err != nil {
			r.logger.Error("Workspace record cannot be decoded and has no readable copy; the record and the workspace's directory are left as they are", "object", name, "dir", r.dir(id), "err", err)
			r.unreadable = append(r.unreadable, id)
			continue
		}
		if err := r.store.put(ctx, rec); err != nil {
			return nil, err
		}
		r.logger.Warn("Recovered workspace record from the copy in its directory", "workspace", id, "object", name)
		recs = append(recs, rec)
	}

	entries, err := os.ReadDir(r.opts.workspacesDir())
	if err != nil {
		return nil, err
	}
	for _, e := range entries {
		id := e.Name()
		if !e.IsDir() || known[id] || !validWorkspaceID(id) {
			continue
		}
		rec, err := r.store.local(id)
		if err != nil {
			r.logger.Error("Workspace directory has no record in the bucket and no readable copy of one; it is left as it is", "dir", r.dir(id), "err", err)
			r.unreadable = append(r.unreadable, id)
			continue
		}
		if err := r.store.put(ctx, rec); err != nil {
			return nil, err
		}
		r.logger.Warn("Restored workspace record missing from the bucket from the copy in its directory", "workspace", id)
		recs = append(recs, rec)
	}
	return recs, nil
}

// Unreadable returns the workspaces (or record objects) whose record could
// neither be read nor recovered when the registry opened. Their data is
// left on disk and in the bucket as it was.
func (r *Registry) Unreadable() []string {
	r.mtx.RLock()
	defer r.mtx.RUnlock()
	return append([]string(nil), r.unreadable...)
}

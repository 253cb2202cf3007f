package workspace

import (
	"context"
	"os"
)

// Delete marks a workspace DELETING, then closes its TSDB, removes its
// directory and its record in the background; Close waits for that. Deleting
// a workspace that is being deleted is a no-op.
func (r *Registry) Delete(ctx context.Context, id string) error {
	r.mtx.Lock()
	if r.closed {
		r.mtx.Unlock()
		return ErrClosed
	}
	w, ok := r.workspaces[id]
	if !ok {
		r.mtx.Unlock()
		return notFound(id)
	}
	w.mtx.Lock()
	prev := w.status
	w.status = StatusDeleting
	w.mtx.Unlock()
	if prev == StatusDeleting {
		r.mtx.Unlock()
		return nil
	}
	r.bg.Add(1)
	r.mtx.Unlock()

	if err := r.save(ctx, w, func() { w.undoDelete(prev) }); err != nil {
		r.bg.Done()
		return err
	}
	go r.remove(w)
	return nil
}

// undoDelete puts back the status w had before a deletion that could not be
// saved. A workspace that was CREATING may have finished opening since:
// it gets the status that opening led to.
func (w *Workspace) undoDelete(prev Status) {
	w.mtx.Lock()
	defer w.mtx.Unlock()
	if prev == StatusCreating {
		select {
		case <-w.opened:
			prev = StatusActive
			if w.openErr != nil {
				prev = StatusCreationFailed
			}
		default:
		}
	}
	w.status = prev
}

// remove deletes a DELETING workspace for good.
func (r *Registry) remove(w *Workspace) {
	defer r.bg.Done()
	<-w.ready
	log := r.logger.With("workspace", w.id)
	if err := r.closeTSDB(w, false); err != nil {
		log.Warn("Closing deleted workspace", "err", err)
	}
	if err := os.RemoveAll(w.dir); err != nil {
		log.Error("Removing workspace data failed; the deletion resumes on the next open", "err", err)
		return
	}
	if err := r.store.deleteObjects(context.Background(), w.id); err != nil {
		log.Error("Removing workspace objects from the bucket failed; the deletion resumes on the next open", "err", err)
		return
	}
	w.saveMtx.Lock()
	err := r.store.delete(context.Background(), w.id)
	if err == nil {
		w.removed = true
	}
	w.saveMtx.Unlock()
	if err != nil {
		log.Error("Removing workspace record failed; the deletion resumes on the next open", "err", err)
		return
	}
	r.mtx.Lock()
	delete(r.workspaces, w.id)
	if w.clientToken != "" && r.tokens[tokenKey(w.account, w.clientToken)] == w.id {
		delete(r.tokens, tokenKey(w.account, w.clientToken))
	}
	r.mtx.Unlock()
	log.Info("Workspace deleted")
}

package workspace

import (
	"context"
	"fmt"
)

// DescribeConfiguration returns a workspace's configuration and its status.
func (r *Registry) DescribeConfiguration(_ context.Context, id string) (ConfigurationDescription, error) {
	w, err := r.lookup(id)
	if err != nil {
		return ConfigurationDescription{}, err
	}
	return w.configDescription(), nil
}

// UpdateConfiguration validates in and applies it to the workspace and its
// live TSDB. It returns the status AMP answers, UPDATING; the configuration
// is ACTIVE again once the change is applied. A change that cannot be saved
// is undone, in the TSDB too.
func (r *Registry) UpdateConfiguration(ctx context.Context, in UpdateConfigurationInput) (ConfigurationStatus, error) {
	// Validate before anything else, so bad input is a ValidationException
	// whatever the workspace.
	if _, err := in.apply(Configuration{}); err != nil {
		return "", err
	}
	w, err := r.lookup(in.ID)
	if err != nil {
		return "", err
	}
	if err := w.waitReady(ctx); err != nil {
		return "", err
	}
	w.configMtx.Lock()
	defer w.configMtx.Unlock()
	prev := w.configDescription()
	c, err := in.apply(prev.Configuration)
	if err != nil {
		return "", err
	}
	// The TSDB must stay open until the change is applied, saved, or undone.
	release, ok := w.Acquire()
	if !ok {
		return "", r.unavailable(w)
	}
	defer release()

	w.mtx.Lock()
	w.config.Status, w.config.StatusReason = ConfigurationUpdating, ""
	w.mtx.Unlock()
	next := ConfigurationDescription{Configuration: c, Status: ConfigurationActive}
	applyErr := w.applyConfig(c)
	if applyErr != nil {
		// ApplyConfig may have changed some settings before it failed.
		r.reapplyConfig(w, prev.Configuration)
		next = ConfigurationDescription{Configuration: prev.Configuration, Status: ConfigurationUpdateFailed, StatusReason: applyErr.Error()}
	}
	err = r.commit(ctx, w, func(state) (func(*state), error) {
		return func(s *state) { s.config = next }, nil
	})
	if err != nil {
		if applyErr == nil {
			r.reapplyConfig(w, prev.Configuration)
		}
		w.mtx.Lock()
		w.config = prev
		w.mtx.Unlock()
		return "", err
	}
	if applyErr != nil {
		return "", fmt.Errorf("apply configuration of %s: %w", w.id, applyErr)
	}
	return ConfigurationUpdating, nil
}

// applyConfig applies c to w's TSDB and then to its components; the caller
// holds w.
func (w *Workspace) applyConfig(c Configuration) error {
	if err := c.applyTo(w.DB(), w.tsdbOpts); err != nil {
		return err
	}
	return w.applyComponents(c)
}

// reapplyConfig puts c back into w's TSDB and components, which the caller
// holds.
func (r *Registry) reapplyConfig(w *Workspace, c Configuration) {
	if err := w.applyConfig(c); err != nil {
		r.logger.Error("Restoring the configuration of the workspace failed", "workspace", w.id, "err", err)
	}
}

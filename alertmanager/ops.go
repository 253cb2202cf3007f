package alertmanager

import (
	"bytes"
	"context"
	"fmt"
	"time"
)

// Create validates and stores the workspace's alert manager definition and
// runs it. It answers the definition as AMP's Create does, CREATING; it is
// ACTIVE once answered. A retry with the same client token and data
// answers the definition again; any other create while one exists is
// ErrConflict.
func (in *Instance) Create(ctx context.Context, data []byte, clientToken string) (*Definition, error) {
	in.mtx.Lock()
	defer in.mtx.Unlock()
	if old := in.def; old != nil {
		if clientToken != "" && clientToken == old.ClientToken && bytes.Equal(data, old.Data) {
			return in.answer(old, StatusCreating), nil
		}
		return nil, fmt.Errorf("%w for workspace %s", ErrConflict, in.w.ID())
	}
	now := time.Now().UTC()
	d := &Definition{Data: bytes.Clone(data), Status: StatusActive, CreatedAt: now, ModifiedAt: now, ClientToken: clientToken}
	if err := in.apply(ctx, d); err != nil {
		return nil, err
	}
	return in.answer(d, StatusCreating), nil
}

// Put validates and stores a new definition in place of the workspace's and
// runs it; it answers UPDATING. A definition that does not validate
// changes nothing: the previous one keeps running.
func (in *Instance) Put(ctx context.Context, data []byte, clientToken string) (*Definition, error) {
	in.mtx.Lock()
	defer in.mtx.Unlock()
	old := in.def
	if old == nil {
		return nil, fmt.Errorf("%w for workspace %s", ErrNotFound, in.w.ID())
	}
	d := old.clone()
	d.Data, d.ClientToken, d.ModifiedAt = bytes.Clone(data), clientToken, time.Now().UTC()
	d.Status, d.StatusReason = StatusActive, ""
	if err := in.apply(ctx, d); err != nil {
		return nil, err
	}
	return in.answer(d, StatusUpdating), nil
}

// answer returns d as a change answers it: with status st while d is
// ACTIVE.
func (in *Instance) answer(d *Definition, st Status) *Definition {
	out := d.clone()
	if out.Status == StatusActive {
		out.Status = st
	}
	return out
}

// apply validates d and builds its receivers, stores it (the
// acknowledgement) and runs it: any error before the upload changes
// nothing. Called with mtx held.
func (in *Instance) apply(ctx context.Context, d *Definition) error {
	b, err := in.prepare(d.Data)
	if err != nil {
		return err
	}
	if err := in.store.put(ctx, d); err != nil {
		return fmt.Errorf("store alert manager definition: %w", err)
	}
	in.def = d
	in.run(b)
	return nil
}

// prepare validates data and builds what running it takes.
func (in *Instance) prepare(data []byte) (*built, error) {
	p, err := parseDefinition(data, in.limits(), in.opts.AllowAllReceivers)
	if err != nil {
		return nil, err
	}
	return in.build(p)
}

// Describe returns the workspace's definition.
func (in *Instance) Describe() (*Definition, error) {
	in.mtx.Lock()
	defer in.mtx.Unlock()
	if in.def == nil {
		return nil, fmt.Errorf("%w for workspace %s", ErrNotFound, in.w.ID())
	}
	return in.def.clone(), nil
}

// Delete deletes the definition from the bucket and stops its dispatcher:
// no notification is sent until a new definition is created. Alerts,
// silences and the notification log are kept.
func (in *Instance) Delete(ctx context.Context) error {
	in.mtx.Lock()
	defer in.mtx.Unlock()
	if in.def == nil {
		return fmt.Errorf("%w for workspace %s", ErrNotFound, in.w.ID())
	}
	if err := in.store.delete(ctx); err != nil {
		return fmt.Errorf("delete alert manager definition: %w", err)
	}
	in.def = nil
	in.stop()
	return nil
}

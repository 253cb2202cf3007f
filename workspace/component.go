package workspace

import (
	"context"
	"errors"
	"fmt"
)

// A Component is something every workspace has while its TSDB is open: the
// query API, ingest's per-workspace state, quotas, the HA tracker, the rules
// manager, the block shipper. It is registered once, in Options.Components,
// and the Registry opens an Instance of it for each workspace:
//
//	open:    TSDB opened → for each component, in order: Open → ApplyConfig
//	update:  for each instance, in order: ApplyConfig
//	close:   requests drained → for each instance, in reverse order: Close → TSDB closed
//
// A workspace closes on deletion and on Registry.Close. Its instances
// outlive every request that holds the workspace (see Workspace.Acquire and
// Registry.Resolve), so an instance need not guard against use after Close
// by the data plane.
type Component interface {
	// Name names the component in errors, in logs and for
	// Workspace.Instance; it is unique among a Registry's components.
	Name() string
	// Open starts the component for w, whose TSDB is open and whose
	// configuration is w.Config(); ApplyConfig follows at once with it. An
	// error fails the opening of the workspace, which is then
	// CREATION_FAILED (or not found, when a Registry reopens it), after the
	// instances opened before are closed.
	Open(ctx context.Context, w *Workspace) (Instance, error)
}

// An Instance is a Component opened for one workspace.
type Instance interface {
	// ApplyConfig applies the workspace's configuration: at open and on
	// every UpdateWorkspaceConfiguration. An error fails the update, whose
	// previous configuration is then applied again to every instance.
	// Calls never overlap for one workspace.
	ApplyConfig(Configuration) error
	// Close stops the instance. It is called once, after every request
	// that held the workspace has released it and before the TSDB closes;
	// the TSDB is still open (Workspace.DB), but the workspace no longer
	// accepts new appenders or queriers.
	Close() error
}

// A Preparer is a Component that prepares the directory of a workspace's
// TSDB before the TSDB opens it: the block shipper downloads there the
// blocks a node that starts on an empty disk finds only in the bucket.
// Prepare runs, for each Preparer in the order of Options.Components,
// whenever the workspace's TSDB is about to open (at creation and on every
// Registry.Open); w's record, configuration and Bucket are set, its TSDB and
// instances are not. An error fails the opening of the workspace as an
// error of Open does.
type Preparer interface {
	Prepare(ctx context.Context, w *Workspace, dir string) error
}

// prepareComponents runs the Prepare of every component that is a Preparer.
func (r *Registry) prepareComponents(ctx context.Context, w *Workspace) error {
	for _, c := range r.opts.Components {
		if p, ok := c.(Preparer); ok {
			if err := p.Prepare(ctx, w, w.dir); err != nil {
				return fmt.Errorf("prepare component %s: %w", c.Name(), err)
			}
		}
	}
	return nil
}

// NewComponent returns a Component named name whose Open is open.
func NewComponent(name string, open func(ctx context.Context, w *Workspace) (Instance, error)) Component {
	return componentFunc{name: name, open: open}
}

type componentFunc struct {
	name string
	open func(context.Context, *Workspace) (Instance, error)
}

func (c componentFunc) Name() string { return c.name }

func (c componentFunc) Open(ctx context.Context, w *Workspace) (Instance, error) {
	return c.open(ctx, w)
}

// Instance returns the instance of the component named name that w opened,
// nil if w has none (the workspace is not open, or there is no such
// component). Callers hold w (see Acquire) while they use it.
func (w *Workspace) Instance(name string) Instance {
	w.instMtx.RLock()
	defer w.instMtx.RUnlock()
	for i, inst := range w.instances {
		if w.components[i].Name() == name {
			return inst
		}
	}
	return nil
}

// InstanceOf returns w's instance of the component named name as a T, and
// whether there is one of that type.
func InstanceOf[T Instance](w *Workspace, name string) (T, bool) {
	t, ok := w.Instance(name).(T)
	return t, ok
}

func validateComponents(cs []Component) error {
	seen := make(map[string]bool, len(cs))
	for _, c := range cs {
		if c == nil {
			return errors.New("nil component")
		}
		n := c.Name()
		if n == "" {
			return errors.New("component without a name")
		}
		if seen[n] {
			return fmt.Errorf("two components named %q", n)
		}
		seen[n] = true
	}
	return nil
}

// openComponents opens every component for w, whose TSDB is open, and
// applies w's configuration to each. A component's Open finds the instances
// opened before it with w.Instance. On error, the instances opened so far
// are closed and none is kept.
func (r *Registry) openComponents(ctx context.Context, w *Workspace) error {
	cfg := w.Config()
	w.instMtx.Lock()
	w.components, w.instances = r.opts.Components, nil
	w.instMtx.Unlock()
	for _, c := range r.opts.Components {
		inst, err := c.Open(ctx, w)
		if err == nil && inst == nil {
			err = errors.New("open returned no instance")
		}
		if err == nil {
			w.instMtx.Lock()
			w.instances = append(w.instances, inst)
			w.instMtx.Unlock()
			if err = inst.ApplyConfig(cfg.clone()); err != nil {
				err = fmt.Errorf("apply configuration: %w", err)
			}
		}
		if err != nil {
			if cerr := w.closeComponents(); cerr != nil {
				r.logger.Warn("Closing components of a workspace that failed to open", "workspace", w.id, "err", cerr)
			}
			return fmt.Errorf("open component %s: %w", c.Name(), err)
		}
	}
	return nil
}

// applyComponents applies c to every instance of w, stopping at the first
// error.
func (w *Workspace) applyComponents(c Configuration) error {
	w.instMtx.RLock()
	defer w.instMtx.RUnlock()
	for i, inst := range w.instances {
		if err := inst.ApplyConfig(c.clone()); err != nil {
			return fmt.Errorf("component %s: %w", w.components[i].Name(), err)
		}
	}
	return nil
}

// closeComponents closes w's instances in reverse order and forgets them.
func (w *Workspace) closeComponents() error {
	w.instMtx.Lock()
	components, instances := w.components, w.instances
	w.components, w.instances = nil, nil
	w.instMtx.Unlock()
	var errs []error
	for i := len(instances) - 1; i >= 0; i-- {
		if err := instances[i].Close(); err != nil {
			errs = append(errs, fmt.Errorf("component %s: %w", components[i].Name(), err))
		}
	}
	return errors.Join(errs...)
}

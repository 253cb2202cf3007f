package logging

import (
	"context"
	"log/slog"
)

// ByWorkspace returns a slog.Handler for a logger shared by every
// workspace's instance of a component that logs each workspace's records
// with a "workspace" attribute (as the alert manager does): a warning or
// error record carrying one is vended as a record of component to that
// workspace's logging configuration, found with find when the record is
// handled (nil: the workspace has no logging instance, and nothing is
// vended). Records without the attribute are dropped. A component tees
// its shared logger into it with slog.NewMultiHandler.
func ByWorkspace(component string, find func(workspaceID string) *Instance) slog.Handler {
	return &byWorkspace{component: component, find: find}
}

type byWorkspace struct {
	component string
	find      func(string) *Instance
	workspace string
	// group-less attributes and groups added before and after the
	// workspace, replayed on the instance's handler.
	ops []func(slog.Handler) slog.Handler
}

func (h *byWorkspace) Enabled(_ context.Context, level slog.Level) bool {
	return level >= slog.LevelWarn && h.workspace != ""
}

func (h *byWorkspace) WithAttrs(attrs []slog.Attr) slog.Handler {
	c := *h
	c.ops = append(h.ops[:len(h.ops):len(h.ops)], func(n slog.Handler) slog.Handler { return n.WithAttrs(attrs) })
	for _, a := range attrs {
		if a.Key == "workspace" && c.workspace == "" {
			c.workspace = a.Value.String()
		}
	}
	return &c
}

func (h *byWorkspace) WithGroup(name string) slog.Handler {
	c := *h
	c.ops = append(h.ops[:len(h.ops):len(h.ops)], func(n slog.Handler) slog.Handler { return n.WithGroup(name) })
	return &c
}

func (h *byWorkspace) Handle(ctx context.Context, r slog.Record) error {
	if h.workspace == "" {
		return nil
	}
	in := h.find(h.workspace)
	if in == nil {
		return nil
	}
	var n slog.Handler = in.Handler(h.component)
	for _, op := range h.ops {
		n = op(n)
	}
	if !n.Enabled(ctx, r.Level) {
		return nil
	}
	return n.Handle(ctx, r)
}

package promspace

import (
	"context"
	"sync/atomic"

	"github.com/promspace/promspace/logging"
	"github.com/promspace/promspace/workspace"
)

// workspaceLogs finds a workspace's logging instance for the components
// that share one logger among all workspaces (the alert manager). reg is
// set once the registry is open; the workspaces' instances may log before.
type workspaceLogs struct {
	reg atomic.Pointer[workspace.Registry]
}

// find returns the logging instance of workspace id, nil if it has none
// (not open, or the registry is still opening).
func (l *workspaceLogs) find(id string) *logging.Instance {
	reg := l.reg.Load()
	if reg == nil {
		return nil
	}
	w, err := reg.Describe(context.Background(), id)
	if err != nil {
		return nil
	}
	in, _ := workspace.InstanceOf[*logging.Instance](w, logging.ComponentName)
	return in
}

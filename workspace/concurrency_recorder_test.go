package workspace

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
)

// concComponentName names the component of TestConcurrentWorkspaces.
const concComponentName = "concurrency-recorder"

// concRecorder is a component that records, for every instance it opens, its
// configurations, its uses and its Close, and every breach of the
// Component contract it sees.
type concRecorder struct {
	mtx       sync.Mutex
	instances []*concInstance
	opens     map[string]int
	breaches  []string
}

func newConcRecorder() *concRecorder { return &concRecorder{opens: map[string]int{}} }

func (rc *concRecorder) breach(format string, args ...any) {
	rc.mtx.Lock()
	rc.breaches = append(rc.breaches, fmt.Sprintf(format, args...))
	rc.mtx.Unlock()
}

func (rc *concRecorder) component() Component {
	return NewComponent(concComponentName, func(_ context.Context, w *Workspace) (Instance, error) {
		if w.DB() == nil {
			rc.breach("%s: component opened before its TSDB", w.ID())
		}
		inst := &concInstance{rc: rc, w: w}
		rc.mtx.Lock()
		rc.instances = append(rc.instances, inst)
		rc.opens[w.ID()]++
		rc.mtx.Unlock()
		return inst, nil
	})
}

// check reports every breach, and every instance not closed exactly once;
// created lists the workspaces that must have been opened once each.
func (rc *concRecorder) check(t *testing.T, created []string) {
	t.Helper()
	rc.mtx.Lock()
	defer rc.mtx.Unlock()
	for _, b := range rc.breaches {
		t.Error(b)
	}
	for _, inst := range rc.instances {
		inst.mtx.Lock()
		if inst.closes != 1 {
			t.Errorf("%s: component closed %d times, want 1", inst.w.ID(), inst.closes)
		}
		inst.mtx.Unlock()
	}
	for _, id := range created {
		if n := rc.opens[id]; n != 1 {
			t.Errorf("%s: component opened %d times, want 1", id, n)
		}
	}
}

type concInstance struct {
	rc *concRecorder
	w  *Workspace

	mtx      sync.Mutex
	applying bool
	applies  int
	last     Configuration
	inUse    int
	closes   int
}

func (i *concInstance) ApplyConfig(c Configuration) error {
	i.mtx.Lock()
	if i.applying {
		i.rc.breach("%s: overlapping ApplyConfig calls", i.w.ID())
	}
	if i.closes > 0 {
		i.rc.breach("%s: ApplyConfig after Close", i.w.ID())
	}
	i.applying = true
	i.mtx.Unlock()
	// Leaves room for an overlapping call to show.
	runtime.Gosched()
	i.mtx.Lock()
	i.applying = false
	i.applies++
	i.last = c
	i.mtx.Unlock()
	return nil
}

// lastConfig returns the configuration applied last.
func (i *concInstance) lastConfig() Configuration {
	i.mtx.Lock()
	defer i.mtx.Unlock()
	return i.last
}

// begin and end bracket a use of the instance by a holder of its workspace.
func (i *concInstance) begin() {
	i.mtx.Lock()
	defer i.mtx.Unlock()
	if i.closes > 0 {
		i.rc.breach("%s: component used after Close", i.w.ID())
	}
	if i.applies == 0 {
		i.rc.breach("%s: component used before any ApplyConfig", i.w.ID())
	}
	i.inUse++
}

func (i *concInstance) end() {
	i.mtx.Lock()
	i.inUse--
	i.mtx.Unlock()
}

func (i *concInstance) closed() bool {
	i.mtx.Lock()
	defer i.mtx.Unlock()
	return i.closes > 0
}

func (i *concInstance) Close() error {
	// Nothing holds the workspace any more, and nothing can.
	if release, ok := i.w.Acquire(); ok {
		release()
		i.rc.breach("%s: workspace could be acquired while its component closed", i.w.ID())
	}
	app := i.w.AppenderV2(context.Background())
	if _, err := app.Append(0, labels.FromStrings(model.MetricNameLabel, "late"), 0, 1, 1, nil, nil, storage.AOptions{}); !errors.Is(err, ErrNotFound) {
		i.rc.breach("%s: append while its component closed: %v, want ErrNotFound", i.w.ID(), err)
	}
	app.Rollback()
	if i.w.DB() == nil {
		i.rc.breach("%s: component closed without a TSDB", i.w.ID())
	}
	i.mtx.Lock()
	defer i.mtx.Unlock()
	if i.inUse != 0 {
		i.rc.breach("%s: component closed while %d holders use it", i.w.ID(), i.inUse)
	}
	if i.applying {
		i.rc.breach("%s: component closed during ApplyConfig", i.w.ID())
	}
	i.closes++
	return nil
}

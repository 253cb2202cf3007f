package workspace

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
)

// lifecycleRecorder is a component that records, per workspace, what happens to its
// instances, and checks that the TSDB is open whenever an instance is used.
type lifecycleRecorder struct {
	name string
	// failOpen and failApply make Open or ApplyConfig fail when they return
	// true for the workspace (and, for ApplyConfig, the configuration).
	failOpen  func(w *Workspace) bool
	failApply func(w *Workspace, c Configuration) bool

	mtx    sync.Mutex
	events map[string][]string // by workspace id
	open   map[string]int      // instances open, by workspace id
	errs   []string
}

func newLifecycleRecorder(name string) *lifecycleRecorder {
	return &lifecycleRecorder{name: name, events: map[string][]string{}, open: map[string]int{}}
}

func (c *lifecycleRecorder) Name() string { return c.name }

func (c *lifecycleRecorder) record(id, event string) {
	c.mtx.Lock()
	defer c.mtx.Unlock()
	c.events[id] = append(c.events[id], event)
}

func (c *lifecycleRecorder) fail(format string, args ...any) {
	c.mtx.Lock()
	defer c.mtx.Unlock()
	c.errs = append(c.errs, fmt.Sprintf(format, args...))
}

func (c *lifecycleRecorder) Open(_ context.Context, w *Workspace) (Instance, error) {
	c.checkTSDB(w, "Open")
	if c.failOpen != nil && c.failOpen(w) {
		c.record(w.ID(), "Open failed")
		return nil, errors.New("refused by the test")
	}
	c.record(w.ID(), "Open")
	c.mtx.Lock()
	c.open[w.ID()]++
	c.mtx.Unlock()
	return &lifecycleInstance{c: c, w: w}, nil
}

// checkTSDB appends and commits a sample to w's TSDB: that fails once the
// TSDB is closed (its WAL is).
func (c *lifecycleRecorder) checkTSDB(w *Workspace, when string) {
	db := w.DB()
	if db == nil {
		c.fail("%s %s: no TSDB", w.ID(), when)
		return
	}
	app := db.Appender(context.Background())
	if _, err := app.Append(0, labels.FromStrings("__name__", "component_check", "component", c.name), time.Now().UnixMilli(), 1); err != nil {
		app.Rollback()
		c.fail("%s %s: append to the TSDB: %v", w.ID(), when, err)
		return
	}
	if err := app.Commit(); err != nil {
		c.fail("%s %s: commit to the TSDB: %v", w.ID(), when, err)
	}
}

func (c *lifecycleRecorder) eventsOf(id string) []string {
	c.mtx.Lock()
	defer c.mtx.Unlock()
	return slices.Clone(c.events[id])
}

func (c *lifecycleRecorder) openInstances() int {
	c.mtx.Lock()
	defer c.mtx.Unlock()
	n := 0
	for _, v := range c.open {
		n += v
	}
	return n
}

func (c *lifecycleRecorder) check(t *testing.T) {
	t.Helper()
	c.mtx.Lock()
	defer c.mtx.Unlock()
	for _, e := range c.errs {
		t.Error(e)
	}
}

type lifecycleInstance struct {
	c      *lifecycleRecorder
	w      *Workspace
	closed bool
}

func (i *lifecycleInstance) ApplyConfig(cfg Configuration) error {
	if i.closed {
		i.c.fail("%s: ApplyConfig after Close", i.w.ID())
	}
	if i.c.failApply != nil && i.c.failApply(i.w, cfg) {
		i.c.record(i.w.ID(), fmt.Sprintf("ApplyConfig(%v) failed", cfg.Retention))
		return errors.New("refused by the test")
	}
	i.c.record(i.w.ID(), fmt.Sprintf("ApplyConfig(%v)", cfg.Retention))
	return nil
}

func (i *lifecycleInstance) Close() error {
	if i.closed {
		i.c.fail("%s: Close twice", i.w.ID())
	}
	i.closed = true
	i.c.checkTSDB(i.w, "Close")
	i.c.record(i.w.ID(), "Close")
	i.c.mtx.Lock()
	i.c.open[i.w.ID()]--
	i.c.mtx.Unlock()
	return nil
}

func TestComponentLifecycle(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	first, second := newLifecycleRecorder("first"), newLifecycleRecorder("second")
	opts := testOptions(t, dir)
	opts.Components = []Component{first, second}
	// Closing order across components: first's Close must come after
	// second's.
	var order []string
	var orderMtx sync.Mutex
	opts.Components = append(opts.Components, NewComponent("last", func(context.Context, *Workspace) (Instance, error) {
		return closeHook(func() {
			orderMtx.Lock()
			order = append(order, "last")
			orderMtx.Unlock()
		}), nil
	}))

	r, err := Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	w := createActive(t, r, CreateInput{Alias: "components"})
	id := w.ID()
	if w.Instance("first") == nil || w.Instance("second") == nil {
		t.Fatal("an open workspace lacks an instance")
	}
	if _, ok := InstanceOf[*lifecycleInstance](w, "first"); !ok {
		t.Error("InstanceOf did not return the recorder's instance")
	}
	if w.Instance("unknown") != nil {
		t.Error("Instance of an unknown component is not nil")
	}
	if _, err := r.UpdateConfiguration(ctx, UpdateConfigurationInput{ID: id, RetentionPeriodInDays: new(7)}); err != nil {
		t.Fatal(err)
	}
	// Restart: every instance is closed with the registry and opened again
	// with the configuration that was saved.
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	if n := first.openInstances() + second.openInstances(); n != 0 {
		t.Fatalf("%d instances open after Close", n)
	}
	r = openRegistry(t, opts)
	w, err = r.Get(ctx, id)
	if err != nil {
		t.Fatal(err)
	}
	if err := r.Delete(ctx, id); err != nil {
		t.Fatal(err)
	}
	waitBackground(r)
	if w.Instance("first") != nil {
		t.Error("a deleted workspace still has its instances")
	}

	want := []string{
		"Open", "ApplyConfig(3600h0m0s)", // create
		"ApplyConfig(168h0m0s)", // configure
		"Close",                 // restart
		"Open", "ApplyConfig(168h0m0s)",
		"Close", // delete
	}
	for _, c := range []*lifecycleRecorder{first, second} {
		if got := c.eventsOf(id); !slices.Equal(got, want) {
			t.Errorf("%s: events\n%s\nwant\n%s", c.name, strings.Join(got, "\n"), strings.Join(want, "\n"))
		}
		c.check(t)
	}
	orderMtx.Lock()
	if len(order) != 2 {
		t.Errorf("last component closed %d times, want 2", len(order))
	}
	orderMtx.Unlock()
}

// closeHook is an instance that calls f when closed.
type closeHook func()

func (closeHook) ApplyConfig(Configuration) error { return nil }
func (f closeHook) Close() error                  { f(); return nil }

func TestComponentsCloseInReverseOrder(t *testing.T) {
	var mtx sync.Mutex
	var closed []string
	component := func(name string) Component {
		return NewComponent(name, func(context.Context, *Workspace) (Instance, error) {
			return closeHook(func() {
				mtx.Lock()
				closed = append(closed, name)
				mtx.Unlock()
			}), nil
		})
	}
	opts := testOptions(t, t.TempDir())
	opts.Components = []Component{component("a"), component("b"), component("c")}
	r := openRegistry(t, opts)
	w := createActive(t, r, CreateInput{})
	if err := r.Delete(context.Background(), w.ID()); err != nil {
		t.Fatal(err)
	}
	waitBackground(r)
	mtx.Lock()
	defer mtx.Unlock()
	if !slices.Equal(closed, []string{"c", "b", "a"}) {
		t.Errorf("closed in the order %v, want c, b, a", closed)
	}
}

func TestComponentOpenFailure(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	var refuse sync.Map // workspace ids whose "second" Open fails
	first, second := newLifecycleRecorder("first"), newLifecycleRecorder("second")
	second.failOpen = func(w *Workspace) bool { _, ok := refuse.Load(w.ID()); return ok }
	opts := testOptions(t, dir)
	opts.Components = []Component{first, second}
	opts.Registerer = newTestRegistry()

	r, err := Open(ctx, opts)
	if err != nil {
		t.Fatal(err)
	}
	good := createActive(t, r, CreateInput{Alias: "good"})
	// A workspace that fails on reopening, below.
	later := createActive(t, r, CreateInput{Alias: "later"})

	// A creation whose component fails: CREATION_FAILED, with the
	// component named, and nothing of it left open.
	second.failOpen = func(*Workspace) bool { return true }
	bad, err := r.Create(ctx, CreateInput{Alias: "bad"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Get(ctx, bad.ID()); !errors.Is(err, ErrNotFound) {
		t.Fatalf("Get of a workspace whose component failed: %v, want ErrNotFound", err)
	}
	if s := bad.Status(); s != StatusCreationFailed {
		t.Errorf("status %s, want %s", s, StatusCreationFailed)
	}
	if err := bad.OpenError(); err == nil || !strings.Contains(err.Error(), "open component second: refused by the test") {
		t.Errorf("OpenError: %v, want it to name the component", err)
	}
	if got, want := first.eventsOf(bad.ID()), []string{"Open", "ApplyConfig(3600h0m0s)", "Close"}; !slices.Equal(got, want) {
		t.Errorf("first: %v, want %v", got, want)
	}
	if bad.DB() != nil || bad.Instance("first") != nil {
		t.Error("a workspace that failed to open keeps its TSDB or an instance")
	}
	if _, ok := bad.Acquire(); ok {
		t.Error("Acquire of a workspace that failed to open succeeded")
	}
	if n := countMetrics(t, opts.Registerer, bad.ID()); n != 0 {
		t.Errorf("%d metrics of the failed workspace are still registered", n)
	}
	second.failOpen = func(w *Workspace) bool { _, ok := refuse.Load(w.ID()); return ok }

	// On reopening, one workspace failing leaves the others open.
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	refuse.Store(later.ID(), true)
	r = openRegistry(t, opts)
	if _, err := r.Get(ctx, good.ID()); err != nil {
		t.Errorf("the workspace whose components open: %v", err)
	}
	if _, err := r.Get(ctx, later.ID()); !errors.Is(err, ErrNotFound) {
		t.Errorf("the workspace whose component fails: %v, want ErrNotFound", err)
	}
	// The workspace whose creation failed is tried again, and opens now.
	if _, err := r.Get(ctx, bad.ID()); err != nil {
		t.Errorf("the workspace whose creation failed, reopened: %v", err)
	}
	if n := first.openInstances(); n != 2 {
		t.Errorf("%d instances of first open, want 2 (good and bad)", n)
	}
	// Deleting it closes nothing more: nothing of it is open.
	if err := r.Delete(ctx, later.ID()); err != nil {
		t.Fatal(err)
	}
	waitBackground(r)
	if n := first.openInstances(); n != 2 {
		t.Errorf("%d instances of first open after deleting the failed workspace, want 2", n)
	}
	first.check(t)
	second.check(t)
}

func TestComponentApplyConfigFailure(t *testing.T) {
	ctx := context.Background()
	first, second := newLifecycleRecorder("first"), newLifecycleRecorder("second")
	second.failApply = func(_ *Workspace, c Configuration) bool { return c.Retention == 7*24*time.Hour }
	opts := testOptions(t, t.TempDir())
	opts.Components = []Component{first, second}
	r := openRegistry(t, opts)
	w := createActive(t, r, CreateInput{})

	if _, err := r.UpdateConfiguration(ctx, UpdateConfigurationInput{ID: w.ID(), RetentionPeriodInDays: new(7)}); err == nil {
		t.Fatal("UpdateConfiguration refused by a component succeeded")
	}
	d, err := r.DescribeConfiguration(ctx, w.ID())
	if err != nil {
		t.Fatal(err)
	}
	if d.Status != ConfigurationUpdateFailed || !strings.Contains(d.StatusReason, "component second: refused by the test") {
		t.Errorf("configuration %s %q, want UPDATE_FAILED naming the component", d.Status, d.StatusReason)
	}
	if d.Retention != DefaultRetention {
		t.Errorf("retention %v after a failed update, want %v", d.Retention, DefaultRetention)
	}
	// The previous configuration is applied again to every instance.
	want := []string{"Open", "ApplyConfig(3600h0m0s)", "ApplyConfig(168h0m0s)", "ApplyConfig(3600h0m0s)"}
	if got := first.eventsOf(w.ID()); !slices.Equal(got, want) {
		t.Errorf("first: %v, want %v", got, want)
	}
	first.check(t)
	second.check(t)
}

func TestComponentNames(t *testing.T) {
	open := func(context.Context, *Workspace) (Instance, error) { return closeHook(func() {}), nil }
	for _, cs := range [][]Component{
		{NewComponent("a", open), NewComponent("a", open)},
		{NewComponent("", open)},
		{nil},
	} {
		opts := testOptions(t, t.TempDir())
		opts.Components = cs
		if r, err := Open(context.Background(), opts); err == nil {
			r.Close()
			t.Errorf("Open with components %v succeeded", cs)
		}
	}
}

func newTestRegistry() *prometheus.Registry { return prometheus.NewRegistry() }

// countMetrics counts the metrics registered on reg that carry the label
// workspace=id.
func countMetrics(t *testing.T, reg prometheus.Registerer, id string) int {
	t.Helper()
	mfs, err := reg.(prometheus.Gatherer).Gather()
	if err != nil {
		t.Fatal(err)
	}
	n := 0
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			for _, l := range m.GetLabel() {
				if l.GetName() == "workspace" && l.GetValue() == id {
					n++
				}
			}
		}
	}
	return n
}

package workspace

import (
	"bytes"
	"context"
	"errors"
	"io"
	"os"
	"path/filepath"
	"runtime"
	"sync"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/thanos-io/objstore"
	"github.com/thanos-io/objstore/providers/filesystem"
)

var errUploadFailed = errors.New("upload failed")

// faultyBucket is a filesystem bucket whose uploads fail or wait on demand,
// as those of a remote bucket may.
type faultyBucket struct {
	objstore.Bucket

	mtx  sync.Mutex
	hook func(name string, body []byte) error
}

func newFaultyBucket(t *testing.T) *faultyBucket {
	t.Helper()
	bkt, err := filesystem.NewBucket(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &faultyBucket{Bucket: bkt}
}

// onUpload makes every upload call hook first; an error from hook fails the
// upload. Nil lets uploads through again.
func (b *faultyBucket) onUpload(hook func(name string, body []byte) error) {
	b.mtx.Lock()
	b.hook = hook
	b.mtx.Unlock()
}

func (b *faultyBucket) Upload(ctx context.Context, name string, r io.Reader, opts ...objstore.ObjectUploadOption) error {
	body, err := io.ReadAll(r)
	if err != nil {
		return err
	}
	b.mtx.Lock()
	hook := b.hook
	b.mtx.Unlock()
	if hook != nil {
		if err := hook(name, body); err != nil {
			return err
		}
	}
	return b.Bucket.Upload(ctx, name, bytes.NewReader(body), opts...)
}

func failUploads(string, []byte) error { return errUploadFailed }

// createActive creates a workspace and waits until it is ACTIVE.
func createActive(t *testing.T, r *Registry, in CreateInput) *Workspace {
	t.Helper()
	w, err := r.Create(context.Background(), in)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := r.Get(context.Background(), w.ID()); err != nil {
		t.Fatal(err)
	}
	return w
}

// waitForCloser returns once something waits to close w's TSDB.
func waitForCloser(w *Workspace) {
	for {
		w.holds.mtx.Lock()
		waiting := w.holds.closed != nil
		w.holds.mtx.Unlock()
		if waiting {
			return
		}
		runtime.Gosched()
	}
}

func TestAcquireHoldsTSDBOpenDuringDelete(t *testing.T) {
	r := openRegistry(t, testOptions(t, t.TempDir()))
	ctx := context.Background()
	w := createActive(t, r, CreateInput{})

	release, ok := w.Acquire()
	if !ok {
		t.Fatal("Acquire of an ACTIVE workspace failed")
	}
	if err := r.Delete(ctx, w.ID()); err != nil {
		t.Fatal(err)
	}
	if release2, ok := w.Acquire(); ok {
		release2()
		t.Error("Acquire of a workspace being deleted succeeded")
	}
	waitForCloser(w)

	// The request in flight still writes and reads its TSDB.
	lset := labels.FromStrings("__name__", "in_flight")
	if err := appendSample(t, w, lset, 1000, 1); err != nil {
		t.Errorf("write while the deletion waits: %v", err)
	}
	if got := querySamples(t, w, "in_flight"); got[1000] != 1 {
		t.Errorf("query while the deletion waits = %v", got)
	}
	if _, err := os.Stat(w.Dir()); err != nil {
		t.Errorf("data removed under a request: %v", err)
	}

	release()
	release() // A second call is harmless.
	waitBackground(r)
	if _, err := os.Stat(w.Dir()); !os.IsNotExist(err) {
		t.Errorf("workspace directory still there: %v", err)
	}
	if _, ok := w.Acquire(); ok {
		t.Error("Acquire of a deleted workspace succeeded")
	}
}

func TestAcquireHoldsTSDBOpenDuringClose(t *testing.T) {
	r := openRegistry(t, testOptions(t, t.TempDir()))
	w := createActive(t, r, CreateInput{})

	release, ok := w.Acquire()
	if !ok {
		t.Fatal("Acquire of an ACTIVE workspace failed")
	}
	closed := make(chan error, 1)
	go func() { closed <- r.Close() }()
	waitForCloser(w)
	select {
	case err := <-closed:
		t.Fatalf("Close returned (%v) while a request holds a workspace", err)
	default:
	}
	if release2, ok := w.Acquire(); ok {
		release2()
		t.Error("Acquire while the registry closes succeeded")
	}

	if err := appendSample(t, w, labels.FromStrings("__name__", "in_flight"), 1000, 1); err != nil {
		t.Errorf("write while Close waits: %v", err)
	}
	help := metadata.Metadata{Type: model.MetricTypeGauge, Help: "Set by the last request."}
	w.Metadata().Set("in_flight", help)

	release()
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if _, ok := w.Acquire(); ok {
		t.Error("Acquire after Close succeeded")
	}
	// Metadata set by the request is saved by Close, which ran after it.
	saved := NewMetadataStore(0)
	if err := saved.load(w.Dir()); err != nil {
		t.Fatal(err)
	}
	if got := saved.List("in_flight", 0, 0)["in_flight"]; len(got) != 1 || got[0] != help {
		t.Errorf("saved metadata = %v", got)
	}
}

func TestUpdateConfigurationRacesDelete(t *testing.T) {
	r := openRegistry(t, testOptions(t, t.TempDir()))
	ctx := context.Background()
	for range 3 {
		w := createActive(t, r, CreateInput{})
		errc := make(chan error, 1)
		go func() {
			for i := 0; ; i++ {
				if _, err := r.UpdateConfiguration(ctx, UpdateConfigurationInput{ID: w.ID(), OutOfOrderTimeWindowInSeconds: new(i%600 + 1)}); err != nil {
					errc <- err
					return
				}
			}
		}()
		if err := r.Delete(ctx, w.ID()); err != nil {
			t.Fatal(err)
		}
		if err := <-errc; !errors.Is(err, ErrConflict) && !errors.Is(err, ErrNotFound) {
			t.Errorf("configuration update of a deleted workspace: %v, want ErrConflict or ErrNotFound", err)
		}
		waitBackground(r)
	}
}

func TestUpdateConfigurationHoldsTSDBAgainstClose(t *testing.T) {
	bkt := newFaultyBucket(t)
	opts := testOptions(t, t.TempDir())
	opts.Bucket = bkt
	r := openRegistry(t, opts)
	ctx := context.Background()
	w := createActive(t, r, CreateInput{})

	// The update's save waits, then fails: the update must then put the
	// previous configuration back into a TSDB that Close has not closed.
	entered, proceed := make(chan struct{}), make(chan struct{})
	bkt.onUpload(func(string, []byte) error {
		close(entered)
		<-proceed
		return errUploadFailed
	})
	updated := make(chan error, 1)
	go func() {
		_, err := r.UpdateConfiguration(ctx, UpdateConfigurationInput{ID: w.ID(), RetentionPeriodInDays: new(7)})
		updated <- err
	}()
	<-entered
	closed := make(chan error, 1)
	go func() { closed <- r.Close() }()
	waitForCloser(w)
	close(proceed)
	if err := <-updated; !errors.Is(err, errUploadFailed) {
		t.Errorf("UpdateConfiguration: %v, want the upload's error", err)
	}
	if err := <-closed; err != nil {
		t.Fatal(err)
	}
	if c := w.Config(); c.Retention != DefaultRetention {
		t.Errorf("retention after the failed update = %v, want %v", c.Retention, DefaultRetention)
	}
	if _, err := r.UpdateConfiguration(ctx, UpdateConfigurationInput{ID: w.ID(), RetentionPeriodInDays: new(7)}); !errors.Is(err, ErrClosed) {
		t.Errorf("UpdateConfiguration after Close: %v, want ErrClosed", err)
	}
}

func TestFailedSaveChangesNothing(t *testing.T) {
	bkt := newFaultyBucket(t)
	reg := prometheus.NewRegistry()
	opts := testOptions(t, t.TempDir())
	opts.Bucket = bkt
	opts.Registerer = reg
	ctx := context.Background()
	r := openRegistry(t, opts)
	w := createActive(t, r, CreateInput{Alias: "a", Tags: map[string]string{"k": "v"}})

	bkt.onUpload(failUploads)
	if err := r.UpdateAlias(ctx, UpdateAliasInput{ID: w.ID(), Alias: "b"}); !errors.Is(err, errUploadFailed) {
		t.Errorf("UpdateAlias: %v, want the upload's error", err)
	}
	if err := r.TagResource(ctx, w.ARN(), map[string]string{"x": "y"}); !errors.Is(err, errUploadFailed) {
		t.Errorf("TagResource: %v, want the upload's error", err)
	}
	if err := r.UntagResource(ctx, w.ARN(), []string{"k"}); !errors.Is(err, errUploadFailed) {
		t.Errorf("UntagResource: %v, want the upload's error", err)
	}
	_, err := r.UpdateConfiguration(ctx, UpdateConfigurationInput{ID: w.ID(), RetentionPeriodInDays: new(7), OutOfOrderTimeWindowInSeconds: new(0)})
	if !errors.Is(err, errUploadFailed) {
		t.Errorf("UpdateConfiguration: %v, want the upload's error", err)
	}
	bkt.onUpload(nil)

	check := func(w *Workspace, alias string) {
		t.Helper()
		if got := w.Alias(); got != alias {
			t.Errorf("alias = %q, want %q", got, alias)
		}
		if tags := w.Tags(); len(tags) != 1 || tags["k"] != "v" {
			t.Errorf("tags = %v, want {k: v}", tags)
		}
		d := w.configDescription()
		if d.Status != ConfigurationActive || d.Retention != DefaultRetention || d.OutOfOrderTimeWindow != DefaultOutOfOrderTimeWindow {
			t.Errorf("configuration = %+v, want the defaults, ACTIVE", d)
		}
		if got := gaugeValue(t, reg, "prometheus_tsdb_retention_limit_seconds", w.ID()); got != DefaultRetention.Seconds() {
			t.Errorf("live retention = %vs, want %vs", got, DefaultRetention.Seconds())
		}
	}
	check(w, "a")
	// The live TSDB kept its out-of-order window.
	lset := labels.FromStrings("__name__", "up")
	if err := appendSample(t, w, lset, 100_000, 1); err != nil {
		t.Fatal(err)
	}
	if err := appendSample(t, w, lset, 70_000, 1); err != nil {
		t.Errorf("out-of-order sample within the 60 s window kept: %v", err)
	}

	// A client that goes away does not cut the save short.
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	if err := r.UpdateAlias(cancelled, UpdateAliasInput{ID: w.ID(), Alias: "c"}); err != nil {
		t.Errorf("UpdateAlias with a cancelled context: %v", err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	r = openRegistry(t, opts)
	w2, err := r.Get(ctx, w.ID())
	if err != nil {
		t.Fatal(err)
	}
	check(w2, "c")
}

func TestFailedDeleteRestoresStatus(t *testing.T) {
	for name, tc := range map[string]struct {
		// during runs while the deletion's save is in flight.
		during func(t *testing.T, w *Workspace, gate chan struct{})
		// want is the status once the deletion failed; final the one once
		// opening ended.
		want, final Status
	}{
		"opening ends meanwhile": {
			during: func(t *testing.T, w *Workspace, gate chan struct{}) {
				close(gate)
				<-w.opened
			},
			want: StatusActive, final: StatusActive,
		},
		"opening fails meanwhile": {
			during: func(t *testing.T, w *Workspace, gate chan struct{}) {
				// A file where the TSDB's WAL directory should be.
				if err := os.WriteFile(filepath.Join(w.Dir(), "wal"), []byte("not a directory"), 0o666); err != nil {
					t.Fatal(err)
				}
				close(gate)
				<-w.opened
			},
			want: StatusCreationFailed, final: StatusCreationFailed,
		},
		"opening ends after": {
			during: func(*testing.T, *Workspace, chan struct{}) {},
			want:   StatusCreating, final: StatusActive,
		},
	} {
		t.Run(name, func(t *testing.T) {
			gate := make(chan struct{})
			bkt := newFaultyBucket(t)
			opts := testOptions(t, t.TempDir())
			opts.Bucket = bkt
			opts.TSDBOptions = func() *tsdb.Options {
				<-gate
				return tsdb.DefaultOptions()
			}
			r := openRegistry(t, opts)
			ctx := context.Background()
			w, err := r.Create(ctx, CreateInput{})
			if err != nil {
				t.Fatal(err)
			}

			entered, proceed := make(chan struct{}), make(chan struct{})
			var once sync.Once
			bkt.onUpload(func(_ string, body []byte) error {
				if !bytes.Contains(body, []byte(`"status":"DELETING"`)) {
					return nil
				}
				once.Do(func() { close(entered) })
				<-proceed
				return errUploadFailed
			})
			deleted := make(chan error, 1)
			go func() { deleted <- r.Delete(ctx, w.ID()) }()
			<-entered
			tc.during(t, w, gate)
			close(proceed)
			if err := <-deleted; !errors.Is(err, errUploadFailed) {
				t.Fatalf("Delete: %v, want the upload's error", err)
			}
			if got := w.Status(); got != tc.want {
				t.Errorf("status after the failed deletion = %s, want %s", got, tc.want)
			}

			select {
			case <-gate:
			default:
				close(gate)
			}
			waitBackground(r)
			if got := w.Status(); got != tc.final {
				t.Errorf("status once opening ended = %s, want %s", got, tc.final)
			}
			_, err = r.Get(ctx, w.ID())
			if tc.final == StatusActive && err != nil {
				t.Errorf("Get: %v", err)
			}
			if tc.final != StatusActive && !errors.Is(err, ErrNotFound) {
				t.Errorf("Get: %v, want ErrNotFound", err)
			}
		})
	}
}

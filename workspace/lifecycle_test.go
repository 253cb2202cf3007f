package workspace

import (
	"bytes"
	"context"
	"errors"
	"io"
	"io/fs"
	"maps"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"testing"
	"testing/iotest"
	"time"

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

func TestOpenReportsUnrecoverableRecords(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(t, dir)
	ctx := context.Background()
	r := openRegistry(t, opts)
	w := createActive(t, r, CreateInput{Alias: "fine"})
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	bkt, err := filesystem.NewBucket(filepath.Join(dir, "bucket"))
	if err != nil {
		t.Fatal(err)
	}
	broken := map[string]string{
		recordName("ws-truncated"): `{"workspaceId":"ws-truncated","arn":"arn:aws:aps:us-`,
		recordName("ws-misnamed"):  `{"workspaceId":"ws-other"}`,
	}
	for name, body := range broken {
		if err := bkt.Upload(ctx, name, strings.NewReader(body)); err != nil {
			t.Fatal(err)
		}
	}

	r = openRegistry(t, opts)
	if got, err := r.Get(ctx, w.ID()); err != nil || got.Alias() != "fine" {
		t.Fatalf("Get of the readable workspace: %v, %v", got, err)
	}
	for _, id := range []string{"ws-truncated", "ws-misnamed", "ws-other"} {
		if _, err := r.Describe(ctx, id); !errors.Is(err, ErrNotFound) {
			t.Errorf("Describe(%s): %v, want ErrNotFound", id, err)
		}
	}
	for name := range broken {
		if ok, err := bkt.Exists(ctx, name); err != nil || !ok {
			t.Errorf("%s left the bucket: %v, %v", name, ok, err)
		}
	}
	got := r.Unreadable()
	slices.Sort(got)
	if want := []string{"ws-misnamed", "ws-truncated"}; !slices.Equal(got, want) {
		t.Errorf("Unreadable() = %v, want %v", got, want)
	}
}

// A record that a crash left empty or torn, or that the bucket lost, comes
// back from the copy in the workspace's directory, data and all.
func TestOpenRecoversRecordsFromTheirCopies(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(t, dir)
	ctx := context.Background()
	r := openRegistry(t, opts)
	torn := createActive(t, r, CreateInput{Alias: "torn", Tags: map[string]string{"k": "v"}})
	lost := createActive(t, r, CreateInput{Alias: "lost", ClientToken: "token-1"})
	for _, w := range []*Workspace{torn, lost} {
		if err := appendSample(t, w, labels.FromStrings("__name__", "x"), 1000, 7); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.UpdateAlias(ctx, UpdateAliasInput{ID: torn.ID(), Alias: "torn2"}); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}

	root := filepath.Join(dir, "bucket")
	if err := os.WriteFile(filepath.Join(root, recordName(torn.ID())), nil, 0o666); err != nil {
		t.Fatal(err)
	}
	if err := os.Remove(filepath.Join(root, recordName(lost.ID()))); err != nil {
		t.Fatal(err)
	}

	r = openRegistry(t, opts)
	if u := r.Unreadable(); len(u) != 0 {
		t.Errorf("Unreadable() = %v, want none", u)
	}
	for _, c := range []struct {
		w     *Workspace
		alias string
	}{{torn, "torn2"}, {lost, "lost"}} {
		w, err := r.Get(ctx, c.w.ID())
		if err != nil {
			t.Fatalf("Get(%s): %v", c.alias, err)
		}
		if w.Alias() != c.alias || w.ARN() != c.w.ARN() {
			t.Errorf("recovered %s: alias %q, arn %q", c.alias, w.Alias(), w.ARN())
		}
		if got := querySamples(t, w, "x"); got[1000] != 7 {
			t.Errorf("samples of %s = %v", c.alias, got)
		}
	}
	if got, _ := r.Get(ctx, torn.ID()); !maps.Equal(got.Tags(), map[string]string{"k": "v"}) {
		t.Errorf("tags of the recovered workspace = %v", got.Tags())
	}
	// The client token came back with the record: a retry is idempotent.
	again, err := r.Create(ctx, CreateInput{Alias: "lost", ClientToken: "token-1"})
	if err != nil || again.ID() != lost.ID() {
		t.Errorf("Create retried with the token: %v, %v; want %s", again, err, lost.ID())
	}
	// The bucket has both records again.
	for _, w := range []*Workspace{torn, lost} {
		if _, err := r.store.get(ctx, recordName(w.ID())); err != nil {
			t.Errorf("record of %s in the bucket: %v", w.ID(), err)
		}
	}
}

func TestFilesystemBucketUploadIsAtomic(t *testing.T) {
	root := t.TempDir()
	bkt, err := NewFilesystemBucket(root)
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := bkt.Upload(ctx, "a/b.json", strings.NewReader("first")); err != nil {
		t.Fatal(err)
	}
	// A reader that fails halfway leaves the previous object whole.
	failing := io.MultiReader(strings.NewReader("sec"), iotest.ErrReader(errUploadFailed))
	if err := bkt.Upload(ctx, "a/b.json", failing); !errors.Is(err, errUploadFailed) {
		t.Fatalf("Upload from a failing reader: %v", err)
	}
	if b, err := os.ReadFile(filepath.Join(root, "a", "b.json")); err != nil || string(b) != "first" {
		t.Fatalf("object after a failed upload: %q, %v", b, err)
	}
	var names []string
	if err := bkt.Iter(ctx, "a/", func(n string) error { names = append(names, n); return nil }); err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(names, []string{"a/b.json"}) {
		t.Errorf("objects after a failed upload: %v", names)
	}
	// A temporary file left by a crash is removed when the bucket opens.
	stale := filepath.Join(root, "a", ".b.json.123"+tmpSuffix)
	if err := os.WriteFile(stale, []byte("se"), 0o666); err != nil {
		t.Fatal(err)
	}
	if _, err := NewFilesystemBucket(root); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(stale); !errors.Is(err, fs.ErrNotExist) {
		t.Errorf("stale temporary file: %v", err)
	}
	if err := bkt.Upload(ctx, "c"+tmpSuffix, strings.NewReader("x")); err == nil {
		t.Error("Upload of a name ending in the temporary suffix succeeded")
	}
}

func TestOpenSurvivesUnopenableWorkspace(t *testing.T) {
	dir := t.TempDir()
	opts := testOptions(t, dir)
	ctx := context.Background()
	r := openRegistry(t, opts)
	good := createActive(t, r, CreateInput{Alias: "good"})
	bad := createActive(t, r, CreateInput{Alias: "bad"})
	if err := appendSample(t, good, labels.FromStrings("__name__", "x"), 1000, 1); err != nil {
		t.Fatal(err)
	}
	if err := r.Close(); err != nil {
		t.Fatal(err)
	}
	// A file where the TSDB directory should be.
	if err := os.RemoveAll(bad.Dir()); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bad.Dir(), []byte("not a directory"), 0o666); err != nil {
		t.Fatal(err)
	}

	r = openRegistry(t, opts)
	g, err := r.Get(ctx, good.ID())
	if err != nil {
		t.Fatal(err)
	}
	if got := querySamples(t, g, "x"); got[1000] != 1 {
		t.Errorf("samples of the good workspace = %v", got)
	}
	b, err := r.Describe(ctx, bad.ID())
	if err != nil {
		t.Fatal(err)
	}
	if b.Status() != StatusCreationFailed {
		t.Errorf("status of the unopenable workspace = %s, want CREATION_FAILED", b.Status())
	}
	if _, err := r.Get(ctx, bad.ID()); !errors.Is(err, ErrNotFound) {
		t.Errorf("Get of the unopenable workspace: %v, want ErrNotFound", err)
	}
	if _, ok := b.Acquire(); ok {
		t.Error("Acquire of the unopenable workspace succeeded")
	}
	if err := r.Delete(ctx, bad.ID()); err != nil {
		t.Fatal(err)
	}
	waitBackground(r)
	if _, err := r.Describe(ctx, bad.ID()); !errors.Is(err, ErrNotFound) {
		t.Errorf("Describe after deletion: %v, want ErrNotFound", err)
	}
	if _, err := os.Stat(bad.Dir()); !os.IsNotExist(err) {
		t.Errorf("data of the deleted workspace still there: %v", err)
	}
}

func TestFlushMetadata(t *testing.T) {
	if d := DefaultOptions().MetadataFlushInterval; d != time.Minute {
		t.Errorf("default flush interval = %v, want 1m", d)
	}
	ctx := context.Background()
	help := metadata.Metadata{Type: model.MetricTypeCounter, Help: "Requests.", Unit: "requests"}
	saved := func(t *testing.T, w *Workspace) []metadata.Metadata {
		t.Helper()
		s := NewMetadataStore(0)
		if err := s.load(w.Dir()); err != nil {
			t.Fatal(err)
		}
		return s.List("http_requests_total", 0, 0)["http_requests_total"]
	}

	t.Run("on demand", func(t *testing.T) {
		r := openRegistry(t, testOptions(t, t.TempDir()))
		w := createActive(t, r, CreateInput{})
		w.Metadata().Set("http_requests_total", help)
		if got := saved(t, w); len(got) != 0 {
			t.Fatalf("metadata on disk before a flush: %v", got)
		}
		if err := r.FlushMetadata(ctx); err != nil {
			t.Fatal(err)
		}
		if got := saved(t, w); len(got) != 1 || got[0] != help {
			t.Errorf("metadata on disk = %v", got)
		}
		if err := r.Close(); err != nil {
			t.Fatal(err)
		}
		if err := r.FlushMetadata(ctx); !errors.Is(err, ErrClosed) {
			t.Errorf("FlushMetadata after Close: %v, want ErrClosed", err)
		}
	})

	t.Run("periodic", func(t *testing.T) {
		ticks := make(chan time.Time)
		opts := testOptions(t, t.TempDir())
		opts.metadataFlushTicks = ticks
		r := openRegistry(t, opts)
		w := createActive(t, r, CreateInput{})
		w.Metadata().Set("http_requests_total", help)
		ticks <- testNow
		// Taken only once the flush of the first tick is done.
		ticks <- testNow
		if got := saved(t, w); len(got) != 1 || got[0] != help {
			t.Errorf("metadata on disk = %v", got)
		}
	})
}

func TestOptionsValidation(t *testing.T) {
	for name, tc := range map[string]struct {
		set  func(*Options)
		want string
	}{
		"short account":     {func(o *Options) { o.AccountID = "1234" }, "account id"},
		"account letters":   {func(o *Options) { o.AccountID = "12345678901a" }, "account id"},
		"upper-case region": {func(o *Options) { o.Region = "US-EAST-1" }, "region"},
		"trailing dash":     {func(o *Options) { o.Region = "us-east-" }, "region"},
		"underscore":        {func(o *Options) { o.Region = "us_east_1" }, "region"},
	} {
		t.Run(name, func(t *testing.T) {
			opts := testOptions(t, t.TempDir())
			tc.set(&opts)
			r, err := Open(context.Background(), opts)
			if err == nil {
				r.Close()
				t.Fatal("Open succeeded")
			}
			if !strings.Contains(err.Error(), tc.want) {
				t.Errorf("err = %v, want it to name the %s", err, tc.want)
			}
		})
	}

	opts := testOptions(t, t.TempDir())
	opts.Region = "eu-central-2"
	opts.AccountID = "123456789012"
	r := openRegistry(t, opts)
	w, err := r.Create(context.Background(), CreateInput{})
	if err != nil {
		t.Fatal(err)
	}
	if want := "arn:aws:aps:eu-central-2:123456789012:workspace/" + w.ID(); w.ARN() != want {
		t.Errorf("arn = %s, want %s", w.ARN(), want)
	}
	for _, account := range []string{"12", "abcdefghijkl", "1234567890123", "../000000000"} {
		_, err := r.Create(context.Background(), CreateInput{Account: account})
		var ve *ValidationError
		if !errors.As(err, &ve) || len(ve.Fields) != 1 || ve.Fields[0].Name != "account" {
			t.Errorf("Create for account %q: %v, want a ValidationError on account", account, err)
		}
	}
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

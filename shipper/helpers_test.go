package shipper

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/thanos-io/objstore"

	"github.com/promspace/promspace/internal/logbuf"
	"github.com/promspace/promspace/workspace"
)

// hour is an hour in milliseconds, the TSDB's unit.
const hour = int64(time.Hour / time.Millisecond)

// env is a workspace Registry with a Shipper over a bucket that outlives
// it, so that a test can start another Registry on the same bucket.
type env struct {
	t       *testing.T
	bkt     *recordingBucket
	dataDir string
	opts    Options
	// blockRange is the TSDB's block range, 2h unless set, and
	// maxBlockRange the longest it compacts blocks into, blockRange if 0.
	blockRange, maxBlockRange int64
	logs                      *logbuf.Buffer

	reg      *prometheus.Registry
	shipper  *Shipper
	registry *workspace.Registry
}

func newEnv(t *testing.T) *env {
	t.Helper()
	fs, err := workspace.NewFilesystemBucket(t.TempDir())
	if err != nil {
		t.Fatal(err)
	}
	return &env{
		t:          t,
		bkt:        &recordingBucket{Bucket: fs},
		dataDir:    t.TempDir(),
		opts:       Options{RetryBackoff: time.Millisecond, NewTicker: noTicks},
		blockRange: 2 * hour,
		logs:       &logbuf.Buffer{},
	}
}

func noTicks(time.Duration) (<-chan time.Time, func()) { return nil, func() {} }

// open opens a Registry on the env's data directory and bucket.
func (e *env) open() *workspace.Registry {
	e.t.Helper()
	e.reg = prometheus.NewRegistry()
	opts := e.opts
	opts.Registerer = e.reg
	opts.Logger = slog.New(slog.NewTextHandler(e.logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
	e.shipper = New(opts)
	wo := workspace.DefaultOptions()
	wo.DataDir = e.dataDir
	wo.Bucket = e.bkt
	wo.Components = []workspace.Component{e.shipper.Component()}
	wo.TSDBOptions = func() *tsdb.Options {
		o := tsdb.DefaultOptions()
		o.MinBlockDuration, o.MaxBlockDuration = e.blockRange, max(e.blockRange, e.maxBlockRange)
		return o
	}
	r, err := workspace.Open(context.Background(), wo)
	if err != nil {
		e.t.Fatal(err)
	}
	e.registry = r
	e.t.Cleanup(func() { r.Close() })
	return r
}

func (e *env) close() {
	e.t.Helper()
	if err := e.registry.Close(); err != nil {
		e.t.Fatal(err)
	}
}

func (e *env) create(alias string) *workspace.Workspace {
	e.t.Helper()
	w, err := e.registry.Create(context.Background(), workspace.CreateInput{Alias: alias})
	if err != nil {
		e.t.Fatal(err)
	}
	return e.get(w.ID())
}

func (e *env) get(id string) *workspace.Workspace {
	e.t.Helper()
	w, err := e.registry.Get(context.Background(), id)
	if err != nil {
		e.t.Fatal(err)
	}
	return w
}

func instance(t *testing.T, w *workspace.Workspace) *Instance {
	t.Helper()
	in, ok := workspace.InstanceOf[*Instance](w, ComponentName)
	if !ok {
		t.Fatal("workspace has no shipper instance")
	}
	return in
}

// writeAndCompact appends one sample a minute of two series over [from,
// to) hours, then cuts them from the head into one block.
func writeAndCompact(t *testing.T, w *workspace.Workspace, from, to int64) {
	t.Helper()
	ctx := context.Background()
	app := w.AppenderV2(ctx)
	for ts := from * hour; ts < to*hour; ts += 60_000 {
		for _, job := range []string{"a", "b"} {
			if _, err := app.Append(0, labels.FromStrings("__name__", "shipped", "job", job), 0, ts, float64(ts/60_000), nil, nil, storage.AOptions{}); err != nil {
				t.Fatal(err)
			}
		}
	}
	if err := app.Commit(); err != nil {
		t.Fatal(err)
	}
	release, ok := w.Acquire()
	if !ok {
		t.Fatal("workspace not usable")
	}
	defer release()
	db := w.DB()
	if err := db.CompactHead(tsdb.NewRangeHead(db.Head(), from*hour, to*hour-1)); err != nil {
		t.Fatal(err)
	}
}

// samples returns every sample of w in [mint, maxt], as text.
func samples(t *testing.T, w *workspace.Workspace, mint, maxt int64) []string {
	t.Helper()
	q, err := w.Querier(mint, maxt)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	var out []string
	ss := q.Select(context.Background(), true, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "shipped"))
	for ss.Next() {
		s := ss.At()
		it := s.Iterator(nil)
		for it.Next() != 0 {
			ts, v := it.At()
			out = append(out, fmt.Sprintf("%s %d %g", s.Labels(), ts, v))
		}
	}
	if err := ss.Err(); err != nil {
		t.Fatal(err)
	}
	return out
}

// recordingBucket records the names of the objects uploaded, in order, and
// fails the uploads fail says to.
type recordingBucket struct {
	objstore.Bucket
	mtx      sync.Mutex
	uploads  []string
	failures int // uploads left to fail
	// iterFailures are listings left to fail, once iterSkip more have
	// succeeded.
	iterFailures, iterSkip int
}

func (b *recordingBucket) failListingsAfter(skip, n int) {
	b.mtx.Lock()
	defer b.mtx.Unlock()
	b.iterSkip, b.iterFailures = skip, n
}

func (b *recordingBucket) Iter(ctx context.Context, dir string, f func(string) error, opts ...objstore.IterOption) error {
	b.mtx.Lock()
	if b.iterSkip > 0 {
		b.iterSkip--
	} else if b.iterFailures > 0 {
		b.iterFailures--
		b.mtx.Unlock()
		return errInjected
	}
	b.mtx.Unlock()
	return b.Bucket.Iter(ctx, dir, f, opts...)
}

var errInjected = errors.New("upload failed by the test")

func (b *recordingBucket) Upload(ctx context.Context, name string, r io.Reader, opts ...objstore.ObjectUploadOption) error {
	b.mtx.Lock()
	if b.failures > 0 {
		b.failures--
		b.mtx.Unlock()
		return errInjected
	}
	b.uploads = append(b.uploads, name)
	b.mtx.Unlock()
	return b.Bucket.Upload(ctx, name, r, opts...)
}

func (b *recordingBucket) uploaded(suffix string) []string {
	b.mtx.Lock()
	defer b.mtx.Unlock()
	var out []string
	for _, n := range b.uploads {
		if strings.HasSuffix(n, suffix) {
			out = append(out, n)
		}
	}
	return out
}

// objects lists the bucket's objects under prefix.
func objects(t *testing.T, bkt objstore.Bucket, prefix string) []string {
	t.Helper()
	var out []string
	if err := bkt.Iter(context.Background(), prefix, func(n string) error {
		out = append(out, n)
		return nil
	}, objstore.WithRecursiveIter()); err != nil {
		t.Fatal(err)
	}
	return out
}

func blockPrefix(w *workspace.Workspace) string {
	return filepath.ToSlash("workspaces/" + w.ID() + "/")
}

package alertmanager

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"github.com/prometheus/alertmanager/nflog"
	"github.com/prometheus/alertmanager/silence"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/promspace/promspace/internal/atomicfile"
)

// A workspace's Alertmanager state, its silences and its notification
// log, is two snapshots in Alertmanager's own format. Each is written to
// the workspace's directory and then uploaded to the workspace's bucket
// (alertmanager/silences, alertmanager/nflog): on every silence change
// before it is answered, and at every maintenance and on Close for both.
// The directory's copy is read when the workspace opens, the bucket's
// when the directory has none or it does not load, so that a node started
// on an empty disk keeps the workspace's silences.
const (
	silencesState = "silences"
	nflogState    = "nflog"
)

// stateUploadTimeout bounds the upload of a snapshot.
const stateUploadTimeout = time.Minute

// stateObject is the name of a snapshot in the workspace's bucket.
func stateObject(kind string) string { return stateDirName + "/" + kind }

// stateFile is the path of a snapshot in the workspace's directory.
func (in *Instance) stateFile(kind string) string { return filepath.Join(in.dir, kind) }

// stateSource is one copy of a snapshot: where it is, named for the logs,
// and how to read it.
type stateSource struct {
	name string
	open func(context.Context) (io.ReadCloser, error) // nil, nil: no copy
}

// stateSources are the copies of a snapshot, the directory's first.
func (in *Instance) stateSources(kind string) []stateSource {
	file := in.stateFile(kind)
	return []stateSource{
		{name: file, open: func(context.Context) (io.ReadCloser, error) {
			f, err := os.Open(file)
			if errors.Is(err, os.ErrNotExist) {
				return nil, nil
			}
			return f, err
		}},
		{name: in.w.ObjectName(stateObject(kind)), open: func(ctx context.Context) (io.ReadCloser, error) {
			r, err := in.w.Bucket().Get(ctx, stateObject(kind))
			if in.w.Bucket().IsObjNotFoundErr(err) {
				return nil, nil
			}
			return r, err
		}},
	}
}

// loadState builds a kind of state with newState from its first copy that
// loads. A copy that cannot be read or does not load is logged with its
// name and skipped; without one, the state starts empty. Only an empty
// state that cannot be built is an error. A copy is tried on a registry of
// its own first: the state registers its metrics before it loads.
func loadState[T any](ctx context.Context, in *Instance, kind string, newState func(io.Reader, prometheus.Registerer) (T, error)) (T, error) {
	for _, src := range in.stateSources(kind) {
		b, err := readSource(ctx, src)
		if err == nil && b == nil {
			continue
		}
		in.stored[kind] = true // whatever it holds, to be replaced
		if err == nil {
			if _, err = newState(bytes.NewReader(b), prometheus.NewRegistry()); err == nil {
				return newState(bytes.NewReader(b), in.reg)
			}
		}
		in.logger.Error("A snapshot of the alert manager's state is skipped: it cannot be loaded", "kind", kind, "object", src.name, "err", err)
	}
	return newState(nil, in.reg)
}

// readSource reads a copy whole, nil without one.
func readSource(ctx context.Context, src stateSource) ([]byte, error) {
	r, err := src.open(ctx)
	if err != nil || r == nil {
		return nil, err
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err == nil && b == nil {
		b = []byte{}
	}
	return b, err
}

// openState builds the notification log and the silences from their
// snapshots and starts their maintenance.
func (in *Instance) openState(ctx context.Context) error {
	opts := in.opts
	var err error
	in.nflog, err = loadState(ctx, in, nflogState, func(r io.Reader, reg prometheus.Registerer) (*nflog.Log, error) {
		return nflog.New(nflog.Options{
			SnapshotReader: r, Retention: opts.Retention,
			Logger: in.logger.With("component", "nflog"), Metrics: reg,
		})
	})
	if err != nil {
		return fmt.Errorf("notification log: %w", err)
	}
	in.silences, err = loadState(ctx, in, silencesState, func(r io.Reader, reg prometheus.Registerer) (*silence.Silences, error) {
		return silence.New(silence.Options{
			SnapshotReader: r, Retention: opts.Retention,
			Logger: in.logger.With("component", "silences"), Metrics: reg,
		})
	})
	if err != nil {
		return fmt.Errorf("silences: %w", err)
	}
	in.wg.Go(func() {
		in.nflog.Maintenance(opts.MaintenanceInterval, in.stateFile(nflogState), in.stopc,
			in.maintenance(nflogState, in.nflog.GC, in.nflog.Snapshot))
	})
	in.wg.Go(func() {
		in.silences.Maintenance(opts.MaintenanceInterval, in.stateFile(silencesState), in.stopc,
			in.maintenance(silencesState, in.silences.GC, in.silences.Snapshot))
	})
	return nil
}

// maintenance is what a kind of state's maintenance does in place of
// Alertmanager's own: collect what expired, then save the snapshot to the
// directory and the bucket.
func (in *Instance) maintenance(kind string, gc func() (int, error), snapshot func(io.Writer) (int64, error)) func() (int64, error) {
	return func() (int64, error) {
		if _, err := gc(); err != nil {
			return 0, err
		}
		return in.saveState(kind, snapshot)
	}
}

// snapshotSilences saves the silences now, rather than at the next
// maintenance: a silence created, changed or expired survives a crash and
// the loss of the disk once answered.
func (in *Instance) snapshotSilences() error {
	_, err := in.saveState(silencesState, in.silences.Snapshot)
	return err
}

// saveState writes a snapshot to the workspace's directory, atomically and
// durably, and uploads it
// to the workspace's bucket, unless it is empty and the bucket holds no
// copy to replace: a workspace whose Alertmanager never held a silence
// keeps none there. Snapshots are saved one at a time.
func (in *Instance) saveState(kind string, snapshot func(io.Writer) (int64, error)) (int64, error) {
	in.snapMtx.Lock()
	defer in.snapMtx.Unlock()
	var buf bytes.Buffer
	n, err := snapshot(&buf)
	if err != nil {
		return n, err
	}
	if err := atomicfile.Write(in.stateFile(kind), bytes.NewReader(buf.Bytes())); err != nil {
		return n, err
	}
	if buf.Len() == 0 && !in.stored[kind] {
		return n, nil // nothing to keep, nothing to replace
	}
	ctx, cancel := context.WithTimeout(context.Background(), stateUploadTimeout)
	defer cancel()
	if err := in.w.Bucket().Upload(ctx, stateObject(kind), bytes.NewReader(buf.Bytes())); err != nil {
		return n, fmt.Errorf("upload %s: %w", stateObject(kind), err)
	}
	in.stored[kind] = true
	return n, nil
}

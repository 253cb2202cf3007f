package logging_test

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/promspace/promspace/logging"
	"github.com/promspace/promspace/query"
	"github.com/promspace/promspace/workspace"
)

// errorLog keeps the messages and "object" attributes of the error
// records logged to it.
type errorLog struct {
	mtx     sync.Mutex
	objects []string
	msgs    []string
}

func (l *errorLog) Enabled(_ context.Context, level slog.Level) bool { return level >= slog.LevelError }
func (l *errorLog) WithAttrs([]slog.Attr) slog.Handler               { return l }
func (l *errorLog) WithGroup(string) slog.Handler                    { return l }
func (l *errorLog) Handle(_ context.Context, r slog.Record) error {
	l.mtx.Lock()
	defer l.mtx.Unlock()
	l.msgs = append(l.msgs, r.Message)
	r.Attrs(func(a slog.Attr) bool {
		if a.Key == "object" {
			l.objects = append(l.objects, a.Value.String())
		}
		return true
	})
	return nil
}

// openLogged opens the registry in dir with the logging component logging
// to log and vending to dir/logs, and returns its one workspace (created
// if need be) and the workspace's instance.
func openLogged(t *testing.T, dir string, log slog.Handler) (*workspace.Registry, *workspace.Workspace, *logging.Instance) {
	t.Helper()
	return openWith(t, dir, filepath.Join(dir, "logs"), slog.New(log))
}

// openWith opens the registry in dir with the logging component vending
// to logs and logging to log (the component's default when nil), and
// returns its one workspace (created if need be) and the workspace's
// instance.
func openWith(t *testing.T, dir, logs string, log *slog.Logger) (*workspace.Registry, *workspace.Workspace, *logging.Instance) {
	t.Helper()
	ctx := context.Background()
	ls := logging.New(logging.Options{Dir: logs, Logger: log,
		Now: func() time.Time { return time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC) }})
	reg, err := workspace.Open(ctx, workspace.Options{DataDir: dir, Components: []workspace.Component{ls.Component()}})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { reg.Close() })
	out, err := reg.List(ctx, workspace.ListInput{MaxResults: 10})
	if err != nil {
		t.Fatal(err)
	}
	var id string
	if len(out.Workspaces) > 0 {
		id = out.Workspaces[0].ID()
	} else {
		w, err := reg.Create(ctx, workspace.CreateInput{})
		if err != nil {
			t.Fatal(err)
		}
		id = w.ID()
	}
	w, err := reg.Get(ctx, id)
	if err != nil {
		t.Fatalf("the workspace does not open: %v", err)
	}
	in, ok := workspace.InstanceOf[*logging.Instance](w, logging.ComponentName)
	if !ok {
		t.Fatal("no logging instance")
	}
	return reg, w, in
}

// TestCorruptStoredConfiguration: a configuration object that does not
// decode, or holds no valid configuration, is logged with its full name,
// UPDATE_FAILED with the reason after the workspace opens, and left in the
// bucket; the other configuration and the workspace's other objects are
// untouched; an update replaces it, which a reopen keeps.
func TestCorruptStoredConfiguration(t *testing.T) {
	const otherARN = "arn:aws:logs:us-east-1:111122223333:log-group:other:*"
	for _, tc := range []struct {
		name, object, garbage, reason string
	}{
		{"logging not JSON", "logging/configuration.json", "{not json", "invalid character"},
		{"logging without a log group", "logging/configuration.json", `{"status":"ACTIVE"}`, "failed to satisfy constraint"},
		{"query not JSON", "logging/query.json", "\x00\x01", "invalid character"},
		{"query with a bad log group", "logging/query.json", `{"logGroupArn":"nope","qspThreshold":1}`, "failed to satisfy constraint"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			dir := t.TempDir()
			reg, w, in := openLogged(t, dir, slog.DiscardHandler)
			if _, err := in.Create(ctx, logging.CreateInput{LogGroupARN: groupARN}); err != nil {
				t.Fatal(err)
			}
			if _, err := in.CreateQuery(ctx, logging.QueryInput{LogGroupARN: groupARN, QSPThreshold: 10}); err != nil {
				t.Fatal(err)
			}
			if err := w.Bucket().Upload(ctx, "other/kept", strings.NewReader("kept")); err != nil {
				t.Fatal(err)
			}
			if err := w.Bucket().Upload(ctx, tc.object, strings.NewReader(tc.garbage)); err != nil {
				t.Fatal(err)
			}
			id := w.ID()
			if err := reg.Close(); err != nil {
				t.Fatal(err)
			}

			log := &errorLog{}
			reg, w, in = openLogged(t, dir, log)
			full := "workspaces/" + id + "/" + tc.object
			if len(log.objects) != 1 || log.objects[0] != full {
				t.Errorf("errors logged for objects %q (%q), want %s", log.objects, log.msgs, full)
			}
			isQuery := tc.object == "logging/query.json"
			var status logging.Status
			var reason string
			if isQuery {
				q, err := in.DescribeQuery()
				if err != nil {
					t.Fatal(err)
				}
				status, reason = q.Status, q.StatusReason
				if c, err := in.Describe(); err != nil || c.Status != logging.StatusActive || c.LogGroupARN != groupARN {
					t.Errorf("the logging configuration beside it: %+v, %v", c, err)
				}
			} else {
				c, err := in.Describe()
				if err != nil {
					t.Fatal(err)
				}
				status, reason = c.Status, c.StatusReason
				if q, err := in.DescribeQuery(); err != nil || q.Status != logging.StatusActive || q.QSPThreshold != 10 {
					t.Errorf("the query logging configuration beside it: %+v, %v", q, err)
				}
			}
			if status != logging.StatusUpdateFailed || !strings.Contains(reason, full) || !strings.Contains(reason, tc.reason) {
				t.Errorf("status %s %q, want UPDATE_FAILED naming %s and saying %q", status, reason, full, tc.reason)
			}
			if got := read(t, w, tc.object); got != tc.garbage {
				t.Errorf("opening rewrote the object: %q", got)
			}
			if got := read(t, w, "other/kept"); got != "kept" {
				t.Errorf("another object: %q", got)
			}
			if isQuery {
				if _, err := in.CreateQuery(ctx, logging.QueryInput{LogGroupARN: otherARN}); !errors.Is(err, logging.ErrConflict) {
					t.Errorf("create over it: %v, want ErrConflict", err)
				}
				if q, err := in.UpdateQuery(ctx, logging.QueryInput{LogGroupARN: otherARN, QSPThreshold: 5}); err != nil || q.Status != logging.StatusUpdating {
					t.Fatalf("update over it: %+v, %v", q, err)
				}
				at := time.Unix(1000, 0)
				in.ObserveQuery(query.Record{Expr: "up", Start: at, End: at, SamplesProcessed: 6})
			} else {
				if _, err := in.Create(ctx, logging.CreateInput{LogGroupARN: otherARN}); !errors.Is(err, logging.ErrConflict) {
					t.Errorf("create over it: %v, want ErrConflict", err)
				}
				if c, err := in.Update(ctx, logging.CreateInput{LogGroupARN: otherARN}); err != nil || c.Status != logging.StatusUpdating {
					t.Fatalf("update over it: %+v, %v", c, err)
				}
				slog.New(in.Handler(logging.ComponentRuler)).Error("boom")
			}
			if n := countLines(t, dir, otherARN); n != 1 {
				t.Errorf("%d records vended after the update, want 1", n)
			}
			if err := reg.Close(); err != nil {
				t.Fatal(err)
			}

			log = &errorLog{}
			_, _, in = openLogged(t, dir, log)
			if len(log.msgs) != 0 {
				t.Errorf("errors after the update: %q", log.msgs)
			}
			arn, st := func() (string, logging.Status) {
				if isQuery {
					q, _ := in.DescribeQuery()
					return q.LogGroupARN, q.Status
				}
				c, _ := in.Describe()
				return c.LogGroupARN, c.Status
			}()
			if arn != otherARN || st != logging.StatusActive {
				t.Errorf("after the update and a reopen: %s %s", arn, st)
			}
		})
	}
}

// TestCorruptStoredConfigurationDeleted: a corrupt configuration can be
// deleted, and then created afresh.
func TestCorruptStoredConfigurationDeleted(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	reg, w, _ := openLogged(t, dir, slog.DiscardHandler)
	if err := w.Bucket().Upload(ctx, "logging/configuration.json", strings.NewReader("garbage")); err != nil {
		t.Fatal(err)
	}
	if err := reg.Close(); err != nil {
		t.Fatal(err)
	}
	_, w, in := openLogged(t, dir, slog.DiscardHandler)
	if err := in.Delete(ctx); err != nil {
		t.Fatal(err)
	}
	if ok, err := w.Bucket().Exists(ctx, "logging/configuration.json"); ok || err != nil {
		t.Errorf("the object after the delete: %v, %v", ok, err)
	}
	if c, err := in.Create(ctx, logging.CreateInput{LogGroupARN: groupARN}); err != nil || c.Status != logging.StatusCreating {
		t.Errorf("create after the delete: %+v, %v", c, err)
	}
}

func read(t *testing.T, w *workspace.Workspace, name string) string {
	t.Helper()
	r, err := w.Bucket().Get(context.Background(), name)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	b, err := io.ReadAll(r)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func countLines(t *testing.T, dir, arn string) int {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(dir, "logs", logging.FileName(arn)))
	if err != nil {
		t.Fatal(err)
	}
	return bytes.Count(b, []byte("\n"))
}

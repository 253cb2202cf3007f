package workspace

import (
	"context"
	"errors"
	"math"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
)

// TestHeldWorkspaceStorage: a request that holds a workspace (Resolve) can
// open appenders and queriers of it after its deletion or the registry's
// Close started, as the query API and the ingest endpoint do while serving
// it; other users of the storage are refused at once, even while another
// appender is open.
func TestHeldWorkspaceStorage(t *testing.T) {
	ctx := context.Background()
	works := func(t *testing.T, w *Workspace, writer string, ts int64) {
		t.Helper()
		if err := concAppend(ctx, w, writer, ts, 3); err != nil {
			t.Fatalf("append to the held workspace: %v", err)
		}
		got, err := concRead(ctx, w)
		if err != nil {
			t.Fatalf("query the held workspace: %v", err)
		}
		if m := concMissing(map[string]map[int64]float64{writer: {ts: float64(ts), ts + 1: float64(ts + 1), ts + 2: float64(ts + 2)}}, got); m != "" {
			t.Error(m)
		}
		cq, err := w.ChunkQuerier(math.MinInt64, math.MaxInt64)
		if err != nil {
			t.Fatalf("chunk querier of the held workspace: %v", err)
		}
		cq.Close()
		eq, err := w.ExemplarQuerier(ctx)
		if err == nil {
			_, err = eq.Select(math.MinInt64, math.MaxInt64, []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, model.MetricNameLabel, concMetric)})
		}
		if err != nil {
			t.Fatalf("exemplar query of the held workspace: %v", err)
		}
	}
	refused := func(t *testing.T, w *Workspace) {
		t.Helper()
		if err := concAppend(ctx, w, "refused", 1, 1); !errors.Is(err, ErrNotFound) {
			t.Errorf("append: %v, want ErrNotFound", err)
		}
		if _, err := w.Querier(math.MinInt64, math.MaxInt64); !errors.Is(err, ErrNotFound) {
			t.Errorf("querier: %v, want ErrNotFound", err)
		}
		if _, err := w.ChunkQuerier(math.MinInt64, math.MaxInt64); !errors.Is(err, ErrNotFound) {
			t.Errorf("chunk querier: %v, want ErrNotFound", err)
		}
		if _, err := w.ExemplarQuerier(ctx); !errors.Is(err, ErrNotFound) {
			t.Errorf("exemplar querier: %v, want ErrNotFound", err)
		}
	}

	t.Run("delete", func(t *testing.T) {
		r := openRegistry(t, testOptions(t, t.TempDir()))
		w := createActive(t, r, CreateInput{})
		held, release, err := r.Resolve(ctx, "", w.ID())
		if err != nil {
			t.Fatal(err)
		}
		// Released before the registry closes, should the test fail.
		t.Cleanup(release)
		if err := r.Delete(ctx, w.ID()); err != nil {
			t.Fatal(err)
		}
		concWaitForCloser(w)
		works(t, held, "request", 1000)
		release()
		refused(t, w)
	})

	t.Run("close", func(t *testing.T) {
		r := openRegistry(t, testOptions(t, t.TempDir()))
		w := createActive(t, r, CreateInput{})
		held, release, err := r.Resolve(ctx, "", w.ID())
		if err != nil {
			t.Fatal(err)
		}
		// Released before the registry closes, should the test fail.
		t.Cleanup(release)
		closed := make(chan error, 1)
		go func() { closed <- r.Close() }()
		concWaitForCloser(w)
		works(t, held, "request", 1000)
		select {
		case err := <-closed:
			t.Fatalf("Close returned under a request: %v", err)
		default:
		}
		release()
		concWithin(t, time.Minute, "Registry.Close", func() {
			if err := <-closed; err != nil {
				t.Error(err)
			}
		})
		refused(t, w)
	})

	t.Run("unheld", func(t *testing.T) {
		// Only a request's hold lets appenders and queriers through: an
		// appender opened before the deletion holds the TSDB open until
		// it commits, but lets no other through meanwhile.
		r := openRegistry(t, testOptions(t, t.TempDir()))
		w := createActive(t, r, CreateInput{})
		app := w.AppenderV2(ctx)
		t.Cleanup(func() { app.Rollback() })
		ls := labels.FromStrings(model.MetricNameLabel, concMetric, "ws", w.ID(), "writer", "early")
		if _, err := app.Append(0, ls, 0, 1, 1, nil, nil, storage.AOptions{}); err != nil {
			t.Fatal(err)
		}
		if err := r.Delete(ctx, w.ID()); err != nil {
			t.Fatal(err)
		}
		concWaitForCloser(w)
		refused(t, w)
		if err := app.Commit(); err != nil {
			t.Errorf("commit of an appender opened before the deletion: %v", err)
		}
		refused(t, w)
	})
}

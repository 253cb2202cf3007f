package ingest

import (
	"context"
	"errors"
	"net/http"
	"strconv"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/storage"
	"github.com/stretchr/testify/require"
)

// TestEndpointAppender: what is appended through an Endpoint goes through
// the pipeline on Commit: a stage's dropped series are left out and
// counted, the rest is written with its metadata and exemplars; a stage
// that rejects the whole transaction makes Commit fail with ErrRejected and
// nothing is written; Rollback writes nothing.
func TestEndpointAppender(t *testing.T) {
	env := newTestEnv(t, Options{})
	dropBad := StageFunc(func(_ context.Context, _ Target, req *Request) error {
		for i, s := range req.Series {
			switch s.Labels.Get("__name__") {
			case "bad":
				req.Drop(i, "test", errors.New("bad series"))
			case "reject":
				return &StatusError{Status: http.StatusTooManyRequests, Err: errors.New("rate limited")}
			}
		}
		return nil
	})
	ep := env.handler.Open(Target{ID: "ws-a", Appendable: env.db, Metadata: env.sink, Pipeline: []Stage{dropBad}})
	var app storage.AppendableV2 = ep

	up := labels.FromStrings("__name__", "up", "job", "j")
	a := app.AppenderV2(context.Background())
	ref, err := a.Append(0, up, 0, testTS(0), 1, nil, nil, storage.AOptions{
		Metadata:  metadata.Metadata{Type: model.MetricTypeGauge, Help: "up"},
		Exemplars: []exemplar.Exemplar{{Labels: labels.FromStrings("trace_id", "t1"), Value: 1, Ts: testTS(0), HasTs: true}},
	})
	require.NoError(t, err)
	require.NotZero(t, ref)
	ref2, err := a.Append(ref, up, 0, testTS(time.Second), 2, nil, nil, storage.AOptions{})
	require.NoError(t, err)
	require.Equal(t, ref, ref2, "the reference depends on the labels only")
	_, err = a.Append(0, labels.FromStrings("__name__", "bad"), 0, testTS(0), 1, nil, nil, storage.AOptions{})
	require.NoError(t, err)
	require.NoError(t, a.Commit())
	require.ErrorIs(t, a.Commit(), errAppenderDone)

	require.Equal(t, map[string][]sample{up.String(): {{T: testTS(0), V: 1}, {T: testTS(time.Second), V: 2}}}, query(t, env.db, nameMatcher("up")))
	require.Empty(t, query(t, env.db, nameMatcher("bad")))
	require.Equal(t, 1.0, counterValue(t, env.handler.metrics.discarded, "ws-a", "test"))
	require.Equal(t, model.MetricTypeGauge, env.sink.get()["up"].Type)
	require.Len(t, queryExemplars(t, env.db, nameMatcher("up")), 1)

	a = app.AppenderV2(context.Background())
	_, err = a.Append(0, labels.FromStrings("__name__", "kept_if_not_rejected"), 0, testTS(2*time.Second), 1, nil, nil, storage.AOptions{})
	require.NoError(t, err)
	_, err = a.Append(0, labels.FromStrings("__name__", "reject"), 0, testTS(2*time.Second), 1, nil, nil, storage.AOptions{})
	require.NoError(t, err)
	require.ErrorIs(t, a.Commit(), ErrRejected)
	require.Empty(t, query(t, env.db, nameMatcher("kept_if_not_rejected")))

	a = app.AppenderV2(context.Background())
	_, err = a.Append(0, labels.FromStrings("__name__", "rolled_back"), 0, testTS(3*time.Second), 1, nil, nil, storage.AOptions{})
	require.NoError(t, err)
	require.NoError(t, a.Rollback())
	require.Empty(t, query(t, env.db, nameMatcher("rolled_back")))
}

// BenchmarkEndpointAppender appends a scrape of 1000 series per
// transaction through an Endpoint (pipeline, then the TSDB) and, for
// comparison, straight into the TSDB's own appender.
func BenchmarkEndpointAppender(b *testing.B) {
	series := make([]labels.Labels, 1000)
	for i := range series {
		series[i] = labels.FromStrings("__name__", "bench_metric", "instance", "localhost:9100", "series", strconv.Itoa(i))
	}
	run := func(b *testing.B, app storage.AppendableV2) {
		b.ReportAllocs()
		for i := 0; b.Loop(); i++ {
			a := app.AppenderV2(context.Background())
			ts := testTS(time.Duration(i) * time.Second)
			for _, ls := range series {
				if _, err := a.Append(0, ls, 0, ts, float64(i), nil, nil, storage.AOptions{}); err != nil {
					b.Fatal(err)
				}
			}
			if err := a.Commit(); err != nil {
				b.Fatal(err)
			}
		}
		b.ReportMetric(float64(b.N*len(series))/b.Elapsed().Seconds(), "samples/s")
	}
	b.Run("endpoint", func(b *testing.B) {
		db := openTestDB(b)
		h := NewHandler(Options{Now: func() time.Time { return testNow.Add(time.Hour * 24 * 365) }})
		run(b, h.Open(Target{ID: "ws-b", Appendable: db}))
	})
	b.Run("tsdb", func(b *testing.B) {
		run(b, openTestDB(b))
	})
}

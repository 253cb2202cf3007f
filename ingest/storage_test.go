package ingest

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/stretchr/testify/require"
)

// recordingAppendable passes appends to a real TSDB and records the metadata
// each series was appended with. Its appenders take exemplars only inline.
type recordingAppendable struct {
	db *tsdb.DB
	mu sync.Mutex
	md map[string]metadata.Metadata
}

func (ra *recordingAppendable) AppenderV2(ctx context.Context) storage.AppenderV2 {
	return &recordingAppender{app: ra.db.AppenderV2(ctx), ra: ra}
}

type recordingAppender struct {
	app storage.AppenderV2
	ra  *recordingAppendable
}

func (a *recordingAppender) Append(ref storage.SeriesRef, ls labels.Labels, st, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, opts storage.AOptions) (storage.SeriesRef, error) {
	a.ra.mu.Lock()
	if a.ra.md == nil {
		a.ra.md = map[string]metadata.Metadata{}
	}
	a.ra.md[ls.String()] = opts.Metadata
	a.ra.mu.Unlock()
	return a.app.Append(ref, ls, st, t, v, h, fh, opts)
}

func (a *recordingAppender) Commit() error   { return a.app.Commit() }
func (a *recordingAppender) Rollback() error { return a.app.Rollback() }

func TestMetadataReachesAppender(t *testing.T) {
	db := openTestDB(t)
	ra := &recordingAppendable{db: db}
	h := NewHandler(Options{Now: func() time.Time { return testNow }})
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h.Write(w, r, Target{ID: "ws", Appendable: ra})
	}))
	defer srv.Close()
	env := &testEnv{srv: srv}

	// 1.0: metadata entries in the same request reach the series of their family.
	_, err := env.store(t, v1Msg, &prompb.WriteRequest{
		Timeseries: []prompb.TimeSeries{
			{Labels: pl("__name__", "rpc_seconds_count"), Samples: []prompb.Sample{{Timestamp: testTS(0), Value: 1}}},
			{Labels: pl("__name__", "errors_total"), Samples: []prompb.Sample{{Timestamp: testTS(0), Value: 1}},
				Exemplars: []prompb.Exemplar{{Labels: pl("trace_id", "inline"), Value: 1, Timestamp: testTS(0)}}},
		},
		Metadata: []prompb.MetricMetadata{
			{Type: prompb.MetricMetadata_SUMMARY, MetricFamilyName: "rpc_seconds", Help: "RPCs."},
			{Type: prompb.MetricMetadata_COUNTER, MetricFamilyName: "errors_total", Help: "Errors."},
		},
	})
	require.NoError(t, err)
	// 2.0: per-series metadata.
	b := newV2Builder()
	b.series(labels.FromStrings("__name__", "queue_length"), func(ts *writev2.TimeSeries) {
		ts.Metadata = b.meta(writev2.Metadata_METRIC_TYPE_GAUGE, "Queue length.", "")
		ts.Samples = []writev2.Sample{{Value: 1, Timestamp: testTS(0)}}
		ts.Exemplars = []writev2.Exemplar{{LabelsRefs: b.st.SymbolizeLabels(labels.FromStrings("trace_id", "v2"), nil), Value: 1, Timestamp: testTS(0)}}
	})
	stats, err := env.store(t, v2Msg, b.build())
	require.NoError(t, err)
	require.Equal(t, 1, stats.Exemplars, "exemplars go inline when the appender cannot take them apart")

	require.Equal(t, map[string]metadata.Metadata{
		`{__name__="rpc_seconds_count"}`: {Type: model.MetricTypeSummary, Help: "RPCs."},
		`{__name__="errors_total"}`:      {Type: model.MetricTypeCounter, Help: "Errors."},
		`{__name__="queue_length"}`:      {Type: model.MetricTypeGauge, Help: "Queue length."},
	}, ra.md)
	require.Len(t, queryExemplars(t, db, nameMatcher("errors_total")), 1)
	require.Len(t, queryExemplars(t, db, nameMatcher("queue_length")), 1)
}

func TestLabelsCache(t *testing.T) {
	for _, size := range []int{-1, 2, 0} {
		t.Run(fmt.Sprint(size), func(t *testing.T) {
			env := newTestEnv(t, Options{LabelsCacheSize: size})
			for round := range 3 {
				var ts []prompb.TimeSeries
				for i := range 5 {
					// The same series every round, in varying label order.
					ls := pl("__name__", "m", "i", fmt.Sprint(i), "z", "last", "empty", "")
					if (i+round)%2 == 0 {
						ls = pl("z", "last", "empty", "", "i", fmt.Sprint(i), "__name__", "m")
					}
					ts = append(ts, v1Series(ls, prompb.Sample{Timestamp: testTS(time.Duration(round) * time.Second), Value: float64(round)}))
				}
				ts = append(ts, v1Series(pl("__name__", "bad", "i", "1", "i", "2"), prompb.Sample{Timestamp: testTS(0), Value: 1}))
				_, err := env.store(t, v1Msg, &prompb.WriteRequest{Timeseries: ts})
				require.ErrorContains(t, err, `duplicate label name "i" for series {__name__="bad", i="1", i="2"}`, "round %d", round)
			}
			got := query(t, env.db, nameMatcher("m"))
			require.Len(t, got, 5)
			for i := range 5 {
				require.Len(t, got[fmt.Sprintf(`{__name__="m", i="%d", z="last"}`, i)], 3)
			}
			if c := env.handler.labels; c != nil {
				require.LessOrEqual(t, c.cur.len(), c.max)
				require.LessOrEqual(t, oldLen(c), c.max)
			}
		})
	}
}

// TestConcurrentWrites writes from four clients at once, each request of
// enough series to be prefetched, and enough series in all that the
// labels cache's table grows while others decode.
func TestConcurrentWrites(t *testing.T) {
	const seriesPerWriter = 250
	require.GreaterOrEqual(t, seriesPerWriter, minPrefetchSeries)
	require.Greater(t, 4*seriesPerWriter, minTableSlots*3/4)
	env := newTestEnv(t, Options{})
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			c := env.client(t, v2Msg)
			for round := range 10 {
				b := newV2Builder()
				for i := range seriesPerWriter {
					b.series(labels.FromStrings("__name__", "load", "writer", fmt.Sprint(w), "i", fmt.Sprint(i)), func(ts *writev2.TimeSeries) {
						ts.Samples = []writev2.Sample{{Value: float64(round), Timestamp: testTS(time.Duration(round) * time.Second)}}
					})
				}
				stats, err := c.Store(context.Background(), encode(t, b.build()), 0)
				if err != nil || stats.Samples != seriesPerWriter {
					t.Errorf("writer %d round %d: %v, %+v", w, round, err, stats)
					return
				}
			}
		}()
	}
	wg.Wait()
	require.Greater(t, len(env.handler.labels.cur.slots), minTableSlots, "the labels cache's table grew")
	got := query(t, env.db, nameMatcher("load"))
	require.Len(t, got, 4*seriesPerWriter)
	for _, s := range got {
		require.Len(t, s, 10)
	}
}

func TestWriteV2DecodeErrorHeaders(t *testing.T) {
	env := newTestEnv(t, Options{})
	resp := env.post(t, snappyEncode([]byte{0x2a, 0x05, 0x0a}), map[string]string{
		"Content-Type": "application/x-protobuf;proto=io.prometheus.write.v2.Request",
	})
	require.Equal(t, http.StatusBadRequest, resp.StatusCode)
	require.Equal(t, "0", resp.Header.Get(writtenSamplesHeader))
	require.Equal(t, "0", resp.Header.Get(writtenHistogramsHeader))
	require.Equal(t, "0", resp.Header.Get(writtenExemplarsHeader))
}

package quota

import (
	"context"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/fileutil"
	"github.com/prometheus/prometheus/tsdb/wlog"

	"github.com/promspace/promspace/ingest"
	"github.com/promspace/promspace/workspace"
)

// MeterComponentName is the name of the Component of Meters, for
// workspace.InstanceOf.
const MeterComponentName = "meter"

// IngestCounter tells what a workspace sent over remote write and what of it
// was stored; *ingest.Handler is one.
type IngestCounter interface {
	Usage(workspaceID string) ingest.Usage
}

// MeterOptions configure Meters.
type MeterOptions struct {
	// Registerer receives the usage metrics, each with a workspace label:
	// promspace_usage_query_samples_processed_total and
	// promspace_usage_storage_bytes (by kind: head, wal, blocks). Nil
	// registers nowhere.
	Registerer prometheus.Registerer
	// Ingest, if set, counts the samples each workspace ingested and the
	// samples discarded, by reason; ingest's own metrics show them. Without
	// it a MeterReading has none.
	Ingest IngestCounter
	// Now stamps each MeterReading; default time.Now.
	Now func() time.Time
}

// Meters meters the usage of every workspace by AMP's billing dimensions:
// samples ingested, storage, and query samples processed (QSP). Its
// Component gives each workspace its Meter.
type Meters struct {
	opts MeterOptions
	qsp  *prometheus.CounterVec

	mtx  sync.Mutex
	open map[*Meter]struct{} // what the storage collector reports
}

// NewMeters returns Meters with its metrics registered on opts.Registerer:
// call it once per Registerer.
func NewMeters(opts MeterOptions) *Meters {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	ms := &Meters{
		opts: opts,
		qsp: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "promspace_usage_query_samples_processed_total",
			Help: "Query samples processed (QSP) by the workspace's charged queries, from the engine's statistics.",
		}, []string{"workspace"}),
		open: map[*Meter]struct{}{},
	}
	if opts.Registerer != nil {
		opts.Registerer.MustRegister(ms.qsp, storageCollector{ms})
	}
	return ms
}

// Component returns the workspace component whose instance for each
// workspace is its *Meter. It needs the workspace's TSDB open, which a
// component's Open has.
func (ms *Meters) Component() workspace.Component {
	return workspace.NewComponent(MeterComponentName, func(_ context.Context, w *workspace.Workspace) (workspace.Instance, error) {
		return ms.newMeter(w), nil
	})
}

func (ms *Meters) newMeter(w *workspace.Workspace) *Meter {
	m := &Meter{ms: ms, w: w, qspCounter: ms.qsp.WithLabelValues(w.ID())}
	ms.mtx.Lock()
	ms.open[m] = struct{}{}
	ms.mtx.Unlock()
	return m
}

// Meter is one workspace's usage meter. Its counts start when the
// workspace opens in this process, as those of Prometheus counters do;
// storage is measured on the TSDB whenever it is read.
type Meter struct {
	ms         *Meters
	w          *workspace.Workspace
	qsp        atomic.Int64
	qspCounter prometheus.Counter

	// mtx orders Close after any storage measurement in flight, so that
	// nothing is reported of a workspace once its meter is closed.
	mtx    sync.RWMutex
	closed bool
}

var _ workspace.Instance = (*Meter)(nil)

// MeterReading is a workspace's usage at one moment.
type MeterReading struct {
	Time time.Time
	// SamplesIngested and HistogramsIngested are the float and native
	// histogram samples written to the workspace's TSDB: AMP bills both
	// as samples ingested.
	SamplesIngested    int64
	HistogramsIngested int64
	// SamplesDiscarded counts the samples refused, by reason (Cortex's
	// reason names).
	SamplesDiscarded map[string]int64
	// Storage is what the workspace's TSDB takes on disk.
	Storage StorageBytes
	// QuerySamplesProcessed is the QSP of the workspace's charged queries.
	QuerySamplesProcessed int64
}

// StorageBytes is the disk a workspace's TSDB takes, in bytes.
type StorageBytes struct {
	// Head is the head's memory-mapped chunks (chunks_head).
	Head int64
	// WAL is the write-ahead log and, with out-of-order samples, the
	// write-behind log.
	WAL int64
	// Blocks is the persisted blocks: chunks, index, tombstones and meta.
	Blocks int64
}

// Total returns Head + WAL + Blocks, the storage AMP bills.
func (s StorageBytes) Total() int64 { return s.Head + s.WAL + s.Blocks }

// Meter returns the workspace's Meter, nil when the Service opens none (or
// the Quota has no workspace).
func (q *Quota) Meter() *Meter {
	if q.w == nil {
		return nil
	}
	m, _ := workspace.InstanceOf[*Meter](q.w, MeterComponentName)
	return m
}

// ObserveQuery counts the query samples processed of one charged query; it
// is the workspace's query.Source.OnQuery.
func (m *Meter) ObserveQuery(samplesProcessed int64) {
	if samplesProcessed <= 0 {
		return
	}
	m.qsp.Add(samplesProcessed)
	m.qspCounter.Add(float64(samplesProcessed))
}

// Read returns the workspace's usage now.
func (m *Meter) Read() MeterReading {
	r := MeterReading{
		Time:                  m.ms.opts.Now(),
		QuerySamplesProcessed: m.qsp.Load(),
		SamplesDiscarded:      map[string]int64{},
	}
	if m.ms.opts.Ingest != nil {
		u := m.ms.opts.Ingest.Usage(m.w.ID())
		r.SamplesIngested, r.HistogramsIngested = u.WrittenSamples, u.WrittenHistograms
		r.SamplesDiscarded = u.DiscardedSamples
	}
	r.Storage, _ = m.storage()
	return r
}

// storage measures the workspace's TSDB, and is false once the meter is
// closed.
func (m *Meter) storage() (StorageBytes, bool) {
	m.mtx.RLock()
	defer m.mtx.RUnlock()
	if m.closed {
		return StorageBytes{}, false
	}
	return measureStorage(m.w.DB()), true
}

// measureStorage measures the disk db takes; a file that goes meanwhile
// (a WAL segment truncated, a block compacted away) counts for nothing.
func measureStorage(db *tsdb.DB) StorageBytes {
	var s StorageBytes
	if db == nil {
		return s
	}
	dirSize := func(name string) int64 {
		n, _ := fileutil.DirSize(filepath.Join(db.Dir(), name))
		return n
	}
	s.Head = dirSize("chunks_head")
	s.WAL = dirSize("wal") + dirSize(wlog.WblDirName)
	for _, b := range db.Blocks() {
		s.Blocks += b.Size()
	}
	return s
}

// ApplyConfig changes nothing: metering has no configuration.
func (m *Meter) ApplyConfig(workspace.Configuration) error { return nil }

// Close deletes the workspace's usage metrics.
func (m *Meter) Close() error {
	m.mtx.Lock()
	m.closed = true
	m.mtx.Unlock()
	m.ms.mtx.Lock()
	delete(m.ms.open, m)
	m.ms.mtx.Unlock()
	m.ms.qsp.DeleteLabelValues(m.w.ID())
	return nil
}

// storageCollector reports the storage of every open workspace, measured
// as it is scraped.
type storageCollector struct{ ms *Meters }

var storageDesc = prometheus.NewDesc("promspace_usage_storage_bytes",
	"Disk taken by the workspace's TSDB, by kind: head (memory-mapped head chunks), wal (write-ahead and write-behind logs) and blocks.",
	[]string{"workspace", "kind"}, nil)

func (c storageCollector) Describe(ch chan<- *prometheus.Desc) { ch <- storageDesc }

func (c storageCollector) Collect(ch chan<- prometheus.Metric) {
	c.ms.mtx.Lock()
	meters := make([]*Meter, 0, len(c.ms.open))
	for m := range c.ms.open {
		meters = append(meters, m)
	}
	c.ms.mtx.Unlock()
	for _, m := range meters {
		s, ok := m.storage()
		if !ok {
			continue
		}
		id := m.w.ID()
		ch <- prometheus.MustNewConstMetric(storageDesc, prometheus.GaugeValue, float64(s.Head), id, "head")
		ch <- prometheus.MustNewConstMetric(storageDesc, prometheus.GaugeValue, float64(s.WAL), id, "wal")
		ch <- prometheus.MustNewConstMetric(storageDesc, prometheus.GaugeValue, float64(s.Blocks), id, "blocks")
	}
}

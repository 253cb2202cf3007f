package query

import (
	"context"
	"errors"
	"fmt"
	"sync/atomic"
	"time"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/chunks"
	"github.com/prometheus/prometheus/util/annotations"
)

var (
	// ErrMaxChunksPerQuery is AMP's (Cortex's) answer to a query that read
	// more chunks than Options.MaxChunksPerQuery. The response's error is its
	// text with the limit.
	ErrMaxChunksPerQuery = errors.New("the query hit the max number of chunks limit")
	// ErrMaxBytesPerQuery is AMP's (Cortex's) answer to a query that read
	// more chunk bytes than Options.MaxBytesPerQuery allows for its range.
	ErrMaxBytesPerQuery = errors.New("the query hit the aggregated data size limit")
)

// limitError is a query limit's error with its numbers. It is the whole
// error message of the response, whatever the engine wrapped it in.
type limitError struct {
	sentinel error
	limit    string // the metrics label
	text     string
}

func (e *limitError) Error() string { return e.text }
func (e *limitError) Unwrap() error { return e.sentinel }

// asLimitError finds a limitError in err, which the engine may have wrapped.
func asLimitError(err error) (*limitError, bool) {
	if se, ok := errors.AsType[promql.ErrStorage](err); ok {
		err = se.Err // ErrStorage does not unwrap
	}
	return errors.AsType[*limitError](err)
}

// chunkLimiter counts the chunks and chunk bytes one query reads. A limit of
// zero or less is none.
type chunkLimiter struct {
	maxChunks, maxBytes int64
	chunks, bytes       atomic.Int64
}

// newChunkLimiter returns the limiter of a query over [start, end]: the
// bytes limit is per started 24 hours of that range, as AMP's is (an
// instant query gets one day's). It returns nil when there is no limit.
func newChunkLimiter(lim Limits, start, end time.Time) *chunkLimiter {
	if lim.MaxChunksPerQuery <= 0 && lim.MaxBytesPerQuery <= 0 {
		return nil
	}
	l := &chunkLimiter{maxChunks: int64(max(lim.MaxChunksPerQuery, 0))}
	if lim.MaxBytesPerQuery > 0 {
		const day = 24 * time.Hour
		days := max(1, int64((end.Sub(start)+day-1)/day))
		l.maxBytes = lim.MaxBytesPerQuery * days
	}
	return l
}

// add counts one series' chunks and fails once a limit is passed.
func (l *chunkLimiter) add(chunks, bytes int) error {
	if n := l.chunks.Add(int64(chunks)); l.maxChunks > 0 && n > l.maxChunks {
		return &limitError{ErrMaxChunksPerQuery, limitChunks,
			fmt.Sprintf("%s (limit: %d chunks)", ErrMaxChunksPerQuery, l.maxChunks)}
	}
	if n := l.bytes.Add(int64(bytes)); l.maxBytes > 0 && n > l.maxBytes {
		return &limitError{ErrMaxBytesPerQuery, limitBytes,
			fmt.Sprintf("%s (limit: %d bytes)", ErrMaxBytesPerQuery, l.maxBytes)}
	}
	return nil
}

// limitedQueryable is the storage the engine reads for one query: the
// workspace's chunks, counted by the query's limiter as each series is
// fetched and decoded into samples as the engine iterates them. The engine
// reads samples (storage.Querier); reading them from the ChunkQuerier is
// what lets the chunks be counted and measured.
type limitedQueryable struct {
	cq storage.ChunkQueryable
	l  *chunkLimiter
}

func (q limitedQueryable) Querier(mint, maxt int64) (storage.Querier, error) {
	cq, err := q.cq.ChunkQuerier(mint, maxt)
	if err != nil {
		return nil, err
	}
	return &limitedQuerier{ChunkQuerier: cq, l: q.l}, nil
}

// limitedQuerier answers Select with series whose chunks were counted; label
// names and values, and Close, are the ChunkQuerier's.
type limitedQuerier struct {
	storage.ChunkQuerier
	l *chunkLimiter
}

func (q *limitedQuerier) Select(ctx context.Context, sortSeries bool, hints *storage.SelectHints, ms ...*labels.Matcher) storage.SeriesSet {
	if hints != nil {
		// Whole chunks, as they are stored: the engine skips samples out of
		// its range, as it does for remote storage, and the TSDB then neither
		// re-encodes the chunks at the range's edges nor counts their bytes
		// short.
		h := *hints
		h.DisableTrimming = true
		hints = &h
	}
	return &limitedSeriesSet{ChunkSeriesSet: q.ChunkQuerier.Select(ctx, sortSeries, hints, ms...), l: q.l}
}

type limitedSeriesSet struct {
	storage.ChunkSeriesSet
	l   *chunkLimiter
	it  chunks.Iterator
	cur *chunkedSeries
	err error
}

func (s *limitedSeriesSet) Next() bool {
	if s.err != nil || !s.ChunkSeriesSet.Next() {
		return false
	}
	cs := s.ChunkSeriesSet.At()
	var (
		chks  []chunks.Meta
		bytes int
	)
	s.it = cs.Iterator(s.it)
	for s.it.Next() {
		m := s.it.At()
		bytes += len(m.Chunk.Bytes())
		chks = append(chks, m)
	}
	if err := s.it.Err(); err != nil {
		s.err = err
		return false
	}
	if err := s.l.add(len(chks), bytes); err != nil {
		s.err = err
		return false
	}
	s.cur = newChunkedSeries(cs.Labels(), chks)
	return true
}

func (s *limitedSeriesSet) At() storage.Series { return s.cur }

func (s *limitedSeriesSet) Err() error {
	if s.err != nil {
		return s.err
	}
	return s.ChunkSeriesSet.Err()
}

func (s *limitedSeriesSet) Warnings() annotations.Annotations { return s.ChunkSeriesSet.Warnings() }

// chunkedSeries is a series of fetched chunks, decoded as it is iterated.
type chunkedSeries struct {
	lset        labels.Labels
	chunks      []chunks.Meta // by MinTime
	overlapping bool
}

func newChunkedSeries(lset labels.Labels, chks []chunks.Meta) *chunkedSeries {
	s := &chunkedSeries{lset: lset, chunks: chks}
	for i := 1; i < len(chks); i++ {
		if chks[i].MinTime <= chks[i-1].MaxTime {
			s.overlapping = true
		}
	}
	return s
}

func (s *chunkedSeries) Labels() labels.Labels { return s.lset }

func (s *chunkedSeries) Iterator(it chunkenc.Iterator) chunkenc.Iterator {
	if s.overlapping {
		// Rare (out-of-order data across blocks): merge as Prometheus does.
		its := make([]chunkenc.Iterator, len(s.chunks))
		for i, m := range s.chunks {
			its[i] = m.Chunk.Iterator(nil)
		}
		return storage.ChainSampleIteratorFromIterators(it, its)
	}
	ci, ok := it.(*chunksIterator)
	if !ok {
		ci = &chunksIterator{}
	}
	ci.reset(s.chunks)
	return ci
}

// chunksIterator iterates the samples of chunks in time order that do not
// overlap.
type chunksIterator struct {
	chunks []chunks.Meta
	i      int               // the chunk cur iterates; len(chunks) at the end
	cur    chunkenc.Iterator // reused from chunk to chunk
	vt     chunkenc.ValueType
	err    error
}

func (it *chunksIterator) reset(chks []chunks.Meta) {
	it.chunks, it.i, it.vt, it.err = chks, -1, chunkenc.ValNone, nil
}

// open makes cur iterate chunk i.
func (it *chunksIterator) open(i int) {
	it.i = i
	if i < len(it.chunks) {
		it.cur = it.chunks[i].Chunk.Iterator(it.cur)
	}
}

func (it *chunksIterator) Next() chunkenc.ValueType {
	if it.i < 0 {
		it.open(0)
	}
	for it.i < len(it.chunks) {
		if it.vt = it.cur.Next(); it.vt != chunkenc.ValNone {
			return it.vt
		}
		if it.err = it.cur.Err(); it.err != nil {
			it.i = len(it.chunks)
			break
		}
		it.open(it.i + 1)
	}
	it.vt = chunkenc.ValNone
	return it.vt
}

// millis is int64 under another name: go vet's stdmethods check takes any
// Seek(int64) for a wrong io.Seeker, and Prometheus' iterators are not one.
type millis = int64

func (it *chunksIterator) Seek(t millis) chunkenc.ValueType {
	if it.vt != chunkenc.ValNone && it.cur.AtT() >= t {
		return it.vt
	}
	if it.i >= len(it.chunks) || len(it.chunks) == 0 {
		it.i, it.vt = len(it.chunks), chunkenc.ValNone
		return it.vt
	}
	// Skip, without decoding them, the chunks that end before t.
	j := max(it.i, 0)
	for j < len(it.chunks)-1 && it.chunks[j].MaxTime < t {
		j++
	}
	if j != it.i {
		it.open(j)
	}
	if it.vt = it.cur.Seek(t); it.vt != chunkenc.ValNone {
		return it.vt
	}
	if it.err = it.cur.Err(); it.err != nil {
		it.i = len(it.chunks)
		return chunkenc.ValNone
	}
	it.open(it.i + 1)
	return it.Next()
}

func (it *chunksIterator) At() (int64, float64) { return it.cur.At() }

func (it *chunksIterator) AtHistogram(h *histogram.Histogram) (int64, *histogram.Histogram) {
	return it.cur.AtHistogram(h)
}

func (it *chunksIterator) AtFloatHistogram(fh *histogram.FloatHistogram) (int64, *histogram.FloatHistogram) {
	return it.cur.AtFloatHistogram(fh)
}

func (it *chunksIterator) AtT() int64  { return it.cur.AtT() }
func (it *chunksIterator) AtST() int64 { return it.cur.AtST() }
func (it *chunksIterator) Err() error  { return it.err }

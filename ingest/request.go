package ingest

import (
	"strings"

	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/storage"
)

// Version is the remote-write protocol of a request.
type Version int

const (
	// V1 is remote write 1.0, the prometheus.WriteRequest message.
	V1 Version = 1
	// V2 is remote write 2.0, the io.prometheus.write.v2.Request message.
	V2 Version = 2
)

// String returns "1.0" or "2.0".
func (v Version) String() string {
	switch v {
	case V1:
		return "1.0"
	case V2:
		return "2.0"
	default:
		return "unknown"
	}
}

// Request is a decoded and validated remote-write request as the pipeline
// stages see it. Requests are pooled: the Request and its slices must not be
// used after the stage that received it returns.
type Request struct {
	Version Version
	// Series holds the series that are still to be written, with sorted,
	// valid labels.
	Series []Series
	// Metadata holds the metric-family metadata of a 1.0 request. Requests of
	// 2.0 carry metadata per series instead (Series.Metadata).
	Metadata []MetricMetadata

	rejections []rejection // since the last compaction

	// strip is the label decode left out of the series' Labels, "" for
	// none (see LabelStripper).
	strip string

	// Scratch of seriesRefs, reused across requests.
	lsets       []labels.Labels
	idx         []int
	found, refs []storage.SeriesRef

	// Decoding scratch, reused across requests.
	d decoder
}

// Series is one series of a request.
type Series struct {
	Labels     labels.Labels
	Samples    []Sample
	Histograms []Histogram
	// Exemplars of the series, in the order received.
	Exemplars []exemplar.Exemplar
	// Metadata is the series' metadata in a 2.0 request; empty in 1.0.
	Metadata metadata.Metadata

	// cached is the labels cache entry Labels came from, nil without one.
	cached *cachedLabels
	// stripped is the value of the request's stripped label, which Labels
	// lack, "" when the series did not have it.
	stripped string
	dropped  bool
}

// StrippedLabel returns the label that decoding left out of the series'
// Labels, for the request's first stage, a LabelStripper, to remove: ""
// when none was. A series that had it has its value in StrippedValue.
func (r *Request) StrippedLabel() string { return r.strip }

// StrippedValue returns the value of the request's StrippedLabel that the
// series had, which its Labels lack; "" when it did not have it.
func (s *Series) StrippedValue() string { return s.stripped }

// RestoreStripped puts the request's StrippedLabel back into the Labels
// of every series that had it, for a LabelStripper that keeps it: the
// labels are then the series' own, built anew (one allocation a series),
// and StrippedLabel is "".
func (r *Request) RestoreStripped() {
	if r.strip == "" {
		return
	}
	for i := range r.Series {
		s := &r.Series[i]
		if s.stripped != "" {
			s.Labels = labels.NewBuilder(s.Labels).Set(r.strip, s.stripped).Labels()
			s.cached, s.stripped = nil, ""
		}
	}
	r.strip = ""
}

// WithoutLabel returns the series' Labels without the label name (Labels
// itself when it has none), kept in the handler's labels cache entry the
// Labels were decoded from: the series received again gets the very same
// labels.Labels (the same memory, so the TSDB finds its series without
// comparing them). The entry is shared by all workspaces, and what it keeps
// depends only on the labels and name. ok is false, and ls empty, when
// Labels are not (or no longer) those of a cache entry, or the entry keeps
// them without another name (only the first name asked for is kept): the
// stage then removes the label itself. The result stays sorted and valid
// and may be kept by the stage.
func (s *Series) WithoutLabel(name string) (ls labels.Labels, ok bool) {
	e := s.cached
	if e == nil || !labels.Equal(e.labels, s.Labels) {
		return labels.EmptyLabels(), false
	}
	d := e.derived.Load()
	if d == nil {
		nd := &derivedLabels{name: name, without: withoutLabel(e.labels, name)}
		if e.derived.CompareAndSwap(nil, nd) {
			return nd.without, true
		}
		d = e.derived.Load() // another request's, meanwhile
	}
	if d.name == name {
		return d.without, true
	}
	return labels.EmptyLabels(), false
}

// withoutLabel returns ls without the label name. A name that starts with
// "_" sorts before the others, so Labels.DropReserved finds and cuts it
// out without decoding the rest, in one allocation.
func withoutLabel(ls labels.Labels, name string) labels.Labels {
	if strings.HasPrefix(name, "_") {
		return ls.DropReserved(func(n string) bool { return n == name })
	}
	if !ls.Has(name) {
		return ls
	}
	return labels.NewBuilder(ls).Del(name).Labels()
}

// Sample is a float sample. StartTimestamp is the 2.0 start (created)
// timestamp in milliseconds, 0 when unknown.
type Sample struct {
	StartTimestamp int64
	Timestamp      int64
	Value          float64
}

// Histogram is a native histogram sample: exactly one of H and FH is set.
type Histogram struct {
	StartTimestamp int64
	Timestamp      int64
	H              *histogram.Histogram
	FH             *histogram.FloatHistogram
}

// MetricMetadata is a metadata entry of a 1.0 request.
type MetricMetadata struct {
	MetricFamily string
	Metadata     metadata.Metadata
}

// rejection is a dropped series, or an error that drops no series.
type rejection struct {
	samples int // floats and histograms dropped
	reason  string
	err     error
}

// Drop removes Series[i] from the request. The rest of the request is still
// written; when err is not nil the response is 400 and lists err (which
// should name the series). reason labels the discarded-samples metric.
// Series are removed once the stage returns, so indexes stay stable while it
// runs. Dropping a series twice keeps the first reason.
func (r *Request) Drop(i int, reason string, err error) {
	s := &r.Series[i]
	if s.dropped {
		return
	}
	s.dropped = true
	r.rejections = append(r.rejections, rejection{
		samples: len(s.Samples) + len(s.Histograms),
		reason:  reason,
		err:     err,
	})
}

// reject records an error that drops no series, such as invalid metadata.
func (r *Request) reject(reason string, err error) {
	r.rejections = append(r.rejections, rejection{reason: reason, err: err})
}

// SampleCount returns the number of float samples in the request.
func (r *Request) SampleCount() int {
	n := 0
	for i := range r.Series {
		n += len(r.Series[i].Samples)
	}
	return n
}

// HistogramCount returns the number of native histogram samples in the
// request.
func (r *Request) HistogramCount() int {
	n := 0
	for i := range r.Series {
		n += len(r.Series[i].Histograms)
	}
	return n
}

// ExemplarCount returns the number of exemplars in the request.
func (r *Request) ExemplarCount() int {
	n := 0
	for i := range r.Series {
		n += len(r.Series[i].Exemplars)
	}
	return n
}

// MetadataCount returns the number of metadata entries in the request: the
// 1.0 metadata entries, or the 2.0 series that carry metadata.
func (r *Request) MetadataCount() int {
	n := len(r.Metadata)
	for i := range r.Series {
		if !r.Series[i].Metadata.IsEmpty() {
			n++
		}
	}
	return n
}

// compact removes the dropped series from r.Series, passing each drop to fn.
func (r *Request) compact(fn func(d *rejection)) {
	if len(r.rejections) == 0 {
		return
	}
	kept := r.Series[:0]
	for i := range r.Series {
		if !r.Series[i].dropped {
			kept = append(kept, r.Series[i])
		}
	}
	clear(r.Series[len(kept):])
	r.Series = kept
	for i := range r.rejections {
		fn(&r.rejections[i])
	}
	clear(r.rejections)
	r.rejections = r.rejections[:0]
}

// reset clears r for reuse, keeping its buffers.
func (r *Request) reset() {
	clear(r.Series)
	r.Series = r.Series[:0]
	clear(r.Metadata)
	r.Metadata = r.Metadata[:0]
	clear(r.rejections)
	r.rejections = r.rejections[:0]
	clear(r.lsets)
	r.lsets = r.lsets[:0]
	r.strip = ""
	r.d.reset()
}

// newRequest returns an empty request ready to decode into.
func newRequest() *Request {
	r := new(Request)
	r.d.b = newScratchBuilder()
	return r
}

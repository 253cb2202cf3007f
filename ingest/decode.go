package ingest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
)

// decoder turns a decompressed protobuf body into a Request. It keeps its
// scratch space between requests; label names and values point into the
// body until they are copied into each series' Labels.
type decoder struct {
	scheme model.ValidationScheme

	b         labels.ScratchBuilder
	pairs     []labels.Label // label pairs of the series being decoded
	refs      []uint32       // 2.0 label references of the series being decoded
	samples   []Sample
	hists     []Histogram
	exemplars []exemplar.Exemplar

	// cache, when set, is read-locked by the caller for the whole decode;
	// misses are collected in pending.
	cache   *labelsCache
	pending []cacheEntry

	// strip is the label left out of each series' Labels, "" for none
	// (see LabelStripper); stripped is the last value it had, copied out of
	// the body, for the next series of the same value.
	strip, stripped string
	// validStrip is the last value of the stripped label validStripped
	// passed, pointing into the body.
	validStrip string

	// 2.0 only.
	symbols  []string      // point into the body
	symValid []symValidity // what validation found of each symbol so far
	// refsValid is whether every name and value of the pairs of the series
	// being decoded is known valid (see validRefs), which spares validate
	// those checks.
	refsValid bool
	symHashes []uint64          // the cache's hash of each symbol
	rawSeries [][]byte          // the encoded series, decoded once symbols are known
	symCopies map[uint32]string // metadata strings copied out of the body

	// What prefetchV2 read, and its scratch.
	peeked     []peekedSeries
	peekedRefs []uint32
	entries    []*cachedLabels
	prefetched uint64
	// hash is the cache's hash of the series being decoded, when hashed is
	// set: prefetchV2's.
	hash   uint64
	hashed bool
}

func (d *decoder) reset() {
	d.pairs = d.pairs[:0]
	d.refs = d.refs[:0]
	d.samples = d.samples[:0]
	clear(d.hists)
	d.hists = d.hists[:0]
	clear(d.exemplars)
	d.exemplars = d.exemplars[:0]
	clear(d.symbols)
	d.symbols = d.symbols[:0]
	d.symHashes = d.symHashes[:0]
	d.symValid = d.symValid[:0]
	d.refsValid = false
	d.peeked, d.peekedRefs = d.peeked[:0], d.peekedRefs[:0]
	d.hashed = false
	clear(d.rawSeries)
	d.rawSeries = d.rawSeries[:0]
	clear(d.symCopies)
	d.cache = nil
	d.strip, d.stripped, d.validStrip = "", "", ""
	clear(d.pending)
	d.pending = d.pending[:0]
}

// decode decodes body, a decompressed message of the given version, into r.
// An error means the body is not a valid message; invalid series are
// dropped from r with their reasons instead.
//
// strip, if not "", is a label to leave out of each series' Labels, its
// value kept in the series (see LabelStripper).
func decode(r *Request, v Version, body []byte, scheme model.ValidationScheme, cache *labelsCache, strip string) error {
	r.Version = v
	r.d.scheme = scheme
	r.d.strip, r.strip = strip, strip
	if cache != nil {
		r.d.cache = cache
		cache.mu.RLock()
		defer func() {
			cache.mu.RUnlock()
			cache.add(r.d.pending)
		}()
	}
	if v == V2 {
		return r.d.decodeV2(r, body)
	}
	return r.d.decodeV1(r, body)
}

// seriesStart holds where the parts of the series being decoded start in
// the decoder's scratch slices.
type seriesStart struct {
	pairs, samples, hists, exemplars int
}

func (d *decoder) start() seriesStart {
	return seriesStart{
		pairs:     len(d.pairs),
		samples:   len(d.samples),
		hists:     len(d.hists),
		exemplars: len(d.exemplars),
	}
}

// finish validates the labels of the series decoded since st and adds the
// series to r, dropped with a reason when it is invalid.
func (d *decoder) finish(r *Request, st seriesStart, md metadata.Metadata) {
	pairs := d.pairs[st.pairs:]
	s := Series{
		Samples:    d.samples[st.samples:len(d.samples):len(d.samples)],
		Histograms: d.hists[st.hists:len(d.hists):len(d.hists)],
		Exemplars:  d.exemplars[st.exemplars:len(d.exemplars):len(d.exemplars)],
		Metadata:   md,
	}
	if len(s.Samples) == 0 {
		s.Samples = nil
	}
	if len(s.Histograms) == 0 {
		s.Histograms = nil
	}
	if len(s.Exemplars) == 0 {
		s.Exemplars = nil
	}
	k := d.stripIndex(pairs)
	var stripped string
	if k >= 0 {
		stripped = pairs[k].Value // before validation sorts the pairs
	}
	ls, entry, reason, err := d.labels(pairs, k)
	s.Labels, s.cached = ls, entry
	if k >= 0 && err == nil {
		s.stripped = d.strippedValue(stripped)
	}
	d.pairs = d.pairs[:st.pairs]
	r.Series = append(r.Series, s)
	if err != nil {
		r.Drop(len(r.Series)-1, reason, err)
	}
}

// stripIndex returns the index in pairs of the label to strip, -1 when
// there is none (or the series has it empty, which validation drops).
func (d *decoder) stripIndex(pairs []labels.Label) int {
	if d.strip == "" {
		return -1
	}
	for i := range pairs {
		if pairs[i].Name == d.strip {
			if pairs[i].Value == "" {
				return -1
			}
			return i
		}
	}
	return -1
}

// validStripped reports whether the stripped pair p passes validation,
// as validate checks a label other than the metric name. The series of a
// request mostly share the value (one replica's), which is checked once.
func (d *decoder) validStripped(p labels.Label) bool {
	if p.Value == d.validStrip && p.Value != "" {
		return true
	}
	if !d.scheme.IsValidLabelName(p.Name) || !utf8.ValidString(p.Value) {
		return false
	}
	d.validStrip = p.Value
	return true
}

// strippedValue returns v, a stripped label's value in the body, as a
// string of its own: the previous series' when it is the same, as the
// replica label of a request is.
func (d *decoder) strippedValue(v string) string {
	if v != d.stripped {
		d.stripped = strings.Clone(v)
	}
	return d.stripped
}

// labels returns the validated labels of a series, without pairs[skip]
// when skip is not -1, from the cache when the same pairs were seen
// before, and their cache entry (nil without a cache). The stripped pair
// is validated with the others, and is neither in the cache's key nor in
// its entry: the entry holds the labels as the TSDB stores them, and the
// same series from every replica of an HA pair shares it.
func (d *decoder) labels(pairs []labels.Label, skip int) (labels.Labels, *cachedLabels, string, error) {
	if d.cache == nil {
		ls, reason, err := d.validateAndBuild(pairs)
		return ls, nil, reason, err
	}
	hash := d.hash
	if !d.hashed {
		hash = d.seriesHash(pairs, skip)
	}
	e, ok, stale := d.cache.get(hash, pairs, skip)
	if ok && skip >= 0 && !d.validStripped(pairs[skip]) {
		// The entry was checked without the stripped pair: the pair is
		// checked here, and validation says what is wrong with it.
		ok, stale = false, false
	}
	if !ok {
		ls, reason, err := d.validateAndBuild(pairs)
		if err != nil {
			return ls, nil, reason, err
		}
		e = &cachedLabels{labels: ls}
	}
	if !ok || stale {
		d.pending = append(d.pending, cacheEntry{hash: hash, entry: e})
	}
	return e.labels, e, "", nil
}

// seriesHash is the cache's hash of pairs without pairs[skip]: from the
// hashes of the 2.0 request's symbols their references name (d.refs), or
// from the pairs.
func (d *decoder) seriesHash(pairs []labels.Label, skip int) uint64 {
	if len(d.symHashes) == 0 {
		return d.cache.hash(pairs, skip)
	}
	return d.refsHash(d.refs, skip)
}

// refsHash is the cache's hash of a 2.0 series' label references, without
// the pair of index skip (-1 for none); the references are within the
// symbols table.
func (d *decoder) refsHash(refs []uint32, skip int) uint64 {
	hs := d.symHashes
	n := len(refs) / 2
	if skip >= 0 {
		n--
	}
	h := uint64(n)
	for j := 0; j+1 < len(refs); j += 2 {
		if j/2 != skip {
			h = mixHash(h, hs[refs[j]], hs[refs[j+1]])
		}
	}
	return h
}

func (d *decoder) validateAndBuild(pairs []labels.Label) (labels.Labels, string, error) {
	pairs, reason, err := d.validate(pairs)
	if err != nil {
		return labels.EmptyLabels(), reason, err
	}
	d.b.Reset()
	for _, p := range pairs {
		if p.Name != d.strip {
			d.b.Add(p.Name, p.Value)
		}
	}
	return d.b.Labels(), "", nil
}

// validate checks the label pairs of a series. It removes labels with empty
// values (the TSDB treats them as absent), sorts the pairs, and rejects
// missing or invalid metric names, invalid label names or values, and
// duplicate label names.
func (d *decoder) validate(pairs []labels.Label) ([]labels.Label, string, error) {
	checked := d.refsValid // names and values are valid: the rest is left
	d.refsValid = false
	sorted := true
	n := 0
	for i, p := range pairs {
		if p.Value == "" {
			continue
		}
		if n > 0 && p.Name < pairs[n-1].Name {
			sorted = false
		}
		pairs[n] = pairs[i]
		n++
	}
	pairs = pairs[:n]
	if !sorted {
		slices.SortFunc(pairs, func(a, b labels.Label) int { return strings.Compare(a.Name, b.Name) })
	}
	hasName := false
	for i, p := range pairs {
		if i > 0 && p.Name == pairs[i-1].Name {
			return pairs, ReasonDuplicateLabelNames, fmt.Errorf("duplicate label name %q for series %s", p.Name, seriesString(pairs))
		}
		if p.Name == model.MetricNameLabel {
			hasName = true
			if !checked && !d.scheme.IsValidMetricName(p.Value) {
				return pairs, ReasonInvalidMetricName, fmt.Errorf("invalid metric name %q for series %s", p.Value, seriesString(pairs))
			}
			continue
		}
		if checked {
			continue
		}
		if !d.scheme.IsValidLabelName(p.Name) {
			return pairs, ReasonInvalidLabel, fmt.Errorf("invalid label name %q for series %s", p.Name, seriesString(pairs))
		}
		if !utf8.ValidString(p.Value) {
			return pairs, ReasonInvalidLabel, fmt.Errorf("invalid label value %q for label %q of series %s", p.Value, p.Name, seriesString(pairs))
		}
	}
	if !hasName {
		return pairs, ReasonMissingMetricName, fmt.Errorf("missing metric name for series %s", seriesString(pairs))
	}
	return pairs, "", nil
}

// maxSeriesStringLen bounds how much of a series an error message quotes.
const maxSeriesStringLen = 1024

// seriesString formats label pairs the way labels.Labels.String does, cut
// at maxSeriesStringLen bytes.
func seriesString(pairs []labels.Label) string {
	b := make([]byte, 0, 128)
	b = append(b, '{')
	for i, p := range pairs {
		if i > 0 {
			b = append(b, ", "...)
		}
		if model.LegacyValidation.IsValidLabelName(p.Name) {
			b = append(b, p.Name...)
		} else {
			b = strconv.AppendQuote(b, p.Name)
		}
		b = append(b, '=')
		b = strconv.AppendQuote(b, p.Value)
		if len(b) > maxSeriesStringLen {
			return string(b[:maxSeriesStringLen]) + "...}"
		}
	}
	return string(append(b, '}'))
}

// metricType maps the metric type enum shared by 1.0 and 2.0 to the model's.
func metricType(v int32) model.MetricType {
	switch v {
	case 1:
		return model.MetricTypeCounter
	case 2:
		return model.MetricTypeGauge
	case 3:
		return model.MetricTypeHistogram
	case 4:
		return model.MetricTypeGaugeHistogram
	case 5:
		return model.MetricTypeSummary
	case 6:
		return model.MetricTypeInfo
	case 7:
		return model.MetricTypeStateset
	default:
		return model.MetricTypeUnknown
	}
}

// contentError is a body that is valid protobuf but not a valid request of
// the version its Content-Type declares.
type contentError struct{ msg string }

func (e *contentError) Error() string { return e.msg }

// Top-level fields of the two messages: a body whose fields all belong to
// the other version was sent with the wrong Content-Type. Protobuf skips
// unknown fields, so it would otherwise decode to an empty request and be
// answered 204 with nothing written.
var requestFields = map[Version]map[int32]string{
	V1: {1: "timeseries", 3: "metadata"},
	V2: {4: "symbols", 5: "timeseries"},
}

// noKnownFields describes a non-empty body, valid protobuf, none of whose
// top-level fields belongs to a request of version v. It runs only on that
// error path, so the decoders need only note whether they saw a known field.
func noKnownFields(b []byte, v Version) error {
	other := V2
	if v == V2 {
		other = V1
	}
	var (
		otherNames []string // fields of the other version, in order of appearance
		unknown    []string // other fields, as "number (wire type)"
	)
	for i := 0; i < len(b); {
		field, wt, _, err := readTag(b, i, "")
		if err != nil {
			break // cannot happen: the decoder has read the body
		}
		if name, ok := requestFields[other][field]; ok && wt == wireBytes {
			if !slices.Contains(otherNames, name) {
				otherNames = append(otherNames, name)
			}
		} else if s := fmt.Sprintf("%d (wire type %d)", field, wt); !slices.Contains(unknown, s) && len(unknown) < 5 {
			unknown = append(unknown, s)
		}
		if i, err = skipField(b, i); err != nil {
			break
		}
	}
	switch {
	case len(otherNames) > 0 && len(unknown) == 0:
		return &contentError{fmt.Sprintf("body holds only fields of a %s request (%s); Content-Type says %s", other, strings.Join(otherNames, ", "), v)}
	case len(otherNames) > 0:
		return &contentError{fmt.Sprintf("body holds no field of a %s request, only fields of a %s request (%s) and unknown fields %s; Content-Type says %s", v, other, strings.Join(otherNames, ", "), strings.Join(unknown, ", "), v)}
	default:
		return &contentError{fmt.Sprintf("body holds no field of a %s request, only unknown fields %s", v, strings.Join(unknown, ", "))}
	}
}

// quoteCut quotes s, cut to 64 bytes.
func quoteCut(s string) string {
	if len(s) > 64 {
		return strconv.Quote(s[:64]) + "..."
	}
	return strconv.Quote(s)
}

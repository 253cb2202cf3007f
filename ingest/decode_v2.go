package ingest

import (
	"fmt"
	"slices"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/common/model"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
)

// decodeV2 decodes an io.prometheus.write.v2.Request (writev2.Request). The
// symbols may follow the series on the wire, so series are decoded once the
// whole message has been read. A symbols table that does not start with ""
// is an error, as the spec requires it: the sender's references are likely
// off by one.
func (d *decoder) decodeV2(r *Request, b []byte) error {
	for i := 0; i < len(b); {
		field, wt, next, err := readTag(b, i, "Request")
		if err != nil {
			return err
		}
		switch field {
		case 4, 5:
			if wt != wireBytes {
				return wrongWireType("Request", wt)
			}
			var msg []byte
			if msg, next, err = readBytes(b, next); err != nil {
				return err
			}
			if field == 4 {
				d.symbols = append(d.symbols, unsafeString(msg))
			} else {
				d.rawSeries = append(d.rawSeries, msg)
			}
		default:
			if next, err = skipField(b, i); err != nil {
				return err
			}
		}
		i = next
	}
	if len(d.symbols) == 0 && len(d.rawSeries) == 0 && len(b) > 0 {
		return noKnownFields(b, V2)
	}
	if len(d.symbols) > 0 && d.symbols[0] != "" {
		return &contentError{fmt.Sprintf("symbols[0] is %s, not the empty string that remote write 2.0 requires it to be", quoteCut(d.symbols[0]))}
	}
	d.symValid = slices.Grow(d.symValid[:0], len(d.symbols))[:len(d.symbols)]
	clear(d.symValid)
	if d.cache != nil {
		for _, sym := range d.symbols {
			d.symHashes = append(d.symHashes, d.cache.stringHash(sym))
		}
		d.prefetchV2()
	}
	for i, msg := range d.rawSeries {
		if err := d.decodeSeriesV2(r, msg, i); err != nil {
			return err
		}
	}
	return nil
}

// decodeSeriesV2 decodes b, the request's raw series n.
func (d *decoder) decodeSeriesV2(r *Request, b []byte, n int) error {
	st := d.start()
	d.refs = d.refs[:0]
	peeked, hash, havePeeked := d.peek(n)
	var (
		md        wireMetadata
		exemplars []error
	)
	for i := 0; i < len(b); {
		field, wt, next, err := readTag(b, i, "TimeSeries")
		if err != nil {
			return err
		}
		switch field {
		case 1:
			if havePeeked {
				next, err = skipField(b, i)
			} else {
				d.refs, next, err = appendRefs(d.refs, b, next, wt, "LabelsRefs")
			}
			if err != nil {
				return err
			}
		case 2, 3, 4, 5:
			if wt != wireBytes {
				return wrongWireType("TimeSeries", wt)
			}
			var msg []byte
			if msg, next, err = readBytes(b, next); err != nil {
				return err
			}
			switch field {
			case 2:
				var s Sample
				if s, err = decodeSample(msg, sampleV2); err != nil {
					return err
				}
				d.samples = append(d.samples, s)
			case 3:
				var hp writev2.Histogram
				if err = hp.Unmarshal(msg); err != nil {
					return err
				}
				h := Histogram{StartTimestamp: hp.StartTimestamp, Timestamp: hp.Timestamp}
				if hp.IsFloatHistogram() {
					h.FH = hp.ToFloatHistogram()
				} else {
					h.H = hp.ToIntHistogram()
				}
				d.hists = append(d.hists, h)
			case 4:
				var exErr error
				if exErr, err = d.decodeExemplar(msg, exemplarV2); err != nil {
					return err
				}
				if exErr != nil {
					exemplars = append(exemplars, exErr)
				}
			case 5:
				if err = decodeMetadata(msg, metadataV2, &md); err != nil {
					return err
				}
			}
		default:
			if next, err = skipField(b, i); err != nil {
				return err
			}
		}
		i = next
	}

	if havePeeked {
		d.refs = append(d.refs, peeked...)
	}
	if err := d.appendLabelRefs(d.refs); err != nil {
		return d.dropV2(r, st, ReasonInvalidLabel, fmt.Errorf("parsing labels for series %v: %w", d.refs, err))
	}
	m, err := d.metadataV2(md)
	if err != nil {
		return d.dropV2(r, st, ReasonInvalidMetadata, fmt.Errorf("parsing metadata for series %s: %w", seriesString(d.pairs[st.pairs:]), err))
	}
	if len(d.samples) == st.samples && len(d.hists) == st.hists {
		return d.dropV2(r, st, ReasonEmptySeries, fmt.Errorf("TimeSeries must contain at least one sample or histogram for series %s", seriesString(d.pairs[st.pairs:])))
	}
	for _, err := range exemplars {
		r.reject(ReasonInvalidExemplar, fmt.Errorf("parsing exemplar for series %s: %w", seriesString(d.pairs[st.pairs:]), err))
	}
	d.hash, d.hashed = hash, havePeeked
	d.finish(r, st, m)
	d.hashed = false
	return nil
}

// dropV2 adds the series decoded since st to r as dropped: it stays out of
// the TSDB, and the response lists err.
func (d *decoder) dropV2(r *Request, st seriesStart, reason string, err error) error {
	r.Series = append(r.Series, Series{
		Samples:    d.samples[st.samples:len(d.samples):len(d.samples)],
		Histograms: d.hists[st.hists:len(d.hists):len(d.hists)],
	})
	r.Drop(len(r.Series)-1, reason, err)
	d.pairs = d.pairs[:st.pairs]
	d.exemplars = d.exemplars[:st.exemplars]
	return nil
}

// appendLabelRefs resolves label references, name and value alternating,
// into d.pairs, the way writev2.TimeSeries.ToLabels does.
func (d *decoder) appendLabelRefs(refs []uint32) error {
	if len(refs)%2 != 0 {
		return fmt.Errorf("invalid labelRefs length %d", len(refs))
	}
	symbols, pairs := d.symbols, d.pairs // not through d in the loop
	valid := true
	for j := 0; j+1 < len(refs); j += 2 {
		name, value := refs[j], refs[j+1]
		if int(name) >= len(symbols) || int(value) >= len(symbols) {
			d.pairs = pairs
			return fmt.Errorf("labelRefs %d (name) = %d (value) outside of symbols table (size %d)", name, value, len(symbols))
		}
		pairs = append(pairs, labels.Label{Name: symbols[name], Value: symbols[value]})
		valid = valid && d.validRefs(name, value)
	}
	d.pairs = pairs
	d.refsValid = valid
	return nil
}

// symValidity is what validation found of a symbol as a label name, as a
// label value and as a metric name, each checked once per request: the
// series of a request share most of their names and values.
type symValidity uint8

const (
	symNameChecked symValidity = 1 << iota
	symNameValid
	symIsMetricName // the symbol is __name__
	symValueChecked
	symValueValid
	symMetricChecked
	symMetricValid
)

// validRefs reports whether the pair of symbols name and value passes
// validate's checks of a label's name and value, a metric name's when the
// name is __name__. When it does not, validate finds out what is wrong.
func (d *decoder) validRefs(name, value uint32) bool {
	f := d.symValid[name]
	if f&symNameChecked == 0 {
		f |= symNameChecked
		switch s := d.symbols[name]; {
		case s == model.MetricNameLabel:
			f |= symIsMetricName | symNameValid
		case d.scheme.IsValidLabelName(s):
			f |= symNameValid
		}
		d.symValid[name] = f
	}
	if f&symNameValid == 0 {
		return false
	}
	v := d.symValid[value]
	if f&symIsMetricName != 0 {
		if v&symMetricChecked == 0 {
			v |= symMetricChecked
			if d.scheme.IsValidMetricName(d.symbols[value]) {
				v |= symMetricValid
			}
			d.symValid[value] = v
		}
		return v&symMetricValid != 0
	}
	if v&symValueChecked == 0 {
		v |= symValueChecked
		if utf8.ValidString(d.symbols[value]) {
			v |= symValueValid
		}
		d.symValid[value] = v
	}
	return v&symValueValid != 0
}

// metadataV2 resolves a series' metadata. Its strings are copied out of the
// body, once per request for each symbol, because the TSDB and the metadata
// store keep them.
func (d *decoder) metadataV2(md wireMetadata) (metadata.Metadata, error) {
	m := metadata.Metadata{Type: metricType(md.typ)}
	var err error
	if m.Unit, err = d.metadataSymbol(md.unitRef, "unit"); err != nil {
		return m, err
	}
	if m.Help, err = d.metadataSymbol(md.helpRef, "help"); err != nil {
		return m, err
	}
	return m, nil
}

func (d *decoder) metadataSymbol(ref uint32, what string) (string, error) {
	if ref == 0 && len(d.symbols) == 0 {
		return "", nil
	}
	if int(ref) >= len(d.symbols) {
		return "", fmt.Errorf("metadata %s_ref %d outside of symbols table (size %d)", what, ref, len(d.symbols))
	}
	s := d.symbols[ref]
	if s == "" {
		return "", nil
	}
	if c, ok := d.symCopies[ref]; ok {
		return c, nil
	}
	if d.symCopies == nil {
		d.symCopies = map[uint32]string{}
	}
	c := strings.Clone(s)
	d.symCopies[ref] = c
	return c, nil
}

package ingest

import (
	"fmt"
	"strings"

	"github.com/prometheus/prometheus/model/exemplar"
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
	for _, msg := range d.rawSeries {
		if err := d.decodeSeriesV2(r, msg); err != nil {
			return err
		}
	}
	return nil
}

// v2Metadata is the wire form of writev2.Metadata.
type v2Metadata struct {
	typ              int32
	helpRef, unitRef uint32
}

func (d *decoder) decodeSeriesV2(r *Request, b []byte) error {
	st := d.start()
	d.refs = d.refs[:0]
	var (
		md        v2Metadata
		exemplars []error
	)
	for i := 0; i < len(b); {
		field, wt, next, err := readTag(b, i, "TimeSeries")
		if err != nil {
			return err
		}
		switch field {
		case 1:
			if d.refs, next, err = appendRefs(d.refs, b, next, wt, "LabelsRefs"); err != nil {
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
				if s, err = decodeSampleV2(msg); err != nil {
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
				if exErr, err = d.decodeExemplarV2(msg); err != nil {
					return err
				}
				if exErr != nil {
					exemplars = append(exemplars, exErr)
				}
			case 5:
				if err = decodeMetadataV2(msg, &md); err != nil {
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

	// Resolve the label references the way writev2.TimeSeries.ToLabels does.
	if len(d.refs)%2 != 0 {
		return d.dropV2(r, st, ReasonInvalidLabel, fmt.Errorf("parsing labels for series %v: invalid labelRefs length %d", d.refs, len(d.refs)))
	}
	for j := 0; j < len(d.refs); j += 2 {
		name, value := d.refs[j], d.refs[j+1]
		if int(name) >= len(d.symbols) || int(value) >= len(d.symbols) {
			return d.dropV2(r, st, ReasonInvalidLabel, fmt.Errorf("parsing labels for series %v: labelRefs %d (name) = %d (value) outside of symbols table (size %d)", d.refs, name, value, len(d.symbols)))
		}
		d.pairs = append(d.pairs, labels.Label{Name: d.symbols[name], Value: d.symbols[value]})
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
	d.finish(r, st, m)
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

// appendRefs reads a repeated uint32 field, packed or not.
func appendRefs(refs []uint32, b []byte, i, wt int, field string) ([]uint32, int, error) {
	switch wt {
	case wireVarint:
		v, next, err := uvarint(b, i)
		if err != nil {
			return refs, next, err
		}
		return append(refs, uint32(v)), next, nil
	case wireBytes:
		packed, next, err := readBytes(b, i)
		if err != nil {
			return refs, next, err
		}
		for j := 0; j < len(packed); {
			var v uint64
			if v, j, err = uvarint(packed, j); err != nil {
				return refs, next, err
			}
			refs = append(refs, uint32(v))
		}
		return refs, next, nil
	default:
		return refs, i, wrongWireType(field, wt)
	}
}

func decodeSampleV2(b []byte) (Sample, error) {
	var s Sample
	for i := 0; i < len(b); {
		field, wt, next, err := readTag(b, i, "Sample")
		if err != nil {
			return s, err
		}
		switch field {
		case 1:
			if wt != wireFixed64 {
				return s, wrongWireType("Value", wt)
			}
			if s.Value, next, err = readDouble(b, next); err != nil {
				return s, err
			}
		case 2, 3:
			if wt != wireVarint {
				return s, wrongWireType("Timestamp", wt)
			}
			var v uint64
			if v, next, err = uvarint(b, next); err != nil {
				return s, err
			}
			if field == 2 {
				s.Timestamp = int64(v)
			} else {
				s.StartTimestamp = int64(v)
			}
		default:
			if next, err = skipField(b, i); err != nil {
				return s, err
			}
		}
		i = next
	}
	return s, nil
}

// decodeExemplarV2 decodes an exemplar and adds it to d.exemplars. A
// malformed message is err; labels that do not resolve are exErr, which
// drops only the exemplar.
func (d *decoder) decodeExemplarV2(b []byte) (exErr, err error) {
	refStart := len(d.refs)
	defer func() { d.refs = d.refs[:refStart] }()
	var e exemplar.Exemplar
	for i := 0; i < len(b); {
		field, wt, next, err := readTag(b, i, "Exemplar")
		if err != nil {
			return nil, err
		}
		switch field {
		case 1:
			if d.refs, next, err = appendRefs(d.refs, b, next, wt, "LabelsRefs"); err != nil {
				return nil, err
			}
		case 2:
			if wt != wireFixed64 {
				return nil, wrongWireType("Value", wt)
			}
			if e.Value, next, err = readDouble(b, next); err != nil {
				return nil, err
			}
		case 3:
			if wt != wireVarint {
				return nil, wrongWireType("Timestamp", wt)
			}
			var v uint64
			if v, next, err = uvarint(b, next); err != nil {
				return nil, err
			}
			e.Ts = int64(v)
		default:
			if next, err = skipField(b, i); err != nil {
				return nil, err
			}
		}
		i = next
	}
	refs := d.refs[refStart:]
	if len(refs)%2 != 0 {
		return fmt.Errorf("invalid labelRefs length %d", len(refs)), nil
	}
	d.b.Reset()
	for j := 0; j < len(refs); j += 2 {
		name, value := refs[j], refs[j+1]
		if int(name) >= len(d.symbols) || int(value) >= len(d.symbols) {
			return fmt.Errorf("labelRefs %d (name) = %d (value) outside of symbols table (size %d)", name, value, len(d.symbols)), nil
		}
		d.b.Add(d.symbols[name], d.symbols[value])
	}
	d.b.Sort()
	e.Labels = d.b.Labels()
	e.HasTs = e.Ts != 0
	d.exemplars = append(d.exemplars, e)
	return nil, nil
}

func decodeMetadataV2(b []byte, md *v2Metadata) error {
	for i := 0; i < len(b); {
		field, wt, next, err := readTag(b, i, "Metadata")
		if err != nil {
			return err
		}
		switch field {
		case 1, 3, 4:
			if wt != wireVarint {
				return wrongWireType("Metadata", wt)
			}
			var v uint64
			if v, next, err = uvarint(b, next); err != nil {
				return err
			}
			switch field {
			case 1:
				md.typ = int32(v)
			case 3:
				md.helpRef = uint32(v)
			case 4:
				md.unitRef = uint32(v)
			}
		default:
			if next, err = skipField(b, i); err != nil {
				return err
			}
		}
		i = next
	}
	return nil
}

// metadataV2 resolves a series' metadata. Its strings are copied out of the
// body, once per request for each symbol, because the TSDB and the metadata
// store keep them.
func (d *decoder) metadataV2(md v2Metadata) (metadata.Metadata, error) {
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

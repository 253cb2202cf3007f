package ingest

import (
	"fmt"
	"strings"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/prompb"
)

// decodeV1 decodes a prometheus.WriteRequest (prompb.WriteRequest). A
// non-empty body without a single timeseries or metadata field is an error:
// most likely a 2.0 request sent with the 1.0 Content-Type.
func (d *decoder) decodeV1(r *Request, b []byte) error {
	known := false
	for i := 0; i < len(b); {
		field, wt, next, err := readTag(b, i, "WriteRequest")
		if err != nil {
			return err
		}
		switch field {
		case 1, 3:
			if wt != wireBytes {
				return wrongWireType("WriteRequest", wt)
			}
			var msg []byte
			if msg, next, err = readBytes(b, next); err != nil {
				return err
			}
			known = true
			if field == 1 {
				err = d.decodeSeriesV1(r, msg)
			} else {
				err = decodeMetadataV1(r, msg)
			}
			if err != nil {
				return err
			}
		default:
			if next, err = skipField(b, i); err != nil {
				return err
			}
		}
		i = next
	}
	if !known && len(b) > 0 {
		return noKnownFields(b, V1)
	}
	return nil
}

func (d *decoder) decodeSeriesV1(r *Request, b []byte) error {
	st := d.start()
	for i := 0; i < len(b); {
		field, wt, next, err := readTag(b, i, "TimeSeries")
		if err != nil {
			return err
		}
		if field > 4 {
			if next, err = skipField(b, i); err != nil {
				return err
			}
			i = next
			continue
		}
		if wt != wireBytes {
			return wrongWireType("TimeSeries", wt)
		}
		var msg []byte
		if msg, next, err = readBytes(b, next); err != nil {
			return err
		}
		switch field {
		case 1:
			var l labels.Label
			if l, err = decodeLabelV1(msg); err != nil {
				return err
			}
			d.pairs = append(d.pairs, l)
		case 2:
			var s Sample
			if s, err = decodeSampleV1(msg); err != nil {
				return err
			}
			d.samples = append(d.samples, s)
		case 3:
			if err = d.decodeExemplarV1(msg); err != nil {
				return err
			}
		case 4:
			var hp prompb.Histogram
			if err = hp.Unmarshal(msg); err != nil {
				return err
			}
			h := Histogram{Timestamp: hp.Timestamp}
			if hp.IsFloatHistogram() {
				h.FH = hp.ToFloatHistogram()
			} else {
				h.H = hp.ToIntHistogram()
			}
			d.hists = append(d.hists, h)
		}
		i = next
	}
	if len(d.samples) == st.samples && len(d.hists) == st.hists {
		// Prometheus ignores series without samples in 1.0.
		d.pairs = d.pairs[:st.pairs]
		d.exemplars = d.exemplars[:st.exemplars]
		return nil
	}
	d.finish(r, st, metadata.Metadata{})
	return nil
}

func decodeLabelV1(b []byte) (labels.Label, error) {
	var l labels.Label
	for i := 0; i < len(b); {
		field, wt, next, err := readTag(b, i, "Label")
		if err != nil {
			return l, err
		}
		switch field {
		case 1, 2:
			if wt != wireBytes {
				return l, wrongWireType("Label", wt)
			}
			var s []byte
			if s, next, err = readBytes(b, next); err != nil {
				return l, err
			}
			if field == 1 {
				l.Name = unsafeString(s)
			} else {
				l.Value = unsafeString(s)
			}
		default:
			if next, err = skipField(b, i); err != nil {
				return l, err
			}
		}
		i = next
	}
	return l, nil
}

func decodeSampleV1(b []byte) (Sample, error) {
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
		case 2:
			if wt != wireVarint {
				return s, wrongWireType("Timestamp", wt)
			}
			var v uint64
			if v, next, err = uvarint(b, next); err != nil {
				return s, err
			}
			s.Timestamp = int64(v)
		default:
			if next, err = skipField(b, i); err != nil {
				return s, err
			}
		}
		i = next
	}
	return s, nil
}

// decodeExemplarV1 decodes an exemplar. Its labels go to d.pairs past the
// series' own pairs and are cut off again once copied, as the series' pairs
// may still grow after it.
func (d *decoder) decodeExemplarV1(b []byte) error {
	start := len(d.pairs)

	var e exemplar.Exemplar
	for i := 0; i < len(b); {
		field, wt, next, err := readTag(b, i, "Exemplar")
		if err != nil {
			return err
		}
		switch field {
		case 1:
			if wt != wireBytes {
				return wrongWireType("Labels", wt)
			}
			var msg []byte
			if msg, next, err = readBytes(b, next); err != nil {
				return err
			}
			var l labels.Label
			if l, err = decodeLabelV1(msg); err != nil {
				return err
			}
			d.pairs = append(d.pairs, l)
		case 2:
			if wt != wireFixed64 {
				return wrongWireType("Value", wt)
			}
			if e.Value, next, err = readDouble(b, next); err != nil {
				return err
			}
		case 3:
			if wt != wireVarint {
				return wrongWireType("Timestamp", wt)
			}
			var v uint64
			if v, next, err = uvarint(b, next); err != nil {
				return err
			}
			e.Ts = int64(v)
		default:
			if next, err = skipField(b, i); err != nil {
				return err
			}
		}
		i = next
	}
	e.HasTs = e.Ts != 0
	e.Labels = d.buildLabels(d.pairs[start:])
	d.pairs = d.pairs[:start]
	d.exemplars = append(d.exemplars, e)
	return nil
}

// buildLabels copies pairs into a new, sorted labels.Labels.
func (d *decoder) buildLabels(pairs []labels.Label) labels.Labels {
	d.b.Reset()
	for _, p := range pairs {
		d.b.Add(p.Name, p.Value)
	}
	d.b.Sort()
	return d.b.Labels()
}

func decodeMetadataV1(r *Request, b []byte) error {
	var (
		m      = MetricMetadata{Metadata: metadata.Metadata{Type: model.MetricTypeUnknown}}
		family string
	)
	for i := 0; i < len(b); {
		field, wt, next, err := readTag(b, i, "MetricMetadata")
		if err != nil {
			return err
		}
		switch field {
		case 1:
			if wt != wireVarint {
				return wrongWireType("Type", wt)
			}
			var v uint64
			if v, next, err = uvarint(b, next); err != nil {
				return err
			}
			m.Metadata.Type = metricType(int32(v))
		case 2, 4, 5:
			if wt != wireBytes {
				return wrongWireType("MetricMetadata", wt)
			}
			var s []byte
			if s, next, err = readBytes(b, next); err != nil {
				return err
			}
			switch field {
			case 2:
				family = unsafeString(s)
			case 4:
				m.Metadata.Help = unsafeString(s)
			case 5:
				m.Metadata.Unit = unsafeString(s)
			}
		default:
			if next, err = skipField(b, i); err != nil {
				return err
			}
		}
		i = next
	}
	if family == "" {
		r.reject(ReasonInvalidMetadata, fmt.Errorf("metadata without metric family name (type %q, help %q)", m.Metadata.Type, m.Metadata.Help))
		return nil
	}
	if !r.d.scheme.IsValidMetricName(family) {
		r.reject(ReasonInvalidMetadata, fmt.Errorf("invalid metric family name %q in metadata", family))
		return nil
	}
	// Metadata outlives the request: copy it out of the body.
	m.MetricFamily = strings.Clone(family)
	m.Metadata.Help = strings.Clone(m.Metadata.Help)
	m.Metadata.Unit = strings.Clone(m.Metadata.Unit)
	r.Metadata = append(r.Metadata, m)
	return nil
}

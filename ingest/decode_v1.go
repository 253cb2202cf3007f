package ingest

import (
	"fmt"
	"strings"

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
			if s, err = decodeSample(msg, sampleV1); err != nil {
				return err
			}
			d.samples = append(d.samples, s)
		case 3:
			// Label messages always resolve: no exErr.
			if _, err = d.decodeExemplar(msg, exemplarV1); err != nil {
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

func decodeMetadataV1(r *Request, b []byte) error {
	var md wireMetadata
	if err := decodeMetadata(b, metadataV1, &md); err != nil {
		return err
	}
	typ := metricType(md.typ)
	if md.family == "" {
		r.reject(ReasonInvalidMetadata, fmt.Errorf("metadata without metric family name (type %q, help %q)", typ, md.help))
		return nil
	}
	if !r.d.scheme.IsValidMetricName(md.family) {
		r.reject(ReasonInvalidMetadata, fmt.Errorf("invalid metric family name %q in metadata", md.family))
		return nil
	}
	// Metadata outlives the request: copy it out of the body.
	r.Metadata = append(r.Metadata, MetricMetadata{
		MetricFamily: strings.Clone(md.family),
		Metadata:     metadata.Metadata{Type: typ, Help: strings.Clone(md.help), Unit: strings.Clone(md.unit)},
	})
	return nil
}

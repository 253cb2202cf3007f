package ingest

import (
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/labels"
)

// Readers of the messages that 1.0 and 2.0 both have, each given the
// version's field numbers, so that both decoders read them with one piece
// of code. A field number of 0 is a field the version does not have:
// readTag never returns field 0, so its case never matches.

// sampleFields numbers the fields of a Sample.
type sampleFields struct{ value, timestamp, startTimestamp int32 }

var (
	sampleV1 = &sampleFields{value: 1, timestamp: 2}
	sampleV2 = &sampleFields{value: 1, timestamp: 2, startTimestamp: 3}
)

func decodeSample(b []byte, f *sampleFields) (Sample, error) {
	var s Sample
	for i := 0; i < len(b); {
		field, wt, next, err := readTag(b, i, "Sample")
		if err != nil {
			return s, err
		}
		switch field {
		case f.value:
			if wt != wireFixed64 {
				return s, wrongWireType("Value", wt)
			}
			if s.Value, next, err = readDouble(b, next); err != nil {
				return s, err
			}
		case f.timestamp, f.startTimestamp:
			if wt != wireVarint {
				return s, wrongWireType("Timestamp", wt)
			}
			var v uint64
			if v, next, err = uvarint(b, next); err != nil {
				return s, err
			}
			if field == f.timestamp {
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

// exemplarFields numbers the fields of an Exemplar, whose labels are Label
// messages in 1.0 (labels) and references into the symbols table in 2.0
// (labelRefs).
type exemplarFields struct{ labels, labelRefs, value, timestamp int32 }

var (
	exemplarV1 = &exemplarFields{labels: 1, value: 2, timestamp: 3}
	exemplarV2 = &exemplarFields{labelRefs: 1, value: 2, timestamp: 3}
)

// decodeExemplar decodes an exemplar and adds it to d.exemplars. A
// malformed message is err, which fails the whole decode; references that
// do not resolve are exErr, which drops only the exemplar. Its labels go to
// d.pairs, and its references to d.refs, past the series' own, and are cut
// off again once copied, as the series' may still grow after it.
func (d *decoder) decodeExemplar(b []byte, f *exemplarFields) (exErr, err error) {
	refStart, pairStart := len(d.refs), len(d.pairs)
	var e exemplar.Exemplar
	for i := 0; i < len(b); {
		field, wt, next, err := readTag(b, i, "Exemplar")
		if err != nil {
			return nil, err
		}
		switch field {
		case f.labels:
			if wt != wireBytes {
				return nil, wrongWireType("Labels", wt)
			}
			var msg []byte
			if msg, next, err = readBytes(b, next); err != nil {
				return nil, err
			}
			var l labels.Label
			if l, err = decodeLabelV1(msg); err != nil {
				return nil, err
			}
			d.pairs = append(d.pairs, l)
		case f.labelRefs:
			if d.refs, next, err = appendRefs(d.refs, b, next, wt, "LabelsRefs"); err != nil {
				return nil, err
			}
		case f.value:
			if wt != wireFixed64 {
				return nil, wrongWireType("Value", wt)
			}
			if e.Value, next, err = readDouble(b, next); err != nil {
				return nil, err
			}
		case f.timestamp:
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
	if refs := d.refs[refStart:]; len(refs) > 0 {
		exErr = d.appendLabelRefs(refs)
	}
	if exErr == nil {
		e.HasTs = e.Ts != 0
		e.Labels = d.buildLabels(d.pairs[pairStart:])
		d.exemplars = append(d.exemplars, e)
	}
	d.refs, d.pairs = d.refs[:refStart], d.pairs[:pairStart]
	return exErr, nil
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

// metadataFields numbers the fields of a metric's metadata: 1.0's
// MetricMetadata holds its strings, 2.0's Metadata references them in the
// symbols table. msg names the message in errors.
type metadataFields struct {
	msg                string
	typ                int32
	family, help, unit int32 // 1.0
	helpRef, unitRef   int32 // 2.0
}

var (
	metadataV1 = &metadataFields{msg: "MetricMetadata", typ: 1, family: 2, help: 4, unit: 5}
	metadataV2 = &metadataFields{msg: "Metadata", typ: 1, helpRef: 3, unitRef: 4}
)

// wireMetadata is metadata as read, its strings pointing into the body.
type wireMetadata struct {
	typ                int32
	family, help, unit string
	helpRef, unitRef   uint32
}

// decodeMetadata reads b into md. Fields that b lacks keep their values:
// the metadata of a 2.0 series may come in parts, which merge.
func decodeMetadata(b []byte, f *metadataFields, md *wireMetadata) error {
	for i := 0; i < len(b); {
		field, wt, next, err := readTag(b, i, f.msg)
		if err != nil {
			return err
		}
		switch field {
		case f.typ, f.helpRef, f.unitRef:
			if wt != wireVarint {
				return wrongWireType(f.msg, wt)
			}
			var v uint64
			if v, next, err = uvarint(b, next); err != nil {
				return err
			}
			switch field {
			case f.typ:
				md.typ = int32(v)
			case f.helpRef:
				md.helpRef = uint32(v)
			default:
				md.unitRef = uint32(v)
			}
		case f.family, f.help, f.unit:
			if wt != wireBytes {
				return wrongWireType(f.msg, wt)
			}
			var s []byte
			if s, next, err = readBytes(b, next); err != nil {
				return err
			}
			switch field {
			case f.family:
				md.family = unsafeString(s)
			case f.help:
				md.help = unsafeString(s)
			default:
				md.unit = unsafeString(s)
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

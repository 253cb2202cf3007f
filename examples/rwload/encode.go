package main

import (
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"math"

	"github.com/klauspost/compress/snappy"
	"google.golang.org/protobuf/encoding/protowire"
)

// A template is one request, encoded once as protobuf, with the places
// of what changes from round to round: each sample's value and timestamp,
// and each generation in a label value (or, in 2.0, in a symbol). A round's
// request is the template with those bytes written over, compressed.
type template struct {
	raw     []byte
	samples []sampleAt
	gens    []genPatch
}

type sampleAt struct {
	value, ts int // offsets of the fixed64 value and of the timestamp
	series    int
}

type genPatch struct {
	off    int
	target int
}

// tsWidth is the width of the timestamps' varints: every millisecond
// timestamp from 1971 to 2109 takes six bytes.
const tsWidth = 6

// putVarintN writes v as a varint of exactly n bytes (not minimal when v
// is small, which protobuf decoders accept).
func putVarintN(b []byte, v uint64, n int) {
	for i := range n - 1 {
		b[i] = byte(v&0x7f) | 0x80
		v >>= 7
	}
	b[n-1] = byte(v)
}

// encodeV1Template encodes the series set.metrics[from:to] as a remote
// write 1.0 prometheus.WriteRequest with one sample each.
func encodeV1Template(set *seriesSet, from, to int) template {
	var t template
	var ts []byte // one TimeSeries
	for i := from; i < to; i++ {
		m := &set.metrics[i]
		ts = ts[:0]
		var gens []genPatch
		for j, l := range m.labels {
			var lab []byte
			lab = protowire.AppendTag(lab, 1, protowire.BytesType)
			lab = protowire.AppendString(lab, l.Name)
			lab = protowire.AppendTag(lab, 2, protowire.BytesType)
			lab = protowire.AppendVarint(lab, uint64(len(l.Value)))
			valueAt := len(lab)
			lab = append(lab, l.Value...)
			ts = protowire.AppendTag(ts, 1, protowire.BytesType)
			ts = protowire.AppendVarint(ts, uint64(len(lab)))
			for _, g := range m.gens {
				if g.label == j {
					gens = append(gens, genPatch{off: len(ts) + valueAt + g.pos, target: m.target})
				}
			}
			ts = append(ts, lab...)
		}
		ts = protowire.AppendTag(ts, 2, protowire.BytesType)
		ts = protowire.AppendVarint(ts, 1+8+1+tsWidth)
		ts = protowire.AppendTag(ts, 1, protowire.Fixed64Type)
		valueAt := len(ts)
		ts = binary.LittleEndian.AppendUint64(ts, 0)
		ts = protowire.AppendTag(ts, 2, protowire.VarintType)
		tsAt := len(ts)
		ts = append(ts, make([]byte, tsWidth)...)

		t.raw = protowire.AppendTag(t.raw, 1, protowire.BytesType)
		t.raw = protowire.AppendVarint(t.raw, uint64(len(ts)))
		base := len(t.raw)
		t.raw = append(t.raw, ts...)
		for _, g := range gens {
			t.gens = append(t.gens, genPatch{off: base + g.off, target: g.target})
		}
		t.samples = append(t.samples, sampleAt{value: base + valueAt, ts: base + tsAt, series: i})
	}
	return t
}

// encodeV2Template encodes set.metrics[from:to] as a remote write 2.0
// io.prometheus.write.v2.Request with one sample and the metadata of each
// series.
func encodeV2Template(set *seriesSet, from, to int) template {
	var t template
	symbols := map[string]uint32{"": 0}
	var order []string
	var genTargets []int // of each symbol in order, -1 for none
	ref := func(s string, target int) uint32 {
		if r, ok := symbols[s]; ok {
			return r
		}
		r := uint32(len(symbols))
		symbols[s] = r
		order = append(order, s)
		genTargets = append(genTargets, target)
		return r
	}
	var series [][]byte
	var samples []sampleAt // offsets within each series' bytes
	for i := from; i < to; i++ {
		m := &set.metrics[i]
		var refs []byte
		for j, l := range m.labels {
			refs = protowire.AppendVarint(refs, uint64(ref(l.Name, -1)))
			target := -1
			if len(m.gens) > 0 && slicesContainsLabel(m.gens, j) {
				target = m.target
			}
			refs = protowire.AppendVarint(refs, uint64(ref(l.Value, target)))
		}
		var ts []byte
		ts = protowire.AppendTag(ts, 1, protowire.BytesType)
		ts = protowire.AppendBytes(ts, refs)
		ts = protowire.AppendTag(ts, 2, protowire.BytesType)
		ts = protowire.AppendVarint(ts, 1+8+1+tsWidth)
		ts = protowire.AppendTag(ts, 1, protowire.Fixed64Type)
		valueAt := len(ts)
		ts = binary.LittleEndian.AppendUint64(ts, 0)
		ts = protowire.AppendTag(ts, 2, protowire.VarintType)
		tsAt := len(ts)
		ts = append(ts, make([]byte, tsWidth)...)
		var md []byte
		typ := uint64(2) // METRIC_TYPE_GAUGE
		if m.counter {
			typ = 1
		}
		md = protowire.AppendTag(md, 1, protowire.VarintType)
		md = protowire.AppendVarint(md, typ)
		md = protowire.AppendTag(md, 3, protowire.VarintType)
		md = protowire.AppendVarint(md, uint64(ref(m.help, -1)))
		if m.unit != "" {
			md = protowire.AppendTag(md, 4, protowire.VarintType)
			md = protowire.AppendVarint(md, uint64(ref(m.unit, -1)))
		}
		ts = protowire.AppendTag(ts, 5, protowire.BytesType)
		ts = protowire.AppendBytes(ts, md)
		series = append(series, ts)
		samples = append(samples, sampleAt{value: valueAt, ts: tsAt, series: i})
	}
	t.raw = protowire.AppendTag(t.raw, 4, protowire.BytesType)
	t.raw = protowire.AppendString(t.raw, "")
	for k, s := range order {
		t.raw = protowire.AppendTag(t.raw, 4, protowire.BytesType)
		t.raw = protowire.AppendVarint(t.raw, uint64(len(s)))
		if target := genTargets[k]; target >= 0 {
			for _, g := range set.metrics[firstOfTarget(set, from, to, target)].gens {
				if set.metrics[firstOfTarget(set, from, to, target)].labels[g.label].Value == s {
					t.gens = append(t.gens, genPatch{off: len(t.raw) + g.pos, target: target})
				}
			}
		}
		t.raw = append(t.raw, s...)
	}
	for k, s := range series {
		t.raw = protowire.AppendTag(t.raw, 5, protowire.BytesType)
		t.raw = protowire.AppendVarint(t.raw, uint64(len(s)))
		base := len(t.raw)
		t.raw = append(t.raw, s...)
		t.samples = append(t.samples, sampleAt{value: base + samples[k].value, ts: base + samples[k].ts, series: samples[k].series})
	}
	return t
}

func slicesContainsLabel(gens []genAt, label int) bool {
	for _, g := range gens {
		if g.label == label {
			return true
		}
	}
	return false
}

// firstOfTarget returns the first series of target among from:to.
func firstOfTarget(set *seriesSet, from, to, target int) int {
	for i := from; i < to; i++ {
		if set.metrics[i].target == target {
			return i
		}
	}
	panic("no series of the target")
}

// A body is a request of one round, compressed, with the SHA-256 of the
// compressed bytes that SigV4 signs.
type body struct {
	data    []byte
	sha256  string
	samples int
}

// encoder writes rounds' requests from the templates; each goroutine has
// its own.
type encoder struct {
	set   *seriesSet
	churn float64
	raw   []byte
}

// encode returns request t of round r, its samples at timestamp ms.
func (e *encoder) encode(t *template, r int, ms int64, sign bool) body {
	e.raw = append(e.raw[:0], t.raw...)
	for _, s := range t.samples {
		m := &e.set.metrics[s.series]
		binary.LittleEndian.PutUint64(e.raw[s.value:], math.Float64bits(m.value(s.series, r)))
		putVarintN(e.raw[s.ts:], uint64(ms), tsWidth)
	}
	for _, g := range t.gens {
		tg := e.set.targets[g.target]
		putGen(e.raw[g.off:], tg.seed, genOf(g.target, len(e.set.targets), r, e.churn))
	}
	b := body{data: snappy.Encode(nil, e.raw), samples: len(t.samples)}
	if sign {
		sum := sha256.Sum256(b.data)
		b.sha256 = hex.EncodeToString(sum[:])
	}
	return b
}

package ingest

import (
	"fmt"
	"math"
	"slices"
	"testing"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"
)

// wire builds protobuf messages field by field, in any order.
type wire []byte

func (w wire) bytes(field protowire.Number, b []byte) wire {
	w = protowire.AppendTag(w, field, protowire.BytesType)
	return protowire.AppendBytes(w, b)
}

func (w wire) str(field protowire.Number, s string) wire { return w.bytes(field, []byte(s)) }

func (w wire) varint(field protowire.Number, v uint64) wire {
	w = protowire.AppendTag(w, field, protowire.VarintType)
	return protowire.AppendVarint(w, v)
}

func (w wire) double(field protowire.Number, v float64) wire {
	w = protowire.AppendTag(w, field, protowire.Fixed64Type)
	return protowire.AppendFixed64(w, math.Float64bits(v))
}

func (w wire) fixed32(field protowire.Number, v uint32) wire {
	w = protowire.AppendTag(w, field, protowire.Fixed32Type)
	return protowire.AppendFixed32(w, v)
}

func (w wire) group(field protowire.Number, inner wire) wire {
	w = protowire.AppendTag(w, field, protowire.StartGroupType)
	w = append(w, inner...)
	return protowire.AppendTag(w, field, protowire.EndGroupType)
}

func label(name, value string) wire { return wire{}.str(1, name).str(2, value) }

func TestDecodeV1WireVariants(t *testing.T) {
	// Samples before labels, unknown fields of every wire type, a repeated
	// scalar (the last one wins), unsorted labels.
	series := wire{}.
		bytes(2, wire{}.double(1, 1.5).varint(2, 1000).varint(2, 2000)).
		bytes(1, label("job", "a")).
		varint(9, 7).fixed32(10, 1).double(11, 3).str(12, "x").group(13, wire{}.varint(1, 1)).
		bytes(1, label("__name__", "up")).
		bytes(3, wire{}.bytes(1, label("trace_id", "t")).double(2, 2).varint(3, 1500)).
		bytes(2, wire{}.varint(2, 3000).double(1, math.Inf(1)))
	body := wire{}.
		bytes(1, series).
		varint(2, 1). // reserved field
		bytes(3, wire{}.varint(1, uint64(prompb.MetricMetadata_GAUGE)).str(2, "up").str(4, "Up.").str(5, "")).
		bytes(1, wire{}.bytes(1, label("__name__", "no_samples")))

	var want prompb.WriteRequest
	require.NoError(t, want.Unmarshal(body))
	req := newRequest()
	require.NoError(t, decode(req, V1, body, model.UTF8Validation, nil, ""))
	compareV1(t, &want, req)

	require.Len(t, req.Series, 1, "series without samples are skipped")
	s := req.Series[0]
	require.Equal(t, `{__name__="up", job="a"}`, s.Labels.String())
	require.Equal(t, []Sample{{Timestamp: 2000, Value: 1.5}, {Timestamp: 3000, Value: math.Inf(1)}}, s.Samples)
	require.Len(t, s.Exemplars, 1)
	require.Equal(t, int64(1500), s.Exemplars[0].Ts)
	require.Equal(t, []MetricMetadata{{MetricFamily: "up", Metadata: metadata.Metadata{Type: model.MetricTypeGauge, Help: "Up."}}}, req.Metadata)
}

func TestDecodeV1Malformed(t *testing.T) {
	for name, body := range map[string]wire{
		"series as varint":       wire{}.varint(1, 1),
		"truncated series":       wire{}.bytes(1, wire{}.bytes(1, label("a", "b")))[:5],
		"label name as varint":   wire{}.bytes(1, wire{}.bytes(1, wire{}.varint(1, 3))),
		"sample value as varint": wire{}.bytes(1, wire{}.bytes(2, wire{}.varint(1, 3))),
		"end group":              append(wire{}, 0x0c),
		"field zero":             wire{}.varint(0, 1),
		"huge length":            append(protowire.AppendTag(nil, 1, protowire.BytesType), 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01),
		"bad histogram":          wire{}.bytes(1, wire{}.bytes(4, wire{}.varint(1, 1)[:1])),
		"unterminated group":     append(protowire.AppendTag(nil, 5, protowire.StartGroupType), 0x08),
	} {
		t.Run(name, func(t *testing.T) {
			var want prompb.WriteRequest
			require.Error(t, want.Unmarshal(body), "gogo must reject it too")
			require.Error(t, decode(newRequest(), V1, body, model.UTF8Validation, nil, ""))
		})
	}
}

func TestDecodeV2WireVariants(t *testing.T) {
	// Series before symbols, label references packed and not, metadata in
	// two parts that merge.
	series := wire{}.
		bytes(2, wire{}.double(1, 4).varint(2, 1000).varint(3, 500)).
		varint(1, 1).varint(1, 2).
		bytes(1, protowire.AppendVarint(protowire.AppendVarint(nil, 3), 4)).
		bytes(5, wire{}.varint(1, uint64(writev2.Metadata_METRIC_TYPE_COUNTER))).
		bytes(5, wire{}.varint(3, 5)).
		bytes(4, wire{}.bytes(1, protowire.AppendVarint(protowire.AppendVarint(nil, 6), 7)).double(2, 1).varint(3, 1000)).
		bytes(4, wire{}.varint(1, 6).varint(1, 99).double(2, 1).varint(3, 1000)) // out of the symbols table
	body := wire{}.bytes(5, series).varint(1, 1)
	for _, s := range []string{"", "__name__", "jobs_total", "job", "a", "Jobs.", "trace_id", "t"} {
		body = body.str(4, s)
	}

	var want writev2.Request
	require.NoError(t, want.Unmarshal(body))
	req := newRequest()
	require.NoError(t, decode(req, V2, body, model.UTF8Validation, nil, ""))
	compareV2(t, &want, req)

	require.Len(t, req.Series, 1)
	s := req.Series[0]
	require.False(t, s.dropped)
	require.Equal(t, `{__name__="jobs_total", job="a"}`, s.Labels.String())
	require.Equal(t, []Sample{{StartTimestamp: 500, Timestamp: 1000, Value: 4}}, s.Samples)
	require.Equal(t, metadata.Metadata{Type: model.MetricTypeCounter, Help: "Jobs."}, s.Metadata)
	require.Len(t, s.Exemplars, 1)
	require.Len(t, req.rejections, 1, "the bad exemplar is reported")
	require.Contains(t, req.rejections[0].err.Error(), "parsing exemplar for series {__name__=\"jobs_total\", job=\"a\"}")
}

// validateCases are series' label pairs, name and value alternating,
// and the labels validation makes of them or the reason it drops them for.
var validateCases = []struct {
	name   string
	pairs  []string
	scheme model.ValidationScheme
	want   string // labels, or the reason
}{
	{"sorted", []string{"__name__", "up", "a", "1"}, model.UTF8Validation, `{__name__="up", a="1"}`},
	{"unsorted", []string{"b", "2", "__name__", "up", "a", "1"}, model.UTF8Validation, `{__name__="up", a="1", b="2"}`},
	{"empty values dropped", []string{"__name__", "up", "a", "", "b", "2"}, model.UTF8Validation, `{__name__="up", b="2"}`},
	{"empty metric name", []string{"__name__", "", "a", "1"}, model.UTF8Validation, ReasonMissingMetricName},
	{"no metric name", []string{"a", "1"}, model.UTF8Validation, ReasonMissingMetricName},
	{"no labels", nil, model.UTF8Validation, ReasonMissingMetricName},
	{"duplicate", []string{"__name__", "up", "a", "1", "a", "2"}, model.UTF8Validation, ReasonDuplicateLabelNames},
	{"duplicate name", []string{"__name__", "up", "__name__", "down"}, model.UTF8Validation, ReasonDuplicateLabelNames},
	{"utf-8 names", []string{"__name__", "http.requests", "host.name", "x"}, model.UTF8Validation, `{__name__="http.requests", "host.name"="x"}`},
	{"legacy metric name", []string{"__name__", "http.requests"}, model.LegacyValidation, ReasonInvalidMetricName},
	{"legacy label name", []string{"__name__", "up", "host.name", "x"}, model.LegacyValidation, ReasonInvalidLabel},
	{"legacy colon", []string{"__name__", "job:up:sum", "a", "1"}, model.LegacyValidation, `{__name__="job:up:sum", a="1"}`},
	{"legacy colon in a label name", []string{"__name__", "up", "a:b", "1"}, model.LegacyValidation, ReasonInvalidLabel},
	{"legacy label value as metric name", []string{"__name__", "a.b", "x", "a.b"}, model.LegacyValidation, ReasonInvalidMetricName},
	{"legacy metric name as label name", []string{"__name__", "job:up", "job:up", "1"}, model.LegacyValidation, ReasonInvalidLabel},
	{"invalid utf-8 value", []string{"__name__", "up", "a", "\xff"}, model.UTF8Validation, ReasonInvalidLabel},
	{"invalid utf-8 metric name", []string{"__name__", "\xff"}, model.UTF8Validation, ReasonInvalidMetricName},
	{"empty label name", []string{"__name__", "up", "", "x"}, model.UTF8Validation, ReasonInvalidLabel},
}

func TestValidate(t *testing.T) {
	for _, tc := range validateCases {
		t.Run(tc.name, func(t *testing.T) {
			var pairs []labels.Label
			for i := 0; i < len(tc.pairs); i += 2 {
				pairs = append(pairs, labels.Label{Name: tc.pairs[i], Value: tc.pairs[i+1]})
			}
			d := decoder{scheme: tc.scheme, b: newScratchBuilder()}
			ls, reason, err := d.validateAndBuild(pairs)
			if err != nil {
				require.Equal(t, tc.want, reason, err.Error())
				return
			}
			require.Equal(t, tc.want, ls.String())
		})
	}
}

// TestValidateV2 checks that a 2.0 request's series are validated as
// TestValidate's, where each symbol is checked once per request, as a
// name, a value or a metric name: a series before and after the case's
// shares its symbols, each used the other way round where it can be.
func TestValidateV2(t *testing.T) {
	for _, tc := range validateCases {
		t.Run(tc.name, func(t *testing.T) {
			st := writev2.NewSymbolTable()
			var refs, swapped []uint32
			for i := 0; i+1 < len(tc.pairs); i += 2 {
				n, v := st.Symbolize(tc.pairs[i]), st.Symbolize(tc.pairs[i+1])
				refs = append(refs, n, v)
				if tc.pairs[i+1] != "" && tc.pairs[i] != "" {
					swapped = append(swapped, v, n) // the value as a name
				}
			}
			// The other series use the case's symbols, valid or not, the
			// other way round, and as values of a valid series.
			var values []uint32
			for i := 0; i+1 < len(tc.pairs); i += 2 {
				if tc.pairs[i+1] != "" {
					values = append(values, st.Symbolize(fmt.Sprintf("l%d", i)), st.Symbolize(tc.pairs[i+1]))
				}
			}
			name := []uint32{st.Symbolize("__name__"), st.Symbolize("ok")}
			smp := []writev2.Sample{{Value: 1, Timestamp: testTS(0)}}
			req := writev2.Request{Timeseries: []writev2.TimeSeries{
				{LabelsRefs: append(slices.Clone(name), swapped...), Samples: smp},
				{LabelsRefs: append(slices.Clone(name), values...), Samples: smp},
				{LabelsRefs: refs, Samples: smp},
				{LabelsRefs: append(slices.Clone(name), swapped...), Samples: smp},
				{LabelsRefs: append(slices.Clone(name), values...), Samples: smp},
			}}
			req.Symbols = st.Symbols()
			body, err := req.Marshal()
			require.NoError(t, err)

			// What validation alone makes of the other series.
			want := make([]string, len(req.Timeseries))
			for i, ts := range req.Timeseries {
				var pairs []labels.Label
				for j := 0; j+1 < len(ts.LabelsRefs); j += 2 {
					pairs = append(pairs, labels.Label{Name: req.Symbols[ts.LabelsRefs[j]], Value: req.Symbols[ts.LabelsRefs[j+1]]})
				}
				d := decoder{scheme: tc.scheme, b: newScratchBuilder()}
				ls, reason, err := d.validateAndBuild(pairs)
				if want[i] = ls.String(); err != nil {
					want[i] = reason
				}
			}
			require.Equal(t, tc.want, want[2])

			r := newRequest()
			require.NoError(t, decode(r, V2, body, tc.scheme, nil, ""))
			require.Len(t, r.Series, len(want))
			reasons := map[int]string{}
			k := 0
			for i := range r.Series {
				if r.Series[i].dropped {
					reasons[i] = r.rejections[k].reason
					k++
				}
			}
			for i, s := range r.Series {
				got := s.Labels.String()
				if s.dropped {
					got = reasons[i]
				}
				require.Equal(t, want[i], got, "series %d", i)
			}
		})
	}
}

func TestFamilyName(t *testing.T) {
	for _, tc := range []struct {
		metric string
		typ    model.MetricType
		native bool
		want   string
	}{
		{"http_requests_total", model.MetricTypeCounter, false, "http_requests_total"},
		{"rpc_seconds_bucket", model.MetricTypeHistogram, false, "rpc_seconds"},
		{"rpc_seconds_sum", model.MetricTypeHistogram, false, "rpc_seconds"},
		{"rpc_seconds_count", model.MetricTypeSummary, false, "rpc_seconds"},
		{"rpc_seconds", model.MetricTypeSummary, false, "rpc_seconds"},
		{"queue_gsum", model.MetricTypeGaugeHistogram, false, "queue"},
		{"rpc_seconds_count", model.MetricTypeHistogram, true, "rpc_seconds_count"},
		{"temperature_sum", model.MetricTypeGauge, false, "temperature_sum"},
		{"_count", model.MetricTypeSummary, false, "_count"},
	} {
		require.Equal(t, tc.want, familyName(tc.metric, tc.typ, tc.native), "%s %s", tc.metric, tc.typ)
	}
}

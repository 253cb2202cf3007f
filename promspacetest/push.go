package promspacetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/golang/snappy"
	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	"github.com/prometheus/client_golang/prometheus"
	dto "github.com/prometheus/client_model/go"
	config_util "github.com/prometheus/common/config"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/model/textparse"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"github.com/prometheus/prometheus/storage/remote"
)

// Push sends series, and metadata if any, to the workspace in one remote
// write 1.0 request through Prometheus' own remote-write client. The series
// go as given: float samples, native histograms (TimeSeries.Histograms) and
// exemplars. 1.0 has no start (created) timestamps; PushV2 sends them. An
// error, including a rejection of any sample, fails the test.
func (s *Server) Push(t testing.TB, series []prompb.TimeSeries, metadata ...prompb.MetricMetadata) {
	t.Helper()
	raw, err := (&prompb.WriteRequest{Timeseries: series, Metadata: metadata}).Marshal()
	if err == nil {
		_, err = s.store(remoteapi.WriteV1MessageType, raw)
	}
	if err != nil {
		t.Fatalf("promspacetest: remote write: %v", err)
	}
}

// PushV2 sends req to the workspace as one remote write 2.0 request through
// Prometheus' own remote-write client. An error, including a rejection of any
// sample, fails the test, and so does a response that confirms fewer float
// or histogram samples written than req holds.
func (s *Server) PushV2(t testing.TB, req *writev2.Request) {
	t.Helper()
	if err := s.pushV2(req); err != nil {
		t.Fatalf("promspacetest: remote write: %v", err)
	}
}

func (s *Server) pushV2(req *writev2.Request) error {
	raw, err := req.Marshal()
	if err != nil {
		return err
	}
	stats, err := s.store(remoteapi.WriteV2MessageType, raw)
	if err != nil {
		return err
	}
	var samples, hists int
	for _, ts := range req.Timeseries {
		samples += len(ts.Samples)
		hists += len(ts.Histograms)
	}
	if !stats.Confirmed {
		return errors.New("the response does not say what was written")
	}
	if stats.Samples != samples || stats.Histograms != hists {
		return fmt.Errorf("sent %d samples and %d histograms, the server says it wrote %d and %d", samples, hists, stats.Samples, stats.Histograms)
	}
	return nil
}

func (s *Server) store(msg remoteapi.WriteMessageType, raw []byte) (remote.WriteResponseStats, error) {
	u, err := url.Parse(s.RemoteWriteURL)
	if err != nil {
		return remote.WriteResponseStats{}, err
	}
	client, err := remote.NewWriteClient("promspacetest", &remote.ClientConfig{
		URL:           &config_util.URL{URL: u},
		Timeout:       model.Duration(30 * time.Second),
		WriteProtoMsg: msg,
	})
	if err != nil {
		return remote.WriteResponseStats{}, err
	}
	return client.Store(context.Background(), snappy.Encode(nil, raw), 0)
}

// PushGatherer gathers g and pushes what a Prometheus scrape of it would
// append, with the current time, in one remote write 2.0 request (see
// PushV2). Labels in extra are added to every series, as a scrape adds job
// and instance; labels of the metrics win over them (honor_labels).
//
// The gathered families are parsed by Prometheus' own scrape parser
// (textparse.NewProtobufParser) from their protobuf exposition, the format
// Prometheus asks client_golang for, with native histograms scraped and
// classic histograms always scraped too:
//   - counters, gauges and untyped metrics give one series each, summaries
//     their quantiles, _sum and _count;
//   - a native histogram gives one series of native histogram samples; if
//     it also has classic buckets, the classic _bucket, _sum and _count
//     series are sent as well (always_scrape_classic_histograms: true);
//   - a classic histogram gives its _bucket series (with le="+Inf" added if
//     missing), _sum and _count;
//   - exemplars go with their samples (those of native histograms only if
//     they have a timestamp, those of other series get the sample's time if
//     they have none), created timestamps as the samples' start timestamps,
//     each family's type, help and unit as its series' metadata.
//
// A gather or parse error fails the test.
func (s *Server) PushGatherer(t testing.TB, g prometheus.Gatherer, extra ...labels.Label) {
	t.Helper()
	s.PushGathererAt(t, time.Now(), g, extra...)
}

// PushGathererAt is PushGatherer with ts as the scrape's time: the samples
// without a timestamp of their own get ts. Tests that evaluate rules at
// chosen times (EvalRules) push at chosen times too, so that what a rule
// sees does not depend on how long the push took.
func (s *Server) PushGathererAt(t testing.TB, ts time.Time, g prometheus.Gatherer, extra ...labels.Label) {
	t.Helper()
	mfs, err := g.Gather()
	if err != nil {
		t.Fatalf("promspacetest: gather: %v", err)
	}
	scraped, err := scrape(mfs, ts, labels.New(extra...))
	if err != nil {
		t.Fatalf("promspacetest: %v", err)
	}
	s.PushV2(t, toV2(scraped))
}

// FromMetricFamilies turns gathered metric families into remote write 1.0
// series and metadata: the samples PushGatherer sends, native histograms and
// exemplars included, but without start (created) timestamps, which 1.0
// cannot carry. Samples without a timestamp of their own get ts. It panics
// if Prometheus' scrape parser rejects mfs (a native histogram whose spans
// and buckets disagree, say) rather than silently leave samples out.
func FromMetricFamilies(mfs []*dto.MetricFamily, ts time.Time, extra labels.Labels) ([]prompb.TimeSeries, []prompb.MetricMetadata) {
	scraped, err := scrape(mfs, ts, extra)
	if err != nil {
		panic("promspacetest: " + err.Error())
	}
	var (
		series []prompb.TimeSeries
		meta   []prompb.MetricMetadata
	)
	for _, smp := range scraped {
		if smp.family != "" {
			meta = append(meta, prompb.MetricMetadata{
				Type:             prompb.FromMetadataType(smp.meta.Type),
				MetricFamilyName: smp.family,
				Help:             smp.meta.Help,
				Unit:             smp.meta.Unit,
			})
		}
		ts := prompb.TimeSeries{Labels: prompb.FromLabels(smp.labels, nil)}
		switch {
		case smp.h != nil:
			ts.Histograms = []prompb.Histogram{prompb.FromIntHistogram(smp.t, smp.h)}
		case smp.fh != nil:
			ts.Histograms = []prompb.Histogram{prompb.FromFloatHistogram(smp.t, smp.fh)}
		default:
			ts.Samples = []prompb.Sample{{Value: smp.v, Timestamp: smp.t}}
		}
		for _, e := range smp.exemplars {
			ts.Exemplars = append(ts.Exemplars, prompb.Exemplar{Labels: prompb.FromLabels(e.Labels, nil), Value: e.Value, Timestamp: e.Ts})
		}
		series = append(series, ts)
	}
	return series, meta
}

// scraped is one sample as Prometheus' scrape loop appends it.
type scraped struct {
	labels    labels.Labels
	family    string // set on the first sample of each family
	meta      metadata.Metadata
	st, t     int64
	v         float64
	h         *histogram.Histogram
	fh        *histogram.FloatHistogram
	exemplars []exemplar.Exemplar
}

// scrape parses mfs the way Prometheus' scrape loop parses a protobuf
// exposition (scrape/scrape_append_v2.go), with native histograms enabled,
// classic histograms always kept, timestamps honored and start timestamps
// parsed.
func scrape(mfs []*dto.MetricFamily, ts time.Time, extra labels.Labels) ([]scraped, error) {
	var buf bytes.Buffer
	enc := expfmt.NewEncoder(&buf, expfmt.NewFormat(expfmt.TypeProtoDelim))
	for _, mf := range mfs {
		if err := enc.Encode(mf); err != nil {
			return nil, fmt.Errorf("encode metric family %q: %w", mf.GetName(), err)
		}
	}
	p := textparse.NewProtobufParser(buf.Bytes(), false, true, false, false, labels.NewSymbolTable())

	var (
		out     []scraped
		family  string
		meta    metadata.Metadata
		newFam  bool
		lset    labels.Labels
		b       = labels.NewBuilder(labels.EmptyLabels())
		defTime = ts.UnixMilli()
	)
	for {
		et, err := p.Next()
		if errors.Is(err, io.EOF) {
			return out, nil
		}
		if err != nil {
			return nil, fmt.Errorf("parse gathered metrics: %w", err)
		}
		var smp scraped
		switch et {
		case textparse.EntryHelp:
			name, help := p.Help()
			family, meta, newFam = string(name), metadata.Metadata{Type: model.MetricTypeUnknown, Help: string(help)}, true
			continue
		case textparse.EntryUnit:
			_, unit := p.Unit()
			meta.Unit = string(unit)
			continue
		case textparse.EntryType:
			_, meta.Type = p.Type()
			continue
		case textparse.EntryHistogram:
			var parsed *int64
			_, parsed, smp.h, smp.fh = p.Histogram()
			smp.t = timestampOr(parsed, defTime)
		case textparse.EntrySeries:
			var parsed *int64
			_, parsed, smp.v = p.Series()
			smp.t = timestampOr(parsed, defTime)
		default:
			continue
		}
		p.Labels(&lset)
		b.Reset(extra)
		lset.Range(func(l labels.Label) { b.Set(l.Name, l.Value) })
		smp.labels = b.Labels()
		smp.meta = meta
		if newFam {
			smp.family, newFam = family, false
		}
		smp.st = p.StartTimestamp()
		isHistogram := et == textparse.EntryHistogram
		var e exemplar.Exemplar
		for p.Exemplar(&e) {
			if !e.HasTs {
				if isHistogram {
					// As the scrape loop: native histograms' exemplars
					// need a timestamp.
					e = exemplar.Exemplar{}
					continue
				}
				e.Ts = smp.t
			}
			smp.exemplars = append(smp.exemplars, e)
			e = exemplar.Exemplar{}
		}
		slices.SortFunc(smp.exemplars, exemplar.Compare)
		out = append(out, smp)
	}
}

func timestampOr(parsed *int64, def int64) int64 {
	if parsed != nil {
		return *parsed
	}
	return def
}

// toV2 builds one 2.0 request of the scraped samples.
func toV2(scraped []scraped) *writev2.Request {
	st := writev2.NewSymbolTable()
	req := &writev2.Request{}
	for _, smp := range scraped {
		ts := writev2.TimeSeries{
			LabelsRefs: st.SymbolizeLabels(smp.labels, nil),
			Metadata: writev2.Metadata{
				Type:    writev2.FromMetadataType(smp.meta.Type),
				HelpRef: st.Symbolize(smp.meta.Help),
				UnitRef: st.Symbolize(smp.meta.Unit),
			},
		}
		switch {
		case smp.h != nil:
			ts.Histograms = []writev2.Histogram{writev2.FromIntHistogram(smp.st, smp.t, smp.h)}
		case smp.fh != nil:
			ts.Histograms = []writev2.Histogram{writev2.FromFloatHistogram(smp.st, smp.t, smp.fh)}
		default:
			ts.Samples = []writev2.Sample{{Value: smp.v, Timestamp: smp.t, StartTimestamp: smp.st}}
		}
		for _, e := range smp.exemplars {
			ts.Exemplars = append(ts.Exemplars, writev2.Exemplar{LabelsRefs: st.SymbolizeLabels(e.Labels, nil), Value: e.Value, Timestamp: e.Ts})
		}
		req.Timeseries = append(req.Timeseries, ts)
	}
	req.Symbols = st.Symbols()
	return req
}

package main

import (
	"bytes"
	"context"
	"fmt"
	"math"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"github.com/prometheus/prometheus/tsdb/chunkenc"

	"github.com/promspace/promspace"
	"github.com/promspace/promspace/auth"
	"github.com/promspace/promspace/promspacetest"
)

// decoded is a request as Prometheus' own types read it back.
type decodedSeries struct {
	labels labels.Labels
	value  float64
	ts     int64
	typ    string
}

func decode(t *testing.T, v2 bool, b body) []decodedSeries {
	t.Helper()
	raw, err := snappy.Decode(nil, b.data)
	if err != nil {
		t.Fatal(err)
	}
	var out []decodedSeries
	if !v2 {
		var req prompb.WriteRequest
		if err := req.Unmarshal(raw); err != nil {
			t.Fatal(err)
		}
		for _, ts := range req.Timeseries {
			if len(ts.Samples) != 1 {
				t.Fatalf("%d samples", len(ts.Samples))
			}
			var bl labels.ScratchBuilder
			for _, l := range ts.Labels {
				bl.Add(l.Name, l.Value)
			}
			out = append(out, decodedSeries{labels: bl.Labels(), value: ts.Samples[0].Value, ts: ts.Samples[0].Timestamp})
		}
		return out
	}
	var req writev2.Request
	if err := req.Unmarshal(raw); err != nil {
		t.Fatal(err)
	}
	var bl labels.ScratchBuilder
	for _, ts := range req.Timeseries {
		if len(ts.Samples) != 1 {
			t.Fatalf("%d samples", len(ts.Samples))
		}
		ls, err := ts.ToLabels(&bl, req.Symbols)
		if err != nil {
			t.Fatal(err)
		}
		out = append(out, decodedSeries{labels: ls, value: ts.Samples[0].Value, ts: ts.Samples[0].Timestamp, typ: ts.Metadata.Type.String()})
	}
	return out
}

// TestRequests decodes the requests of several rounds with Prometheus'
// own types: every series is there with its sample, and churn renames the
// series of the targets it replaces.
func TestRequests(t *testing.T) {
	const n, perReq, churn = 300, 128, 0.25
	ext := labels.FromStrings("cluster", "c1", "__replica__", "r1")
	set := generateSeries(n, 10, 0.5, ext)
	if len(set.metrics) != n {
		t.Fatalf("%d series, want %d", len(set.metrics), n)
	}
	for _, v2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("v2=%v", v2), func(t *testing.T) {
			e := encoder{set: &set, churn: churn}
			names := map[int]map[string]bool{} // round → series
			for _, r := range []int{0, 1, 5} {
				names[r] = map[string]bool{}
				ms := time.Now().UnixMilli() + int64(r)
				for from := 0; from < n; from += perReq {
					to := min(from+perReq, n)
					var tpl template
					if v2 {
						tpl = encodeV2Template(&set, from, to)
					} else {
						tpl = encodeV1Template(&set, from, to)
					}
					got := decode(t, v2, e.encode(&tpl, r, ms, false))
					if len(got) != to-from {
						t.Fatalf("request at %d: %d series, want %d", from, len(got), to-from)
					}
					for k, s := range got {
						i := from + k
						m := &set.metrics[i]
						if s.labels.Len() < 10 || s.labels.Get("cluster") != "c1" || s.labels.Get("__replica__") != "r1" || !slices.Contains([]string{"node-exporter", "kube-state-metrics"}, s.labels.Get("job")) {
							t.Fatalf("series %d: labels %s", i, s.labels)
						}
						if s.ts != ms || s.value != m.value(i, r) || math.IsNaN(s.value) {
							t.Fatalf("series %d: sample %v at %d, want %v at %d", i, s.value, s.ts, m.value(i, r), ms)
						}
						if v2 && s.typ != map[bool]string{true: "METRIC_TYPE_COUNTER", false: "METRIC_TYPE_GAUGE"}[m.counter] {
							t.Fatalf("series %d: type %s", i, s.typ)
						}
						if strings.Contains(s.labels.String(), genHolder) && genOf(m.target, len(set.targets), r, churn) > 0 {
							t.Fatalf("series %d of a churned target keeps its first generation: %s", i, s.labels)
						}
						names[r][s.labels.String()] = true
					}
				}
				if len(names[r]) != n {
					t.Fatalf("round %d: %d distinct series, want %d", r, len(names[r]), n)
				}
			}
			kept := 0
			for s := range names[5] {
				if names[0][s] {
					kept++
				}
			}
			// 5 rounds replace more than the targets (churn 0.25 each):
			// none of the first round's series is left.
			if kept != 0 {
				t.Errorf("%d series of round 0 still sent in round 5", kept)
			}
			if !names[1][firstKey(names[0])] && len(intersect(names[0], names[1])) == 0 {
				t.Errorf("round 1 replaced every series; churn 0.25 should keep most")
			}
		})
	}
}

func firstKey(m map[string]bool) string {
	for k := range m {
		return k
	}
	return ""
}

func intersect(a, b map[string]bool) []string {
	var out []string
	for k := range a {
		if b[k] {
			out = append(out, k)
		}
	}
	return out
}

// TestRunSigV4 sends three rounds, signed with SigV4, to a promspace
// service that checks the signatures, in 1.0 and 2.0, and reads back what
// the workspace stored.
func TestRunSigV4(t *testing.T) {
	conf, err := auth.ParseConfig([]byte(`
region: us-east-1
credentials:
  - access_key_id: AKIDLOAD
    secret_access_key: load-secret
    account_id: "000000000000"
    name: load
    policy: AmazonPrometheusRemoteWriteAccess
`))
	if err != nil {
		t.Fatal(err)
	}
	authn, authz, err := conf.Build()
	if err != nil {
		t.Fatal(err)
	}
	for _, v2 := range []bool{false, true} {
		t.Run(fmt.Sprintf("v2=%v", v2), func(t *testing.T) {
			srv := promspacetest.NewServer(t, promspacetest.WithOptions(func(o *promspace.Options) {
				o.Authenticator, o.Authorizer = authn, authz
			}))
			const series, rounds = 1000, 3
			cfg, err := parseFlags([]string{"-url", srv.RemoteWriteURL, "-series", fmt.Sprint(series), "-samples-per-request", "300",
				"-concurrency", "2", "-rounds", fmt.Sprint(rounds), "-duration", "0", "-progress", "0",
				"-protocol", map[bool]string{false: "1.0", true: "2.0"}[v2], "-access-key-id", "AKIDLOAD"},
				func(k string) string { return map[string]string{"AWS_SECRET_ACCESS_KEY": "load-secret"}[k] }, &bytes.Buffer{})
			if err != nil {
				t.Fatal(err)
			}
			var out bytes.Buffer
			st, err := run(context.Background(), cfg, &out)
			if err != nil {
				t.Fatal(err)
			}
			st.report(&out)
			t.Log(out.String())
			if st.errors.Load() != 0 || st.accepted.Load() != series*rounds {
				t.Fatalf("%d errors, %d samples accepted, want %d:\n%s", st.errors.Load(), st.accepted.Load(), series*rounds, out.String())
			}
			if !strings.Contains(out.String(), "204: 12") || !strings.Contains(out.String(), "p99") {
				t.Errorf("report:\n%s", out.String())
			}

			cfg.Credentials.SecretAccessKey = "wrong"
			cfg.Rounds = 1
			st, _ = run(context.Background(), cfg, &out)
			if st.errors.Load() != 4 || st.statuses[403] != 4 {
				t.Errorf("with a wrong secret: %d errors, statuses %v", st.errors.Load(), st.statuses)
			}

			gotSeries, gotSamples := stored(t, srv)
			if gotSeries != series || gotSamples != series*rounds {
				t.Errorf("stored %d series and %d samples, want %d and %d", gotSeries, gotSamples, series, series*rounds)
			}
		})
	}
}

// stored counts the series and samples in srv's workspace.
func stored(t *testing.T, srv *promspacetest.Server) (series, samples int) {
	t.Helper()
	ctx := context.Background()
	w, err := srv.Service.Registry().Get(ctx, srv.WorkspaceID)
	if err != nil {
		t.Fatal(err)
	}
	q, err := w.Querier(math.MinInt64, math.MaxInt64)
	if err != nil {
		t.Fatal(err)
	}
	defer q.Close()
	ss := q.Select(ctx, false, nil, labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".+"))
	var it chunkenc.Iterator
	for ss.Next() {
		series++
		it = ss.At().Iterator(it)
		for it.Next() != chunkenc.ValNone {
			samples++
		}
	}
	if err := ss.Err(); err != nil {
		t.Fatal(err)
	}
	return series, samples
}

package promspace_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb/tsdbutil"

	"github.com/promspace/promspace"
	"github.com/promspace/promspace/auth"
	"github.com/promspace/promspace/workspace"
)

const (
	queryBenchSeries     = 100_000
	queryBenchHistograms = 1_000
	queryBenchScrape     = 15 * time.Second
	// queryBenchSpan is how far back the samples go from the queries'
	// end: the range query's hour and its first step's 5 m rate window,
	// with room.
	queryBenchSpan = 70 * time.Minute
)

// newQueryBenchService starts a service with AMP's default quotas and
// SigV4 for benchCredential, whose policy allows aps:QueryMetrics.
func newQueryBenchService(b *testing.B) (*promspace.Service, *workspace.Workspace) {
	ctx := context.Background()
	authn, authz := benchAuth(b, "reader", auth.PresetQueryAccess)
	opts := promspace.Options{
		DataDir:       b.TempDir(),
		Authenticator: authn,
		Authorizer:    authz,
	}
	opts.Rules.ManualEvaluation = true
	svc, err := promspace.New(ctx, opts)
	if err != nil {
		b.Fatal(err)
	}
	w, err := svc.EnsureWorkspace(ctx, "default")
	if err != nil {
		svc.Close()
		b.Fatal(err)
	}
	return svc, w
}

// queryBenchLabels returns float series n: 10 labels, job of 10 values,
// instance and pod of one value a series.
func queryBenchLabels(n int) labels.Labels {
	return labels.FromStrings(
		"__name__", "http_requests_total",
		"cluster", "prod-eu-west-1",
		"code", []string{"200", "201", "404", "500", "503"}[n/4%5],
		"handler", fmt.Sprintf("/api/v1/items/%d", n%20),
		"instance", fmt.Sprintf("10.%d.%d.%d:9100", n/65536%256, n/256%256, n%256),
		"job", fmt.Sprintf("job-%d", n%10),
		"method", []string{"GET", "POST", "PUT", "DELETE"}[n%4],
		"namespace", fmt.Sprintf("team-%d", n%13),
		"pod", fmt.Sprintf("api-7d9f8c6b5-%05d", n),
		"zone", fmt.Sprintf("eu-west-1%c", 'a'+n%3),
	)
}

// queryBenchHistogramLabels returns native-histogram series n.
func queryBenchHistogramLabels(n int) labels.Labels {
	return labels.FromStrings(
		"__name__", "rpc_duration_seconds",
		"instance", fmt.Sprintf("10.1.%d.%d:9100", n/256%256, n%256),
		"job", fmt.Sprintf("job-%d", n%10),
	)
}

// fillQueryBench appends a sample every scrape interval from end -
// queryBenchSpan to end to every float and native-histogram series, one
// commit a scrape.
func fillQueryBench(b *testing.B, w *workspace.Workspace, end time.Time) {
	ctx := context.Background()
	floats := make([]labels.Labels, queryBenchSeries)
	for n := range floats {
		floats[n] = queryBenchLabels(n)
	}
	hists := make([]labels.Labels, queryBenchHistograms)
	for n := range hists {
		hists[n] = queryBenchHistogramLabels(n)
	}
	refs := make([]storage.SeriesRef, len(floats)+len(hists))
	scrapes := int(queryBenchSpan / queryBenchScrape)
	for i := 0; i <= scrapes; i++ {
		ts := end.Add(time.Duration(i-scrapes) * queryBenchScrape).UnixMilli()
		app := w.AppenderV2(ctx)
		var err error
		for n, ls := range floats {
			// Counters of different rates.
			if refs[n], err = app.Append(refs[n], ls, 0, ts, float64(i*(1+n%5)), nil, nil, storage.AOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		h := tsdbutil.GenerateTestHistogram(int64(i)) // a counter too
		for n, ls := range hists {
			k := len(floats) + n
			if refs[k], err = app.Append(refs[k], ls, 0, ts, 0, h, nil, storage.AOptions{}); err != nil {
				b.Fatal(err)
			}
		}
		if err := app.Commit(); err != nil {
			b.Fatal(err)
		}
	}
}

// signedQuery returns a function that makes a copy of a POST of form to
// url, signed once with SigV4 for aps as Grafana's and Prometheus' sigv4
// clients sign it (no X-Amz-Content-Sha256: the server hashes the body).
// The signature stays valid for the verifier's clock skew, 5 minutes.
func signedQuery(b *testing.B, url string, form url.Values) func() *http.Request {
	body := form.Encode()
	r, err := http.NewRequest(http.MethodPost, url, strings.NewReader(body))
	if err != nil {
		b.Fatal(err)
	}
	r.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	r.Header.Set("User-Agent", "Grafana/12.3.0")
	sum := sha256.Sum256([]byte(body))
	if err := benchSigner.SignHTTP(context.Background(), benchCredential, r, hex.EncodeToString(sum[:]), "aps", "us-east-1", time.Now()); err != nil {
		b.Fatal(err)
	}
	return func() *http.Request {
		c := r.Clone(context.Background())
		c.Body = io.NopCloser(bytes.NewReader([]byte(body)))
		return c
	}
}

// resultLen is the number of series (or 1, a scalar or string) of an
// engine's result.
func resultLen(v parser.Value) int {
	switch v := v.(type) {
	case promql.Vector:
		return len(v)
	case promql.Matrix:
		return len(v)
	default:
		return 1
	}
}

// jsonResultLen is the number of series of a query's JSON response, and
// its result type; it fails on anything but success.
func jsonResultLen(b *testing.B, body []byte) (int, string) {
	var resp struct {
		Status string `json:"status"`
		Data   struct {
			ResultType string            `json:"resultType"`
			Result     []json.RawMessage `json:"result"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || resp.Status != "success" {
		b.Fatalf("query answered %.512s (%v)", body, err)
	}
	return len(resp.Data.Result), resp.Data.ResultType
}

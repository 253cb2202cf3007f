package auth_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/promspace/promspace/ingest"
)

const benchSamples = 2000

// signRemoteWrite wraps a snappy-compressed remote-write body in a request
// as Prometheus sends it, signed by the AWS SDK with the payload hash header.
func signRemoteWrite(b *testing.B, body []byte) *http.Request {
	b.Helper()
	r := httptest.NewRequest(http.MethodPost, "http://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/x-protobuf")
	r.Header.Set("Content-Encoding", "snappy")
	r.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	r.Header.Set("User-Agent", "Prometheus/3.0.0")
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	if err := sdkSign(testCredential(), signOpts{contentSHA: true})(r); err != nil {
		b.Fatal(err)
	}
	return r
}

// newBenchDB opens a TSDB for the benchmark, with compaction off to keep
// background work out of the measurement.
func newBenchDB(b *testing.B) *tsdb.DB {
	b.Helper()
	db, err := tsdb.Open(b.TempDir(), nil, nil, tsdb.DefaultOptions(), nil)
	if err != nil {
		b.Fatal(err)
	}
	db.DisableCompactions()
	b.Cleanup(func() { _ = db.Close() })
	return db
}

// Each request has one sample per series; the next one is 15 s later.
const shiftPerRequestMs = 15_000

// BenchmarkRemoteWriteVerifyRatio verifies each request's signature and
// then has promspace's remote-write handler (package ingest) decode,
// validate and append it to a TSDB, as the server does, and reports
// ratio = verification time / handling time (the target is < 0.05). Each
// request carries the next 15 s of the same 2,000 series, encoded and signed
// outside the measured time.
func BenchmarkRemoteWriteVerifyRatio(b *testing.B) {
	v := newVerifier(b, signingTime)
	h := ingest.NewHandler(ingest.Options{})
	db := newBenchDB(b)
	target := ingest.Target{ID: "ws-1", Appendable: db}
	var verify, handle time.Duration
	var i int64
	for b.Loop() {
		raw, err := remoteWriteRequest(benchSamples, 1, 1_700_000_000_000+i*shiftPerRequestMs).Marshal()
		if err != nil {
			b.Fatal(err)
		}
		r := signRemoteWrite(b, snappy.Encode(nil, raw))
		rec := httptest.NewRecorder()

		t0 := time.Now()
		if _, err := v.Authenticate(r); err != nil {
			b.Fatal(err)
		}
		t1 := time.Now()
		h.Write(rec, r, target)
		t2 := time.Now()
		if rec.Code != http.StatusNoContent {
			b.Fatalf("remote write: %d %s", rec.Code, rec.Body)
		}
		verify += t1.Sub(t0)
		handle += t2.Sub(t1)
		i++
	}
	b.ReportMetric(float64(verify.Nanoseconds())/float64(b.N), "verify-ns/op")
	b.ReportMetric(float64(handle.Nanoseconds())/float64(b.N), "handle-ns/op")
	b.ReportMetric(float64(verify)/float64(handle), "ratio")
}

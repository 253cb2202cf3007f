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

	"github.com/promspace/promspace/auth"
	"github.com/promspace/promspace/ingest"
)

const benchSamples = 2000

// signedRemoteWrite returns a remote-write request of 2,000 samples
// (snappy-compressed RW 1.0) signed by the AWS SDK with the payload hash
// header, as the server receives it, and its body.
func signedRemoteWrite(b *testing.B) (*http.Request, []byte) {
	b.Helper()
	body := remoteWriteBody(b, benchSamples)
	return signRemoteWrite(b, body), body
}

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

// verifyOnce authenticates a fresh copy of the signed request.
func verifyOnce(b *testing.B, v auth.Authenticator, tmpl *http.Request, body []byte) {
	r := *tmpl
	r.Body = io.NopCloser(bytes.NewReader(body))
	if _, err := v.Authenticate(&r); err != nil {
		b.Fatal(err)
	}
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

// BenchmarkSigV4VerifyRemoteWrite verifies a 2,000-sample remote-write
// request signed with X-Amz-Content-Sha256 (body hashed and compared).
func BenchmarkSigV4VerifyRemoteWrite(b *testing.B) {
	tmpl, body := signedRemoteWrite(b)
	v := newVerifier(b, signingTime)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		verifyOnce(b, v, tmpl, body)
	}
	b.ReportMetric(float64(benchSamples)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

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

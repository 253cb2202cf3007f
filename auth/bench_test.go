package auth_test

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/promspace/promspace/auth"
)

const benchSamples = 2000

// signedRemoteWrite returns a remote-write request of 2,000 samples
// (snappy-compressed RW 1.0) signed by the AWS SDK with the payload hash
// header, as the server receives it, and its body.
func signedRemoteWrite(b *testing.B) (*http.Request, []byte) {
	b.Helper()
	body := remoteWriteBody(b, benchSamples)
	r := httptest.NewRequest(http.MethodPost, "http://aps-workspaces.us-east-1.amazonaws.com/workspaces/ws-1/api/v1/remote_write", bytes.NewReader(body))
	r.Header.Set("Content-Type", "application/x-protobuf")
	r.Header.Set("Content-Encoding", "snappy")
	r.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	r.Header.Set("User-Agent", "Prometheus/3.0.0")
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	if err := sdkSign(testCredential(), signOpts{contentSHA: true})(r); err != nil {
		b.Fatal(err)
	}
	return r, body
}

// verifyOnce authenticates a fresh copy of the signed request.
func verifyOnce(b *testing.B, v auth.Authenticator, tmpl *http.Request, body []byte) {
	r := *tmpl
	r.Body = io.NopCloser(bytes.NewReader(body))
	if _, err := v.Authenticate(&r); err != nil {
		b.Fatal(err)
	}
}

// remoteWriteHandler decodes a remote-write body and appends it to a TSDB,
// the work a request does once it is authenticated (minus validation).
type remoteWriteHandler struct {
	db  *tsdb.DB
	lb  labels.ScratchBuilder
	req prompb.WriteRequest
	buf []byte
}

func newRemoteWriteHandler(b *testing.B) *remoteWriteHandler {
	b.Helper()
	db, err := tsdb.Open(b.TempDir(), nil, nil, tsdb.DefaultOptions(), nil)
	if err != nil {
		b.Fatal(err)
	}
	db.DisableCompactions() // keep background compaction out of the measurement
	b.Cleanup(func() { _ = db.Close() })
	return &remoteWriteHandler{db: db}
}

func (h *remoteWriteHandler) handle(b *testing.B, body []byte, shiftMs int64) {
	var err error
	h.buf, err = snappy.Decode(h.buf[:cap(h.buf)], body)
	if err != nil {
		b.Fatal(err)
	}
	h.req.Reset()
	if err := h.req.Unmarshal(h.buf); err != nil {
		b.Fatal(err)
	}
	app := h.db.Appender(context.Background())
	for _, ts := range h.req.Timeseries {
		ls := ts.ToLabels(&h.lb, nil)
		for _, s := range ts.Samples {
			if _, err := app.Append(0, ls, s.Timestamp+shiftMs, s.Value); err != nil {
				b.Fatal(err)
			}
		}
	}
	if err := app.Commit(); err != nil {
		b.Fatal(err)
	}
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

// BenchmarkRemoteWriteHandle decodes and appends the same request into a
// tsdb.DB: what verification is compared with.
func BenchmarkRemoteWriteHandle(b *testing.B) {
	_, body := signedRemoteWrite(b)
	h := newRemoteWriteHandler(b)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	var i int64
	for b.Loop() {
		h.handle(b, body, i*shiftPerRequestMs)
		i++
	}
	b.ReportMetric(float64(benchSamples)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

// BenchmarkRemoteWriteVerifyRatio does both for each request and reports
// ratio = verification time / handling time (the target is < 0.05).
func BenchmarkRemoteWriteVerifyRatio(b *testing.B) {
	tmpl, body := signedRemoteWrite(b)
	v := newVerifier(b, signingTime)
	h := newRemoteWriteHandler(b)
	var verify, handle time.Duration
	var i int64
	for b.Loop() {
		t0 := time.Now()
		verifyOnce(b, v, tmpl, body)
		t1 := time.Now()
		h.handle(b, body, i*shiftPerRequestMs)
		handle += time.Since(t1)
		verify += t1.Sub(t0)
		i++
	}
	b.ReportMetric(float64(verify.Nanoseconds())/float64(b.N), "verify-ns/op")
	b.ReportMetric(float64(handle.Nanoseconds())/float64(b.N), "handle-ns/op")
	b.ReportMetric(float64(verify)/float64(handle), "ratio")
}

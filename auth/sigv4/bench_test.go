package sigv4_test

import (
	"bytes"
	"io"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/promspace/promspace/auth/sigv4"
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

// verifyOnce verifies a fresh copy of the signed request.
func verifyOnce(b *testing.B, v *sigv4.Verifier, tmpl *http.Request, body []byte) {
	r := *tmpl
	r.Body = io.NopCloser(bytes.NewReader(body))
	if _, err := v.Verify(r.Context(), &r); err != nil {
		b.Fatal(err)
	}
}

// BenchmarkVerifyRemoteWrite verifies a 2,000-sample remote-write request
// signed with X-Amz-Content-Sha256 (body hashed and compared).
func BenchmarkVerifyRemoteWrite(b *testing.B) {
	tmpl, body := signedRemoteWrite(b)
	v := newVerifier(b, signingTime)
	b.SetBytes(int64(len(body)))
	b.ReportAllocs()
	for b.Loop() {
		verifyOnce(b, v, tmpl, body)
	}
	b.ReportMetric(float64(benchSamples)*float64(b.N)/b.Elapsed().Seconds(), "samples/s")
}

package sigv4_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"

	"github.com/promspace/promspace/auth/sigv4"
)

// The signing helpers are those of package auth's tests, over
// aws.Credentials instead of auth.Credential.

const (
	testRegion  = "us-east-1"
	testService = "aps"
	testKey     = "AKIDEXAMPLE"
	testSecret  = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

// signingTime is when the tests sign; verifiers' clocks are set from it.
var signingTime = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

func clockAt(t time.Time) func() time.Time { return func() time.Time { return t } }

func testCredential() aws.Credentials {
	return aws.Credentials{AccessKeyID: testKey, SecretAccessKey: testSecret}
}

// staticStore serves creds, and ErrUnrecognizedClient for other keys.
func staticStore(creds ...aws.Credentials) sigv4.CredentialStore {
	byKey := make(map[string]sigv4.Credentials, len(creds))
	for _, c := range creds {
		byKey[c.AccessKeyID] = sigv4.Credentials{SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}
	}
	return sigv4.CredentialStoreFunc(func(_ context.Context, id string) (sigv4.Credentials, error) {
		c, ok := byKey[id]
		if !ok {
			return sigv4.Credentials{}, fmt.Errorf("access key %q: %w", id, sigv4.ErrUnrecognizedClient)
		}
		return c, nil
	})
}

func newVerifierWith(t testing.TB, opts sigv4.Options) *sigv4.Verifier {
	t.Helper()
	if opts.Region == "" {
		opts.Region = testRegion
	}
	if opts.Service == "" {
		opts.Service = testService
	}
	v, err := sigv4.NewVerifier(opts)
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func newVerifier(t testing.TB, now time.Time, creds ...aws.Credentials) *sigv4.Verifier {
	t.Helper()
	if len(creds) == 0 {
		creds = []aws.Credentials{testCredential()}
	}
	return newVerifierWith(t, sigv4.Options{Credentials: staticStore(creds...), Now: clockAt(now)})
}

// bodyHash returns the hex SHA-256 of r's body, read through GetBody.
func bodyHash(r *http.Request) (string, error) {
	h := sha256.New()
	if r.GetBody != nil {
		b, err := r.GetBody()
		if err != nil {
			return "", err
		}
		defer b.Close()
		if _, err := io.Copy(h, b); err != nil {
			return "", err
		}
	}
	return hex.EncodeToString(h.Sum(nil)), nil
}

type signOpts struct {
	region, service string
	at              time.Time
	// contentSHA sets X-Amz-Content-Sha256 to the payload hash (or to
	// UNSIGNED-PAYLOAD when unsigned is set).
	contentSHA, unsigned bool
}

func (o signOpts) withDefaults() signOpts {
	if o.region == "" {
		o.region = testRegion
	}
	if o.service == "" {
		o.service = testService
	}
	if o.at.IsZero() {
		o.at = signingTime
	}
	return o
}

// sdkSign signs r in the Authorization header with aws-sdk-go-v2's signer.
func sdkSign(c aws.Credentials, o signOpts) func(*http.Request) error {
	o = o.withDefaults()
	s := v4.NewSigner()
	return func(r *http.Request) error {
		hash, err := bodyHash(r)
		if err != nil {
			return err
		}
		if o.unsigned {
			hash = "UNSIGNED-PAYLOAD"
		}
		if o.contentSHA || o.unsigned {
			r.Header.Set("X-Amz-Content-Sha256", hash)
		}
		return s.SignHTTP(context.Background(), c, r, hash, o.service, o.region, o.at)
	}
}

// sdkPresign presigns r's URL with aws-sdk-go-v2's signer.
func sdkPresign(c aws.Credentials, o signOpts, expires time.Duration) func(*http.Request) error {
	o = o.withDefaults()
	s := v4.NewSigner()
	return func(r *http.Request) error {
		hash, err := bodyHash(r)
		if err != nil {
			return err
		}
		if o.unsigned {
			hash = "UNSIGNED-PAYLOAD"
		}
		if expires > 0 {
			q := r.URL.Query()
			q.Set("X-Amz-Expires", strconv.Itoa(int(expires/time.Second)))
			r.URL.RawQuery = q.Encode()
		}
		signed, hdr, err := s.PresignHTTP(context.Background(), c, r, hash, o.service, o.region, o.at)
		if err != nil {
			return err
		}
		u, err := url.Parse(signed)
		if err != nil {
			return err
		}
		r.URL = u
		for k, vs := range hdr {
			if k == "Host" || k == "Content-Length" {
				continue
			}
			r.Header[k] = vs
		}
		return nil
	}
}

// verified is what one request to a verifyServer came to.
type verified struct {
	res  sigv4.Result
	err  error
	body []byte // what the handler read after Verify
}

// verifyServer serves, over loopback, a handler that verifies each request
// and records the outcome; it answers 200 when the signature verified and
// 403 otherwise.
type verifyServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []verified
}

func newVerifyServer(t testing.TB, v *sigv4.Verifier) *verifyServer {
	t.Helper()
	s := &verifyServer{}
	s.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		res, err := v.Verify(r.Context(), r)
		body, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.reqs = append(s.reqs, verified{res: res, err: err, body: body})
		s.mu.Unlock()
		if err != nil {
			w.WriteHeader(http.StatusForbidden)
		}
	}))
	t.Cleanup(s.Close)
	return s
}

// do sends r and returns what the server's Verify made of it.
func (s *verifyServer) do(t testing.TB, r *http.Request) verified {
	t.Helper()
	resp, err := s.Client().Do(r)
	if err != nil {
		t.Fatalf("%s %s: %v", r.Method, r.URL, err)
	}
	resp.Body.Close()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.reqs) == 0 {
		t.Fatal("no request reached the handler")
	}
	return s.reqs[len(s.reqs)-1]
}

func newRequest(t testing.TB, method, u string, body []byte) *http.Request {
	t.Helper()
	var rd io.Reader
	if body != nil {
		rd = bytes.NewReader(body)
	}
	r, err := http.NewRequest(method, u, rd)
	if err != nil {
		t.Fatal(err)
	}
	return r
}

func setBody(r *http.Request, b []byte) {
	r.Body = nopCloser{bytes.NewReader(b)}
	r.GetBody = nil
	r.ContentLength = int64(len(b))
}

type nopCloser struct{ *bytes.Reader }

func (nopCloser) Close() error { return nil }

// remoteWriteBody returns a snappy-compressed remote-write 1.0 request with
// the given number of samples, one per series as Prometheus usually batches
// them (max_samples_per_send 2,000).
func remoteWriteBody(t testing.TB, samples int) []byte {
	t.Helper()
	wr := &prompb.WriteRequest{}
	for s := 0; s < samples; s++ {
		wr.Timeseries = append(wr.Timeseries, prompb.TimeSeries{
			Labels: []prompb.Label{
				{Name: "__name__", Value: "http_requests_total"},
				{Name: "code", Value: strconv.Itoa(200 + s%5)},
				{Name: "instance", Value: fmt.Sprintf("10.0.%d.%d:9100", s/250, s%250)},
				{Name: "job", Value: "node"},
				{Name: "path", Value: fmt.Sprintf("/api/v1/items/%d", s)},
			},
			Samples: []prompb.Sample{{Timestamp: 1_700_000_000_000, Value: 0.5}},
		})
	}
	b, err := wr.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return snappy.Encode(nil, b)
}

package auth_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
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

	"github.com/promspace/promspace/auth"
	"github.com/promspace/promspace/auth/iam"
)

const (
	testRegion  = "us-east-1"
	testAccount = "111122223333"
	testKey     = "AKIDEXAMPLE"
	testSecret  = "wJalrXUtnFEMI/K7MDENG+bPxRfiCYEXAMPLEKEY"
)

// signingTime is when the tests sign; verifiers' clocks are set from it.
var signingTime = time.Date(2026, 3, 14, 15, 9, 26, 0, time.UTC)

func clockAt(t time.Time) func() time.Time { return func() time.Time { return t } }

func testCredential() auth.Credential {
	return auth.Credential{AccessKeyID: testKey, SecretAccessKey: testSecret, AccountID: testAccount, Name: "alice"}
}

// fullAccess returns a PolicyAuthorizer that gives alice AmazonPrometheusFullAccess.
func fullAccess(t testing.TB, creds ...auth.Credential) *auth.PolicyAuthorizer {
	t.Helper()
	a := auth.NewPolicyAuthorizer()
	full, _ := auth.Preset(auth.PresetFullAccess)
	if len(creds) == 0 {
		creds = []auth.Credential{testCredential()}
	}
	for _, c := range creds {
		a.Attach(c.Principal().ARN, full)
	}
	return a
}

const (
	wsA = "arn:aws:aps:us-east-1:111122223333:workspace/ws-a"
	wsB = "arn:aws:aps:us-east-1:111122223333:workspace/ws-b"
)

func mustPolicy(t testing.TB, doc string) *iam.Policy {
	t.Helper()
	p, err := iam.ParsePolicy([]byte(doc))
	if err != nil {
		t.Fatalf("ParsePolicy(%s): %v", doc, err)
	}
	return p
}

func newVerifier(t testing.TB, now time.Time, creds ...auth.Credential) *auth.SigV4 {
	t.Helper()
	if len(creds) == 0 {
		creds = []auth.Credential{testCredential()}
	}
	store, err := auth.NewStaticCredentials(creds...)
	if err != nil {
		t.Fatal(err)
	}
	v, err := auth.NewSigV4(auth.SigV4Options{Region: testRegion, Credentials: store, Now: clockAt(now)})
	if err != nil {
		t.Fatal(err)
	}
	return v
}

func awsCreds(c auth.Credential) aws.Credentials {
	return aws.Credentials{AccessKeyID: c.AccessKeyID, SecretAccessKey: c.SecretAccessKey, SessionToken: c.SessionToken}
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
		o.service = auth.DefaultService
	}
	if o.at.IsZero() {
		o.at = signingTime
	}
	return o
}

// sdkSign signs r in the Authorization header with aws-sdk-go-v2's signer.
func sdkSign(c auth.Credential, o signOpts) func(*http.Request) error {
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
		return s.SignHTTP(context.Background(), awsCreds(c), r, hash, o.service, o.region, o.at)
	}
}

// sdkPresign presigns r's URL with aws-sdk-go-v2's signer.
func sdkPresign(c auth.Credential, o signOpts, expires time.Duration) func(*http.Request) error {
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
		signed, hdr, err := s.PresignHTTP(context.Background(), awsCreds(c), r, hash, o.service, o.region, o.at)
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

// seen records what reached the handler behind the middleware.
type seen struct {
	mu   sync.Mutex
	reqs []seenRequest
}

type seenRequest struct {
	principal *auth.Principal
	op        auth.Operation
	opOK      bool
	body      []byte
	path      string
}

func (s *seen) handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		body, _ := io.ReadAll(r.Body)
		p, _ := auth.PrincipalFrom(r.Context())
		op, ok := auth.OperationFrom(r.Context())
		s.mu.Lock()
		s.reqs = append(s.reqs, seenRequest{principal: p, op: op, opOK: ok, body: body, path: r.URL.Path})
		s.mu.Unlock()
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write([]byte(`{}`))
	})
}

func (s *seen) last(t testing.TB) seenRequest {
	t.Helper()
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.reqs) == 0 {
		t.Fatal("no request reached the handler")
	}
	return s.reqs[len(s.reqs)-1]
}

func (s *seen) count() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.reqs)
}

// newServer serves the middleware over loopback in front of a recording handler.
func newServer(t testing.TB, opts auth.MiddlewareOptions) (*httptest.Server, *seen) {
	t.Helper()
	s := &seen{}
	srv := httptest.NewServer(auth.Middleware(s.handler(), opts))
	t.Cleanup(srv.Close)
	return srv, s
}

type refusal struct {
	status  int
	errType string // x-amzn-ErrorType
	message string // control plane "message" or data plane "error"
	body    map[string]any
}

func send(t testing.TB, c *http.Client, r *http.Request) (*http.Response, refusal) {
	t.Helper()
	resp, err := c.Do(r)
	if err != nil {
		t.Fatalf("%s %s: %v", r.Method, r.URL, err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	ref := refusal{status: resp.StatusCode, errType: resp.Header.Get("x-amzn-ErrorType")}
	if resp.StatusCode >= 400 {
		if err := json.Unmarshal(b, &ref.body); err != nil {
			t.Fatalf("refusal body %q is not JSON: %v", b, err)
		}
		if m, ok := ref.body["message"].(string); ok {
			ref.message = m
		} else if m, ok := ref.body["error"].(string); ok {
			ref.message = m
		}
	}
	return resp, ref
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

// remoteWriteBody returns a snappy-compressed remote-write 1.0 request with
// the given number of samples, one per series as Prometheus usually batches
// them (max_samples_per_send 2,000).
func remoteWriteBody(t testing.TB, samples int) []byte {
	t.Helper()
	wr := remoteWriteRequest(samples, 1, 1_700_000_000_000)
	b, err := wr.Marshal()
	if err != nil {
		t.Fatal(err)
	}
	return snappy.Encode(nil, b)
}

func remoteWriteRequest(samples, perSeries int, startMs int64) *prompb.WriteRequest {
	wr := &prompb.WriteRequest{}
	for s := 0; s*perSeries < samples; s++ {
		ts := prompb.TimeSeries{Labels: []prompb.Label{
			{Name: "__name__", Value: "http_requests_total"},
			{Name: "code", Value: strconv.Itoa(200 + s%5)},
			{Name: "instance", Value: fmt.Sprintf("10.0.%d.%d:9100", s/250, s%250)},
			{Name: "job", Value: "node"},
			{Name: "path", Value: fmt.Sprintf("/api/v1/items/%d", s)},
		}}
		for i := 0; i < perSeries && s*perSeries+i < samples; i++ {
			ts.Samples = append(ts.Samples, prompb.Sample{Timestamp: startMs + int64(i)*15_000, Value: float64(s*i) + 0.5})
		}
		wr.Timeseries = append(wr.Timeseries, ts)
	}
	return wr
}

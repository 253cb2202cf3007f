// Package snstest is a loopback Amazon SNS for tests: an HTTP server that
// speaks SNS's query protocol for Publish, as the AWS SDK's sns client
// and Alertmanager's sns notifier call it, checks each request's SigV4
// signature (service "sns") with package auth/sigv4, and records what was
// published.
//
//	sns := snstest.NewServer(t, "us-east-1", "AKID", "SECRET")
//	// point the sns_configs' api_url (alertmanager.Options.SNSEndpoint) at sns.URL
//	msgs := sns.Messages()
//
// It owns Publish only; other actions answer InvalidAction, and a request
// whose signature does not verify answers SignatureDoesNotMatch (403), as
// SNS does. Topics are not checked to exist.
package snstest

import (
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/http/httptest"
	"net/url"
	"sync"
	"testing"

	"github.com/google/uuid"

	"github.com/promspace/promspace/auth/sigv4"
)

// Message is one published message.
type Message struct {
	TopicArn  string
	TargetArn string
	Subject   string
	Message   string
	// Attributes are the message attributes, by name, their string
	// values.
	Attributes map[string]string
	// AccessKeyID signed the request.
	AccessKeyID string
	MessageID   string
}

// Server is a loopback SNS. URL is its endpoint, for api_url.
type Server struct {
	URL      string
	verifier *sigv4.Verifier

	mtx      sync.Mutex
	messages []Message
	rejected []error
	notify   chan struct{}
}

// NewServer starts a loopback SNS for region whose one credential is
// accessKeyID and secret; t.Cleanup stops it.
func NewServer(t testing.TB, region, accessKeyID, secret string) *Server {
	t.Helper()
	v, err := sigv4.NewVerifier(sigv4.Options{Region: region, Service: "sns",
		Credentials: sigv4.CredentialStoreFunc(func(_ context.Context, id string) (sigv4.Credentials, error) {
			if id != accessKeyID {
				return sigv4.Credentials{}, sigv4.ErrUnrecognizedClient
			}
			return sigv4.Credentials{SecretAccessKey: secret}, nil
		})})
	if err != nil {
		t.Fatalf("snstest: %v", err)
	}
	s := &Server{verifier: v, notify: make(chan struct{})}
	hs := httptest.NewServer(s)
	t.Cleanup(hs.Close)
	s.URL = hs.URL
	return s
}

// ServeHTTP answers SNS's query protocol.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	res, err := s.verifier.Verify(r.Context(), r)
	if err != nil {
		s.reject(err)
		writeError(w, http.StatusForbidden, "Sender", "SignatureDoesNotMatch", err.Error())
		return
	}
	if err := r.ParseForm(); err != nil {
		writeError(w, http.StatusBadRequest, "Sender", "MalformedQueryString", err.Error())
		return
	}
	f := r.PostForm
	if a := f.Get("Action"); a != "Publish" {
		writeError(w, http.StatusBadRequest, "Sender", "InvalidAction", fmt.Sprintf("The action %s is not valid for this endpoint.", a))
		return
	}
	m := Message{TopicArn: f.Get("TopicArn"), TargetArn: f.Get("TargetArn"), Subject: f.Get("Subject"),
		Message: f.Get("Message"), Attributes: attributes(f), AccessKeyID: res.AccessKeyID, MessageID: uuid.NewString()}
	if m.Message == "" {
		writeError(w, http.StatusBadRequest, "Sender", "ValidationError", "1 validation error detected: Value null at 'message' failed to satisfy constraint: Member must not be null")
		return
	}
	if m.TopicArn == "" && m.TargetArn == "" && f.Get("PhoneNumber") == "" {
		writeError(w, http.StatusBadRequest, "Sender", "InvalidParameter", "Invalid parameter: TopicArn or TargetArn Reason: no value for required parameter")
		return
	}
	s.mtx.Lock()
	s.messages = append(s.messages, m)
	close(s.notify)
	s.notify = make(chan struct{})
	s.mtx.Unlock()
	w.Header().Set("Content-Type", "text/xml")
	fmt.Fprintf(w, `<PublishResponse xmlns="http://sns.amazonaws.com/doc/2010-03-31/"><PublishResult><MessageId>%s</MessageId></PublishResult><ResponseMetadata><RequestId>%s</RequestId></ResponseMetadata></PublishResponse>`,
		m.MessageID, uuid.NewString())
}

// attributes reads MessageAttributes.entry.N.Name and .Value.StringValue.
func attributes(f url.Values) map[string]string {
	out := map[string]string{}
	for i := 1; ; i++ {
		p := fmt.Sprintf("MessageAttributes.entry.%d.", i)
		name := f.Get(p + "Name")
		if name == "" {
			return out
		}
		out[name] = f.Get(p + "Value.StringValue")
	}
}

func (s *Server) reject(err error) {
	s.mtx.Lock()
	defer s.mtx.Unlock()
	s.rejected = append(s.rejected, err)
}

// Messages returns the messages published so far.
func (s *Server) Messages() []Message {
	s.mtx.Lock()
	defer s.mtx.Unlock()
	return append([]Message(nil), s.messages...)
}

// Rejected returns why the requests refused so far were refused: their
// signatures did not verify.
func (s *Server) Rejected() []error {
	s.mtx.Lock()
	defer s.mtx.Unlock()
	return append([]error(nil), s.rejected...)
}

// WaitMessages waits until at least n messages have been published and
// returns them, or returns ctx's error with those published so far.
func (s *Server) WaitMessages(ctx context.Context, n int) ([]Message, error) {
	for {
		s.mtx.Lock()
		msgs, ch := append([]Message(nil), s.messages...), s.notify
		s.mtx.Unlock()
		if len(msgs) >= n {
			return msgs, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return msgs, ctx.Err()
		}
	}
}

type errorResponse struct {
	XMLName xml.Name `xml:"ErrorResponse"`
	Error   struct {
		Type    string `xml:"Type"`
		Code    string `xml:"Code"`
		Message string `xml:"Message"`
	} `xml:"Error"`
	RequestID string `xml:"RequestId"`
}

func writeError(w http.ResponseWriter, status int, typ, code, msg string) {
	var e errorResponse
	e.Error.Type, e.Error.Code, e.Error.Message, e.RequestID = typ, code, msg, uuid.NewString()
	b, _ := xml.Marshal(e) // of strings only: cannot fail
	w.Header().Set("Content-Type", "text/xml")
	w.WriteHeader(status)
	_, _ = w.Write(b)
}

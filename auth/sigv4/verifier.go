package sigv4

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SigV4 constants from the AWS Signature Version 4 specification.
const (
	algorithm          = "AWS4-HMAC-SHA256"
	terminator         = "aws4_request"
	amzDateFormat      = "20060102T150405Z"
	amzShortDate       = "20060102"
	unsignedPayload    = "UNSIGNED-PAYLOAD"
	streamingPrefix    = "STREAMING-"
	headerAmzDate      = "X-Amz-Date"
	headerContentSHA   = "X-Amz-Content-Sha256"
	headerSecurityTok  = "X-Amz-Security-Token"
	queryAlgorithm     = "X-Amz-Algorithm"
	queryCredential    = "X-Amz-Credential"
	queryDate          = "X-Amz-Date"
	queryExpires       = "X-Amz-Expires"
	querySignedHeaders = "X-Amz-SignedHeaders"
	querySignature     = "X-Amz-Signature"
	querySecurityToken = "X-Amz-Security-Token"
	maxPresignExpires  = 7 * 24 * time.Hour
)

// DefaultMaxBodySize bounds the body Verify buffers to hash when the client
// did not send X-Amz-Content-Sha256 (Prometheus' sigv4 round tripper and
// the AWS SDK's clients don't).
const DefaultMaxBodySize = 32 << 20

// DefaultMaxClockSkew is how far the signing time may be from the server's
// clock, as in AWS.
const DefaultMaxClockSkew = 5 * time.Minute

// Credentials is what Verify needs to know of an access key.
type Credentials struct {
	SecretAccessKey string
	// SessionToken, when set, must be presented with every request signed
	// by this key (X-Amz-Security-Token), as for temporary AWS credentials.
	SessionToken string
}

// CredentialStore finds the secret of an access key.
type CredentialStore interface {
	// Lookup returns the credentials of accessKeyID, or an error wrapping
	// ErrUnrecognizedClient if there are none. Other errors mean the store
	// failed; Verify returns them wrapped.
	Lookup(ctx context.Context, accessKeyID string) (Credentials, error)
}

// CredentialStoreFunc adapts a function to CredentialStore.
type CredentialStoreFunc func(ctx context.Context, accessKeyID string) (Credentials, error)

// Lookup calls f.
func (f CredentialStoreFunc) Lookup(ctx context.Context, accessKeyID string) (Credentials, error) {
	return f(ctx, accessKeyID)
}

// Options configures a Verifier. Region, Service and Credentials are
// required; zero values of the others mean the defaults.
type Options struct {
	// Region requests must be scoped to, e.g. "us-east-1".
	Region string
	// Service requests must be scoped to: the signing name, e.g. "aps".
	Service string
	// Credentials finds the secret of an access key.
	Credentials CredentialStore
	// MaxBodySize bounds the body read to compute its hash. DefaultMaxBodySize when 0.
	MaxBodySize int64
	// MaxClockSkew is the tolerated distance between the signing time and
	// Now. DefaultMaxClockSkew when 0.
	MaxClockSkew time.Duration
	// Now is the clock. time.Now when nil.
	Now func() time.Time
}

// Scope is the credential scope a request was signed for.
type Scope struct {
	Date    string // YYYYMMDD
	Region  string
	Service string
}

// String returns the scope as it appears in the string to sign,
// date/region/service/aws4_request.
func (s Scope) String() string {
	return s.Date + "/" + s.Region + "/" + s.Service + "/" + terminator
}

// Result is what Verify learnt about a request whose signature verified.
type Result struct {
	// AccessKeyID is the key the request was signed with.
	AccessKeyID string
	Scope       Scope
	// SignedAt is the signing time (X-Amz-Date).
	SignedAt time.Time
	// Presigned is true for a presigned URL, false for an Authorization header.
	Presigned bool
}

// Verifier verifies AWS Signature Version 4 requests for one region and
// service. It is safe for concurrent use.
type Verifier struct {
	opts Options

	mu   sync.Mutex
	keys map[string]signingKey
}

// NewVerifier returns a Verifier.
func NewVerifier(opts Options) (*Verifier, error) {
	switch {
	case opts.Credentials == nil:
		return nil, errors.New("sigv4: a credential store is required")
	case opts.Region == "":
		return nil, errors.New("sigv4: a region is required")
	case opts.Service == "":
		return nil, errors.New("sigv4: a service is required")
	}
	if opts.MaxBodySize <= 0 {
		opts.MaxBodySize = DefaultMaxBodySize
	}
	if opts.MaxClockSkew <= 0 {
		opts.MaxClockSkew = DefaultMaxClockSkew
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	return &Verifier{opts: opts, keys: map[string]signingKey{}}, nil
}

// Verify checks r's signature, in the Authorization header or the presigned
// query string, and returns who signed it. ctx is passed to the credential
// store.
//
// Errors from the request are *Error values wrapping the sentinel errors of
// this package; any other error is the credential store's failure. When
// the body has to be hashed (no X-Amz-Content-Sha256, or a hex one that
// must be checked), Verify reads it and leaves an equivalent, unread body
// (and GetBody) on r for the handler.
func (v *Verifier) Verify(ctx context.Context, r *http.Request) (Result, error) {
	authz := r.Header.Values("Authorization")
	query, _ := url.ParseQuery(r.URL.RawQuery)
	presigned := query.Has(queryAlgorithm) || query.Has(querySignature) || query.Has(queryCredential)

	var (
		in  signatureInput
		err error
	)
	switch {
	case len(authz) > 0 && strings.HasPrefix(strings.TrimSpace(authz[0]), "AWS4-"):
		if presigned {
			return Result{}, newError(ErrIncompleteSignature, "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.")
		}
		if len(authz) > 1 {
			return Result{}, newError(ErrIncompleteSignature, "Only one Authorization header is allowed.")
		}
		in, err = parseAuthorization(authz[0])
	case presigned:
		in, err = parsePresigned(query)
	default:
		return Result{}, newError(ErrMissingSignature, MessageMissingToken)
	}
	if err != nil {
		return Result{}, err
	}
	return v.verify(ctx, r, in, query, presigned)
}

func (v *Verifier) verify(ctx context.Context, r *http.Request, in signatureInput, query url.Values, presigned bool) (Result, error) {
	if in.terminator != terminator {
		return Result{}, newError(ErrInvalidSignature, "Credential should be scoped with a valid terminator: 'aws4_request', not '%s'.", truncate(in.terminator))
	}
	if in.service != v.opts.Service {
		return Result{}, newError(ErrInvalidSignature, "Credential should be scoped to correct service: '%s'.", v.opts.Service)
	}
	if in.region != v.opts.Region {
		return Result{}, newError(ErrInvalidSignature, "Credential should be scoped to a valid region, not '%s'.", truncate(in.region))
	}

	// The signing time. SigV4 also allows the Date header to carry it when
	// X-Amz-Date is absent; no client of aps does that, so it is refused.
	var rawDate string
	if presigned {
		rawDate = query.Get(queryDate)
	} else {
		rawDate = r.Header.Get(headerAmzDate)
	}
	if rawDate == "" {
		return Result{}, newError(ErrIncompleteSignature, "Authorization header requires existence of a 'X-Amz-Date' header.")
	}
	signedAt, err := time.Parse(amzDateFormat, rawDate)
	if err != nil {
		return Result{}, newError(ErrIncompleteSignature, "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\".")
	}
	amzDate := signedAt.Format(amzDateFormat)
	if d := signedAt.Format(amzShortDate); d != in.date {
		return Result{}, newError(ErrInvalidSignature, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", truncate(in.date), d, amzDate)
	}
	if err := v.checkTime(signedAt, query, presigned); err != nil {
		return Result{}, err
	}
	if !slices.Contains(in.headerNames, "host") {
		return Result{}, newError(ErrIncompleteSignature, "'Host' must be a 'SignedHeader' in the AWS Authorization.")
	}

	cred, err := v.opts.Credentials.Lookup(ctx, in.accessKeyID)
	if err != nil {
		if errors.Is(err, ErrUnrecognizedClient) {
			return Result{}, newError(ErrUnrecognizedClient, MessageUnrecognizedClient)
		}
		return Result{}, fmt.Errorf("sigv4: looking up access key: %w", err)
	}
	if cred.SecretAccessKey == "" {
		return Result{}, newError(ErrUnrecognizedClient, MessageUnrecognizedClient)
	}
	var token string
	if presigned {
		token = query.Get(querySecurityToken)
	} else {
		token = r.Header.Get(headerSecurityTok)
	}
	if !hmac.Equal([]byte(token), []byte(cred.SessionToken)) {
		return Result{}, newError(ErrUnrecognizedClient, MessageUnrecognizedClient)
	}

	payloadHashes, err := v.payloadHashes(r, presigned)
	if err != nil {
		return Result{}, err
	}

	key := v.signingKey(cred.SecretAccessKey, in)
	uri := canonicalURI(r)
	cq := canonicalQuery(query, presigned)
	ch := canonicalHeaders(r, in.headerNames)
	scope := in.scope()
	for _, ph := range payloadHashes {
		crHash := sha256.New()
		writeCanonicalRequest(crHash, r.Method, uri, cq, ch, in.signedHeaders, ph)
		sts := algorithm + "\n" + amzDate + "\n" + scope.String() + "\n" + hex.EncodeToString(crHash.Sum(nil))
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(sts))
		if hmac.Equal(mac.Sum(nil), in.signature) {
			return Result{AccessKeyID: in.accessKeyID, Scope: scope, SignedAt: signedAt, Presigned: presigned}, nil
		}
	}
	return Result{}, newError(ErrInvalidSignature, MessageInvalidSignature)
}

func (v *Verifier) checkTime(signedAt time.Time, query url.Values, presigned bool) error {
	now := v.opts.Now().UTC()
	skew := v.opts.MaxClockSkew
	if signedAt.After(now.Add(skew)) {
		return newError(ErrSignatureExpired, "Signature not yet current: %s is still later than %s (%s + %s)",
			signedAt.Format(amzDateFormat), now.Add(skew).Format(amzDateFormat), now.Format(amzDateFormat), skewText(skew))
	}
	if presigned && query.Has(queryExpires) {
		secs, err := strconv.ParseInt(query.Get(queryExpires), 10, 64)
		if err != nil || secs < 0 {
			return newError(ErrIncompleteSignature, "X-Amz-Expires must be a non-negative integer.")
		}
		if time.Duration(secs)*time.Second > maxPresignExpires {
			return newError(ErrIncompleteSignature, "X-Amz-Expires must be less than a week (in seconds) that is 604800.")
		}
		earliest := now.Add(-time.Duration(secs) * time.Second)
		if signedAt.Before(earliest) {
			return newError(ErrSignatureExpired, "Signature expired: %s is now earlier than %s (%s - %d sec.)",
				signedAt.Format(amzDateFormat), earliest.Format(amzDateFormat), now.Format(amzDateFormat), secs)
		}
		return nil
	}
	if earliest := now.Add(-skew); signedAt.Before(earliest) {
		return newError(ErrSignatureExpired, "Signature expired: %s is now earlier than %s (%s - %s)",
			signedAt.Format(amzDateFormat), earliest.Format(amzDateFormat), now.Format(amzDateFormat), skewText(skew))
	}
	return nil
}

func skewText(d time.Duration) string {
	if d%time.Minute == 0 {
		return strconv.FormatInt(int64(d/time.Minute), 10) + " min."
	}
	return d.String() + "."
}

package auth

import (
	"bytes"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"io"
	"net/http"
	"net/url"
	"slices"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"
)

// SigV4 constants from the AWS Signature Version 4 specification.
const (
	sigV4Algorithm     = "AWS4-HMAC-SHA256"
	sigV4Terminator    = "aws4_request"
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

// DefaultService is the SigV4 signing name of AMP.
const DefaultService = "aps"

// DefaultMaxBodySize bounds the body SigV4 buffers to hash when the client
// did not send X-Amz-Content-Sha256 (Prometheus' sigv4 round tripper and
// the AWS SDK's amp client don't).
const DefaultMaxBodySize = 32 << 20

// DefaultMaxClockSkew is how far the signing time may be from the server's
// clock, as in AWS.
const DefaultMaxClockSkew = 5 * time.Minute

// SigV4Options configures a SigV4 authenticator. Zero values mean the
// defaults.
type SigV4Options struct {
	// Region requests must be scoped to. DefaultRegion when empty.
	Region string
	// Service requests must be scoped to. DefaultService ("aps") when empty.
	Service string
	// Credentials finds the secret of an access key. Required.
	Credentials CredentialStore
	// MaxBodySize bounds the body read to compute its hash. DefaultMaxBodySize when 0.
	MaxBodySize int64
	// MaxClockSkew is the tolerated distance between the signing time and
	// Now. DefaultMaxClockSkew when 0.
	MaxClockSkew time.Duration
	// Now is the clock. time.Now when nil.
	Now func() time.Time
}

// SigV4 verifies AWS Signature Version 4 requests: the Authorization header
// form and presigned URLs. It canonicalises requests as aws-sdk-go-v2's
// signer does for services other than S3 (the path is URI-encoded once
// more, i.e. percent signs of an already escaped path are escaped again).
// Chunked payload signing (STREAMING-AWS4-HMAC-SHA256-PAYLOAD) is S3's and
// is rejected: neither the AWS SDK's amp client nor Prometheus' sigv4 round
// tripper use it.
type SigV4 struct {
	opts SigV4Options

	mu   sync.Mutex
	keys map[string]signingKey
}

type signingKey struct {
	secret string
	key    []byte
}

const maxCachedKeys = 4096

// NewSigV4 returns a SigV4 authenticator.
func NewSigV4(opts SigV4Options) (*SigV4, error) {
	if opts.Credentials == nil {
		return nil, errors.New("sigv4: a credential store is required")
	}
	if opts.Region == "" {
		opts.Region = DefaultRegion
	}
	if opts.Service == "" {
		opts.Service = DefaultService
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
	return &SigV4{opts: opts, keys: map[string]signingKey{}}, nil
}

// signatureInput is what a request says about its own signature, from the
// Authorization header or the presigned query string.
type signatureInput struct {
	accessKeyID string
	date        string // YYYYMMDD of the credential scope
	region      string
	service     string
	terminator  string
	// signedHeaders is the SignedHeaders value as sent; it is part of the
	// canonical request verbatim.
	signedHeaders string
	headerNames   []string
	signature     []byte
}

func (s signatureInput) scope() string {
	return s.date + "/" + s.region + "/" + s.service + "/" + s.terminator
}

// parseAuthorization parses an `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`
// header value. It returns an error wrapping ErrMissingToken when the value
// is not a SigV4 header at all, ErrIncompleteSignature when it is malformed.
func parseAuthorization(v string) (signatureInput, error) {
	v = strings.TrimSpace(v)
	alg, rest, _ := strings.Cut(v, " ")
	if alg != sigV4Algorithm {
		if strings.HasPrefix(alg, "AWS4-") {
			return signatureInput{}, newError(ErrIncompleteSignature, "Unsupported AWS 'algorithm': '%s'.", truncate(alg))
		}
		return signatureInput{}, newError(ErrMissingToken, msgMissingToken)
	}
	var cred, signed, sig string
	var haveCred, haveSigned, haveSig bool
	for _, part := range strings.Split(rest, ",") {
		part = strings.TrimSpace(part)
		if part == "" {
			continue
		}
		k, val, ok := strings.Cut(part, "=")
		if !ok {
			return signatureInput{}, newError(ErrIncompleteSignature, "Authorization header parameter '%s' is not a key=value pair.", truncate(part))
		}
		var dst *string
		var seen *bool
		switch k {
		case "Credential":
			dst, seen = &cred, &haveCred
		case "SignedHeaders":
			dst, seen = &signed, &haveSigned
		case "Signature":
			dst, seen = &sig, &haveSig
		default:
			return signatureInput{}, newError(ErrIncompleteSignature, "Authorization header contains an unknown parameter '%s'.", truncate(k))
		}
		if *seen {
			return signatureInput{}, newError(ErrIncompleteSignature, "Authorization header contains the '%s' parameter twice.", k)
		}
		*dst, *seen = val, true
	}
	var missing []string
	if !haveCred {
		missing = append(missing, "Authorization header requires 'Credential' parameter.")
	}
	if !haveSig {
		missing = append(missing, "Authorization header requires 'Signature' parameter.")
	}
	if !haveSigned {
		missing = append(missing, "Authorization header requires 'SignedHeaders' parameter.")
	}
	if len(missing) > 0 {
		return signatureInput{}, newError(ErrIncompleteSignature, "%s", strings.Join(missing, " "))
	}
	return newSignatureInput(cred, signed, sig)
}

func newSignatureInput(cred, signed, sig string) (signatureInput, error) {
	var in signatureInput
	parts := strings.Split(cred, "/")
	if len(parts) != 5 {
		return in, newError(ErrIncompleteSignature, "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'.", truncate(cred))
	}
	for _, p := range parts {
		if p == "" {
			return in, newError(ErrIncompleteSignature, "Credential must have exactly 5 slash-delimited elements, e.g. keyid/date/region/service/term, got '%s'.", truncate(cred))
		}
	}
	in.accessKeyID, in.date, in.region, in.service, in.terminator = parts[0], parts[1], parts[2], parts[3], parts[4]

	if signed == "" {
		return in, newError(ErrIncompleteSignature, "SignedHeaders must not be empty.")
	}
	in.signedHeaders = signed
	in.headerNames = strings.Split(signed, ";")
	for i, h := range in.headerNames {
		if h == "" {
			return in, newError(ErrIncompleteSignature, "SignedHeaders contains an empty header name.")
		}
		in.headerNames[i] = strings.ToLower(h)
	}

	b, err := hex.DecodeString(sig)
	if err != nil || len(b) != sha256.Size {
		return in, newError(ErrIncompleteSignature, "Signature must be a hex-encoded HMAC-SHA256 (64 hexadecimal characters).")
	}
	in.signature = b
	return in, nil
}

// parsePresigned reads the signature from the presigned query parameters.
func parsePresigned(q url.Values) (signatureInput, error) {
	for _, k := range []string{queryAlgorithm, queryCredential, querySignature, querySignedHeaders, queryDate} {
		if len(q[k]) != 1 {
			return signatureInput{}, newError(ErrIncompleteSignature, "AWS query-string parameters must include 'X-Amz-Algorithm', 'X-Amz-Credential', 'X-Amz-Signature', 'X-Amz-SignedHeaders', 'X-Amz-Date', each once. Re-examine the query-string parameters.")
		}
	}
	if alg := q.Get(queryAlgorithm); alg != sigV4Algorithm {
		return signatureInput{}, newError(ErrIncompleteSignature, "Unsupported AWS 'algorithm': '%s'.", truncate(alg))
	}
	return newSignatureInput(q.Get(queryCredential), q.Get(querySignedHeaders), q.Get(querySignature))
}

func truncate(s string) string {
	const max = 128
	if len(s) > max {
		return s[:max] + "..."
	}
	return s
}

// Authenticate implements Authenticator.
func (v *SigV4) Authenticate(r *http.Request) (*Principal, error) {
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
			return nil, newError(ErrIncompleteSignature, "Only one auth mechanism allowed; only the X-Amz-Algorithm query parameter or the Authorization header should be specified.")
		}
		if len(authz) > 1 {
			return nil, newError(ErrIncompleteSignature, "Only one Authorization header is allowed.")
		}
		in, err = parseAuthorization(authz[0])
	case presigned:
		in, err = parsePresigned(query)
	default:
		return nil, newError(ErrMissingToken, msgMissingToken)
	}
	if err != nil {
		return nil, err
	}
	return v.verify(r, in, query, presigned)
}

func (v *SigV4) verify(r *http.Request, in signatureInput, query url.Values, presigned bool) (*Principal, error) {
	if in.terminator != sigV4Terminator {
		return nil, newError(ErrInvalidSignature, "Credential should be scoped with a valid terminator: 'aws4_request', not '%s'.", truncate(in.terminator))
	}
	if in.service != v.opts.Service {
		return nil, newError(ErrInvalidSignature, "Credential should be scoped to correct service: '%s'.", v.opts.Service)
	}
	if in.region != v.opts.Region {
		return nil, newError(ErrInvalidSignature, "Credential should be scoped to a valid region, not '%s'.", truncate(in.region))
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
		return nil, newError(ErrIncompleteSignature, "Authorization header requires existence of a 'X-Amz-Date' header.")
	}
	signedAt, err := time.Parse(amzDateFormat, rawDate)
	if err != nil {
		return nil, newError(ErrIncompleteSignature, "X-Amz-Date must be in the ISO8601 Long Format \"yyyyMMdd'T'HHmmss'Z'\".")
	}
	amzDate := signedAt.Format(amzDateFormat)
	if d := signedAt.Format(amzShortDate); d != in.date {
		return nil, newError(ErrInvalidSignature, "Date in Credential scope does not match YYYYMMDD from ISO-8601 version of date from HTTP: '%s' != '%s', from '%s'.", truncate(in.date), d, amzDate)
	}
	if err := v.checkTime(signedAt, query, presigned); err != nil {
		return nil, err
	}
	if !slices.Contains(in.headerNames, "host") {
		return nil, newError(ErrIncompleteSignature, "'Host' must be a 'SignedHeader' in the AWS Authorization.")
	}

	cred, err := v.opts.Credentials.Lookup(r.Context(), in.accessKeyID)
	if err != nil {
		if errors.Is(err, ErrUnrecognizedClient) {
			return nil, err
		}
		return nil, fmt.Errorf("sigv4: looking up access key: %w", err)
	}
	if cred.SecretAccessKey == "" {
		return nil, newError(ErrUnrecognizedClient, msgUnrecognized)
	}
	var token string
	if presigned {
		token = query.Get(querySecurityToken)
	} else {
		token = r.Header.Get(headerSecurityTok)
	}
	if !hmac.Equal([]byte(token), []byte(cred.SessionToken)) {
		return nil, newError(ErrUnrecognizedClient, msgUnrecognized)
	}

	payloadHashes, err := v.payloadHashes(r, presigned)
	if err != nil {
		return nil, err
	}

	key := v.signingKey(cred, in)
	uri := canonicalURI(r)
	cq := canonicalQuery(query, presigned)
	ch := canonicalHeaders(r, in.headerNames)
	scope := in.scope()
	for _, ph := range payloadHashes {
		crHash := sha256.New()
		writeCanonicalRequest(crHash, r.Method, uri, cq, ch, in.signedHeaders, ph)
		sts := sigV4Algorithm + "\n" + amzDate + "\n" + scope + "\n" + hex.EncodeToString(crHash.Sum(nil))
		mac := hmac.New(sha256.New, key)
		mac.Write([]byte(sts))
		if hmac.Equal(mac.Sum(nil), in.signature) {
			return cred.Principal(), nil
		}
	}
	return nil, newError(ErrInvalidSignature, msgInvalidSignature)
}

func (v *SigV4) checkTime(signedAt time.Time, query url.Values, presigned bool) error {
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

// payloadHashes returns the candidates for the last line of the canonical
// request. When the client sent X-Amz-Content-Sha256, it is that value (and
// a hex hash must match the body). Otherwise the body is read, hashed and
// put back; a presigned URL may also have been signed with UNSIGNED-PAYLOAD.
func (v *SigV4) payloadHashes(r *http.Request, presigned bool) ([]string, error) {
	declared := r.Header.Get(headerContentSHA)
	switch {
	case declared == unsignedPayload:
		return []string{declared}, nil
	case strings.HasPrefix(declared, streamingPrefix):
		return nil, newError(ErrIncompleteSignature, "X-Amz-Content-Sha256 '%s' is not supported: aps requests are signed with the payload's SHA-256 or UNSIGNED-PAYLOAD, not chunked.", truncate(declared))
	case declared != "" && !isHexSHA256(declared):
		return nil, newError(ErrIncompleteSignature, "X-Amz-Content-Sha256 must be UNSIGNED-PAYLOAD or the hex-encoded SHA-256 of the payload.")
	}
	sum, err := v.hashBody(r)
	if err != nil {
		return nil, err
	}
	if declared != "" {
		if !strings.EqualFold(declared, sum) {
			return nil, newError(ErrInvalidSignature, "The provided 'x-amz-content-sha256' header does not match what was computed.")
		}
		return []string{declared}, nil
	}
	if presigned {
		return []string{sum, unsignedPayload}, nil
	}
	return []string{sum}, nil
}

func isHexSHA256(s string) bool {
	if len(s) != 2*sha256.Size {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !('0' <= c && c <= '9' || 'a' <= c && c <= 'f' || 'A' <= c && c <= 'F') {
			return false
		}
	}
	return true
}

var emptySHA256 = hex.EncodeToString(sha256.New().Sum(nil))

// hashBody reads at most MaxBodySize bytes of the body, hashes them and puts
// an equivalent body back on r for the handler.
func (v *SigV4) hashBody(r *http.Request) (string, error) {
	if r.Body == nil || r.Body == http.NoBody {
		return emptySHA256, nil
	}
	max := v.opts.MaxBodySize
	if r.ContentLength > max {
		return "", newError(ErrBodyTooLarge, "Request body of %d bytes exceeds the limit of %d bytes.", r.ContentLength, max)
	}
	var body []byte
	var err error
	if r.ContentLength >= 0 {
		// net/http's server body ends at Content-Length, so read exactly that.
		body = make([]byte, r.ContentLength)
		_, err = io.ReadFull(r.Body, body)
	} else {
		body, err = io.ReadAll(io.LimitReader(r.Body, max+1))
	}
	_ = r.Body.Close()
	if mbe := (*http.MaxBytesError)(nil); errors.As(err, &mbe) {
		return "", newError(ErrBodyTooLarge, "Request body exceeds the limit of %d bytes.", mbe.Limit)
	}
	if err != nil {
		return "", newError(ErrUnreadableBody, "Request body could not be read: %v.", err)
	}
	if int64(len(body)) > max {
		return "", newError(ErrBodyTooLarge, "Request body exceeds the limit of %d bytes.", max)
	}
	r.Body = io.NopCloser(bytes.NewReader(body))
	r.GetBody = func() (io.ReadCloser, error) { return io.NopCloser(bytes.NewReader(body)), nil }
	sum := sha256.Sum256(body)
	return hex.EncodeToString(sum[:]), nil
}

func (v *SigV4) signingKey(c Credential, in signatureInput) []byte {
	id := c.AccessKeyID + "\x00" + in.date + "\x00" + in.region + "\x00" + in.service
	v.mu.Lock()
	k, ok := v.keys[id]
	v.mu.Unlock()
	if ok && k.secret == c.SecretAccessKey {
		return k.key
	}
	key := deriveKey(c.SecretAccessKey, in.date, in.region, in.service)
	v.mu.Lock()
	if len(v.keys) >= maxCachedKeys {
		clear(v.keys)
	}
	v.keys[id] = signingKey{secret: c.SecretAccessKey, key: key}
	v.mu.Unlock()
	return key
}

func deriveKey(secret, date, region, service string) []byte {
	k := hmacSHA256([]byte("AWS4"+secret), date)
	k = hmacSHA256(k, region)
	k = hmacSHA256(k, service)
	return hmacSHA256(k, sigV4Terminator)
}

func hmacSHA256(key []byte, data string) []byte {
	m := hmac.New(sha256.New, key)
	m.Write([]byte(data))
	return m.Sum(nil)
}

func writeCanonicalRequest(h hash.Hash, method, uri, query, headers, signedHeaders, payloadHash string) {
	for _, s := range []string{method, "\n", uri, "\n", query, "\n", headers, "\n", signedHeaders, "\n", payloadHash} {
		io.WriteString(h, s)
	}
}

// canonicalURI is the request path as it travelled on the wire, URI-encoded
// once more as aws-sdk-go-v2 does for every service but S3: each byte other
// than the unreserved characters and '/' becomes %XX, so "%3A" becomes
// "%253A".
func canonicalURI(r *http.Request) string {
	p := wirePath(r)
	if p == "" {
		p = "/"
	}
	return escapePath(p)
}

// wirePath returns the escaped path the client sent.
func wirePath(r *http.Request) string {
	if ru := r.RequestURI; ru != "" && ru != "*" {
		if ru[0] == '/' {
			p, _, _ := strings.Cut(ru, "?")
			return p
		}
		if u, err := url.ParseRequestURI(ru); err == nil {
			return u.EscapedPath()
		}
	}
	return r.URL.EscapedPath()
}

func escapePath(p string) string {
	n := 0
	for i := 0; i < len(p); i++ {
		if !unreserved(p[i]) && p[i] != '/' {
			n++
		}
	}
	if n == 0 {
		return p
	}
	const hexUpper = "0123456789ABCDEF"
	b := make([]byte, 0, len(p)+2*n)
	for i := 0; i < len(p); i++ {
		c := p[i]
		if unreserved(c) || c == '/' {
			b = append(b, c)
			continue
		}
		b = append(b, '%', hexUpper[c>>4], hexUpper[c&15])
	}
	return string(b)
}

func unreserved(c byte) bool {
	return 'A' <= c && c <= 'Z' || 'a' <= c && c <= 'z' || '0' <= c && c <= '9' ||
		c == '-' || c == '.' || c == '_' || c == '~'
}

// canonicalQuery encodes every name and value (RFC 3986, space as %20) and
// sorts the pairs after encoding, by name then value; a presigned URL's
// X-Amz-Signature is left out.
func canonicalQuery(q url.Values, presigned bool) string {
	type pair struct{ k, v string }
	pairs := make([]pair, 0, len(q))
	for k, vs := range q {
		if presigned && k == querySignature {
			continue
		}
		ek := queryEscape(k)
		for _, v := range vs {
			pairs = append(pairs, pair{ek, queryEscape(v)})
		}
	}
	sort.Slice(pairs, func(i, j int) bool {
		if pairs[i].k != pairs[j].k {
			return pairs[i].k < pairs[j].k
		}
		return pairs[i].v < pairs[j].v
	})
	var b strings.Builder
	for i, p := range pairs {
		if i > 0 {
			b.WriteByte('&')
		}
		b.WriteString(p.k)
		b.WriteByte('=')
		b.WriteString(p.v)
	}
	return b.String()
}

func queryEscape(s string) string {
	return strings.ReplaceAll(url.QueryEscape(s), "+", "%20")
}

// canonicalHeaders returns "name:value\n" for each signed header, values
// trimmed, runs of spaces collapsed and repeated values joined with ','.
func canonicalHeaders(r *http.Request, names []string) string {
	var b strings.Builder
	for _, name := range names {
		b.WriteString(name)
		b.WriteByte(':')
		switch name {
		case "host":
			host := r.Host
			if host == "" {
				host = r.URL.Host
			}
			b.WriteString(stripExcessSpaces(host))
		case "content-length":
			if vs := headerValues(r.Header, name); len(vs) > 0 {
				writeHeaderValues(&b, vs)
			} else if r.ContentLength > 0 {
				b.WriteString(strconv.FormatInt(r.ContentLength, 10))
			}
		case "transfer-encoding":
			writeHeaderValues(&b, r.TransferEncoding)
		default:
			writeHeaderValues(&b, headerValues(r.Header, name))
		}
		b.WriteByte('\n')
	}
	return b.String()
}

func writeHeaderValues(b *strings.Builder, vs []string) {
	for i, v := range vs {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteString(strings.TrimSpace(stripExcessSpaces(v)))
	}
}

// headerValues looks a lower-case header name up in h, whose keys are
// canonicalised by net/http except for names it cannot canonicalise.
func headerValues(h http.Header, lower string) []string {
	if vs, ok := h[http.CanonicalHeaderKey(lower)]; ok {
		return vs
	}
	for k, vs := range h {
		if strings.EqualFold(k, lower) {
			return vs
		}
	}
	return nil
}

// stripExcessSpaces trims leading and trailing spaces and collapses inner
// runs of spaces into one, as the SigV4 specification asks.
func stripExcessSpaces(s string) string {
	s = strings.Trim(s, " ")
	if !strings.Contains(s, "  ") {
		return s
	}
	b := make([]byte, 0, len(s))
	for i := 0; i < len(s); i++ {
		if s[i] == ' ' && i > 0 && s[i-1] == ' ' {
			continue
		}
		b = append(b, s[i])
	}
	return string(b)
}

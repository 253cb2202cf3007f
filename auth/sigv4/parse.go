package sigv4

import (
	"crypto/sha256"
	"encoding/hex"
	"net/url"
	"strings"
)

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

func (s signatureInput) scope() Scope {
	return Scope{Date: s.date, Region: s.region, Service: s.service}
}

// parseAuthorization parses an `AWS4-HMAC-SHA256 Credential=..., SignedHeaders=..., Signature=...`
// header value. It returns an error wrapping ErrMissingSignature when the
// value is not a SigV4 header at all, ErrIncompleteSignature when it is
// malformed.
func parseAuthorization(v string) (signatureInput, error) {
	v = strings.TrimSpace(v)
	alg, rest, _ := strings.Cut(v, " ")
	if alg != algorithm {
		if strings.HasPrefix(alg, "AWS4-") {
			return signatureInput{}, newError(ErrIncompleteSignature, "Unsupported AWS 'algorithm': '%s'.", truncate(alg))
		}
		return signatureInput{}, newError(ErrMissingSignature, MessageMissingToken)
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
	if alg := q.Get(queryAlgorithm); alg != algorithm {
		return signatureInput{}, newError(ErrIncompleteSignature, "Unsupported AWS 'algorithm': '%s'.", truncate(alg))
	}
	return newSignatureInput(q.Get(queryCredential), q.Get(querySignedHeaders), q.Get(querySignature))
}

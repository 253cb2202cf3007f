package sigv4

import (
	"bytes"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"io"
	"net/http"
	"strings"
)

// payloadHashes returns the candidates for the last line of the canonical
// request. When the client sent X-Amz-Content-Sha256, it is that value (and
// a hex hash must match the body). Otherwise the body is read, hashed and
// put back; a presigned URL may also have been signed with UNSIGNED-PAYLOAD.
func (v *Verifier) payloadHashes(r *http.Request, presigned bool) ([]string, error) {
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
func (v *Verifier) hashBody(r *http.Request) (string, error) {
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

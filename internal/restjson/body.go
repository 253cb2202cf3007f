package restjson

import (
	"bytes"
	"cmp"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
)

// BodyError is a request body that could not be taken: larger than the
// handler's limit, unreadable, or not JSON of the request's shape. Each
// handler answers it as its own ValidationException.
type BodyError struct {
	// TooLarge is set when the body is over the limit; Message then
	// names the limit.
	TooLarge bool
	Message  string
}

// DecodeBody decodes the JSON request body of r, at most maxBytes long,
// into v; an empty body is {}.
func DecodeBody(r *http.Request, maxBytes int64, v any) *BodyError {
	b, err := io.ReadAll(http.MaxBytesReader(nil, r.Body, maxBytes))
	if err != nil {
		var mbe *http.MaxBytesError
		if errors.As(err, &mbe) {
			return &BodyError{TooLarge: true, Message: fmt.Sprintf("request body is larger than %d bytes", maxBytes)}
		}
		return &BodyError{Message: "could not read request body: " + err.Error()}
	}
	if len(bytes.TrimSpace(b)) == 0 {
		return nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return &BodyError{Message: "could not parse request body: " + cmp.Or(err.Error(), "invalid JSON")}
	}
	return nil
}

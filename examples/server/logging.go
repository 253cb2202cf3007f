package main

import (
	"context"
	"log/slog"
	"net/http"
	"strings"

	"github.com/prometheus/common/promslog"
)

// demoteInfo logs a handler's info messages at debug level.
type demoteInfo struct{ slog.Handler }

func (h demoteInfo) Enabled(ctx context.Context, l slog.Level) bool {
	if l == slog.LevelInfo {
		l = slog.LevelDebug
	}
	return h.Handler.Enabled(ctx, l)
}

func (h demoteInfo) Handle(ctx context.Context, r slog.Record) error {
	if r.Level == slog.LevelInfo {
		r.Level = slog.LevelDebug
	}
	return h.Handler.Handle(ctx, r)
}

func (h demoteInfo) WithAttrs(as []slog.Attr) slog.Handler {
	return demoteInfo{h.Handler.WithAttrs(as)}
}
func (h demoteInfo) WithGroup(g string) slog.Handler { return demoteInfo{h.Handler.WithGroup(g)} }

// maxReason is how much of a refusal's body its log line quotes.
const maxReason = 512

// logRefusals logs every request answered 4xx or 5xx at debug level, with
// the status and the start of the body, which says why.
func logRefusals(next http.Handler, logger *slog.Logger) http.Handler {
	if !logger.Enabled(context.Background(), slog.LevelDebug) {
		return next
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &refusalRecorder{ResponseWriter: w}
		next.ServeHTTP(rec, r)
		if rec.status >= 400 {
			logger.Debug("Request refused", "method", r.Method, "path", r.URL.Path, "status", rec.status,
				"reason", strings.TrimSpace(rec.reason.String()), "remote", r.RemoteAddr)
		}
	})
}

// refusalRecorder keeps the status and, for a refusal, the start of the
// body of the response it passes on.
type refusalRecorder struct {
	http.ResponseWriter
	status int
	reason strings.Builder
}

func (rr *refusalRecorder) WriteHeader(code int) {
	if rr.status == 0 {
		rr.status = code
	}
	rr.ResponseWriter.WriteHeader(code)
}

func (rr *refusalRecorder) Write(b []byte) (int, error) {
	if rr.status == 0 {
		rr.status = http.StatusOK
	}
	if rr.status >= 400 && rr.reason.Len() < maxReason {
		rr.reason.Write(b[:min(len(b), maxReason-rr.reason.Len())])
	}
	return rr.ResponseWriter.Write(b)
}

// Unwrap lets http.ResponseController reach the connection's writer.
func (rr *refusalRecorder) Unwrap() http.ResponseWriter { return rr.ResponseWriter }

// Flush passes flushes on, for handlers that stream.
func (rr *refusalRecorder) Flush() {
	if f, ok := rr.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// levelFlag and formatFlag are promslog's flag values with a zero value
// whose String works, which the flag package calls to print defaults.
type (
	levelFlag  struct{ *promslog.Level }
	formatFlag struct{ *promslog.Format }
)

func (f levelFlag) String() string {
	if f.Level == nil {
		return ""
	}
	return f.Level.String()
}

func (f formatFlag) String() string {
	if f.Format == nil {
		return ""
	}
	return f.Format.String()
}

package ingest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"math"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/klauspost/compress/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/storage"
)

// Defaults of Options.
const (
	DefaultMaxRequestBytes   = 10 << 20
	DefaultMaxDecodedBytes   = 32 << 20 // as Prometheus' receiver
	DefaultMaxResponseErrors = 10
	DefaultLabelsCacheSize   = 1 << 20
)

// Options configures a Handler. Zero values mean the defaults.
type Options struct {
	// MaxRequestBytes bounds the compressed body: a larger one is answered
	// 413 without being read whole. Default 10 MiB.
	MaxRequestBytes int64
	// MaxDecodedBytes bounds the decompressed body: 413 when the snappy
	// header announces more. Default 32 MiB, Prometheus' own limit.
	MaxDecodedBytes int64
	// MaxResponseErrors bounds the errors a 400 response lists; the rest are
	// counted. Default 10.
	MaxResponseErrors int
	// NameValidation checks metric and label names. Default
	// model.UTF8Validation, as Prometheus 3; model.LegacyValidation allows
	// only the classic names ([a-zA-Z_:][a-zA-Z0-9_:]* for metrics).
	NameValidation model.ValidationScheme
	// LabelsCacheSize bounds the cache of validated series labels, shared by
	// all workspaces, that spares series sent again their validation and
	// copy, and keeps their TSDB reference. It keeps up to two generations
	// of this many series, each entry about 60 bytes (32 bytes and its
	// slot in a map) besides the labels, which are those the TSDB's head
	// stores when the first stage is a LabelStripper or strips nothing.
	// Default 1,048,576; negative disables it.
	LabelsCacheSize int
	// Pipeline runs, in order, on every decoded and validated request before
	// it is appended. Empty by default.
	Pipeline []Stage
	// Logger defaults to discarding.
	Logger *slog.Logger
	// Registerer receives the handler's metrics; nil registers nowhere.
	Registerer prometheus.Registerer
	// Now is the clock for the future-timestamp check; default time.Now.
	Now func() time.Time
}

// Target is the workspace a request writes to.
type Target struct {
	// ID names the workspace in metrics and logs.
	ID string
	// Appendable is the workspace's storage: a *workspace.Workspace, or a
	// *tsdb.DB of one's own.
	// Exemplars need its appenders to implement storage.ExemplarAppenderV2
	// or to take them inline.
	Appendable storage.AppendableV2
	// Metadata receives metric metadata; nil drops it (the TSDB still gets
	// it through storage.AOptions).
	Metadata MetadataSink
	// Pipeline holds the workspace's own stages (its HA tracker, its
	// quotas), run in order after the Handler's Options.Pipeline.
	Pipeline []Stage
}

// Handler serves remote write 1.0 and 2.0 for any number of workspaces.
// It is safe for concurrent use.
type Handler struct {
	opts    Options
	logger  *slog.Logger
	metrics *metrics

	labels *labelsCache

	bodies   sync.Pool // *[]byte, compressed bodies
	decoded  sync.Pool // *[]byte, decompressed bodies
	requests sync.Pool // *Request
}

// NewHandler returns a Handler with the given options.
func NewHandler(opts Options) *Handler {
	if opts.MaxRequestBytes <= 0 {
		opts.MaxRequestBytes = DefaultMaxRequestBytes
	}
	if opts.MaxDecodedBytes <= 0 {
		opts.MaxDecodedBytes = DefaultMaxDecodedBytes
	}
	if opts.MaxResponseErrors <= 0 {
		opts.MaxResponseErrors = DefaultMaxResponseErrors
	}
	if opts.NameValidation != model.LegacyValidation {
		opts.NameValidation = model.UTF8Validation
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.LabelsCacheSize == 0 {
		opts.LabelsCacheSize = DefaultLabelsCacheSize
	}
	opts.Pipeline = append([]Stage(nil), opts.Pipeline...)
	return &Handler{
		opts:     opts,
		logger:   opts.Logger,
		metrics:  newMetrics(opts.Registerer),
		labels:   newLabelsCache(opts.LabelsCacheSize, opts.Now),
		requests: sync.Pool{New: func() any { return newRequest() }},
	}
}

const (
	writtenSamplesHeader    = "X-Prometheus-Remote-Write-Samples-Written"
	writtenHistogramsHeader = "X-Prometheus-Remote-Write-Histograms-Written"
	writtenExemplarsHeader  = "X-Prometheus-Remote-Write-Exemplars-Written"
)

// Write handles one remote-write request for the workspace t: it checks
// the method, Content-Type and Content-Encoding, reads and decompresses the
// body within the size limits, decodes and validates it, runs the pipeline,
// appends what is left to t.Appendable in one transaction and answers like
// Prometheus' receiver: 204 when everything was written, 400 listing what was
// rejected while the rest was written, 5xx (and nothing written) only when
// the storage fails. Responses to 2.0 requests carry the
// X-Prometheus-Remote-Write-*-Written headers.
func (h *Handler) Write(w http.ResponseWriter, r *http.Request, t Target) {
	start := time.Now()
	res := response{max: h.opts.MaxResponseErrors}
	h.write(r, t, &res)
	res.send(w)
	h.countDiscarded(t.ID, &res)
	h.metrics.observeRequest(t.ID, res.version, res.status, time.Since(start).Seconds())
	if res.status >= 500 {
		h.logger.Error("Remote write failed", "workspace", t.ID, "status", res.status, "err", res.message)
	} else if res.status >= 400 {
		h.logger.Debug("Remote write rejected", "workspace", t.ID, "status", res.status, "err", res.message, "errors", res.errCount)
	}
}

func (h *Handler) write(r *http.Request, t Target, res *response) {
	if r.Method != http.MethodPost {
		res.fail(http.StatusMethodNotAllowed, "method not allowed")
		return
	}
	v, err := parseContentType(r.Header.Get("Content-Type"))
	if err != nil {
		res.fail(http.StatusUnsupportedMediaType, err.Error())
		return
	}
	res.version = v
	if enc := r.Header.Get("Content-Encoding"); enc != "" && !strings.EqualFold(enc, "snappy") {
		res.fail(http.StatusUnsupportedMediaType, fmt.Sprintf("%s encoding (compression) is not accepted by this server; only snappy is acceptable", enc))
		return
	}
	if t.Appendable == nil {
		res.fail(http.StatusInternalServerError, "no storage for workspace")
		return
	}

	body, status, err := h.readBody(r)
	if body != nil {
		defer h.bodies.Put(body)
	}
	if err != nil {
		res.fail(status, err.Error())
		return
	}
	n, err := snappy.DecodedLen(*body)
	if err != nil {
		res.fail(http.StatusBadRequest, "snappy decode: "+err.Error())
		return
	}
	if int64(n) > h.opts.MaxDecodedBytes {
		res.fail(http.StatusRequestEntityTooLarge, fmt.Sprintf("decoded request of %d bytes exceeds the limit of %d bytes", n, h.opts.MaxDecodedBytes))
		return
	}
	dec := h.buffer(&h.decoded, n)
	defer h.decoded.Put(dec)
	plain, err := snappy.Decode((*dec)[:cap(*dec)], *body)
	if err != nil {
		res.fail(http.StatusBadRequest, "snappy decode: "+err.Error())
		return
	}

	req := h.requests.Get().(*Request)
	defer func() {
		req.reset()
		h.requests.Put(req)
	}()
	if err := decode(req, v, plain, h.opts.NameValidation, h.labels, stripLabel(h.opts.Pipeline, t.Pipeline)); err != nil {
		res.fail(http.StatusBadRequest, fmt.Sprintf("decode remote write %s request: %v", v, err))
		return
	}
	h.metrics.observeReceived(t.ID, req)
	res.collectDrops(req)

	if !h.runPipeline(r.Context(), t, req, res) {
		return
	}
	if err := h.append(r.Context(), t, req, res); err != nil {
		res.fail(http.StatusInternalServerError, err.Error())
		return
	}
	res.status = http.StatusNoContent
	if res.errCount > 0 {
		res.status = http.StatusBadRequest
	}
}

// runPipeline runs the Handler's stages and then t's on req, collecting the
// series they drop into res. It returns false when a stage rejected the
// whole request, which res then answers.
func (h *Handler) runPipeline(ctx context.Context, t Target, req *Request, res *response) bool {
	for _, stages := range [2][]Stage{h.opts.Pipeline, t.Pipeline} {
		for _, s := range stages {
			if len(req.Series) == 0 && len(req.Metadata) == 0 {
				return true
			}
			if err := s.Process(ctx, t, req); err != nil {
				res.reject(err, req)
				return false
			}
			res.collectDrops(req)
		}
	}
	return true
}

// readBody reads the compressed body into a pooled buffer, answering 413
// when it is over the limit, without reading more than the limit.
func (h *Handler) readBody(r *http.Request) (*[]byte, int, error) {
	limit := h.opts.MaxRequestBytes
	if r.ContentLength > limit {
		return nil, http.StatusRequestEntityTooLarge, fmt.Errorf("request body of %d bytes exceeds the limit of %d bytes", r.ContentLength, limit)
	}
	if r.ContentLength >= 0 {
		buf := h.buffer(&h.bodies, int(r.ContentLength))
		*buf = (*buf)[:r.ContentLength]
		if _, err := io.ReadFull(r.Body, *buf); err != nil {
			return buf, http.StatusBadRequest, fmt.Errorf("read request body: %w", err)
		}
		return buf, 0, nil
	}
	// Unknown length: read up to one byte past the limit to tell.
	buf := h.buffer(&h.bodies, 64<<10)
	b := *buf
	lr := io.LimitedReader{R: r.Body, N: limit + 1}
	for {
		if len(b) == cap(b) {
			b = append(b, 0)[:len(b)]
		}
		n, err := lr.Read(b[len(b):cap(b)])
		b = b[:len(b)+n]
		if err == io.EOF {
			break
		}
		if err != nil {
			*buf = b
			return buf, http.StatusBadRequest, fmt.Errorf("read request body: %w", err)
		}
	}
	*buf = b
	if int64(len(b)) > limit {
		return buf, http.StatusRequestEntityTooLarge, fmt.Errorf("request body exceeds the limit of %d bytes", limit)
	}
	return buf, 0, nil
}

// buffer returns a pooled buffer with a capacity of at least n bytes.
func (h *Handler) buffer(p *sync.Pool, n int) *[]byte {
	if b, ok := p.Get().(*[]byte); ok {
		if cap(*b) >= n {
			*b = (*b)[:0]
			return b
		}
		*b = make([]byte, 0, n)
		return b
	}
	b := make([]byte, 0, n)
	return &b
}

// parseContentType returns the protocol version a Content-Type asks for:
// application/x-protobuf alone (or with proto=prometheus.WriteRequest) is
// 1.0, with proto=io.prometheus.write.v2.Request 2.0. An absent header is
// 1.0, as Prometheus has it.
func parseContentType(ct string) (Version, error) {
	if ct == "" {
		return V1, nil
	}
	mt, params, err := mime.ParseMediaType(ct)
	if err != nil || mt != "application/x-protobuf" {
		return 0, fmt.Errorf("expected application/x-protobuf as the first (media) part, got %v content-type", ct)
	}
	switch proto, ok := params["proto"]; {
	case !ok, proto == "prometheus.WriteRequest":
		return V1, nil
	case proto == "io.prometheus.write.v2.Request":
		return V2, nil
	default:
		return 0, fmt.Errorf("got %v content type; unknown type for remote write protobuf message %v, supported: prometheus.WriteRequest, io.prometheus.write.v2.Request", ct, proto)
	}
}

// response gathers what a request's answer says.
type response struct {
	version Version
	status  int
	message string // the whole-request error, if any
	retry   time.Duration

	samples, histograms, exemplars int // written

	max      int      // errors listed at most
	errs     []string // listed errors
	errCount int
	reasons  []reasonCount
}

type reasonCount struct {
	reason string
	n      int
}

func (res *response) fail(status int, msg string) {
	res.status, res.message = status, msg
	res.samples, res.histograms, res.exemplars = 0, 0, 0
}

// reject answers a stage's error for the whole request, whose remaining
// samples are all discarded.
func (res *response) reject(err error, req *Request) {
	status, reason := http.StatusInternalServerError, "stage_failed"
	var se *StatusError
	// A status net/http cannot write is the stage's bug: a 500, not a panic.
	if errors.As(err, &se) && se.Status >= 100 && se.Status <= 999 {
		status, reason = se.Status, se.reason()
		res.retry = se.RetryAfter
	}
	res.fail(status, err.Error())
	res.discard(reason, req.SampleCount()+req.HistogramCount())
}

// addError counts a rejection of samples for reason, and lists msg while the
// list has room. Callers that format the message check listing first.
func (res *response) addError(reason string, samples int, msg string) {
	res.errCount++
	if res.listing() {
		res.errs = append(res.errs, msg)
	}
	res.discard(reason, samples)
}

// listing reports whether the next error is listed in the response.
func (res *response) listing() bool { return len(res.errs) < res.max }

func (res *response) discard(reason string, n int) {
	for i := range res.reasons {
		if res.reasons[i].reason == reason {
			res.reasons[i].n += n
			return
		}
	}
	res.reasons = append(res.reasons, reasonCount{reason, n})
}

// collectDrops takes the series dropped from req since the last call.
func (res *response) collectDrops(req *Request) {
	req.compact(func(d *rejection) {
		if d.err == nil {
			res.discard(d.reason, d.samples)
			return
		}
		res.addError(d.reason, d.samples, d.err.Error())
	})
}

func (res *response) send(w http.ResponseWriter) {
	hdr := w.Header()
	if res.version == V2 {
		hdr.Set(writtenSamplesHeader, strconv.Itoa(res.samples))
		hdr.Set(writtenHistogramsHeader, strconv.Itoa(res.histograms))
		hdr.Set(writtenExemplarsHeader, strconv.Itoa(res.exemplars))
	}
	if res.retry > 0 {
		hdr.Set("Retry-After", strconv.Itoa(int(math.Ceil(res.retry.Seconds()))))
	}
	if res.status == http.StatusNoContent {
		w.WriteHeader(res.status)
		return
	}
	msg := res.message
	if msg == "" {
		msg = strings.Join(res.errs, "\n")
		if more := res.errCount - len(res.errs); more > 0 {
			msg += fmt.Sprintf("\nand %d more errors", more)
		}
	}
	http.Error(w, msg, res.status)
}

func (h *Handler) countDiscarded(workspace string, res *response) {
	for _, rc := range res.reasons {
		if rc.n > 0 {
			h.metrics.discarded.WithLabelValues(workspace, rc.reason).Add(float64(rc.n))
		}
	}
}

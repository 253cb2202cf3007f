package promspace_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	config_util "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage/remote"
)

// concStatuses counts the status of every response the service writes and
// keeps the 5xx ones, with the start of their bodies.
type concStatuses struct {
	mtx    sync.Mutex
	codes  map[int]int
	errors []string
	// dataPlane lists the data-plane statuses other than 200, 204 and 404.
	dataPlane []string
}

func (s *concStatuses) wrap(h http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		rec := &concStatusWriter{ResponseWriter: w}
		h.ServeHTTP(rec, r)
		code := rec.code
		if code == 0 {
			code = http.StatusOK
		}
		s.mtx.Lock()
		defer s.mtx.Unlock()
		s.codes[code]++
		what := fmt.Sprintf("%s %s: %d %s", r.Method, r.URL.Path, code, strings.TrimSpace(rec.body.String()))
		if code >= 500 {
			s.errors = append(s.errors, what)
		}
		if strings.Contains(r.URL.Path, "/api/v1/") && code != http.StatusOK && code != http.StatusNoContent && code != http.StatusNotFound {
			s.dataPlane = append(s.dataPlane, what)
		}
	})
}

type concStatusWriter struct {
	http.ResponseWriter
	code int
	// body is the start of a 4xx or 5xx body, unless compressed.
	body strings.Builder
}

func (w *concStatusWriter) WriteHeader(code int) {
	if w.code == 0 {
		w.code = code
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *concStatusWriter) Write(b []byte) (int, error) {
	if w.code == 0 {
		w.code = http.StatusOK
	}
	if w.code >= 400 && w.body.Len() < 300 && w.Header().Get("Content-Encoding") == "" {
		w.body.Write(b[:min(len(b), 300)])
	}
	return w.ResponseWriter.Write(b)
}

func (w *concStatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// concLastStatus is a RoundTripper that keeps the status of the last
// response, for one goroutine's query client.
type concLastStatus struct{ code atomic.Int32 }

func (l *concLastStatus) RoundTrip(r *http.Request) (*http.Response, error) {
	l.code.Store(0)
	resp, err := http.DefaultTransport.RoundTrip(r)
	if err == nil {
		l.code.Store(int32(resp.StatusCode))
	}
	return resp, err
}

// concClient is one goroutine's data-plane client of one workspace:
// Prometheus' remote-write client and client_golang's query API.
type concClient struct {
	write  remote.WriteClient
	query  v1.API
	status *concLastStatus
}

func newConcClient(base, id, name string) (*concClient, error) {
	u, err := url.Parse(base + "/workspaces/" + id + "/api/v1/remote_write")
	if err != nil {
		return nil, err
	}
	wc, err := remote.NewWriteClient(name, &remote.ClientConfig{
		URL:           &config_util.URL{URL: u},
		Timeout:       model.Duration(30 * time.Second),
		WriteProtoMsg: remoteapi.WriteV1MessageType,
	})
	if err != nil {
		return nil, err
	}
	st := &concLastStatus{}
	qc, err := api.NewClient(api.Config{Address: base + "/workspaces/" + id, RoundTripper: st})
	if err != nil {
		return nil, err
	}
	return &concClient{write: wc, query: v1.NewAPI(qc), status: st}, nil
}

// push remote-writes one sample and returns the status it was answered:
// 2xx when Store succeeds, else the status in its error.
func (c *concClient) push(ctx context.Context, ls labels.Labels, ts int64, v float64) (int, error) {
	raw, err := (&prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{
		Labels:  prompb.FromLabels(ls, nil),
		Samples: []prompb.Sample{{Timestamp: ts, Value: v}},
	}}}).Marshal()
	if err != nil {
		return 0, err
	}
	_, err = c.write.Store(ctx, snappy.Encode(nil, raw), 0)
	if err == nil {
		return http.StatusNoContent, nil
	}
	// Prometheus' client says "server returned HTTP status 404 Not Found: ...".
	const prefix = "server returned HTTP status "
	if i := strings.Index(err.Error(), prefix); i >= 0 {
		rest := err.Error()[i+len(prefix):]
		if code, cerr := strconv.Atoi(strings.SplitN(rest, " ", 2)[0]); cerr == nil {
			return code, err
		}
	}
	return 0, err
}

// instant runs an instant query and returns its vector and status.
func (c *concClient) instant(ctx context.Context, expr string, at time.Time) (model.Vector, int, error) {
	v, _, _, err := c.query.Query(ctx, expr, at)
	code := int(c.status.code.Load())
	if err != nil {
		return nil, code, err
	}
	vec, ok := v.(model.Vector)
	if !ok {
		return nil, code, fmt.Errorf("query %q: got %s, want a vector", expr, v.Type())
	}
	return vec, code, nil
}

// concIDs is the workspaces of TestConcurrentService, live and deleted, that
// the other goroutines pick from.
type concIDs struct {
	mtx       sync.Mutex
	all, live []string
}

func (p *concIDs) add(id string) {
	p.mtx.Lock()
	p.all = append(p.all, id)
	p.live = append(p.live, id)
	p.mtx.Unlock()
}

// deleting takes id out of the live workspaces, before it is deleted.
func (p *concIDs) deleting(id string) {
	p.mtx.Lock()
	p.live = slices.DeleteFunc(p.live, func(l string) bool { return l == id })
	p.mtx.Unlock()
}

// pick returns a workspace, mostly a live one.
func (p *concIDs) pick(rng *rand.Rand) (string, bool) {
	p.mtx.Lock()
	defer p.mtx.Unlock()
	from := p.live
	if len(from) == 0 || rng.IntN(4) == 0 {
		from = p.all
	}
	if len(from) == 0 {
		return "", false
	}
	return from[rng.IntN(len(from))], true
}

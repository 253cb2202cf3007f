package promspace_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/amp"
	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	config_util "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage/remote"

	"github.com/promspace/promspace"
	"github.com/promspace/promspace/workspace"
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

// TestConcurrentService creates workspaces through the AMP API and the
// registry, remote-writes into them with Prometheus' client, queries them
// with client_golang's and deletes them, from several goroutines while
// others write into and query the same workspaces: every data-plane answer
// is 200 or 204 while the workspace lives, 404 once deleted, never a 5xx,
// and what was written is read back while the workspace lives.
func TestConcurrentService(t *testing.T) {
	owners, cycles, others, samples := 4, 4, 4, 5
	if testing.Short() {
		owners, cycles, others = 2, 2, 2
	}
	ctx := context.Background()
	svc, err := promspace.New(ctx, promspace.Options{DataDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	statuses := &concStatuses{codes: map[int]int{}}
	srv := httptest.NewServer(statuses.wrap(svc))
	stopped := false
	stop := func() {
		if stopped {
			return
		}
		stopped = true
		srv.Close()
		done := make(chan error, 1)
		go func() { done <- svc.Close() }()
		select {
		case err := <-done:
			if err != nil {
				t.Errorf("close: %v", err)
			}
		case <-time.After(time.Minute):
			pprof.Lookup("goroutine").WriteTo(os.Stderr, 2)
			t.Fatal("Service.Close did not return within a minute (goroutines dumped above)")
		}
	}
	t.Cleanup(stop)
	ampc := amp.New(amp.Options{
		Region:       "us-east-1",
		BaseEndpoint: aws.String(srv.URL),
		Credentials:  credentials.NewStaticCredentialsProvider("AKIDEXAMPLE", "secret", ""),
	})
	guard := func() {
		if p := recover(); p != nil {
			t.Errorf("panic: %v\n%s", p, debug.Stack())
		}
	}

	var (
		ids             concIDs
		done            = make(chan struct{})
		base            = time.Now().Truncate(time.Second)
		pushes, refused atomic.Int64
	)
	var owning, meddling sync.WaitGroup
	for g := range owners {
		owning.Add(1)
		go func() {
			defer owning.Done()
			defer guard()
			// Even owners go through the AMP API, odd ones through the
			// registry.
			viaAPI := g%2 == 0
			rng := rand.New(rand.NewPCG(uint64(g), 1))
			for c := range cycles {
				alias := fmt.Sprintf("owner-%d-%d", g, c)
				var id string
				if viaAPI {
					out, err := ampc.CreateWorkspace(ctx, &amp.CreateWorkspaceInput{Alias: aws.String(alias)})
					if err != nil {
						t.Errorf("CreateWorkspace: %v", err)
						return
					}
					id = aws.ToString(out.WorkspaceId)
					ids.add(id)
					waiter := amp.NewWorkspaceActiveWaiter(ampc, func(o *amp.WorkspaceActiveWaiterOptions) {
						o.MinDelay, o.MaxDelay = 5*time.Millisecond, 20*time.Millisecond
					})
					if err := waiter.Wait(ctx, &amp.DescribeWorkspaceInput{WorkspaceId: aws.String(id)}, time.Minute); err != nil {
						t.Errorf("%s never ACTIVE: %v", id, err)
						return
					}
				} else {
					w, err := svc.Registry().Create(ctx, workspace.CreateInput{Alias: alias})
					if err != nil {
						t.Errorf("create: %v", err)
						return
					}
					id = w.ID()
					ids.add(id)
					if _, err := svc.Registry().Get(ctx, id); err != nil {
						t.Errorf("get %s: %v", id, err)
						return
					}
				}
				cl, err := newConcClient(srv.URL, id, alias)
				if err != nil {
					t.Error(err)
					return
				}
				ls := labels.FromStrings(model.MetricNameLabel, "concurrency_owned", "owner", alias)
				for i := range samples {
					ts := base.Add(time.Duration(i) * time.Second)
					if code, err := cl.push(ctx, ls, ts.UnixMilli(), float64(i)); err != nil {
						t.Errorf("remote write to live %s: %d, %v", id, code, err)
					}
				}
				last := base.Add(time.Duration(samples-1) * time.Second)
				vec, code, err := cl.instant(ctx, `concurrency_owned`, last)
				switch {
				case err != nil || code != http.StatusOK:
					t.Errorf("query live %s: %d, %v", id, code, err)
				case len(vec) != 1 || string(vec[0].Metric["owner"]) != alias || float64(vec[0].Value) != float64(samples-1):
					t.Errorf("query live %s: %v, want the last sample of %s only", id, vec, alias)
				}
				m, _, _, err := cl.query.QueryRange(ctx, `concurrency_owned`, v1.Range{Start: base, End: last, Step: time.Second})
				if err != nil {
					t.Errorf("range query live %s: %d, %v", id, cl.status.code.Load(), err)
				} else if mat, ok := m.(model.Matrix); !ok || len(mat) != 1 || len(mat[0].Values) != samples {
					t.Errorf("range query live %s: %v, want %d samples of one series", id, m, samples)
				} else {
					for i, p := range mat[0].Values {
						if float64(p.Value) != float64(i) {
							t.Errorf("range query live %s: sample %d is %v, want %d", id, i, p.Value, i)
						}
					}
				}

				// Left to the others a moment, so that the deletion meets
				// their requests.
				time.Sleep(time.Duration(rng.IntN(5000)) * time.Microsecond)
				ids.deleting(id)
				if viaAPI {
					if _, err := ampc.DeleteWorkspace(ctx, &amp.DeleteWorkspaceInput{WorkspaceId: aws.String(id)}); err != nil {
						t.Errorf("DeleteWorkspace %s: %v", id, err)
					}
				} else if err := svc.Registry().Delete(ctx, id); err != nil {
					t.Errorf("delete %s: %v", id, err)
				}
				if code, err := cl.push(ctx, ls, last.UnixMilli()+1, 0); code != http.StatusNotFound {
					t.Errorf("remote write to deleted %s: %d, %v, want 404", id, code, err)
				}
				if _, code, err := cl.instant(ctx, `concurrency_owned`, last); code != http.StatusNotFound {
					t.Errorf("query deleted %s: %d, %v, want 404", id, code, err)
				}
			}
		}()
	}

	for o := range others {
		meddling.Add(1)
		go func() {
			defer meddling.Done()
			defer guard()
			rng := rand.New(rand.NewPCG(uint64(o), 2))
			name := fmt.Sprintf("other-%d", o)
			ls := labels.FromStrings(model.MetricNameLabel, "concurrency_other", "other", name)
			clients := map[string]*concClient{}
			for n := 0; ; n++ {
				select {
				case <-done:
					return
				default:
				}
				id, ok := ids.pick(rng)
				if !ok {
					time.Sleep(time.Millisecond)
					continue
				}
				cl := clients[id]
				if cl == nil {
					var err error
					if cl, err = newConcClient(srv.URL, id, name); err != nil {
						t.Error(err)
						return
					}
					clients[id] = cl
				}
				// Each goroutine's samples are in order: one millisecond
				// after the other.
				ts := base.Add(time.Duration(n) * time.Millisecond)
				pushes.Add(1)
				code, err := cl.push(ctx, ls, ts.UnixMilli(), float64(n))
				switch code {
				case http.StatusNoContent:
				case http.StatusNotFound:
					refused.Add(1)
					continue
				default:
					t.Errorf("remote write to %s: %d, %v, want 204 or 404", id, code, err)
					continue
				}
				// Written: it is read back unless the workspace is gone.
				vec, code, err := cl.instant(ctx, `concurrency_other{other="`+name+`"}`, ts)
				switch {
				case code == http.StatusNotFound:
				case err != nil || code != http.StatusOK:
					t.Errorf("query %s: %d, %v, want 200 or 404", id, code, err)
				case len(vec) != 1 || float64(vec[0].Value) != float64(n):
					t.Errorf("query %s at %v: %v, want the sample %d just written", id, ts, vec, n)
				}
			}
		}()
	}

	owned := make(chan struct{})
	go func() {
		owning.Wait()
		close(owned)
	}()
	select {
	case <-owned:
	case <-time.After(3 * time.Minute):
		pprof.Lookup("goroutine").WriteTo(os.Stderr, 2)
		t.Fatal("the owners' cycles did not end within 3 minutes: deadlock? (goroutines dumped above)")
	}
	close(done)
	meddling.Wait()
	stop()

	statuses.mtx.Lock()
	defer statuses.mtx.Unlock()
	for _, e := range statuses.errors {
		t.Errorf("5xx: %s", e)
	}
	for _, e := range statuses.dataPlane {
		t.Errorf("data plane answered neither 200, 204 nor 404: %s", e)
	}
	t.Logf("statuses %v; the other goroutines wrote %d times, %d refused", statuses.codes, pushes.Load(), refused.Load())
}

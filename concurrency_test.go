package promspace_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"os"
	"runtime/debug"
	"runtime/pprof"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	"github.com/aws/aws-sdk-go-v2/credentials"
	"github.com/aws/aws-sdk-go-v2/service/amp"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/promspace/promspace"
	"github.com/promspace/promspace/workspace"
)

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

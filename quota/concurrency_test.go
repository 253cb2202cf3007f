package quota_test

import (
	"fmt"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"

	"github.com/promspace/promspace/quota"
)

// TestRateLimitConcurrent: many senders push at once against the
// workspace's token bucket while the injected clock moves on. The samples
// accepted never exceed rate × elapsed + burst, every request refused is
// refused with 429, and the workspace stores exactly the samples
// accepted.
func TestRateLimitConcurrent(t *testing.T) {
	const (
		rate, burst = 1000, 2000
		senders     = 8
		requests    = 40 // per sender
		perRequest  = 50 // samples, one series each
		step        = 5 * time.Millisecond
	)
	e := newEnv(t, quota.Options{Limits: limits(func(l *quota.Limits) {
		l.IngestionRate, l.IngestionBurst = rate, burst
	})})
	start := e.clock.Now()

	var accepted, refused atomic.Int64
	var wg sync.WaitGroup
	for s := range senders {
		wg.Go(func() {
			for r := range requests {
				now := e.clock.Advance(step).UnixMilli()
				series := make([]prompb.TimeSeries, perRequest)
				for k := range series {
					series[k] = prompb.TimeSeries{
						Labels: []prompb.Label{
							{Name: "__name__", Value: "load"},
							{Name: "request", Value: strconv.Itoa(r)},
							{Name: "sender", Value: strconv.Itoa(s)},
							{Name: "series", Value: strconv.Itoa(k)},
						},
						Samples: []prompb.Sample{{Timestamp: now, Value: 1}},
					}
				}
				switch res := e.push(series...); res.status {
				case http.StatusNoContent:
					accepted.Add(perRequest)
				case http.StatusTooManyRequests:
					refused.Add(1)
					if res.retryAfter == "" || res.body != fmt.Sprintf("ingestion rate limit (%d) exceeded while adding %d samples and 0 metadata", rate, perRequest) {
						t.Errorf("429 with Retry-After %q, %q", res.retryAfter, res.body)
					}
				default:
					t.Errorf("status %d: %s", res.status, res.body)
				}
			}
		})
	}
	wg.Wait()

	elapsed := e.clock.Now().Sub(start)
	bound := int64(rate*elapsed.Seconds()) + burst
	t.Logf("%d samples accepted in %v of the clock (bound %d), %d requests refused", accepted.Load(), elapsed, bound, refused.Load())
	if accepted.Load() > bound {
		t.Errorf("%d samples accepted, more than rate × elapsed + burst = %d", accepted.Load(), bound)
	}
	if refused.Load() == 0 {
		t.Error("no request refused: the test does not reach the limit")
	}
	if got := e.stored(); int64(got) != accepted.Load() {
		t.Errorf("%d samples stored, %d accepted", got, accepted.Load())
	}
}

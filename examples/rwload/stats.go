package main

import (
	"context"
	"fmt"
	"io"
	"maps"
	"slices"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// stats counts what the workers received: each worker keeps its own
// latencies; the counters are shared.
type stats struct {
	requests, samples, accepted, errors atomic.Int64

	mu       sync.Mutex
	statuses map[int]int
	lastErr  error

	latencies [][]time.Duration // per worker
	elapsed   time.Duration
}

func newStats(workers int) *stats {
	return &stats{statuses: map[int]int{}, latencies: make([][]time.Duration, workers)}
}

func (s *stats) record(worker int, r result) {
	s.requests.Add(1)
	s.samples.Add(int64(r.samples))
	s.latencies[worker] = append(s.latencies[worker], r.latency)
	if r.status/100 == 2 && r.err == nil {
		s.accepted.Add(int64(r.samples))
	} else {
		s.errors.Add(1)
	}
	s.mu.Lock()
	s.statuses[r.status]++
	if r.err != nil {
		s.lastErr = r.err
	}
	s.mu.Unlock()
}

// progress prints, every interval until ctx ends, the samples/s since the
// last line and the errors so far; it closes done when it returns.
func (s *stats) progress(ctx context.Context, out io.Writer, start time.Time, interval time.Duration, done chan<- struct{}) {
	defer close(done)
	if interval <= 0 {
		<-ctx.Done()
		return
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	last, lastAt := int64(0), start
	for {
		select {
		case <-ctx.Done():
			return
		case now := <-t.C:
			acc := s.accepted.Load()
			fmt.Fprintf(out, "%6.0fs  %12.0f samples/s  %10d samples  %7d requests  %d errors  %s\n",
				now.Sub(start).Seconds(), float64(acc-last)/now.Sub(lastAt).Seconds(), acc, s.requests.Load(), s.errors.Load(), s.statusLine())
			last, lastAt = acc, now
		}
	}
}

// statusLine lists the status codes received: "204: 1000  429: 3".
func (s *stats) statusLine() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	var b strings.Builder
	for _, code := range slices.Sorted(maps.Keys(s.statuses)) {
		if b.Len() > 0 {
			b.WriteString("  ")
		}
		name := fmt.Sprint(code)
		if code == 0 {
			name = "transport error"
		}
		fmt.Fprintf(&b, "%s: %d", name, s.statuses[code])
	}
	return b.String()
}

// percentiles returns the latencies at each quantile q (0 < q ≤ 1).
func (s *stats) percentiles(qs ...float64) []time.Duration {
	var all []time.Duration
	for _, l := range s.latencies {
		all = append(all, l...)
	}
	out := make([]time.Duration, len(qs))
	if len(all) == 0 {
		return out
	}
	sort.Slice(all, func(i, j int) bool { return all[i] < all[j] })
	for i, q := range qs {
		k := int(q*float64(len(all))+0.5) - 1
		out[i] = all[min(max(k, 0), len(all)-1)]
	}
	return out
}

// report prints the summary of the run.
func (s *stats) report(out io.Writer) {
	p := s.percentiles(0.5, 0.9, 0.99, 1)
	acc := s.accepted.Load()
	fmt.Fprintf(out, "\nduration      %v\n", s.elapsed.Round(time.Millisecond))
	fmt.Fprintf(out, "requests      %d (%d samples sent, %d accepted)\n", s.requests.Load(), s.samples.Load(), acc)
	fmt.Fprintf(out, "samples/s     %.0f\n", float64(acc)/s.elapsed.Seconds())
	fmt.Fprintf(out, "status codes  %s\n", s.statusLine())
	fmt.Fprintf(out, "latency       p50 %v  p90 %v  p99 %v  max %v\n", p[0].Round(time.Microsecond), p[1].Round(time.Microsecond), p[2].Round(time.Microsecond), p[3].Round(time.Microsecond))
	s.mu.Lock()
	if s.lastErr != nil {
		fmt.Fprintf(out, "last error    %v\n", s.lastErr)
	}
	s.mu.Unlock()
}

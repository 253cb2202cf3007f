package main

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net/http"
	"sync"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
)

// run sends cfg's load and returns its statistics; progress goes to out
// every cfg.Progress.
func run(ctx context.Context, cfg config, out io.Writer) (*stats, error) {
	set := generateSeries(cfg.Series, cfg.Labels, cfg.NodeShare, cfg.ExternalLabels)
	var templates []template
	for from := 0; from < len(set.metrics); from += cfg.SamplesPerRequest {
		to := min(from+cfg.SamplesPerRequest, len(set.metrics))
		if cfg.V2 {
			templates = append(templates, encodeV2Template(&set, from, to))
		} else {
			templates = append(templates, encodeV1Template(&set, from, to))
		}
	}
	sign := cfg.Credentials.AccessKeyID != ""
	start := time.Now()
	t0 := start.UnixMilli()
	// timestampOf is the samples' timestamp in round r: the round's start
	// when rounds are paced, else a millisecond after the last round's.
	timestampOf := func(r int) int64 {
		if cfg.Interval > 0 {
			return t0 + int64(r)*cfg.Interval.Milliseconds()
		}
		return t0 + int64(r)
	}

	// Each worker sends the requests of its share of the templates, round
	// after round, so that a series' samples arrive in order, as
	// Prometheus' shards send them.
	workers := min(cfg.Concurrency, len(templates))
	var pre [][][]body // [worker][i] in sending order
	if cfg.PreEncode {
		pre = make([][][]body, workers)
		var wg sync.WaitGroup
		for w := range workers {
			wg.Go(func() {
				e := encoder{set: &set, churn: cfg.Churn}
				for r := range cfg.Rounds {
					var round []body
					for j := w; j < len(templates); j += workers {
						round = append(round, e.encode(&templates[j], r, timestampOf(r), sign))
					}
					pre[w] = append(pre[w], round)
				}
			})
		}
		wg.Wait()
		fmt.Fprintf(out, "pre-encoded %d rounds of %d requests in %v\n", cfg.Rounds, len(templates), time.Since(start).Round(time.Millisecond))
		start = time.Now()
		if cfg.Interval > 0 {
			t0 = start.UnixMilli()
		}
	}

	st := newStats(workers)
	client := &http.Client{
		Timeout: cfg.Timeout,
		Transport: &http.Transport{
			Proxy:               http.ProxyFromEnvironment,
			MaxIdleConnsPerHost: workers,
			DisableCompression:  true,
		},
	}
	signer := v4.NewSigner()
	ctx, cancel := context.WithCancel(ctx)
	defer cancel()
	if cfg.Duration > 0 {
		ctx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}
	done := make(chan struct{})
	go st.progress(ctx, out, start, cfg.Progress, done)

	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			e := encoder{set: &set, churn: cfg.Churn}
			for r := 0; cfg.Rounds == 0 || r < cfg.Rounds; r++ {
				if cfg.Interval > 0 {
					wait := time.Until(start.Add(time.Duration(r) * cfg.Interval))
					select {
					case <-ctx.Done():
						return
					case <-time.After(wait):
					}
				}
				for k, j := 0, w; j < len(templates); k, j = k+1, j+workers {
					if ctx.Err() != nil {
						return
					}
					var b body
					if pre != nil {
						b = pre[w][r][k]
					} else {
						b = e.encode(&templates[j], r, timestampOf(r), sign)
					}
					res := send(ctx, client, signer, cfg, b)
					if res.err != nil && ctx.Err() != nil {
						return // cut short by the end of the run
					}
					st.record(w, res)
				}
			}
		})
	}
	wg.Wait()
	st.elapsed = time.Since(start)
	cancel()
	<-done
	return st, nil
}

// result is the outcome of one request.
type result struct {
	status  int // 0 for a transport error
	err     error
	latency time.Duration
	samples int
}

// send posts b and reads the response whole.
func send(ctx context.Context, client *http.Client, signer *v4.Signer, cfg config, b body) result {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, cfg.URL, bytes.NewReader(b.data))
	if err != nil {
		return result{err: err}
	}
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("User-Agent", "promspace-rwload")
	if cfg.V2 {
		req.Header.Set("Content-Type", "application/x-protobuf;proto=io.prometheus.write.v2.Request")
		req.Header.Set("X-Prometheus-Remote-Write-Version", "2.0.0")
	} else {
		req.Header.Set("Content-Type", "application/x-protobuf")
		req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	}
	if b.sha256 != "" {
		req.Header.Set("X-Amz-Content-Sha256", b.sha256)
		creds := aws.Credentials{AccessKeyID: cfg.Credentials.AccessKeyID, SecretAccessKey: cfg.Credentials.SecretAccessKey, SessionToken: cfg.Credentials.SessionToken}
		if err := signer.SignHTTP(ctx, creds, req, b.sha256, "aps", cfg.Region, time.Now()); err != nil {
			return result{err: err}
		}
	}
	t := time.Now()
	resp, err := client.Do(req)
	if err != nil {
		return result{err: err, latency: time.Since(t)}
	}
	_, err = io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return result{status: resp.StatusCode, err: err, latency: time.Since(t), samples: b.samples}
}

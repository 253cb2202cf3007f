// Command rwload is a remote-write load generator. It sends node
// exporter's and kube-state-metrics' series, as Prometheus scrapes them in
// a Kubernetes cluster, to any remote-write URL (promspace, Prometheus,
// Cortex, Mimir, anything that takes remote write), in remote write 1.0 or
// 2.0 with snappy, from a number of concurrent senders, SigV4-signed for
// service aps when given AWS credentials.
//
// The series are encoded once, before the run; each round rewrites only
// their values, timestamps and the generations of churned targets in
// place and compresses the result (or, with -preencode, every round is
// encoded before the run starts). Each sender owns a share of the
// requests and sends them in order round after round, as a Prometheus
// shard does, so that every series' samples arrive in order. A round is
// one sample of every series; -churn replaces that share of the targets
// (nodes and pods) each round with new ones, whose series are new.
//
// It prints progress every few seconds and, at the end, samples/s, the
// status codes received and the latency percentiles.
//
//	go run ./examples/server &
//	go run ./examples/rwload -url http://127.0.0.1:9090/workspaces/ws-default/api/v1/remote_write -series 100000 -duration 1m
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// config is what a run sends, where and how.
type config struct {
	URL               string
	V2                bool
	Series            int
	Labels            int
	SamplesPerRequest int
	NodeShare         float64
	Churn             float64
	ExternalLabels    labels.Labels
	Concurrency       int
	Rounds            int
	Duration          time.Duration
	Interval          time.Duration
	PreEncode         bool
	Timeout           time.Duration
	Progress          time.Duration
	Region            string
	Credentials       credentials
}

type credentials struct {
	AccessKeyID, SecretAccessKey, SessionToken string
}

func main() {
	cfg, err := parseFlags(os.Args[1:], os.Getenv, os.Stderr)
	if err != nil {
		if errors.Is(err, flag.ErrHelp) {
			os.Exit(0)
		}
		fmt.Fprintln(os.Stderr, "rwload:", err)
		os.Exit(2)
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	st, err := run(ctx, cfg, os.Stdout)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rwload:", err)
		os.Exit(1)
	}
	st.report(os.Stdout)
	if st.errors.Load() > 0 {
		os.Exit(1)
	}
}

func parseFlags(args []string, getenv func(string) string, stderr io.Writer) (config, error) {
	var cfg config
	fs := flag.NewFlagSet("rwload", flag.ContinueOnError)
	fs.SetOutput(stderr)
	fs.StringVar(&cfg.URL, "url", "", "remote-write URL (required)")
	version := fs.String("protocol", "1.0", "remote write version: 1.0 or 2.0")
	fs.IntVar(&cfg.Series, "series", 10000, "active series")
	fs.IntVar(&cfg.Labels, "labels", 10, "labels per series at least, padded with pod labels")
	fs.IntVar(&cfg.SamplesPerRequest, "samples-per-request", 2000, "samples (series) per request, Prometheus' max_samples_per_send")
	fs.Float64Var(&cfg.NodeShare, "node-share", 0.5, "share of the series that are node exporter's; the rest are kube-state-metrics'")
	fs.Float64Var(&cfg.Churn, "churn", 0, "share of the targets (nodes, pods) replaced each round by new ones")
	external := fs.String("external-labels", "cluster=prod-eu-west-1", "labels added to every series, name=value,...: add __replica__=replica-1 for HA dedupe")
	fs.IntVar(&cfg.Concurrency, "concurrency", 4, "concurrent senders")
	fs.IntVar(&cfg.Rounds, "rounds", 0, "rounds to send, one sample of every series each; 0 until -duration")
	fs.DurationVar(&cfg.Duration, "duration", time.Minute, "how long to send; 0 until -rounds")
	fs.DurationVar(&cfg.Interval, "interval", 0, "time between rounds, a scrape interval; 0 sends rounds back to back")
	fs.BoolVar(&cfg.PreEncode, "preencode", false, "encode all -rounds before sending any")
	fs.DurationVar(&cfg.Timeout, "timeout", 30*time.Second, "timeout of each request")
	fs.DurationVar(&cfg.Progress, "progress", 5*time.Second, "how often to print progress; 0 never")
	fs.StringVar(&cfg.Region, "region", cmpOr(getenv("AWS_REGION"), "us-east-1"), "SigV4 region")
	fs.StringVar(&cfg.Credentials.AccessKeyID, "access-key-id", getenv("AWS_ACCESS_KEY_ID"), "AWS access key ID: signs requests with SigV4, service aps (default $AWS_ACCESS_KEY_ID)")
	fs.StringVar(&cfg.Credentials.SecretAccessKey, "secret-access-key", "", "AWS secret access key (default $AWS_SECRET_ACCESS_KEY)")
	fs.StringVar(&cfg.Credentials.SessionToken, "session-token", "", "AWS session token (default $AWS_SESSION_TOKEN)")
	if err := fs.Parse(args); err != nil {
		return cfg, err
	}
	cfg.Credentials.SecretAccessKey = cmpOr(cfg.Credentials.SecretAccessKey, getenv("AWS_SECRET_ACCESS_KEY"))
	cfg.Credentials.SessionToken = cmpOr(cfg.Credentials.SessionToken, getenv("AWS_SESSION_TOKEN"))
	switch *version {
	case "1.0", "1", "0.1.0":
	case "2.0", "2", "2.0.0":
		cfg.V2 = true
	default:
		return cfg, fmt.Errorf("-protocol %q: want 1.0 or 2.0", *version)
	}
	var err error
	if cfg.ExternalLabels, err = parseLabels(*external); err != nil {
		return cfg, err
	}
	switch {
	case cfg.URL == "":
		return cfg, errors.New("-url is required")
	case cfg.Series <= 0, cfg.SamplesPerRequest <= 0, cfg.Concurrency <= 0:
		return cfg, errors.New("-series, -samples-per-request and -concurrency must be positive")
	case cfg.NodeShare < 0 || cfg.NodeShare > 1, cfg.Churn < 0 || cfg.Churn > 1:
		return cfg, errors.New("-node-share and -churn must be between 0 and 1")
	case cfg.Rounds <= 0 && cfg.Duration <= 0:
		return cfg, errors.New("one of -rounds and -duration must be set")
	case cfg.PreEncode && cfg.Rounds <= 0:
		return cfg, errors.New("-preencode needs -rounds")
	case cfg.Credentials.AccessKeyID != "" && cfg.Credentials.SecretAccessKey == "":
		return cfg, errors.New("an access key ID needs its secret access key")
	}
	return cfg, nil
}

func parseLabels(s string) (labels.Labels, error) {
	b := labels.NewScratchBuilder(0)
	for kv := range strings.SplitSeq(s, ",") {
		if kv = strings.TrimSpace(kv); kv == "" {
			continue
		}
		name, value, ok := strings.Cut(kv, "=")
		if !ok || name == "" {
			return labels.EmptyLabels(), fmt.Errorf("external label %q: want name=value", kv)
		}
		b.Add(name, value)
	}
	b.Sort()
	return b.Labels(), nil
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

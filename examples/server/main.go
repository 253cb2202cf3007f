// Command promspace is a local Amazon Managed Service for Prometheus: AMP's
// control-plane API, and for every workspace remote write and the Prometheus
// query API, on 127.0.0.1:9009 with data in ./data.
//
// On first start it creates a workspace with the alias "default" and reuses
// it on later starts; it logs that workspace's URLs and a remote_write block
// to paste into prometheus.yml.
package main

import (
	"cmp"
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"os/signal"
	"strings"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/promslog"

	"github.com/promspace/promspace"
	"github.com/promspace/promspace/shipper/bucketconfig"
	"github.com/promspace/promspace/workspace"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	err := run(ctx, os.Args[1:], os.Stderr, nil)
	switch {
	case errors.Is(err, flag.ErrHelp):
		// Usage was printed: asking for it is no failure.
	case err != nil:
		slog.New(slog.NewTextHandler(os.Stderr, nil)).Error("Server failed", "err", err)
		os.Exit(1)
	}
}

// run serves until ctx is done, logging to stderr. When started is not nil
// it receives the address the server listens on once it takes requests.
func run(ctx context.Context, args []string, stderr io.Writer, started chan<- string) error {
	fs := flag.NewFlagSet("promspace", flag.ContinueOnError)
	fs.SetOutput(stderr)
	listen := fs.String("listen", "127.0.0.1:9009", "address to listen on")
	dataDir := fs.String("data-dir", "./data", "directory for workspace data and metadata")
	objstoreConfig := fs.String("objstore.config-file", "", "Thanos objstore client YAML (type: FILESYSTEM or S3 with its config:) of the bucket that keeps workspace records, blocks and metric metadata (default: a filesystem bucket under -data-dir)")
	configFile := fs.String("config", "", "YAML file with credentials, bearer tokens and their policies; without it every request is anonymous and allowed")
	region := fs.String("region", "", "region in workspace ARNs and SigV4 signatures (default: the config's, else us-east-1)")
	account := fs.String("account-id", "", "account of the default workspace (default: the account of the config's identities when they share one, else 000000000000)")
	alias := fs.String("default-workspace", "default", "alias of the workspace created on first start")
	var forwardURLs urlsFlag
	fs.Var(&forwardURLs, "alertmanager.url", "external Alertmanager that also gets every workspace's alerts, as Prometheus' --alertmanager.url; repeatable or comma-separated")
	shutdownTimeout := fs.Duration("shutdown-timeout", 30*time.Second, "how long to wait for requests in flight on shutdown before cancelling them, and then for the workspaces to close")
	logConf := &promslog.Config{Level: promslog.NewLevel(), Format: promslog.NewFormat(), Writer: stderr}
	_ = logConf.Format.Set("logfmt") // promslog's default, named so that -h shows it
	fs.Var(levelFlag{logConf.Level}, "log.level", "only log messages at or above this level: one of "+strings.Join(promslog.LevelFlagOptions, ", "))
	fs.Var(formatFlag{logConf.Format}, "log.format", "output format of log messages: one of "+strings.Join(promslog.FormatFlagOptions, ", "))
	fs.Usage = func() {
		fmt.Fprintf(fs.Output(), "Usage of promspace, a local Amazon Managed Service for Prometheus:\n")
		fs.PrintDefaults()
	}
	if err := fs.Parse(args); err != nil {
		return err
	}
	logger := promslog.New(logConf)

	conf, err := loadConfig(*configFile)
	if err != nil {
		return err
	}
	authn, authz, err := conf.Build()
	if err != nil {
		return err
	}
	if *region == "" {
		*region = cmp.Or(conf.Region, workspace.DefaultRegion)
	}
	if *account == "" {
		*account = cmp.Or(conf.account(), workspace.DefaultAccountID)
		if len(conf.accounts()) > 0 && conf.account() == "" {
			logger.Warn("The config's identities span several accounts and -account-id is not set: only callers of this account reach the default workspace", "account", *account)
		}
	}
	if conf.Region != "" && conf.Region != *region {
		return fmt.Errorf("-region %s differs from the config's region %s", *region, conf.Region)
	}
	if len(conf.Credentials)+len(conf.BearerTokens) == 0 {
		authn, authz = nil, nil // the service's anonymous default, which warns
	} else {
		logger.Info("Access control enabled: SigV4 (service aps) and bearer tokens", "config", *configFile,
			"region", *region, "credentials", len(conf.Credentials), "bearer_tokens", len(conf.BearerTokens))
	}

	// Bound before anything is opened: a taken port leaves the data
	// directory as it was.
	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	defer ln.Close()

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	opts := promspace.Options{
		DataDir:    *dataDir,
		Region:     *region,
		AccountID:  *account,
		Logger:     logger,
		Registerer: reg,

		Authenticator: authn,
		Authorizer:    authz,
	}
	// WAL replays and compactions are the TSDB's business: shown with
	// -log.level=debug, they stay out of the way of the start-up summary.
	opts.Workspace.TSDBLogger = slog.New(demoteInfo{logger.Handler()}).With("component", "tsdb")
	limits, overrides := conf.quotaLimits(), conf.quotaOverrides()
	opts.Quota.Limits, opts.Quota.Overrides = &limits, overrides.limits
	if len(conf.Overrides) > 0 {
		logger.Info("Workspace limits overridden by the config", "workspaces", len(conf.Overrides))
	}
	if opts.Alertmanager, err = conf.Alertmanager.options(forwardURLs); err != nil {
		return err
	}
	if len(opts.Alertmanager.ForwardURLs) > 0 {
		logger.Info("Alerts are forwarded to external Alertmanagers", "urls", strings.Join(append(conf.Alertmanager.ForwardURLs, forwardURLs...), ","))
	}
	haKV, closeHAKV, err := conf.HATracker.open(ctx)
	if err != nil {
		return err
	}
	defer closeHAKV() // after the service closes: deferred calls run in reverse
	opts.Dedupe.KV = haKV
	if haKV != nil {
		logger.Info("HA dedupe elects leaders in etcd, with every server of the same endpoints and prefix",
			"endpoints", strings.Join(conf.HATracker.Endpoints, ","), "prefix", cmp.Or(conf.HATracker.Prefix, defaultHAPrefix))
	}
	if *objstoreConfig != "" {
		bkt, err := bucketconfig.OpenFile(*objstoreConfig, logger.With("component", "objstore"))
		if err != nil {
			return err
		}
		defer bkt.Close() // after the service closes
		opts.Bucket = bkt
		logger.Info("Workspaces kept in the bucket of the objstore configuration", "objstore_config", *objstoreConfig, "provider", bkt.Provider())
	}
	svc, err := promspace.New(ctx, opts)
	if err != nil {
		return err
	}
	closed := make(chan error, 1)
	defer func() {
		go func() { closed <- svc.Close() }()
		select {
		case err := <-closed:
			if err != nil {
				logger.Error("Closing workspaces failed", "err", err)
				return
			}
			logger.Info("Every workspace closed cleanly")
		case <-time.After(*shutdownTimeout):
			// What was acknowledged is in the WAL: exiting is safe.
			logger.Error("Workspaces did not close in time; exiting with their TSDBs open", "timeout", *shutdownTimeout)
		}
	}()

	ws, err := svc.EnsureWorkspace(ctx, *alias)
	if err != nil {
		return fmt.Errorf("default workspace: %w", err)
	}

	mux := http.NewServeMux()
	mux.HandleFunc("GET /-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "promspace is Healthy.\n")
	})
	mux.HandleFunc("GET /-/ready", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "promspace is Ready.\n")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.Handle("/", svc)

	// Cancelled once the shutdown timeout is over, so that queries still
	// running stop.
	reqCtx, cancelRequests := context.WithCancel(context.WithoutCancel(ctx))
	defer cancelRequests()
	srv := &http.Server{
		Handler:           logRefusals(mux, logger),
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
		BaseContext:       func(net.Listener) context.Context { return reqCtx },
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()

	base := "http://" + ln.Addr().String()
	wsURL := base + "/workspaces/" + ws.ID()
	logger.Info("Serving a local AMP", "listen", ln.Addr().String(), "data_dir", *dataDir)
	logger.Info("Default workspace", "alias", ws.Alias(), "workspace_id", ws.ID(), "arn", ws.ARN(),
		"remote_write_url", wsURL+"/api/v1/remote_write", "query_url", wsURL)
	fmt.Fprint(stderr, remoteWriteBlock(wsURL, *region, conf.firstAccessKey()))
	if started != nil {
		started <- ln.Addr().String()
	}

	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	begun := time.Now()
	logger.Info("Shutting down: finishing requests in flight", "timeout", *shutdownTimeout)
	sctx, cancel := context.WithTimeout(context.Background(), *shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		logger.Warn("Requests still in flight at the shutdown timeout are cancelled", "timeout", *shutdownTimeout)
		cancelRequests()
		srv.Close()
	}
	logger.Info("Stopped serving", "took", time.Since(begun).Round(time.Millisecond))
	return nil
}

// remoteWriteBlock is the prometheus.yml snippet that writes to the
// workspace, signed with accessKey when access control is on.
func remoteWriteBlock(wsURL, region, accessKey string) string {
	sigv4 := ""
	if accessKey != "" {
		sigv4 = fmt.Sprintf(`
    sigv4:
      region: %s
      access_key: %s
      secret_key: <its secret_access_key from the config>`, region, accessKey)
	}
	return fmt.Sprintf(`
# Paste into prometheus.yml to write to the default workspace:
remote_write:
  - url: %s/api/v1/remote_write%s
    send_native_histograms: true

# Grafana / promtool / client_golang: use %s as the Prometheus server URL.
`, wsURL, sigv4, wsURL)
}

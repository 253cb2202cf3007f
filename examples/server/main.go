// Command server is a local Amazon Managed Service for Prometheus: AMP's
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
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	"github.com/prometheus/client_golang/prometheus/promhttp"

	"github.com/promspace/promspace"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	if err := run(ctx, os.Args[1:], logger, nil); err != nil {
		logger.Error("Server failed", "err", err)
		os.Exit(1)
	}
}

// run serves until ctx is done. When started is not nil it receives the
// address the server listens on once it takes requests.
func run(ctx context.Context, args []string, logger *slog.Logger, started chan<- string) error {
	fs := flag.NewFlagSet("server", flag.ContinueOnError)
	listen := fs.String("listen", "127.0.0.1:9009", "address to listen on")
	dataDir := fs.String("data-dir", "./data", "directory for workspace data and metadata")
	configFile := fs.String("config", "", "YAML file with credentials, bearer tokens and their policies; without it every request is anonymous and allowed")
	region := fs.String("region", "", "region in workspace ARNs and SigV4 signatures (default: the config's, else us-east-1)")
	account := fs.String("account-id", "", "account of the default workspace (default: the account of the config's identities when they share one, else 000000000000)")
	alias := fs.String("default-workspace", "default", "alias of the workspace created on first start")
	shutdownTimeout := fs.Duration("shutdown-timeout", 30*time.Second, "how long to wait for requests in flight on shutdown")
	if err := fs.Parse(args); err != nil {
		return err
	}

	conf, err := loadConfig(*configFile)
	if err != nil {
		return err
	}
	authn, authz, err := conf.Build()
	if err != nil {
		return err
	}
	if *region == "" {
		*region = cmp.Or(conf.Region, "us-east-1")
	}
	if *account == "" {
		*account = cmp.Or(conf.account(), "000000000000")
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

	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))

	svc, err := promspace.New(ctx, promspace.Options{
		DataDir:    *dataDir,
		Region:     *region,
		AccountID:  *account,
		Logger:     logger,
		Registerer: reg,

		Authenticator: authn,
		Authorizer:    authz,
	})
	if err != nil {
		return err
	}
	defer func() {
		if err := svc.Close(); err != nil {
			logger.Error("Closing workspaces failed", "err", err)
			return
		}
		logger.Info("Every workspace closed cleanly")
	}()

	ws, err := svc.EnsureWorkspace(ctx, *alias)
	if err != nil {
		return fmt.Errorf("default workspace: %w", err)
	}

	ln, err := net.Listen("tcp", *listen)
	if err != nil {
		return err
	}
	base := "http://" + ln.Addr().String()
	wsURL := base + "/workspaces/" + ws.ID()
	logger.Info("Serving a local AMP", "listen", ln.Addr().String(), "data_dir", *dataDir)
	logger.Info("Default workspace", "alias", ws.Alias(), "workspace_id", ws.ID(), "arn", ws.ARN(),
		"remote_write_url", wsURL+"/api/v1/remote_write", "query_url", wsURL)
	fmt.Fprint(os.Stderr, remoteWriteBlock(wsURL, *region, conf.firstAccessKey()))

	mux := http.NewServeMux()
	mux.HandleFunc("GET /-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "promspace is Healthy.\n")
	})
	mux.HandleFunc("GET /-/ready", func(w http.ResponseWriter, _ *http.Request) {
		io.WriteString(w, "promspace is Ready.\n")
	})
	mux.Handle("GET /metrics", promhttp.HandlerFor(reg, promhttp.HandlerOpts{Registry: reg}))
	mux.Handle("/", svc)

	srv := &http.Server{
		Handler:           mux,
		ReadHeaderTimeout: 10 * time.Second,
		ErrorLog:          slog.NewLogLogger(logger.Handler(), slog.LevelWarn),
	}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	if started != nil {
		started <- ln.Addr().String()
	}

	select {
	case err := <-serveErr:
		return err
	case <-ctx.Done():
	}
	logger.Info("Shutting down: finishing requests in flight")
	sctx, cancel := context.WithTimeout(context.Background(), *shutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil && !errors.Is(err, http.ErrServerClosed) {
		return err
	}
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

# Grafana / promtool / client_golang: use %s as the Prometheus server URL.
`, wsURL, sigv4, wsURL)
}

package alertmanager

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/alertmanager/alert"
	apiv2 "github.com/prometheus/alertmanager/api/v2"
	"github.com/prometheus/alertmanager/dispatch"
	"github.com/prometheus/alertmanager/featurecontrol"
	"github.com/prometheus/alertmanager/inhibit"
	"github.com/prometheus/alertmanager/marker"
	"github.com/prometheus/alertmanager/nflog"
	"github.com/prometheus/alertmanager/notify"
	"github.com/prometheus/alertmanager/provider/mem"
	"github.com/prometheus/alertmanager/silence"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
	"github.com/prometheus/common/model"

	"github.com/promspace/promspace/quota"
	"github.com/promspace/promspace/workspace"
)

// stateDirName is where, under the workspace's directory, the silences and
// the notification log are written. The TSDB ignores it: it is no block.
const stateDirName = "alertmanager"

// Instance is one workspace's alert manager: its definition, stored in the
// workspace's bucket, and an Alertmanager built from Alertmanager's own
// packages running it from the workspace's opening to its close.
//
// The alerts, silences and notification log live as long as the instance;
// the routing tree, receivers, inhibitor and dispatcher are built anew
// from each definition. ServeHTTP serves AMP's definition operations and
// Alertmanager's v2 API; Send takes the alerts of the workspace's rules.
type Instance struct {
	opts   *Options
	w      *workspace.Workspace
	logger *slog.Logger
	quota  *quota.Quota // nil without the quota component
	store  store
	dir    string
	extURL *url.URL
	// reg takes the metrics of the workspace's Alertmanager packages.
	reg *metricsRegisterer

	alerts   *mem.Alerts
	silences *silence.Silences
	nflog    *nflog.Log
	marker   marker.GroupMarker
	silencer *silence.Silencer
	api      *apiv2.API
	pipeline *notify.PipelineBuilder
	dmetrics *dispatch.DispatcherMetrics
	forward  *forwarder // nil without Options.ForwardURLs
	// droppedTotal counts the alerts of Send the Alertmanager did not take.
	droppedTotal *prometheus.CounterVec
	stopc        chan struct{}
	wg           sync.WaitGroup

	// mtx serializes definition changes; snapMtx the saving of the
	// silences' and the notification log's snapshots.
	mtx     sync.Mutex
	snapMtx sync.Mutex
	// stored says, by kind, whether the bucket may hold a snapshot: one
	// was read from the workspace's copies, or uploaded. Under snapMtx.
	stored map[string]bool
	def    *Definition
	// running is the definition being run, nil without one: what the API
	// and Send read.
	running    atomic.Pointer[running]
	dispatcher atomic.Pointer[dispatch.Dispatcher]
	inhibitor  atomic.Pointer[inhibit.Inhibitor]

	muxOnce sync.Once
	mux     *http.ServeMux
}

var _ workspace.Instance = (*Instance)(nil)

func (ams *Alertmanagers) open(ctx context.Context, w *workspace.Workspace) (_ *Instance, err error) {
	def, err := store{w.Bucket()}.load(ctx)
	var corrupt *corruptError
	if errors.As(err, &corrupt) {
		// Kept, UPDATE_FAILED, until a Put replaces it or a Delete removes
		// it: the workspace opens without it.
		def = corrupt.failed(w.ObjectName(objectName))
		ams.opts.Logger.Error("The stored alert manager definition cannot be read: it is UPDATE_FAILED until it is replaced or deleted",
			"workspace", w.ID(), "object", w.ObjectName(objectName), "err", corrupt.err)
	} else if err != nil {
		return nil, fmt.Errorf("read alert manager definition: %w", err)
	}
	dir := filepath.Join(w.Dir(), stateDirName)
	if err := os.MkdirAll(dir, 0o777); err != nil {
		return nil, err
	}
	extURL, err := url.Parse(ams.opts.ExternalURL + "/workspaces/" + w.ID() + "/alertmanager")
	if err != nil {
		return nil, fmt.Errorf("external URL: %w", err)
	}
	logger := ams.opts.Logger.With("workspace", w.ID())
	in := &Instance{
		opts:   &ams.opts,
		w:      w,
		logger: logger,
		store:  store{w.Bucket()},
		dir:    dir,
		extURL: extURL,
		reg:    newMetricsRegisterer(ams.opts.Registerer, w.ID()),
		marker: marker.NewGroupMarker(),
		stopc:  make(chan struct{}),
		stored: map[string]bool{},
	}
	in.quota, _ = workspace.InstanceOf[*quota.Quota](w, quota.ComponentName)
	in.droppedTotal = promauto.With(in.reg).NewCounterVec(prometheus.CounterOpts{
		Name: "promspace_alertmanager_alerts_dropped_total",
		Help: "Alerts of the workspace's rules that its Alertmanager did not take, by reason.",
	}, []string{"reason"})
	defer func() {
		if err != nil {
			in.Close()
		}
	}()

	if err := in.openState(ctx); err != nil {
		return nil, err
	}
	in.silencer = silence.NewSilencer(in.silences, logger, noRecorder)
	in.alerts, err = mem.NewAlerts(context.Background(), ams.opts.AlertGCInterval, 0, in.silencer,
		logger.With("component", "alerts"), noRecorder, in.reg, featurecontrol.NoopFlags{})
	if err != nil {
		return nil, fmt.Errorf("alerts: %w", err)
	}
	in.api, err = apiv2.NewAPI(in.alerts, in.groups, in.marker.Muted, in.silences, nil,
		logger.With("component", "api"), in.reg)
	if err != nil {
		return nil, fmt.Errorf("api: %w", err)
	}
	in.pipeline = notify.NewPipelineBuilder(in.reg, featurecontrol.NoopFlags{}, noRecorder)
	in.dmetrics = dispatch.NewDispatcherMetrics(false, in.reg, featurecontrol.NoopFlags{})
	if len(ams.opts.ForwardURLs) > 0 {
		if in.forward, err = newForwarder(&ams.opts, in.reg, logger.With("component", "forward")); err != nil {
			return nil, fmt.Errorf("forwarding: %w", err)
		}
	}

	switch {
	case corrupt != nil:
		in.def = def
	case def != nil:
		in.mtx.Lock()
		in.def = def
		if b, perr := in.prepare(def.Data); perr == nil {
			in.run(b)
		} else {
			// Stored when valid: one refused now (a newer Alertmanager, a
			// lower limit) must not keep the workspace from opening.
			logger.Error("The stored alert manager definition cannot be applied", "err", perr)
			def.Status, def.StatusReason = StatusUpdateFailed, perr.Error()
		}
		in.mtx.Unlock()
	}
	return in, nil
}

// limits returns the workspace's quotas.
func (in *Instance) limits() quota.Limits {
	if in.quota == nil {
		return quota.DefaultLimits()
	}
	return in.quota.Limits()
}

// groups is the API's view of the dispatcher's aggregation groups.
func (in *Instance) groups(ctx context.Context, routeFilter func(*dispatch.Route) bool, alertFilter func(*alert.Alert, time.Time) bool) (dispatch.AlertGroups, map[model.Fingerprint][]string, error) {
	d := in.dispatcher.Load()
	if d == nil {
		return dispatch.AlertGroups{}, map[model.Fingerprint][]string{}, nil
	}
	return d.Groups(ctx, routeFilter, alertFilter)
}

// ApplyConfig has nothing to apply: a workspace's configuration holds no
// alert manager setting, and its limits are read when a definition is.
func (in *Instance) ApplyConfig(workspace.Configuration) error { return nil }

// Close stops the dispatcher, the inhibitor and forwarding, and saves the
// silences and the notification log to the workspace's directory and
// bucket, from which the next opening reads them. The definition stays in
// the bucket.
func (in *Instance) Close() error {
	in.stop()
	if in.forward != nil {
		in.forward.stop()
	}
	close(in.stopc) // the maintenance loops write their last snapshots
	in.wg.Wait()
	if in.alerts != nil {
		in.alerts.Close()
	}
	in.reg.unregisterAll()
	return nil
}

// stop stops the dispatcher and the inhibitor of the running definition.
func (in *Instance) stop() {
	if i := in.inhibitor.Swap(nil); i != nil {
		i.Stop()
	}
	if d := in.dispatcher.Swap(nil); d != nil {
		d.Stop()
	}
	in.running.Store(nil)
}

// Gatherer returns the metrics of the workspace's Alertmanager: those of
// Alertmanager's own packages (alertmanager_notifications_total,
// alertmanager_silences, ...), of forwarding (Prometheus' notifier's
// prometheus_notifications_*) and promspace's, without the "workspace"
// label they have in Options.Registerer.
func (in *Instance) Gatherer() prometheus.Gatherer { return in.reg.own }

package rules

import (
	"context"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/promql"
	promrules "github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"

	"github.com/promspace/promspace/quota"
	"github.com/promspace/promspace/workspace"
)

// ComponentName is the name of the Component of Managers, for
// workspace.InstanceOf.
const ComponentName = "rules"

// Defaults of Options.
const (
	// DefaultEvaluationInterval is the interval of a rule group that sets
	// none, as in AMP and Prometheus.
	DefaultEvaluationInterval = time.Minute
	// DefaultMaxSamples and DefaultTimeout bound each evaluation by the
	// engine of a Managers given none: AMP's samples per query and query
	// time.
	DefaultMaxSamples = 50_000_000
	DefaultTimeout    = time.Minute
	// DefaultOutageTolerance, DefaultForGracePeriod and DefaultResendDelay
	// are Prometheus' defaults (--rules.alert.*).
	DefaultOutageTolerance = time.Hour
	DefaultForGracePeriod  = 10 * time.Minute
	DefaultResendDelay     = time.Minute
)

// NotifyFunc receives the alerts of workspace w that are to be sent: firing
// alerts within the workspace's MaxActiveAlerts, and resolved ones, of the
// alerting rule whose expression is expr (for their generator URL). It is
// the hook of the alert manager (package alertmanager). It is called
// during evaluations, EvalAt's included, so it must not block long nor
// call the RuleManager's methods.
type NotifyFunc func(ctx context.Context, w *workspace.Workspace, expr string, alerts []*promrules.Alert)

// Options configure Managers. Zero values mean the default.
type Options struct {
	// Engine evaluates the rules' expressions: normally the query API's
	// (query.API.Engine), so that rules and queries share its limits and
	// metrics. Nil means an engine of the Managers' own, with
	// DefaultMaxSamples and DefaultTimeout, whose metrics are not
	// registered.
	Engine promql.QueryEngine
	// EvaluationInterval is the interval of rule groups that set none, and
	// the step of subqueries written without one. Default 1m.
	EvaluationInterval time.Duration
	// OutageTolerance is how long an outage may last for the `for` state of
	// alerts to be restored after it; ForGracePeriod the least time an
	// alert waits after a restore before it fires; ResendDelay how often a
	// firing alert is sent again. Prometheus' defaults.
	OutageTolerance time.Duration
	ForGracePeriod  time.Duration
	ResendDelay     time.Duration
	// ManualEvaluation leaves the evaluation to RuleManager.EvalAt: the
	// groups' own schedules evaluate nothing, so that tests and the test
	// harness choose the evaluation times. The `for` state of the alerts
	// of the groups loaded when the workspace opens is restored by their
	// second EvalAt, as Prometheus restores it after its second
	// evaluation.
	ManualEvaluation bool
	// Notify receives the alerts to send; nil drops them.
	Notify NotifyFunc
	// Logger defaults to discarding; each workspace's manager logs with a
	// "workspace" attribute.
	Logger *slog.Logger
	// VendedLog, if set, returns a handler that each workspace's manager
	// logs to besides Logger (nil for none), called when the workspace
	// opens: the workspace's vended logs, to which the failures of its
	// rule evaluations go (package logging's Instance.Handler).
	VendedLog func(w *workspace.Workspace) slog.Handler
	// Appendable, if set, returns what each workspace's recording and
	// alerting rules append to (nil for the workspace itself), called when
	// the workspace opens: the Service gives the workspace's ingest
	// endpoint, so that rule results go through the same dedupe and quota
	// pipeline as remote write.
	Appendable func(w *workspace.Workspace) storage.AppendableV2
	// Registerer receives the metrics of Prometheus' rule groups, one set
	// per workspace with a "workspace" label, unregistered when the
	// workspace closes; nil registers nowhere.
	Registerer prometheus.Registerer
}

// DefaultOptions returns the defaults, with no engine (one of the Managers'
// own).
func DefaultOptions() Options {
	return Options{
		EvaluationInterval: DefaultEvaluationInterval,
		OutageTolerance:    DefaultOutageTolerance,
		ForGracePeriod:     DefaultForGracePeriod,
		ResendDelay:        DefaultResendDelay,
		Logger:             slog.New(slog.DiscardHandler),
	}
}

// Managers holds what the rule managers of all workspaces share: the
// engine and the options. Its Component gives each workspace its
// RuleManager.
type Managers struct {
	opts Options
}

// New returns Managers with the given options.
func New(opts Options) *Managers {
	d := DefaultOptions()
	if opts.EvaluationInterval <= 0 {
		opts.EvaluationInterval = d.EvaluationInterval
	}
	if opts.OutageTolerance <= 0 {
		opts.OutageTolerance = d.OutageTolerance
	}
	if opts.ForGracePeriod <= 0 {
		opts.ForGracePeriod = d.ForGracePeriod
	}
	if opts.ResendDelay <= 0 {
		opts.ResendDelay = d.ResendDelay
	}
	if opts.Logger == nil {
		opts.Logger = d.Logger
	}
	if opts.Engine == nil {
		step := opts.EvaluationInterval.Milliseconds()
		opts.Engine = promql.NewEngine(promql.EngineOpts{
			Logger:                   opts.Logger.With("component", "rules engine"),
			MaxSamples:               DefaultMaxSamples,
			Timeout:                  DefaultTimeout,
			NoStepSubqueryIntervalFn: func(int64) int64 { return step },
			EnableAtModifier:         true,
			EnableNegativeOffset:     true,
		})
	}
	return &Managers{opts: opts}
}

// Component returns the workspace component whose instance for each
// workspace is its *RuleManager. It must come after the quota component,
// whose MaxRules and MaxActiveAlerts it enforces. Opening reads the
// workspace's namespaces from its bucket and loads them; a bucket that
// cannot be read fails the opening, rather than run a workspace without
// some of its alerts.
func (ms *Managers) Component() workspace.Component {
	return workspace.NewComponent(ComponentName, func(ctx context.Context, w *workspace.Workspace) (workspace.Instance, error) {
		return ms.open(ctx, w)
	})
}

// RuleManager is one workspace's rules: its rule groups namespaces, stored
// in the workspace's bucket, and Prometheus' rules.Manager evaluating them
// over the workspace's storage from the workspace's opening to its close.
//
// RuleGroups and AlertingRules make it the RulesRetriever of Prometheus'
// API, for /api/v1/rules and /api/v1/alerts; ServeHTTP serves AMP's rule
// groups namespace operations.
type RuleManager struct {
	opts    *Options
	w       *workspace.Workspace
	logger  *slog.Logger
	quota   *quota.Quota // nil without the quota component
	store   store
	dir     string // the rule files Prometheus' manager loads
	manager *promrules.Manager
	cancel  context.CancelFunc
	stopped chan struct{} // closed when manager.Run returns
	metrics *workspaceMetrics
	muxOnce sync.Once
	mux     *http.ServeMux // of ServeHTTP

	// mtx serializes namespace changes and manual evaluations.
	mtx        sync.Mutex
	namespaces map[string]*Namespace
	// Under ManualEvaluation: restoring counts the evaluations of the
	// groups loaded at open until their `for` state is restored, and
	// parked holds the groups' own schedules.
	restoring map[*promrules.Group]int
	parked    parking

	// groups is the manager's groups as of the last load, for the alert
	// limit: reading them from the manager while it loads would deadlock
	// with the evaluation that notifies.
	groups atomic.Pointer[[]*promrules.Group]
	// queryOffset is the configuration's RuleQueryOffset, in nanoseconds.
	queryOffset atomic.Int64
}

var _ workspace.Instance = (*RuleManager)(nil)

func (ms *Managers) open(ctx context.Context, w *workspace.Workspace) (*RuleManager, error) {
	namespaces, err := store{w.Bucket()}.loadAll(ctx)
	if err != nil {
		return nil, fmt.Errorf("read rule groups namespaces: %w", err)
	}
	for _, ns := range namespaces {
		if ns.corrupt != "" {
			object := w.ObjectName(objectName(ns.Name))
			ms.opts.Logger.Error("A stored rule groups namespace cannot be read: it is UPDATE_FAILED until it is replaced or deleted",
				"workspace", w.ID(), "namespace", ns.Name, "object", object, "err", ns.corrupt)
			ns.invalid = fmt.Sprintf("the stored rule groups namespace %s cannot be read: %s", object, ns.corrupt)
			ns.corrupt = ""
			continue
		}
		// Validated when stored; one refused now must not keep the
		// others from loading.
		if _, err := parseRules(ns.Data); err != nil {
			ns.invalid = err.Error()
		}
	}
	mctx, cancel := context.WithCancel(context.Background())
	logger := ms.opts.Logger
	if ms.opts.VendedLog != nil {
		if h := ms.opts.VendedLog(w); h != nil {
			logger = slog.New(slog.NewMultiHandler(logger.Handler(), h))
		}
	}
	m := &RuleManager{
		opts:       &ms.opts,
		w:          w,
		logger:     logger.With("workspace", w.ID()),
		store:      store{w.Bucket()},
		dir:        ruleFilesDir(w),
		cancel:     cancel,
		stopped:    make(chan struct{}),
		namespaces: namespaces,
		metrics:    newWorkspaceMetrics(ms.opts.Registerer, w.ID()),
	}
	m.quota, _ = workspace.InstanceOf[*quota.Quota](w, quota.ComponentName)
	for _, ns := range namespaces {
		if ns.ARN == "" { // of a corrupt object
			ns.ARN = m.arn(ns.Name)
		}
	}
	// The workspace is the storage: rules read it and recording rules
	// append into it, through the same holds as the data plane, and
	// through Options.Appendable's pipeline when there is one.
	var app storage.AppendableV2 = w
	if ms.opts.Appendable != nil {
		if a := ms.opts.Appendable(w); a != nil {
			app = a
		}
	}
	m.manager = promrules.NewManager(&promrules.ManagerOptions{
		AppendableV2:           app,
		Queryable:              w,
		QueryFunc:              promrules.EngineQueryFunc(ms.opts.Engine, w),
		NotifyFunc:             m.notify,
		Context:                mctx,
		Logger:                 m.logger,
		Metrics:                m.metrics.rules,
		DefaultRuleQueryOffset: m.ruleQueryOffset,
		OutageTolerance:        ms.opts.OutageTolerance,
		ForGracePeriod:         ms.opts.ForGracePeriod,
		ResendDelay:            ms.opts.ResendDelay,
		GroupLoader:            fileLoader{dir: m.dir},
	})
	go func() {
		defer close(m.stopped)
		m.manager.Run()
	}()
	m.mtx.Lock()
	err = m.load()
	if ms.opts.ManualEvaluation {
		m.restoring = map[*promrules.Group]int{}
		for _, g := range m.current() {
			m.restoring[g] = 0
		}
	}
	m.mtx.Unlock()
	if err != nil {
		m.logger.Error("Loading the rule groups namespaces failed", "err", err)
	}
	if m.quota != nil {
		m.quota.SetControlPlaneUsage(m.usage)
	}
	return m, nil
}

// usage returns the rules loaded for evaluation and the firing alerts,
// for the quota's view.
func (m *RuleManager) usage() (rules, firing int) {
	for _, g := range m.current() {
		rules += len(g.Rules())
		for _, r := range g.AlertingRules() {
			for _, a := range r.ActiveAlerts() {
				if a.State == promrules.StateFiring {
					firing++
				}
			}
		}
	}
	return rules, firing
}

func (m *RuleManager) ruleQueryOffset() time.Duration {
	return time.Duration(m.queryOffset.Load())
}

// iterationFunc is how groups evaluate on their own schedule: as
// Prometheus does, or not at all under ManualEvaluation.
func (m *RuleManager) iterationFunc() promrules.GroupEvalIterationFunc {
	if m.opts.ManualEvaluation {
		return m.parked.park
	}
	return promrules.DefaultEvalIterationFunc
}

// RuleGroups returns the rule groups being evaluated, sorted by namespace
// (their File) and name.
func (m *RuleManager) RuleGroups() []*promrules.Group { return m.manager.RuleGroups() }

// AlertingRules returns the alerting rules being evaluated.
func (m *RuleManager) AlertingRules() []*promrules.AlertingRule {
	return m.manager.AlertingRules()
}

// ApplyConfig takes the configuration's RuleQueryOffset, the offset of the
// evaluations of groups that set no query_offset of their own.
func (m *RuleManager) ApplyConfig(c workspace.Configuration) error {
	m.queryOffset.Store(int64(c.RuleQueryOffset))
	return nil
}

// Close stops the evaluation of every group, waits for it and unregisters
// the workspace's rule metrics. The namespaces stay in the bucket.
func (m *RuleManager) Close() error {
	if m.quota != nil {
		m.quota.SetControlPlaneUsage(nil)
	}
	// Under mtx, so that the loops released see the last EvalAt's state.
	m.mtx.Lock()
	m.parked.releaseAll()
	m.mtx.Unlock()
	m.manager.Stop()
	m.cancel()
	<-m.stopped
	m.metrics.unregister()
	return nil
}

// limits returns the workspace's rules and alerts quotas.
func (m *RuleManager) limits() (maxRules, maxActiveAlerts int) {
	if m.quota == nil {
		return quota.DefaultMaxRules, quota.DefaultMaxActiveAlerts
	}
	l := m.quota.Limits()
	return l.MaxRules, l.MaxActiveAlerts
}

// arn returns the ARN of the workspace's namespace name:
// arn:aws:aps:<region>:<account>:rulegroupsnamespace/<workspace id>/<name>.
func (m *RuleManager) arn(name string) string {
	return strings.Replace(m.w.ARN(), ":workspace/", ":rulegroupsnamespace/", 1) + "/" + name
}

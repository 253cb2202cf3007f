package rules

import (
	"context"
	"log/slog"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/promql"
	promrules "github.com/prometheus/prometheus/rules"

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
)

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
	// Logger defaults to discarding; each workspace's manager logs with a
	// "workspace" attribute.
	Logger *slog.Logger
	// Registerer receives the metrics of Prometheus' rule groups, shared by
	// all workspaces, whose groups they tell apart by file name; nil
	// registers nowhere. New registers them, so call it once per
	// Registerer.
	Registerer prometheus.Registerer
}

// DefaultOptions returns the defaults, with no engine (one of the Managers'
// own).
func DefaultOptions() Options {
	return Options{
		EvaluationInterval: DefaultEvaluationInterval,
		Logger:             slog.New(slog.DiscardHandler),
	}
}

// Managers holds what the rule managers of all workspaces share: the
// engine, the options and Prometheus' rule metrics. Its Component gives
// each workspace its RuleManager.
type Managers struct {
	opts    Options
	metrics *promrules.Metrics
}

// New returns Managers with the given options and registers their
// metrics on opts.Registerer.
func New(opts Options) *Managers {
	d := DefaultOptions()
	if opts.EvaluationInterval <= 0 {
		opts.EvaluationInterval = d.EvaluationInterval
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
	return &Managers{opts: opts, metrics: promrules.NewGroupMetrics(opts.Registerer)}
}

// Component returns the workspace component whose instance for each
// workspace is its *RuleManager.
func (ms *Managers) Component() workspace.Component {
	return workspace.NewComponent(ComponentName, func(_ context.Context, w *workspace.Workspace) (workspace.Instance, error) {
		return ms.open(w), nil
	})
}

func (ms *Managers) open(w *workspace.Workspace) *RuleManager {
	ctx, cancel := context.WithCancel(context.Background())
	m := &RuleManager{cancel: cancel, stopped: make(chan struct{})}
	m.manager = promrules.NewManager(&promrules.ManagerOptions{
		// The workspace is the storage: rules read it and recording rules
		// append into it, through the same holds as the data plane.
		AppendableV2: w,
		Queryable:    w,
		QueryFunc:    promrules.EngineQueryFunc(ms.opts.Engine, w),
		// Alerts go nowhere until the alert manager is built.
		NotifyFunc:             func(context.Context, string, ...*promrules.Alert) {},
		Context:                ctx,
		Logger:                 ms.opts.Logger.With("workspace", w.ID()),
		Metrics:                ms.metrics,
		DefaultRuleQueryOffset: m.ruleQueryOffset,
	})
	go func() {
		defer close(m.stopped)
		m.manager.Run()
	}()
	return m
}

// RuleManager is one workspace's rules: Prometheus' rules.Manager over the
// workspace's storage, running from the workspace's opening to its close.
// Not built yet: no namespace is stored or loaded, so it evaluates no
// rule, and no alert is sent.
//
// RuleGroups and AlertingRules make it the RulesRetriever of Prometheus'
// API, for /api/v1/rules and /api/v1/alerts.
type RuleManager struct {
	manager *promrules.Manager
	cancel  context.CancelFunc
	stopped chan struct{} // closed when manager.Run returns
	// queryOffset is the configuration's RuleQueryOffset, in nanoseconds.
	queryOffset atomic.Int64
}

var _ workspace.Instance = (*RuleManager)(nil)

func (m *RuleManager) ruleQueryOffset() time.Duration {
	return time.Duration(m.queryOffset.Load())
}

// RuleGroups returns the rule groups being evaluated.
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

// Close stops the evaluation of every group and waits for it.
func (m *RuleManager) Close() error {
	m.manager.Stop()
	m.cancel()
	<-m.stopped
	return nil
}

package query

import (
	"context"
	"log/slog"
	"net/http"
	"runtime"
	"runtime/debug"
	"time"

	"github.com/grafana/regexp"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/promslog"
	"github.com/prometheus/common/route"
	"github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/metadata"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"
	v1 "github.com/prometheus/prometheus/web/api/v1"
)

// Version is the promspace version that status/buildinfo reports. The build
// may set it with -ldflags "-X github.com/promspace/promspace/query.Version=...";
// it is read when New is called.
var Version = "0.1.0-dev"

// Defaults of Options, AMP's values.
const (
	DefaultLookbackDelta  = 5 * time.Minute
	DefaultTimeout        = time.Minute
	DefaultMaxSamples     = 50_000_000
	DefaultMaxQueryLength = 32 * 24 * time.Hour
	// DefaultMaxQueryExpressionBytes and DefaultMaxQueryExpressionDepth bound
	// the work of parsing a query, which cannot be interrupted: Prometheus'
	// parser and engine take time that grows with the square of the nesting
	// depth (a+b+c+... nests one deeper with each term). At both limits the
	// worst shapes measured (nested parentheses, chained sums, and 128 KiB of
	// sums 1,000 deep) parse in under half a second and answer in under three
	// on two cores; 40,000 parentheses took 20 s and 25,000 terms over a
	// minute. 128 KiB (Tempo's default for TraceQL; Mimir has the limit but
	// no default) leaves room for long regular expressions from dashboard
	// variables; 1,000 deep is far beyond what people write.
	DefaultMaxQueryExpressionBytes = 128 << 10
	DefaultMaxQueryExpressionDepth = 1000
	// DefaultMaxChunksPerQuery and DefaultMaxBytesPerQuery are AMP's
	// chunks and bytes per query (the bytes per 24 hours of range).
	DefaultMaxChunksPerQuery = 2_000_000
	DefaultMaxBytesPerQuery  = 5_000_000_000
	// DefaultMaxResultSamples bounds the response: about 20 bytes of JSON
	// per float, 100 MB at the limit, and a measured peak of 600 MB of memory
	// to hold and encode it (8.7 million took 1.1 GB). AMP states no such
	// quota; Cortex, which it runs, caps a querier's response at its gRPC
	// message size, 16 MiB by default and 100 MiB in Cortex's own deployments.
	DefaultMaxResultSamples = 5_000_000
	// DefaultSubqueryStep is the step of a subquery written without one,
	// Prometheus' default evaluation interval.
	DefaultSubqueryStep = time.Minute
)

// Options configure an API. Zero values mean the default.
type Options struct {
	Logger *slog.Logger
	// Registerer takes the engine's and this package's metrics; nil registers
	// nothing.
	Registerer prometheus.Registerer

	// LookbackDelta is how far back an instant selector looks for a sample.
	LookbackDelta time.Duration
	// Timeout is the longest a query may run; longer ones answer 422
	// "query timed out - consider simplifying your query".
	Timeout time.Duration
	// MaxSamples is the most samples a query may hold in memory at once.
	MaxSamples int
	// MaxQueryLength is the longest time range of a range query (end - start).
	// A negative value means no limit.
	MaxQueryLength time.Duration
	// MaxQueryExpressionBytes is the longest PromQL expression, in bytes, that
	// query, query_range, query_exemplars, format_query and parse_query
	// accept, and the most bytes of all match[] selectors of series, labels
	// and label values. Longer ones answer 400 "the raw query size in bytes
	// exceeds the limit" before they are parsed. A negative value means no
	// limit.
	MaxQueryExpressionBytes int
	// MaxQueryExpressionDepth is the deepest nesting of a PromQL expression
	// or selector those endpoints accept, measured on its tokens before it is
	// parsed: each pair of parentheses, brackets or braces and each operator
	// chained in one nests one deeper. Deeper ones answer 400 "the query
	// expression is nested too deeply". A negative value means no limit.
	MaxQueryExpressionDepth int
	// MaxChunksPerQuery is the most chunks a query may read from storage
	// (each stored chunk of each series a selector fetches, in the query's
	// time range); more answer 422 "the query hit the max number of chunks
	// limit (limit: N chunks)". A negative value means no limit.
	MaxChunksPerQuery int
	// MaxBytesPerQuery is the most bytes of chunks a query may read from
	// storage for each started 24 hours of its time range (end - start; an
	// instant query gets one day's); more answer 422 "the query hit the
	// aggregated data size limit (limit: N bytes)". A negative value means
	// no limit.
	MaxBytesPerQuery int64
	// MaxResultSamples is the most samples the result of a query may hold to
	// be answered: floats, and histograms weighted by their size as the
	// engine's MaxSamples weighs them. More answer 422 "the query result is
	// too large to answer". It bounds the memory that encoding the response
	// takes, which MaxSamples does not. A negative value means no limit.
	MaxResultSamples int

	// OnQuery, if set, is called once for every query and range query the
	// engine executed, with the query samples processed (the engine's total
	// samples). Queries rejected by max_samples_processed_error_threshold are
	// not charged and not reported. It is called on the request's goroutine
	// and must not block. Source.OnQuery is called too.
	OnQuery func(workspaceID string, samplesProcessed int64)
}

// DefaultOptions returns the options with AMP's defaults.
func DefaultOptions() Options {
	return Options{
		LookbackDelta:  DefaultLookbackDelta,
		Timeout:        DefaultTimeout,
		MaxSamples:     DefaultMaxSamples,
		MaxQueryLength: DefaultMaxQueryLength,

		MaxQueryExpressionBytes: DefaultMaxQueryExpressionBytes,
		MaxQueryExpressionDepth: DefaultMaxQueryExpressionDepth,
		MaxChunksPerQuery:       DefaultMaxChunksPerQuery,
		MaxBytesPerQuery:        DefaultMaxBytesPerQuery,
		MaxResultSamples:        DefaultMaxResultSamples,
	}
}

func (o Options) withDefaults() Options {
	d := DefaultOptions()
	if o.Logger == nil {
		o.Logger = promslog.NewNopLogger()
	}
	if o.LookbackDelta <= 0 {
		o.LookbackDelta = d.LookbackDelta
	}
	if o.Timeout <= 0 {
		o.Timeout = d.Timeout
	}
	if o.MaxSamples <= 0 {
		o.MaxSamples = d.MaxSamples
	}
	if o.MaxQueryLength == 0 {
		o.MaxQueryLength = d.MaxQueryLength
	}
	if o.MaxQueryExpressionBytes == 0 {
		o.MaxQueryExpressionBytes = d.MaxQueryExpressionBytes
	}
	if o.MaxQueryExpressionDepth == 0 {
		o.MaxQueryExpressionDepth = d.MaxQueryExpressionDepth
	}
	if o.MaxChunksPerQuery == 0 {
		o.MaxChunksPerQuery = d.MaxChunksPerQuery
	}
	if o.MaxBytesPerQuery == 0 {
		o.MaxBytesPerQuery = d.MaxBytesPerQuery
	}
	if o.MaxResultSamples == 0 {
		o.MaxResultSamples = d.MaxResultSamples
	}
	return o
}

// MetadataLister lists the latest metadata per metric family, with the
// semantics of Prometheus' /api/v1/metadata: metric "" means all, and a
// negative limit or limitPerMetric means no limit.
type MetadataLister interface {
	List(metric string, limit, limitPerMetric int) map[string][]metadata.Metadata
}

// Source is the storage of one workspace.
type Source struct {
	// ID names the workspace in OnQuery and in logs.
	ID        string
	Queryable storage.SampleAndChunkQueryable
	// Exemplars may be nil: query_exemplars then answers no exemplars.
	Exemplars storage.ExemplarQueryable
	// Metadata may be nil: metadata then answers no metadata.
	Metadata MetadataLister
	// Limits, if set, returns the workspace's query limits in place of
	// Options': it is called once as each request arrives, so that a
	// changed limit applies from the next request on. It must be safe for
	// concurrent use and must not block.
	Limits func() Limits
	// OnQuery, if set, is the workspace's own Options.OnQuery: it is told
	// the query samples processed of every charged query.
	OnQuery func(samplesProcessed int64)
	// OnQueryRecord, if set, is told every charged query with its
	// expression, samples processed and duration, after OnQuery: the hook
	// of query logging. It is called on the request's goroutine and must
	// not block.
	OnQueryRecord func(Record)
	// Rules, if set, answers /api/v1/rules and /api/v1/alerts with
	// Prometheus' JSON and filters; without it they are not found.
	Rules v1.RulesRetriever
}

// API serves the Prometheus HTTP API v1 for any number of workspaces with one
// PromQL engine. It is safe for concurrent use.
type API struct {
	opts    Options
	engine  *promql.Engine
	engines *engines // engine and those of other limits
	metrics *metrics
	now     func() time.Time // the clock of query timeouts

	// template is Prometheus' API with everything a workspace does not change
	// (build info, codecs, parser, the OpenAPI document). Building it costs
	// tens of milliseconds, so Handler copies it and sets the workspace's
	// storage and engine instead of calling v1.NewAPI for each workspace.
	template *v1.API
	// parser is the engine's, for the checks made before the engine parses.
	parser parser.Parser
}

// New returns an API with its engine. Its metrics are registered on
// opts.Registerer, so call it once per Registerer.
func New(opts Options) *API {
	opts = opts.withDefaults()
	p := parser.NewParser(parser.Options{})
	subqueryStep := DefaultSubqueryStep.Milliseconds()
	newEngine := func(k engineKey, reg prometheus.Registerer) *promql.Engine {
		return promql.NewEngine(promql.EngineOpts{
			Logger:                   opts.Logger.With("component", "query engine"),
			Reg:                      reg,
			MaxSamples:               k.maxSamples,
			Timeout:                  k.timeout,
			LookbackDelta:            opts.LookbackDelta,
			NoStepSubqueryIntervalFn: func(int64) int64 { return subqueryStep },
			EnableAtModifier:         true,
			EnableNegativeOffset:     true,
			Parser:                   p,
		})
	}
	def := engineKeyOf(opts.limits())
	engine := newEngine(def, opts.Registerer)
	return &API{
		opts:   opts,
		now:    time.Now,
		engine: engine,
		engines: &engines{def: def, engine: engine, newFunc: func(k engineKey) *promql.Engine {
			return newEngine(k, nil)
		}},
		metrics:  newMetrics(opts.Registerer),
		template: newPrometheusAPI(opts, p),
		parser:   p,
	}
}

// Engine returns the PromQL engine shared by all workspaces, for callers that
// evaluate PromQL outside HTTP (rules) with the same limits.
func (a *API) Engine() *promql.Engine { return a.engine }

// limitsOf returns the current limits of src's workspace.
func (a *API) limitsOf(src Source) Limits {
	if src.Limits != nil {
		return src.Limits()
	}
	return a.opts.limits()
}

// noCrossOrigin matches no Origin header: AMP sends no CORS grants.
var noCrossOrigin = regexp.MustCompile(`^$`)

func newPrometheusAPI(opts Options, p parser.Parser) *v1.API {
	return v1.NewAPI(
		nil, // query engine: per workspace
		nil, // queryable: per workspace
		nil, // appendable: remote write is the ingest package's
		nil, // exemplar queryable: per workspace
		nil, // scrape pools
		nil, // targets
		nil, // alertmanagers
		func() config.Config { return config.DefaultConfig },
		nil, // flags
		v1.GlobalURLOptions{},
		func(f http.HandlerFunc) http.HandlerFunc { return f }, // always ready
		nil,   // TSDB admin and stats
		"",    // data directory
		false, // admin APIs
		false, // search APIs
		0,     // search limit
		opts.Logger.With("component", "api"),
		rulesOf, // rules: per workspace, from the request's context
		0,       // remote read sample limit
		0,       // remote read concurrency
		0,       // remote read frame size
		false,
		noCrossOrigin,
		nil, // runtime info
		buildInfo(),
		nil, // notifications
		nil, // notifications subscription
		nil, // gatherer
		nil, // registerer: nothing per workspace may register
		nil, // stats renderer: Prometheus' default
		false,
		nil,
		false, false, false, // OTLP
		opts.LookbackDelta,
		false, // type and unit labels
		false, // append metadata
		nil,   // error codes: Prometheus' own
		nil,   // feature registry
		v1.OpenAPIOptions{},
		p,
		false, // query cost
		opts.Timeout,
	)
}

func buildInfo() *v1.PrometheusVersion {
	v := &v1.PrometheusVersion{
		Version:   Version,
		GoVersion: runtime.Version(),
	}
	if bi, ok := debug.ReadBuildInfo(); ok {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				v.Revision = s.Value
			case "vcs.time":
				v.BuildDate = s.Value
			}
		}
	}
	return v
}

// Handler returns the HTTP API of one workspace, serving paths that start at
// /api/v1/. Build it once per workspace and keep it: it is cheap but not free.
func (a *API) Handler(src Source) http.Handler {
	if src.Queryable == nil {
		panic("query: Source.Queryable is nil")
	}
	exemplars := src.Exemplars
	if exemplars == nil {
		exemplars = noExemplars{}
	}

	// A shallow copy of the template shares only read-only state; the fields
	// set below are the only ones the endpoints served here read per workspace.
	prom := *a.template
	prom.Queryable = src.Queryable
	prom.ExemplarQueryable = exemplars
	prom.QueryEngine = &meteredEngine{api: a, src: src}

	router := route.New()
	prom.Register(router.WithPrefix(apiPrefix))
	h := newHandler(a, src, router)
	if src.Rules == nil {
		return h
	}
	// Prometheus' API takes its rules retriever once, in NewAPI, for all
	// the copies of the template: each workspace's goes in the context of
	// the requests of its rules and alerts, which read no storage and so
	// need none of newHandler's checks.
	rr := src.Rules
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		switch r.URL.Path {
		case apiPrefix + "/rules", apiPrefix + "/alerts":
			router.ServeHTTP(w, r.WithContext(context.WithValue(r.Context(), rulesKey{}, rr)))
		default:
			h.ServeHTTP(w, r)
		}
	})
}

type rulesKey struct{}

// rulesOf is the rules retriever of the template: the one Handler put in
// the request's context.
func rulesOf(ctx context.Context) v1.RulesRetriever {
	if rr, ok := ctx.Value(rulesKey{}).(v1.RulesRetriever); ok {
		return rr
	}
	return noRules{}
}

// noRules is the rules retriever of a workspace without rules.
type noRules struct{}

func (noRules) RuleGroups() []*rules.Group           { return nil }
func (noRules) AlertingRules() []*rules.AlertingRule { return nil }

// noExemplars is the ExemplarQueryable of a workspace without exemplars.
type noExemplars struct{}

func (noExemplars) ExemplarQuerier(context.Context) (storage.ExemplarQuerier, error) {
	return noExemplars{}, nil
}

func (noExemplars) Select(int64, int64, ...[]*labels.Matcher) ([]exemplar.QueryResult, error) {
	return []exemplar.QueryResult{}, nil
}

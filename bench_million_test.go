package promspace_test

import (
	"context"
	"flag"
	"fmt"
	"log/slog"
	"net/http"
	"path/filepath"
	"runtime/pprof"
	"testing"
	"time"

	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage/remote"
	"github.com/prometheus/prometheus/tsdb"

	"github.com/promspace/promspace"
	"github.com/promspace/promspace/auth"
	"github.com/promspace/promspace/quota"
	"github.com/promspace/promspace/workspace"
)

var (
	benchMillion     = flag.Bool("promspace.million", false, "run BenchmarkIngest's cases of 1,000,000 series too")
	benchHeapProfile = flag.String("promspace.heapprofile", "", "write a heap profile to this file after promspace's warm-up in BenchmarkIngest")
	benchWAL         = flag.String("promspace.wal-compression", "", "WAL compression of both sides' TSDBs in BenchmarkIngest: snappy (the default), zstd or none")
)

const (
	ingestSamplesPerReq = 2000 // Prometheus' max_samples_per_send
	ingestScrapeMs      = 15_000
)

// BenchmarkIngest measures remote write through the whole service, every
// check on: SigV4 verification of a credential whose policy allows
// aps:RemoteWrite, HA dedupe (every series carries cluster and
// __replica__, the leader's, which the tracker strips), and every quota
// (ingestion rate and burst set high enough to refuse nothing, the active
// series limits per workspace and per metric, two label-set limits that
// the series match, the label limits). Prometheus' own receiver,
// remote.NewWriteHandler, gets the same bodies (unsigned) into a TSDB with
// the workspace's options (workspace.DefaultTSDBOptions, AMP's 60 s
// out-of-order window, exemplar storage). Series have 10 labels, requests
// 2,000 samples, one per series. A third side, head (see headFloor),
// takes the same series straight into a TSDB of the same options, labels
// built beforehand: the floor of any receiver storing into Prometheus'
// TSDB.
//
// Each b.N is a round for each side: every series once through the side,
// the timestamps a scrape interval on from the round before. The sides
// take their rounds in phases of half of them, one side after the other
// (promspace, Prometheus, head, head, Prometheus, promspace). steady has
// every series in the heads before timing (the steady state); create
// sends series never seen before in every round. It reports, for each
// side, samples per CPU-second (getrusage of the whole process around the
// side's phases, so the TSDB's goroutines count, and the collector's time
// for the bytes they allocated: see ingestPhase), the collector's share of
// that time (gc-%), allocations
// per sample, heap in use per series after the warm-up (steady: the heap
// the side's series, heads and caches added); for the receivers, WAL and
// head chunk bytes per sample, and, the head then compacted into a block,
// the block's bytes per sample (block-B/sample, an index for a few
// samples a series); and the ratios to Prometheus' side (ratio:
// promspace's samples per CPU-second over Prometheus'; ratio-without-gc:
// the same without the collector's time; head-ratio: the head's over
// Prometheus', the most any receiver on the TSDB can reach; alloc-ratio:
// Prometheus' allocations / promspace's). Profiles tell the sides apart by the pprof
// label side=promspace, side=prometheus or side=head.
//
// The cases of 1,000,000 series run only with -promspace.million:
//
//	GODEBUG=madvdontneed=0 go test -run '^$' -bench 'BenchmarkIngest/series=100000' -benchtime 10x .
//	GODEBUG=madvdontneed=0 go test -run '^$' -bench 'BenchmarkIngest/series=1000000/steady' -benchtime 4x -timeout 1h . -promspace.million
//
// (see growHeap for GODEBUG). Each phase is logged with its kernel share
// of the CPU time and its page faults.
func BenchmarkIngest(b *testing.B) {
	for _, series := range []int{100_000, 1_000_000} {
		for _, mode := range []string{"steady", "create"} {
			for _, proto := range []string{"v1", "v2"} {
				b.Run(fmt.Sprintf("series=%d/%s/%s", series, mode, proto), func(b *testing.B) {
					if series > 100_000 && !*benchMillion {
						b.Skip("1,000,000 series only with -promspace.million")
					}
					benchIngest(b, series, mode == "create", proto == "v2")
				})
			}
		}
	}
}

// ingestSide is one receiver of the benchmark.
type ingestSide struct {
	name string
	db   *tsdb.DB
	// prepare returns the work of a round, made ready outside of it.
	prepare func(r benchRound) roundWork

	phaseCost         // of b.N rounds, in two phases
	heap      float64 // bytes per series after the warm-up
}

// roundWork is the work of a round for a side. It calls between after
// each request.
type roundWork func(between func())

// benchRound is one round of the benchmark: its number, its generation
// of series, its samples' timestamp and its bodies.
type benchRound struct {
	n, gen int
	ts     int64
	bodies [][]byte
}

func benchIngest(b *testing.B, series int, create, v2 bool) {
	growHeap(b)
	ctx := context.Background()

	ours, w := newBenchService(b, series, create)
	defer ours.Close() // before the next run measures its heap
	promDB, err := tsdb.Open(b.TempDir(), nil, nil, benchPromTSDBOptions(), nil)
	if err != nil {
		b.Fatal(err)
	}
	defer promDB.Close()
	prom := remote.NewWriteHandler(slog.New(slog.DiscardHandler), prometheus.NewRegistry(), promDB,
		remoteapi.MessageTypes{remoteapi.WriteV1MessageType, remoteapi.WriteV2MessageType}, false, false)
	head := newHeadFloor(b, series)
	defer head.db.Close()

	var wr benchWriter
	// served returns the work of sending a round's bodies to h.
	served := func(name string, h http.Handler, request func(body []byte) *http.Request) func(r benchRound) roundWork {
		return func(r benchRound) roundWork {
			reqs := make([]*http.Request, len(r.bodies))
			for i, body := range r.bodies {
				reqs[i] = request(body)
			}
			return func(between func()) {
				for i, req := range reqs {
					wr.reset()
					h.ServeHTTP(&wr, req)
					if wr.status != http.StatusNoContent {
						b.Fatalf("%s answered %d: %s", name, wr.status, wr.body)
					}
					reqs[i] = nil
					between()
				}
			}
		}
	}
	url := "http://127.0.0.1/workspaces/" + w.ID() + "/api/v1/remote_write"
	sides := [3]*ingestSide{
		{name: "promspace", db: w.DB(), prepare: served("promspace", ours, func(body []byte) *http.Request { return signedRemoteWrite(b, url, body, v2) })},
		{name: "prometheus", db: promDB, prepare: served("prometheus", prom, func(body []byte) *http.Request { return remoteWrite(url, body, v2) })},
		{name: "head", db: head.db, prepare: head.round},
	}
	gen := newIngestRounds(series, v2)
	base := time.Now().Add(-30 * time.Minute).UnixMilli()
	next := 0
	roundOf := func() benchRound {
		r := benchRound{n: next, ts: base + int64(next)*ingestScrapeMs}
		if create {
			r.gen = next
		}
		r.bodies = gen.encode(b, r.gen, r.ts, r.n)
		next++
		return r
	}
	// run does the work of s, in the profiles under its label.
	run := func(s *ingestSide, work []roundWork, between func(), phase string) {
		pprof.Do(ctx, pprof.Labels("side", s.name+phase), func(context.Context) {
			for i, f := range work {
				f(between)
				work[i] = nil
			}
		})
	}

	// The warm-up: each side on its own creates the series (in steady
	// state) and takes a round of them again; then what its heap grew by
	// since the bodies were encoded is measured.
	warm := []benchRound{roundOf(), roundOf()}
	heapBefore := heapInUse()
	for _, s := range sides {
		for _, r := range warm {
			run(s, []roundWork{s.prepare(r)}, func() {}, "-warm")
		}
		h := heapInUse()
		s.heap = (float64(h) - float64(heapBefore)) / float64(series)
		if *benchHeapProfile != "" && s.name == "promspace" {
			writeHeapProfile(b, *benchHeapProfile)
		}
		heapBefore = h
	}
	warm = nil

	// The timed rounds, b.N for each side, the collector's time charged by
	// the bytes they allocate (see ingestPhase). Their bodies are encoded,
	// and their work made ready, beforehand, so that they allocate nothing
	// but what the side does. Each side takes its rounds in two phases,
	// in the order promspace, Prometheus, head, head, Prometheus,
	// promspace: a machine whose speed drifts over the run, or a heap that
	// grows from phase to phase, favours no side.
	rounds := make([]benchRound, b.N)
	for i := range rounds {
		rounds[i] = roundOf()
	}
	half := (b.N + 1) / 2
	type phase struct {
		s        *ingestSide
		from, to int
	}
	var phases []phase
	for _, s := range sides {
		phases = append(phases, phase{s, 0, half})
	}
	for i := len(sides) - 1; i >= 0; i-- {
		phases = append(phases, phase{sides[i], half, b.N})
	}
	b.ResetTimer()
	for _, p := range phases {
		if p.from == p.to {
			continue
		}
		b.StopTimer()
		work := make([]roundWork, 0, p.to-p.from)
		for _, r := range rounds[p.from:p.to] {
			work = append(work, p.s.prepare(r))
		}
		b.StartTimer()
		c := ingestPhase(func(between func()) { run(p.s, work, between, "") })
		b.Logf("%s, rounds %d to %d: %.0f samples/cpu-s (%.0f without the collector), collector %.1f%%, kernel %.1f%%, %d page faults, %d MB allocated",
			p.s.name, p.from, p.to-1, float64((p.to-p.from)*series)/c.total().Seconds(), float64((p.to-p.from)*series)/c.cpu.Seconds(), 100*c.gcShare(), 100*c.sys.Seconds()/c.cpu.Seconds(), c.faults, c.bytes>>20)
		p.s.phaseCost = p.s.phaseCost.add(c)
	}
	b.StopTimer()
	rounds = nil

	samples := float64(b.N * series)
	rate := [len(sides)]float64{}
	for k, s := range sides {
		rate[k] = samples / s.total().Seconds()
		b.ReportMetric(rate[k], s.name+"-samples/cpu-s")
		b.ReportMetric(float64(s.allocs)/samples, s.name+"-allocs/sample")
		b.ReportMetric(s.heap, s.name+"-heap-B/series")
		b.ReportMetric(100*s.gcShare(), s.name+"-gc-%")
	}
	// Disk, of the receivers: the WAL and the head's chunks, and, after
	// compaction, the head, every sample of the run, written as a block.
	stored := float64((2 + b.N) * series)
	for _, s := range sides[:2] {
		b.ReportMetric(float64(dirSize(b, filepath.Join(s.db.Dir(), "wal"))+dirSize(b, filepath.Join(s.db.Dir(), "chunks_head")))/(samples+2*float64(series)), s.name+"-wal-B/sample")
		logWAL(b, s.name, s.db.Dir())
	}
	for _, s := range sides[:2] {
		b.ReportMetric(float64(compactedSize(b, s.db))/stored, s.name+"-block-B/sample")
	}
	b.ReportMetric(rate[0]/rate[1], "ratio")
	b.ReportMetric(sides[1].cpu.Seconds()/sides[0].cpu.Seconds(), "ratio-without-gc")
	b.ReportMetric(rate[2]/rate[1], "head-ratio")
	b.ReportMetric(float64(sides[1].allocs)/float64(max(sides[0].allocs, 1)), "alloc-ratio")
}

// newBenchService starts a service whose default workspace has every
// limit on and SigV4 for benchCredential, with AMP's active series limits
// (room for a million) or, to create series round after round, higher.
func newBenchService(b *testing.B, series int, create bool) (*promspace.Service, *workspace.Workspace) {
	ctx := context.Background()
	authn, authz := benchAuth(b, "writer", "AmazonPrometheusRemoteWriteAccess")
	l := quota.DefaultLimits()
	l.IngestionRate, l.IngestionBurst = 1e12, 1e12
	if create { // every round adds series
		l.MaxActiveSeries, l.MaxActiveSeriesPerMetric = 100_000_000, 100_000_000
	}
	opts := promspace.Options{
		DataDir:       b.TempDir(),
		Authenticator: authn,
		Authorizer:    authz,
	}
	opts.Quota.Limits = &l
	opts.Rules.ManualEvaluation = true
	opts.Workspace.WALCompression = *benchWAL
	svc, err := promspace.New(ctx, opts)
	if err != nil {
		b.Fatal(err)
	}
	w, err := svc.EnsureWorkspace(ctx, "default")
	if err != nil {
		b.Fatal(err)
	}
	// The label-set limits are checked for every series, refusing none:
	// creation adds series every round.
	perSet := 2 * int64(series)
	if create {
		perSet = 100_000_000
	}
	if _, err := svc.Registry().UpdateConfiguration(ctx, workspace.UpdateConfigurationInput{ID: w.ID(), LimitsPerLabelSet: []workspace.LabelSetLimit{
		{LabelSet: labels.FromStrings("zone", "eu-west-1a"), MaxSeries: perSet},
		{LabelSet: labels.FromStrings("job", "kubernetes-pods", "namespace", "team-1"), MaxSeries: perSet},
	}}); err != nil {
		b.Fatal(err)
	}
	return svc, w
}

// benchAuth returns SigV4 verification of benchCredential, in account
// 000000000000 as name, and the authorizer of its policy.
func benchAuth(b *testing.B, name, policy string) (auth.Authenticator, auth.Authorizer) {
	conf, err := auth.ParseConfig([]byte(fmt.Sprintf(`
region: us-east-1
credentials:
  - access_key_id: %s
    secret_access_key: %s
    account_id: "000000000000"
    name: %s
    policy: %s
`, benchCredential.AccessKeyID, benchCredential.SecretAccessKey, name, policy)))
	if err != nil {
		b.Fatal(err)
	}
	authn, authz, err := conf.Build()
	if err != nil {
		b.Fatal(err)
	}
	return authn, authz
}

// benchPromTSDBOptions are the options of the workspace's TSDB, for
// Prometheus' side.
func benchPromTSDBOptions() *tsdb.Options {
	opts := workspace.DefaultTSDBOptions()
	if *benchWAL != "" {
		opts.WALCompression = *benchWAL
	}
	opts.RetentionDuration = workspace.DefaultRetention.Milliseconds()
	opts.MaxBlockDuration = (workspace.DefaultRetention / 10).Milliseconds()
	opts.OutOfOrderTimeWindow = workspace.DefaultOutOfOrderTimeWindow.Milliseconds()
	opts.EnableExemplarStorage = true
	opts.MaxExemplars = workspace.DefaultMaxExemplars
	return opts
}

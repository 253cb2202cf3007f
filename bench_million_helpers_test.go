package promspace_test

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"runtime/pprof"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/record"
	"github.com/prometheus/prometheus/tsdb/wlog"
)

var benchCredential = aws.Credentials{AccessKeyID: "AKIDBENCHWRITER", SecretAccessKey: "bench-writer-secret"}

// ingestRounds encodes the requests of BenchmarkIngest's rounds: series
// of 10 labels, those of an HA pair's leader, 2,000 a request.
type ingestRounds struct {
	series int
	v2     bool
	// gen is the generation the labels are of; labels[i] the series'.
	gen    int
	labels []labels.Labels
}

func newIngestRounds(series int, v2 bool) *ingestRounds {
	return &ingestRounds{series: series, v2: v2, gen: -1}
}

// seriesLabels returns series n of generation g: a generation renames
// every pod, so its series are all new.
func seriesLabels(n, g int) labels.Labels {
	return labels.FromStrings(
		"__name__", fmt.Sprintf("container_resource_usage_%d_total", n%100),
		"__replica__", "replica-1",
		"cluster", "prod-eu-west-1",
		"container", fmt.Sprintf("app-%d", n%7),
		"instance", fmt.Sprintf("10.%d.%d.%d:9100", n/65536%256, n/256%256, n%256),
		"job", "kubernetes-pods",
		"namespace", fmt.Sprintf("team-%d", n%13),
		"node", fmt.Sprintf("ip-10-0-%d-%d.eu-west-1.compute.internal", n%50, n%31),
		"pod", fmt.Sprintf("app-%d-7d9f8c6b5-%07d-g%d", n%7, n, g),
		"zone", fmt.Sprintf("eu-west-1%c", 'a'+n%3),
	)
}

// encode returns the snappy-compressed requests of a round of generation
// g, every sample at ts.
func (r *ingestRounds) encode(b *testing.B, g int, ts int64, round int) [][]byte {
	if g != r.gen {
		r.labels = make([]labels.Labels, r.series)
		for n := range r.labels {
			r.labels[n] = seriesLabels(n, g)
		}
		r.gen = g
	}
	var bodies [][]byte
	var raw []byte
	var err error
	for from := 0; from < r.series; from += ingestSamplesPerReq {
		to := min(from+ingestSamplesPerReq, r.series)
		if r.v2 {
			raw, err = r.encodeV2(from, to, ts, round)
		} else {
			raw, err = r.encodeV1(from, to, ts, round)
		}
		if err != nil {
			b.Fatal(err)
		}
		bodies = append(bodies, snappy.Encode(nil, raw))
	}
	return bodies
}

// sampleValue is the value of series n in the given round.
func sampleValue(round, n int) float64 { return float64(round*(n%1000)) + 0.5 }

func (r *ingestRounds) encodeV1(from, to int, ts int64, round int) ([]byte, error) {
	req := prompb.WriteRequest{Timeseries: make([]prompb.TimeSeries, 0, to-from)}
	for n := from; n < to; n++ {
		ls := make([]prompb.Label, 0, r.labels[n].Len())
		r.labels[n].Range(func(l labels.Label) { ls = append(ls, prompb.Label{Name: l.Name, Value: l.Value}) })
		req.Timeseries = append(req.Timeseries, prompb.TimeSeries{Labels: ls, Samples: []prompb.Sample{{Timestamp: ts, Value: sampleValue(round, n)}}})
	}
	return req.Marshal()
}

func (r *ingestRounds) encodeV2(from, to int, ts int64, round int) ([]byte, error) {
	st := writev2.NewSymbolTable()
	req := writev2.Request{Timeseries: make([]writev2.TimeSeries, 0, to-from)}
	help := st.Symbolize("Resource usage of the container.")
	for n := from; n < to; n++ {
		req.Timeseries = append(req.Timeseries, writev2.TimeSeries{
			LabelsRefs: st.SymbolizeLabels(r.labels[n], nil),
			Samples:    []writev2.Sample{{Timestamp: ts, Value: sampleValue(round, n)}},
			Metadata:   writev2.Metadata{Type: writev2.Metadata_METRIC_TYPE_COUNTER, HelpRef: help},
		})
	}
	req.Symbols = st.Symbols()
	return req.Marshal()
}

// remoteWrite returns a remote-write request of body, as Prometheus sends
// it.
func remoteWrite(url string, body []byte, v2 bool) *http.Request {
	r, err := http.NewRequest(http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		panic(err)
	}
	r.Header.Set("Content-Encoding", "snappy")
	r.Header.Set("User-Agent", "Prometheus/3.8.0")
	if v2 {
		r.Header.Set("Content-Type", "application/x-protobuf;proto=io.prometheus.write.v2.Request")
		r.Header.Set("X-Prometheus-Remote-Write-Version", "2.0.0")
	} else {
		r.Header.Set("Content-Type", "application/x-protobuf")
		r.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
	}
	return r
}

var benchSigner = v4.NewSigner()

// signedRemoteWrite is remoteWrite signed with SigV4 for aps, as
// Prometheus' sigv4 block signs it.
func signedRemoteWrite(b *testing.B, url string, body []byte, v2 bool) *http.Request {
	r := remoteWrite(url, body, v2)
	sum := sha256.Sum256(body)
	hash := hex.EncodeToString(sum[:])
	r.Header.Set("X-Amz-Content-Sha256", hash)
	if err := benchSigner.SignHTTP(context.Background(), benchCredential, r, hash, "aps", "us-east-1", time.Now()); err != nil {
		b.Fatal(err)
	}
	return r
}

// cpuTime is the user and system CPU time of the process so far.
func cpuTime() time.Duration { return ruCPU(rusage()) }

// rusage returns the process' resource usage so far.
func rusage() syscall.Rusage {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		panic(err)
	}
	return ru
}

// ruCPU is the user and system CPU time of ru.
func ruCPU(ru syscall.Rusage) time.Duration {
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// heapInUse returns the bytes of live heap objects. Two collections empty
// the sync.Pools (and their victim caches) of earlier runs too.
func heapInUse() uint64 {
	runtime.GC()
	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	return ms.HeapAlloc
}

func dirSize(b *testing.B, dir string) int64 {
	var n int64
	err := filepath.WalkDir(dir, func(_ string, d fs.DirEntry, err error) error {
		if err != nil || d.IsDir() {
			return err
		}
		info, err := d.Info()
		if err == nil {
			n += info.Size()
		}
		return err
	})
	if err != nil {
		b.Fatal(err)
	}
	return n
}

// benchWriter is a ResponseWriter that keeps the status and the start of
// the body.
type benchWriter struct {
	header http.Header
	status int
	body   []byte
}

func (w *benchWriter) reset() {
	if w.header == nil {
		w.header = http.Header{}
	}
	clear(w.header)
	w.status, w.body = 0, w.body[:0]
}

func (w *benchWriter) Header() http.Header { return w.header }

func (w *benchWriter) Write(b []byte) (int, error) {
	if w.status == 0 {
		w.status = http.StatusOK
	}
	if len(w.body) < 512 {
		w.body = append(w.body, b[:min(len(b), 512-len(w.body))]...)
	}
	return len(b), nil
}

func (w *benchWriter) WriteHeader(code int) { w.status = code }

var _ io.Writer = (*benchWriter)(nil)

// logWAL logs the records in the WAL under dir: their number and
// decompressed bytes by type.
// compactedSize compacts db's whole head into a block and returns the
// size of db's blocks.
func compactedSize(b *testing.B, db *tsdb.DB) int64 {
	h := db.Head()
	if err := db.CompactHead(tsdb.NewRangeHead(h, h.MinTime(), h.MaxTime())); err != nil {
		b.Fatal(err)
	}
	var n int64
	for _, blk := range db.Blocks() {
		n += blk.Size()
	}
	return n
}

func logWAL(b *testing.B, name, dir string) {
	sr, err := wlog.NewSegmentsReader(filepath.Join(dir, "wal"))
	if err != nil {
		b.Fatal(err)
	}
	defer sr.Close()
	r := wlog.NewReader(sr)
	counts := map[record.Type]int{}
	sizes := map[record.Type]int{}
	var dec record.Decoder
	for r.Next() {
		rec := r.Record()
		t := dec.Type(rec)
		counts[t]++
		sizes[t] += len(rec)
	}
	b.Logf("%s: records %v sizes %v err %v", name, counts, sizes, r.Err())
}

func writeHeapProfile(b *testing.B, path string) {
	f, err := os.Create(path)
	if err != nil {
		b.Fatal(err)
	}
	defer f.Close()
	if err := pprof.WriteHeapProfile(f); err != nil {
		b.Fatal(err)
	}
}

var heapGrown sync.Once

// growHeap grows the process' heap by heapGrowth bytes, touched, once
// per process, and frees it. BenchmarkIngest's sides allocate gigabytes;
// memory the heap takes from the kernel faults on first touch, and on the
// virtual machines this runs on a fault took from 3 to 13 µs, varying
// from run to run, which made the kernel's share of Prometheus' side (the
// one allocating the more bytes, and faulting five times as often)
// swing between 10% and 37%. A long-running receiver reuses its heap.
// With the heap grown first, and memory given back to the kernel lazily
// (GODEBUG=madvdontneed=0, MADV_FREE: the runtime would otherwise give
// it back at once, to fault again), the sides reuse memory that is
// already there, as such a receiver does. Without the setting, it logs
// that the figures hold page faults.
func growHeap(b *testing.B) {
	if !strings.Contains(os.Getenv("GODEBUG"), "madvdontneed=0") {
		b.Log("GODEBUG=madvdontneed=0 is not set: the figures hold the page faults of memory the runtime gave back")
	}
	heapGrown.Do(func() {
		const chunk = 64 << 20
		chunks := make([][]byte, heapGrowth/chunk)
		for i := range chunks {
			chunks[i] = make([]byte, chunk)
			for j := 0; j < chunk; j += 4096 {
				chunks[i][j] = 1
			}
		}
		chunks = nil
		runtime.GC()
	})
}

const heapGrowth = 12 << 30

// phaseCost is what a phase of rounds took.
type phaseCost struct {
	cpu    time.Duration // the side's own, the collector off
	sys    time.Duration // of cpu, in the kernel
	faults int64         // page faults
	// gc is what the collector costs a program collecting as it runs for
	// the bytes the phase allocated: see ingestPhase.
	gc     time.Duration
	allocs uint64
	bytes  uint64 // allocated
}

// add returns the cost of the phases c and d together.
func (c phaseCost) add(d phaseCost) phaseCost {
	return phaseCost{cpu: c.cpu + d.cpu, sys: c.sys + d.sys, faults: c.faults + d.faults, gc: c.gc + d.gc,
		allocs: c.allocs + d.allocs, bytes: c.bytes + d.bytes}
}

// total is c's CPU time with the collector's.
func (c phaseCost) total() time.Duration { return c.cpu + c.gc }

// gcShare is the collector's share of c's total.
func (c phaseCost) gcShare() float64 { return c.gc.Seconds() / max(c.total().Seconds(), 1e-9) }

// ingestPhase runs one side's rounds and returns their CPU time and
// allocations. The rounds run with the collector off: its cost is
// charged instead by the bytes they allocated, at the rate a program
// collecting all along pays. A cycle marks the live heap, and one comes
// every GOGC percent of it allocated, so each byte allocated costs a
// cycle's CPU time over GOGC percent of the heap it left live; the cycle
// is timed on each side of the phase, after the garbage before it is
// collected. Between two requests, once a phase's garbage passes
// phaseGarbage, it is collected out of the phase's time, for the heap to
// stay within the memory grown beforehand (see growHeap). Phase-local
// cycles would not do: at these heaps (gigabytes), a phase completes no
// cycle or one, and the runtime counts a cycle's time only at its end,
// so a cycle under way when the phase ends is in its CPU time and in no
// collector's share.
func ingestPhase(run func(between func())) phaseCost {
	m0, live0 := timedCycle()
	samples := []metrics.Sample{{Name: "/gc/heap/allocs:objects"}, {Name: "/gc/heap/allocs:bytes"}}
	metrics.Read(samples)
	o0, b0 := samples[0].Value.Uint64(), samples[1].Value.Uint64()
	var (
		collected = b0 // bytes allocated at the last collection
		left      time.Duration
		now       = []metrics.Sample{{Name: "/gc/heap/allocs:bytes"}}
	)
	between := func() {
		metrics.Read(now)
		if b := now[0].Value.Uint64(); b-collected > phaseGarbage {
			start := cpuTime()
			runtime.GC()
			left += cpuTime() - start
			collected = b
		}
	}
	gogc := debug.SetGCPercent(-1)
	ru0 := rusage()
	run(between)
	ru1 := rusage()
	debug.SetGCPercent(gogc)
	metrics.Read(samples)
	c := phaseCost{cpu: ruCPU(ru1) - ruCPU(ru0) - left, sys: time.Duration(ru1.Stime.Nano() - ru0.Stime.Nano()), faults: ru1.Minflt - ru0.Minflt,
		allocs: samples[0].Value.Uint64() - o0, bytes: samples[1].Value.Uint64() - b0}
	m1, live1 := timedCycle()
	if gogc <= 0 {
		gogc = 100
	}
	perByte := (m0 + m1).Seconds() / (float64(live0+live1) * float64(gogc) / 100)
	c.gc = time.Duration(float64(c.bytes) * perByte * float64(time.Second))
	return c
}

// phaseGarbage is how much garbage a phase makes before it is collected.
const phaseGarbage = 1 << 30

// timedCycle collects the garbage there is, then runs a cycle of the
// collector on the live heap alone and returns the CPU time the process
// took in it and the heap it left live.
func timedCycle() (time.Duration, uint64) {
	runtime.GC()
	start := cpuTime()
	runtime.GC()
	d := cpuTime() - start
	samples := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(samples)
	return d, max(samples[0].Value.Uint64(), 1)
}

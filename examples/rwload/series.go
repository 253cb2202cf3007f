package main

import (
	"fmt"
	"slices"
	"strings"

	"github.com/prometheus/prometheus/model/labels"
)

// A target is what a scrape of Prometheus reaches: a node (node exporter's
// series) or a pod (kube-state-metrics' series about it). Churn replaces a
// target: a new node, a new pod of the same deployment, whose series carry
// a new generation in their names (pod="api-7d9f8c6b5d-" + generation).
type target struct {
	node bool
	// seed makes the generations of targets look unrelated.
	seed uint64
}

// A metric is one series as generated: its labels, sorted, with the
// positions in label values where the target's generation is written, and
// how its values move.
type metric struct {
	labels  []labels.Label
	gens    []genAt
	target  int
	counter bool
	help    string
	unit    string
	// scale of the values: a counter grows by up to scale a round, a gauge
	// moves around scale.
	scale float64
}

// genAt is where a generation is written: genWidth bytes at pos in the
// value of labels[label].
type genAt struct{ label, pos int }

// genAlphabet is the one Kubernetes draws pod name suffixes from.
const (
	genAlphabet = "bcdfghjklmnpqrstvwxz2456789"
	genWidth    = 5
	genHolder   = "bbbbb"
)

// putGen writes generation g of a target with seed s into b[:genWidth].
func putGen(b []byte, s, g uint64) {
	v := s + g*2654435761 // spreads consecutive generations
	for i := genWidth - 1; i >= 0; i-- {
		b[i] = genAlphabet[v%uint64(len(genAlphabet))]
		v /= uint64(len(genAlphabet))
	}
}

// genOf returns how often target t of n has been replaced by round r, when
// each round replaces the next churn×n targets in turn.
func genOf(t, n, r int, churn float64) uint64 {
	e := int64(float64(r) * churn * float64(n)) // replacements so far
	return uint64((e + int64(n) - 1 - int64(t)) / int64(n))
}

// seriesSet is the series a run sends, with their targets.
type seriesSet struct {
	metrics []metric
	targets []target
}

// generateSeries returns n series, nodeShare of them node exporter's and
// the rest kube-state-metrics', each with at least minLabels labels
// (padded with Kubernetes-style pod labels) and the external labels.
func generateSeries(n, minLabels int, nodeShare float64, external labels.Labels) seriesSet {
	var s seriesSet
	nodes := int(float64(n) * nodeShare)
	for len(s.metrics) < n {
		t := len(s.targets)
		s.targets = append(s.targets, target{node: len(s.metrics) < nodes, seed: uint64(t) * 7919})
		if s.targets[t].node {
			s.metrics = appendNodeSeries(s.metrics, t)
		} else {
			s.metrics = appendPodSeries(s.metrics, t)
		}
	}
	s.metrics = s.metrics[:n]
	for i := range s.metrics {
		s.metrics[i].finish(minLabels, external)
	}
	return s
}

// lb builds a metric's labels: name, value pairs where a value may hold
// genHolder, the place of the target's generation.
type lb struct {
	m *metric
}

func (b lb) add(name, value string) lb {
	b.m.labels = append(b.m.labels, labels.Label{Name: name, Value: value})
	return b
}

// finish adds the external and padding labels, sorts the labels and finds
// the generations' places.
func (m *metric) finish(minLabels int, external labels.Labels) {
	external.Range(func(l labels.Label) {
		if !slices.ContainsFunc(m.labels, func(o labels.Label) bool { return o.Name == l.Name }) {
			m.labels = append(m.labels, l)
		}
	})
	for i := 0; len(m.labels) < minLabels; i++ {
		m.labels = append(m.labels, labels.Label{Name: padLabels[i%len(padLabels)].Name + suffix(i/len(padLabels)), Value: padLabels[i%len(padLabels)].Value})
	}
	slices.SortFunc(m.labels, func(a, b labels.Label) int { return strings.Compare(a.Name, b.Name) })
	m.gens = m.gens[:0]
	for i, l := range m.labels {
		if p := strings.Index(l.Value, genHolder); p >= 0 {
			m.gens = append(m.gens, genAt{label: i, pos: p})
		}
	}
}

func suffix(i int) string {
	if i == 0 {
		return ""
	}
	return fmt.Sprintf("_%d", i)
}

// padLabels are the labels a Kubernetes service discovery relabelling
// commonly copies from pods.
var padLabels = []labels.Label{
	{Name: "app_kubernetes_io_name", Value: "checkout"},
	{Name: "app_kubernetes_io_part_of", Value: "shop"},
	{Name: "app_kubernetes_io_version", Value: "1.24.3"},
	{Name: "team", Value: "payments"},
	{Name: "tier", Value: "backend"},
	{Name: "region", Value: "eu-west-1"},
	{Name: "environment", Value: "production"},
}

var (
	cpuModes   = []string{"idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user"}
	mounts     = [][3]string{{"/dev/nvme0n1p1", "xfs", "/"}, {"/dev/nvme1n1", "ext4", "/var/lib/kubelet"}, {"tmpfs", "tmpfs", "/run"}}
	netDevices = []string{"eth0", "eth1", "lo"}
	disks      = []string{"nvme0n1", "nvme1n1"}
	namespaces = []string{"default", "kube-system", "monitoring", "payments", "checkout", "search", "ingest", "platform"}
	apps       = []string{"api", "web", "worker", "cache", "gateway", "indexer", "scheduler"}
)

// appendNodeSeries appends the series node exporter has for target t: 57
// of them, as scraped by Prometheus' Kubernetes discovery of the
// node-exporter DaemonSet.
func appendNodeSeries(ms []metric, t int) []metric {
	host := fmt.Sprintf("ip-10-%d-%d-%d-%s.ec2.internal", t>>16&255, t>>8&255, t&255, genHolder)
	add := func(name string, counter bool, help, unit string, scale float64) lb {
		ms = append(ms, metric{target: t, counter: counter, help: help, unit: unit, scale: scale})
		return lb{&ms[len(ms)-1]}.
			add("__name__", name).
			add("job", "node-exporter").
			add("instance", host+":9100").
			add("namespace", "monitoring").
			add("pod", "node-exporter-"+genHolder).
			add("container", "node-exporter").
			add("service", "node-exporter").
			add("endpoint", "http-metrics")
	}
	for cpu := range 4 {
		for _, mode := range cpuModes {
			add("node_cpu_seconds_total", true, "Seconds the CPUs spent in each mode.", "seconds", 15).add("cpu", fmt.Sprint(cpu)).add("mode", mode)
		}
	}
	for _, m := range []string{"MemAvailable", "MemTotal", "Cached", "Buffers"} {
		add("node_memory_"+m+"_bytes", false, "Memory information field "+m+"_bytes.", "bytes", 1<<33)
	}
	for _, mnt := range mounts {
		for _, f := range []string{"avail", "size"} {
			add("node_filesystem_"+f+"_bytes", false, "Filesystem space in bytes.", "bytes", 1<<36).add("device", mnt[0]).add("fstype", mnt[1]).add("mountpoint", mnt[2])
		}
	}
	for _, dev := range netDevices {
		for _, dir := range []string{"receive", "transmit"} {
			add("node_network_"+dir+"_bytes_total", true, "Network device statistic "+dir+"_bytes.", "bytes", 1<<20).add("device", dev)
		}
	}
	for _, d := range disks {
		add("node_disk_read_bytes_total", true, "The total number of bytes read successfully.", "bytes", 1<<22).add("device", d)
		add("node_disk_written_bytes_total", true, "The total number of bytes written successfully.", "bytes", 1<<22).add("device", d)
		add("node_disk_io_time_seconds_total", true, "Total seconds spent doing I/Os.", "seconds", 2).add("device", d)
	}
	for _, l := range []string{"1", "5", "15"} {
		add("node_load"+l, false, l+"m load average.", "", 4)
	}
	return ms
}

// appendPodSeries appends what kube-state-metrics says of pod t, one or
// two containers: 17 or 24 series.
func appendPodSeries(ms []metric, t int) []metric {
	ns := namespaces[t%len(namespaces)]
	app := apps[t/len(namespaces)%len(apps)]
	pod := fmt.Sprintf("%s-%08x%02x-%s", app, uint32(t*2654435761), t%256, genHolder)
	uid := fmt.Sprintf("%08x-%04x-4%03x-a%03x-%07x%s", uint32(t*40503), t&0xffff, t&0xfff, t>>12&0xfff, t&0xfffffff, genHolder)
	node := fmt.Sprintf("ip-10-%d-%d-%d.ec2.internal", 100+t%100, t/100%256, t%256)
	add := func(name string, counter bool, help string, scale float64) lb {
		ms = append(ms, metric{target: t, counter: counter, help: help, scale: scale})
		return lb{&ms[len(ms)-1]}.
			add("__name__", name).
			add("job", "kube-state-metrics").
			add("instance", "10.0.3.17:8080").
			add("namespace", ns).
			add("pod", pod).
			add("uid", uid)
	}
	add("kube_pod_info", false, "Information about pod.", 0).add("node", node).add("host_ip", "10.0.1.1").add("created_by_kind", "ReplicaSet").add("created_by_name", app)
	add("kube_pod_owner", false, "Information about the Pod's owner.", 0).add("owner_kind", "ReplicaSet").add("owner_name", app).add("owner_is_controller", "true")
	for _, phase := range []string{"Pending", "Running", "Succeeded", "Failed", "Unknown"} {
		add("kube_pod_status_phase", false, "The pods current phase.", 0).add("phase", phase)
	}
	for _, c := range []string{"true", "false", "unknown"} {
		add("kube_pod_status_ready", false, "Describes whether the pod is ready to serve requests.", 0).add("condition", c)
	}
	containers := []string{app}
	if t%3 == 0 {
		containers = append(containers, "istio-proxy")
	}
	for _, c := range containers {
		add("kube_pod_container_status_restarts_total", true, "The number of container restarts per container.", 0.01).add("container", c)
		add("kube_pod_container_status_running", false, "Describes whether the container is currently in running state.", 0).add("container", c)
		add("kube_pod_container_status_ready", false, "Describes whether the containers readiness check succeeded.", 0).add("container", c)
		for _, kind := range []string{"requests", "limits"} {
			add("kube_pod_container_resource_"+kind, false, "The number of "+kind+" for a resource by a container.", 0).add("container", c).add("resource", "cpu").add("unit", "core")
			add("kube_pod_container_resource_"+kind, false, "The number of "+kind+" for a resource by a container.", 0).add("container", c).add("resource", "memory").add("unit", "byte")
		}
	}
	return ms
}

// value returns the value of series i in round r: counters grow, gauges
// wander around their scale, info-like series are 1.
func (m *metric) value(i, r int) float64 {
	switch {
	case m.scale == 0:
		return 1
	case m.counter:
		return float64(r) * m.scale * float64(1+i%7) / 7
	default:
		return m.scale * (1 + float64((r+i)%16)/64)
	}
}

package dedupe

import (
	"github.com/prometheus/client_golang/prometheus"
)

// metrics are the Trackers' metrics, labelled by workspace; a Tracker
// deletes its workspace's series when it closes.
type metrics struct {
	deduplicated *prometheus.CounterVec
	elected      *prometheus.GaugeVec
	changes      *prometheus.CounterVec
	clusters     *prometheus.GaugeVec
	kvRequests   *prometheus.CounterVec
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		deduplicated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "promspace",
			Subsystem: "ha_tracker",
			Name:      "deduplicated_samples_total",
			Help:      "Float and histogram samples of non-leader replicas that were not stored, by workspace and HA cluster.",
		}, []string{"workspace", "cluster"}),
		elected: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "promspace",
			Subsystem: "ha_tracker",
			Name:      "elected_replica",
			Help:      "1 for the replica of each HA cluster whose samples are stored, as this node last learnt it.",
		}, []string{"workspace", "cluster", "replica"}),
		changes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "promspace",
			Subsystem: "ha_tracker",
			Name:      "elected_replica_changes_total",
			Help:      "Times this node elected another replica of an HA cluster, or learnt that another node had.",
		}, []string{"workspace", "cluster"}),
		clusters: prometheus.NewGaugeVec(prometheus.GaugeOpts{
			Namespace: "promspace",
			Subsystem: "ha_tracker",
			Name:      "clusters",
			Help:      "HA clusters this node follows, by workspace.",
		}, []string{"workspace"}),
		kvRequests: prometheus.NewCounterVec(prometheus.CounterOpts{
			Namespace: "promspace",
			Subsystem: "ha_tracker",
			Name:      "kv_requests_total",
			Help:      "Requests to the elections' KV by workspace, operation (get, cas, list, delete) and result (ok, conflict, error).",
		}, []string{"workspace", "operation", "result"}),
	}
	if reg != nil {
		reg.MustRegister(m.deduplicated, m.elected, m.changes, m.clusters, m.kvRequests)
	}
	return m
}

// forget deletes every series of the workspace.
func (m *metrics) forget(workspace string) {
	l := prometheus.Labels{"workspace": workspace}
	m.deduplicated.DeletePartialMatch(l)
	m.elected.DeletePartialMatch(l)
	m.changes.DeletePartialMatch(l)
	m.clusters.DeletePartialMatch(l)
	m.kvRequests.DeletePartialMatch(l)
}

// forgetCluster deletes the series of one cluster of the workspace.
func (m *metrics) forgetCluster(workspace, cluster string) {
	l := prometheus.Labels{"workspace": workspace, "cluster": cluster}
	m.deduplicated.DeletePartialMatch(l)
	m.elected.DeletePartialMatch(l)
	m.changes.DeletePartialMatch(l)
}

// kvResult is the result label of a KV request.
func kvResult(err error, ok bool) string {
	switch {
	case err != nil:
		return "error"
	case !ok:
		return "conflict"
	default:
		return "ok"
	}
}

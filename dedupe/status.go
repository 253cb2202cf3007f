package dedupe

import (
	"context"
	"net/http"
	"time"

	"github.com/promspace/promspace/internal/restjson"
)

// Status is the JSON of a workspace's HA tracker page, GET
// /workspaces/{id}/ha-tracker: a promspace extension, after Mimir's HA
// tracker page (AMP shows nothing).
type Status struct {
	ClusterLabel    string `json:"clusterLabel"`
	ReplicaLabel    string `json:"replicaLabel"`
	FailoverTimeout string `json:"failoverTimeout"`
	UpdateTimeout   string `json:"updateTimeout"`
	MaxClusters     int    `json:"maxClusters"`
	// Now is the time of the page, on the tracker's clock.
	Now      time.Time       `json:"now"`
	Clusters []ClusterStatus `json:"clusters"`
}

// ClusterStatus is one HA cluster of a workspace.
type ClusterStatus struct {
	Cluster        string `json:"cluster"`
	ElectedReplica string `json:"electedReplica"`
	// LastSeen is when a request of the elected replica was last
	// accepted: by this node, or by any node as the KV was last told.
	LastSeen time.Time `json:"lastSeen"`
	// EarliestFailover is LastSeen plus the failover timeout: from then
	// on, a request of another replica makes that one the leader.
	EarliestFailover time.Time `json:"earliestFailover"`
}

// Status returns the workspace's elections: every cluster in the KV,
// sorted by name, with what this node saw of it since.
func (t *Tracker) Status(ctx context.Context) (Status, error) {
	entries, err := t.kv.List(ctx, t.prefix)
	t.countKV("list", err, true)
	if err != nil {
		return Status{}, err
	}
	s := Status{
		ClusterLabel:    t.opts.ClusterLabel,
		ReplicaLabel:    t.opts.ReplicaLabel,
		FailoverTimeout: t.opts.FailoverTimeout.String(),
		UpdateTimeout:   t.opts.UpdateTimeout.String(),
		MaxClusters:     t.maxClustersNow(),
		Now:             t.now().UTC(),
		Clusters:        make([]ClusterStatus, 0, len(entries)),
	}
	for _, e := range entries {
		name := e.Key[len(t.prefix):]
		last := e.Leader.LastSeen
		t.mtx.Lock()
		c := t.clusters[name]
		t.mtx.Unlock()
		if c != nil && c.mtx.TryLock() { // not waiting for an election's KV round trip
			if c.entry.Leader.Replica == e.Leader.Replica {
				last = later(last, c.seen)
			}
			c.mtx.Unlock()
		}
		last = last.UTC()
		s.Clusters = append(s.Clusters, ClusterStatus{
			Cluster:          name,
			ElectedReplica:   e.Leader.Replica,
			LastSeen:         last,
			EarliestFailover: last.Add(t.opts.FailoverTimeout),
		})
	}
	return s, nil
}

// ServeHTTP serves the Status as JSON.
func (t *Tracker) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	s, err := t.Status(r.Context())
	if err != nil {
		t.logger.Error("Listing the HA elections failed", "err", err)
		restjson.WriteError(w, http.StatusInternalServerError, "InternalServerException", "the HA tracker's KV cannot be read", nil)
		return
	}
	restjson.WriteJSON(w, http.StatusOK, s)
}

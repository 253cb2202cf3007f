package dedupe

import (
	"context"
	"math/rand/v2"
	"sync"
	"time"
)

// maxRounds bounds the compare-and-swaps of one election: each lost one
// means another node wrote the entry just before, so the next round
// decides on fresh data and rarely needs another.
const maxRounds = 5

// kvRetry is how long a leader is accepted from memory after its last-seen
// time could not be written, before the write is tried again.
const kvRetry = time.Second

// cluster is what a node knows of one HA cluster of a workspace.
type cluster struct {
	name, key string

	// mtx is held for a whole election, KV requests included, so that
	// concurrent requests of one cluster make one round trip.
	mtx sync.Mutex
	// entry is the cluster's KV entry as last read or written; Revision 0
	// before the first.
	entry Entry
	// seen is when this node last accepted a request of entry's replica;
	// it may be later than entry.Leader.LastSeen, which is written at
	// most every UpdateTimeout.
	seen time.Time
	// due is when entry's replica next writes its last-seen time.
	due time.Time
	// shown is the replica the elected-replica gauge shows.
	shown string
}

// lastSeen is when the elected replica was last heard from, as far as this
// node knows.
func (c *cluster) lastSeen() time.Time {
	if c.seen.After(c.entry.Leader.LastSeen) {
		return c.seen
	}
	return c.entry.Leader.LastSeen
}

// elect returns the cluster's leader for a request of replica at now,
// electing replica if the cluster has none or its leader's failover time
// has passed. The request is accepted if the leader returned is replica.
func (t *Tracker) elect(ctx context.Context, c *cluster, replica string, now time.Time) (string, error) {
	c.mtx.Lock()
	defer c.mtx.Unlock()
	if c.entry.Revision != 0 {
		leader := c.entry.Leader.Replica
		switch {
		case leader == replica && now.Before(c.due):
			c.seen = later(c.seen, now)
			return leader, nil
		case leader != replica && now.Sub(c.lastSeen()) < t.opts.FailoverTimeout:
			return leader, nil
		}
	}
	e := c.entry
	if e.Revision == 0 || e.Leader.Replica != replica {
		// Another node may have written since: decide on the KV's entry.
		var err error
		e, err = t.kv.Get(ctx, c.key)
		t.countKV("get", err, true)
		if err != nil {
			return "", err
		}
		t.learn(c, e)
	}
	for range maxRounds {
		leader := e.Leader.Replica
		var write bool
		switch {
		case e.Revision == 0:
			write = true
		case leader == replica:
			write = !now.Before(c.due)
		default:
			write = now.Sub(c.lastSeen()) >= t.opts.FailoverTimeout
		}
		if !write {
			if leader == replica {
				c.seen = later(c.seen, now)
			}
			return leader, nil
		}
		ne, ok, err := t.kv.CompareAndSwap(ctx, c.key, e.Revision, Leader{Replica: replica, LastSeen: now})
		t.countKV("cas", err, ok)
		if err != nil {
			if e.Revision != 0 && leader == replica {
				// The leader stays leader while its time cannot be
				// written: other nodes cannot elect either, or the KV
				// is out of reach of this node only.
				t.logger.Warn("Writing an HA leader's last-seen time failed", "cluster", c.name, "replica", replica, "err", err)
				c.seen, c.due = now, now.Add(kvRetry)
				return replica, nil
			}
			return "", err
		}
		t.learn(c, ne)
		if ok {
			c.seen = now
			return replica, nil
		}
		e = ne
	}
	return "", errKVBusy
}

// learn makes e what the node knows of c, with a new jitter for the next
// write of its leader, and updates the elected-replica gauge.
func (t *Tracker) learn(c *cluster, e Entry) {
	if e.Revision == 0 || e.Leader.Replica != c.entry.Leader.Replica {
		c.seen = time.Time{} // seen was of another replica
	}
	c.entry = e
	c.due = e.Leader.LastSeen.Add(t.opts.UpdateTimeout + t.jitter())
	old := c.shown
	if e.Revision == 0 || e.Leader.Replica == old {
		return
	}
	if old != "" {
		t.metrics.elected.DeleteLabelValues(t.id, c.name, old)
		t.metrics.changes.WithLabelValues(t.id, c.name).Inc()
	}
	c.shown = e.Leader.Replica
	t.metrics.elected.WithLabelValues(t.id, c.name, c.shown).Set(1)
	t.logger.Debug("HA leader elected", "cluster", c.name, "replica", c.shown, "previous", old)
}

func (t *Tracker) jitter() time.Duration {
	if m := t.opts.jitterMax(); m > 0 {
		return rand.N(m)
	}
	return 0
}

func (t *Tracker) countKV(op string, err error, ok bool) {
	t.metrics.kvRequests.WithLabelValues(t.id, op, kvResult(err, ok)).Inc()
}

func later(a, b time.Time) time.Time {
	if b.After(a) {
		return b
	}
	return a
}

// admit returns the node's state of the cluster name, creating it if the
// workspace has room for one more cluster: fewer than MaxClusters in the
// KV and in this node's memory, after clusters not heard from in
// forgetAfter are deleted. Nodes admitting new clusters at the same time
// may together go a few over the limit.
func (t *Tracker) admit(ctx context.Context, name string, now time.Time) (*cluster, error) {
	t.mtx.Lock()
	c := t.clusters[name]
	t.mtx.Unlock()
	if c != nil {
		return c, nil
	}

	t.admitMtx.Lock()
	defer t.admitMtx.Unlock()
	t.mtx.Lock()
	c = t.clusters[name]
	t.mtx.Unlock()
	if c != nil {
		return c, nil
	}
	if !t.refusedAt.IsZero() && now.Sub(t.refusedAt) < t.opts.UpdateTimeout && !t.listed[name] {
		return nil, t.errTooManyClusters()
	}
	entries, err := t.kv.List(ctx, t.prefix)
	t.countKV("list", err, true)
	if err != nil {
		return nil, err
	}
	names := map[string]bool{}
	var found Entry
	for _, e := range entries {
		n := e.Key[len(t.prefix):]
		if n == name {
			found = e
		}
		if now.Sub(e.Leader.LastSeen) < forgetAfter {
			names[n] = true
			continue
		}
		ok, err := t.kv.Delete(ctx, e.Key, e.Revision)
		t.countKV("delete", err, ok)
		if err != nil || !ok {
			names[n] = true // in use after all, or still there
		}
	}
	t.forgetLocal(now, names)

	t.mtx.Lock()
	defer t.mtx.Unlock()
	for n := range t.clusters {
		names[n] = true
	}
	if !names[name] && len(names) >= t.maxClustersNow() {
		t.refusedAt, t.listed = now, names
		return nil, t.errTooManyClusters()
	}
	t.refusedAt, t.listed = time.Time{}, nil
	c = &cluster{name: name, key: t.prefix + name}
	if names[name] && found.Revision != 0 {
		t.learn(c, found)
	}
	t.clusters[name] = c
	t.metrics.clusters.WithLabelValues(t.id).Set(float64(len(t.clusters)))
	return c, nil
}

// forgetLocal drops the clusters of this node's memory that are neither in
// keep nor heard from in forgetAfter, with their metrics.
func (t *Tracker) forgetLocal(now time.Time, keep map[string]bool) {
	t.mtx.Lock()
	cs := make([]*cluster, 0, len(t.clusters))
	for n, c := range t.clusters {
		if !keep[n] {
			cs = append(cs, c)
		}
	}
	t.mtx.Unlock()
	for _, c := range cs {
		c.mtx.Lock()
		stale := now.Sub(c.lastSeen()) >= forgetAfter
		c.mtx.Unlock()
		if !stale {
			continue
		}
		t.mtx.Lock()
		if t.clusters[c.name] == c {
			delete(t.clusters, c.name)
		}
		t.metrics.clusters.WithLabelValues(t.id).Set(float64(len(t.clusters)))
		t.mtx.Unlock()
		t.metrics.forgetCluster(t.id, c.name)
	}
}

package dedupe

import (
	"context"
	"encoding/json"
	"fmt"
	"time"

	"go.etcd.io/etcd/api/v3/mvccpb"
	clientv3 "go.etcd.io/etcd/client/v3"
)

// etcdKV is a KV in etcd: a key's revision is its etcd mod revision, which
// only a write of that key changes and which etcd never gives again, so
// compare-and-swap and delete are transactions comparing it.
type etcdKV struct {
	client *clientv3.Client
	prefix string
}

// NewEtcdKV returns a KV kept in etcd under prefix, through client, for
// nodes that ingest for the same workspaces: every node whose KV has the
// same etcd cluster and prefix elects the same leaders. The client is the
// caller's to close, after the Trackers are done with it. Each value is
// JSON, {"replica":...,"lastSeen":...} with an RFC 3339 time, so that
// etcdctl shows the elections.
func NewEtcdKV(client *clientv3.Client, prefix string) KV {
	return &etcdKV{client: client, prefix: prefix}
}

// etcdValue is the JSON of a Leader in etcd.
type etcdValue struct {
	Replica  string    `json:"replica"`
	LastSeen time.Time `json:"lastSeen"`
}

func encodeLeader(l Leader) (string, error) {
	b, err := json.Marshal(etcdValue{Replica: l.Replica, LastSeen: l.LastSeen.Round(0).UTC()})
	return string(b), err
}

// entry decodes an etcd key-value, or nil (the key does not exist).
func (kv *etcdKV) entry(key string, p *mvccpb.KeyValue) (Entry, error) {
	if p == nil {
		return Entry{Key: key}, nil
	}
	var v etcdValue
	if err := json.Unmarshal(p.Value, &v); err != nil {
		return Entry{}, fmt.Errorf("dedupe kv: etcd value of %q: %w", p.Key, err)
	}
	return Entry{Key: key, Leader: Leader(v), Revision: p.ModRevision}, nil
}

// first returns the first key-value of a range response, nil if none.
func first(kvs []*mvccpb.KeyValue) *mvccpb.KeyValue {
	if len(kvs) == 0 {
		return nil
	}
	return kvs[0]
}

func (kv *etcdKV) Get(ctx context.Context, key string) (Entry, error) {
	if err := check(ctx, key); err != nil {
		return Entry{}, err
	}
	resp, err := kv.client.Get(ctx, kv.prefix+key)
	if err != nil {
		return Entry{}, fmt.Errorf("dedupe kv: etcd get: %w", err)
	}
	return kv.entry(key, first(resp.Kvs))
}

func (kv *etcdKV) CompareAndSwap(ctx context.Context, key string, rev int64, l Leader) (Entry, bool, error) {
	if err := check(ctx, key); err != nil {
		return Entry{}, false, err
	}
	if rev < 0 {
		e, err := kv.Get(ctx, key)
		return e, false, err
	}
	val, err := encodeLeader(l)
	if err != nil {
		return Entry{}, false, fmt.Errorf("dedupe kv: %w", err)
	}
	k := kv.prefix + key
	// An absent key has mod revision 0, so rev 0 compares as "absent".
	resp, err := kv.client.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(k), "=", rev)).
		Then(clientv3.OpPut(k, val)).
		Else(clientv3.OpGet(k)).
		Commit()
	if err != nil {
		return Entry{}, false, fmt.Errorf("dedupe kv: etcd compare-and-swap: %w", err)
	}
	if resp.Succeeded {
		// The put's revision is the transaction's.
		return Entry{Key: key, Leader: stored(l), Revision: resp.Header.Revision}, true, nil
	}
	e, err := kv.entry(key, first(resp.Responses[0].GetResponseRange().Kvs))
	return e, false, err
}

func (kv *etcdKV) Delete(ctx context.Context, key string, rev int64) (bool, error) {
	if err := check(ctx, key); err != nil {
		return false, err
	}
	if rev <= 0 {
		return false, nil
	}
	k := kv.prefix + key
	resp, err := kv.client.Txn(ctx).
		If(clientv3.Compare(clientv3.ModRevision(k), "=", rev)).
		Then(clientv3.OpDelete(k)).
		Commit()
	if err != nil {
		return false, fmt.Errorf("dedupe kv: etcd delete: %w", err)
	}
	return resp.Succeeded, nil
}

func (kv *etcdKV) List(ctx context.Context, prefix string) ([]Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	// One range read: one snapshot, sorted by key.
	resp, err := kv.client.Get(ctx, kv.prefix+prefix, clientv3.WithPrefix())
	if err != nil {
		return nil, fmt.Errorf("dedupe kv: etcd list: %w", err)
	}
	es := make([]Entry, 0, len(resp.Kvs))
	for _, p := range resp.Kvs {
		e, err := kv.entry(string(p.Key[len(kv.prefix):]), p)
		if err != nil {
			return nil, err
		}
		es = append(es, e)
	}
	return es, nil
}

package dedupe

import (
	"context"
	"errors"
	"slices"
	"strings"
	"sync"
)

// errEmptyKey is the error of an operation on the key "".
var errEmptyKey = errors.New("dedupe kv: empty key")

// memoryKV is a KV in one process's memory.
type memoryKV struct {
	mtx     sync.Mutex
	rev     int64 // the last revision given, for every key: never reused
	entries map[string]Entry
}

// NewMemoryKV returns a KV held in memory, for the nodes of one process.
// Its contents are lost with the process, so the leaders are elected again
// after a restart: the first replica heard from wins.
func NewMemoryKV() KV {
	return &memoryKV{entries: map[string]Entry{}}
}

func check(ctx context.Context, key string) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if key == "" {
		return errEmptyKey
	}
	return nil
}

// stored returns l as the KV keeps it: without monotonic clock reading or
// location, as a KV that encodes it would return it.
func stored(l Leader) Leader {
	l.LastSeen = l.LastSeen.Round(0).UTC()
	return l
}

func (kv *memoryKV) Get(ctx context.Context, key string) (Entry, error) {
	if err := check(ctx, key); err != nil {
		return Entry{}, err
	}
	kv.mtx.Lock()
	defer kv.mtx.Unlock()
	return kv.get(key), nil
}

func (kv *memoryKV) get(key string) Entry {
	if e, ok := kv.entries[key]; ok {
		return e
	}
	return Entry{Key: key}
}

func (kv *memoryKV) CompareAndSwap(ctx context.Context, key string, rev int64, l Leader) (Entry, bool, error) {
	if err := check(ctx, key); err != nil {
		return Entry{}, false, err
	}
	kv.mtx.Lock()
	defer kv.mtx.Unlock()
	cur := kv.get(key)
	if rev < 0 || cur.Revision != rev {
		return cur, false, nil
	}
	kv.rev++
	e := Entry{Key: key, Leader: stored(l), Revision: kv.rev}
	kv.entries[key] = e
	return e, true, nil
}

func (kv *memoryKV) Delete(ctx context.Context, key string, rev int64) (bool, error) {
	if err := check(ctx, key); err != nil {
		return false, err
	}
	kv.mtx.Lock()
	defer kv.mtx.Unlock()
	cur, ok := kv.entries[key]
	if !ok || cur.Revision != rev {
		return false, nil
	}
	delete(kv.entries, key)
	return true, nil
}

func (kv *memoryKV) List(ctx context.Context, prefix string) ([]Entry, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	kv.mtx.Lock()
	var es []Entry
	for k, e := range kv.entries {
		if strings.HasPrefix(k, prefix) {
			es = append(es, e)
		}
	}
	kv.mtx.Unlock()
	slices.SortFunc(es, func(a, b Entry) int { return strings.Compare(a.Key, b.Key) })
	return es, nil
}

package dedupe

import (
	"context"
	"time"
)

// Leader is the value a KV holds for one HA cluster of one workspace: the
// replica elected to be ingested and when a sample from it was last seen.
type Leader struct {
	Replica  string
	LastSeen time.Time
}

// Entry is a key of a KV with its value and revision.
type Entry struct {
	Key    string
	Leader Leader
	// Revision is the version of the value: positive for a key that
	// exists, 0 for one that does not.
	Revision int64
}

// A KV is where the leader of every HA cluster is elected and kept, shared
// by the nodes that ingest for the same workspaces: NewMemoryKV for one
// process, etcd for several. An election is a Get and a CompareAndSwap
// against the revision it read, so of two nodes that elect different
// replicas at once one wins and the other learns the winner.
//
// Implementations are safe for concurrent use and must pass
// kvtest.TestKV, which checks exactly the following:
//
//   - Keys are non-empty strings of any bytes, compared and sorted byte for
//     byte; the empty key is an error of Get, CompareAndSwap and Delete.
//     Replica is any UTF-8 string, "" included.
//   - Revisions of a key are positive and increase with every successful
//     CompareAndSwap of it, and change with nothing else; a revision is never reused for a key, even after it is
//     deleted and created again, so a revision read before a Delete never
//     matches afterwards. Nothing is promised about revisions of
//     different keys.
//   - LastSeen is returned equal, by time.Time.Equal, to the time stored,
//     for any time that UnixNano represents (the years 1678 to 2262): an
//     implementation keeps nanoseconds, but need not keep the monotonic
//     clock reading or the location.
//   - An operation whose ctx is done before it starts fails with an error
//     and changes nothing.
//
// After a call returns, every later call on the KV, from any goroutine
// (and, for a distributed KV, any node), sees its effect.
type KV interface {
	// Get returns the entry of key; for a key that does not exist, an Entry
	// with Key set, a zero Leader and Revision 0, and no error.
	Get(ctx context.Context, key string) (Entry, error)
	// CompareAndSwap stores l at key if key's revision is rev (0: if key
	// does not exist) and returns the new entry and true. Otherwise it
	// stores nothing and returns key's current entry (as Get would) and
	// false, with a nil error: losing a race is not an error. Of
	// concurrent calls with the same key and rev, exactly one succeeds. A
	// negative rev never matches.
	CompareAndSwap(ctx context.Context, key string, rev int64, l Leader) (Entry, bool, error)
	// Delete removes key if its revision is rev and reports whether it
	// did. It reports false, with a nil error, when key does not exist or
	// has another revision; rev 0 never deletes anything.
	Delete(ctx context.Context, key string, rev int64) (bool, error)
	// List returns the entries whose keys begin with prefix, sorted by
	// key, as one snapshot; an empty prefix lists every key. No match is
	// an empty (or nil) result and no error.
	List(ctx context.Context, prefix string) ([]Entry, error)
}

package ingest

import (
	"testing"

	"github.com/stretchr/testify/require"
)

// TestLabelsTable checks the table's map semantics: an entry per hash,
// replaced by another of the same hash, hash 0 (the empty mark) filed as
// 1, and every entry still found after the table grows, including hashes
// that start in the same slot.
func TestLabelsTable(t *testing.T) {
	tab := newLabelsTable(0)
	entries := map[uint64]*cachedLabels{}
	put := func(h uint64) {
		e := &cachedLabels{}
		tab.put(h, e)
		entries[h] = e
	}
	put(0)
	put(1 << 40) // the same first slot as 0 in any table this size
	const mul = 0x9e3779b97f4a7c15
	for h := uint64(2); h < 3000; h++ {
		put(h * mul)
	}
	five := uint64(5)
	put(five * mul) // replaces
	require.Same(t, tab.find(0), tab.find(1), "0 is filed as 1")
	require.Equal(t, len(entries), tab.len())
	require.Greater(t, len(tab.slots), minTableSlots)
	require.LessOrEqual(t, tab.len()*4, len(tab.slots)*3)
	for h, e := range entries {
		require.Same(t, e, tab.find(h), "hash %x", h)
	}
	require.Nil(t, tab.find(12345))
}

package ingest

import (
	"testing"
	"time"

	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// TestPrefetchV2 checks that prefetching reads the slots the lookups use:
// the hash it finds for each series, from the series' references alone,
// files the entry the series' lookup found, with and without a label
// left out.
func TestPrefetchV2(t *testing.T) {
	body, err := benchDecodeRequestV2(benchDecodeRequest(true)).Marshal()
	require.NoError(t, err)
	for _, strip := range []string{"", "instance"} {
		cache := newLabelsCache(1<<12, time.Now)
		for round := range 2 {
			req := newRequest()
			require.NoError(t, decode(req, V2, body, model.UTF8Validation, cache, strip))
			if round == 0 {
				continue // the misses that fill the cache
			}
			require.Len(t, req.d.hashes, len(req.Series))
			for i := range req.Series {
				s := &req.Series[i]
				require.NotNil(t, s.cached, "series %d", i)
				require.Same(t, s.cached, cache.cur.find(req.d.hashes[i]), "strip %q, series %d: %s", strip, i, s.Labels)
			}
		}
	}
}
